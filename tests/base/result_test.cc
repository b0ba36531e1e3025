// Copyright (c) Cairn authors.
#include "cairn/result.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

TEST(ResultTest, HoldsAValueOrAnError) {
  Result<std::string> value(std::string("x"));
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "x");
  EXPECT_EQ(value->size(), 1u);
  Result<std::string> error(Status::NotFound("nothing here"));
  EXPECT_FALSE(error.ok());
  EXPECT_TRUE(error.status().IsNotFound());
}

// Misuse aborts with the status in every build type, Release included
// (an assert would vanish there and leave undefined behaviour).
TEST(ResultDeathTest, ValueOfAnErrorAbortsWithTheStatus) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<std::string> error(Status::NotFound("no such stream"));
  EXPECT_DEATH((void)error.value(), "failed result: NotFound: no such stream");
  EXPECT_DEATH((void)*error, "no such stream");
  EXPECT_DEATH((void)error->size(), "no such stream");
  EXPECT_DEATH((void)std::move(error).value(), "no such stream");
}

TEST(ResultDeathTest, BuildingFromAnOkStatusAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)Result<int>{Status::Ok()}, "OK status");
}

}  // namespace
}  // namespace cairn
