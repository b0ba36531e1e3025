// Copyright (c) Cairn authors.
#include "cairn/status.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, WrongExpectedVersionCarriesDetails) {
  Status s = Status::WrongExpectedVersion("3", 7);
  EXPECT_TRUE(s.IsWrongExpectedVersion());
  ASSERT_NE(s.wrong_expected_version(), nullptr);
  EXPECT_EQ(s.wrong_expected_version()->expected, "3");
  EXPECT_EQ(s.wrong_expected_version()->actual_revision, 7u);
  EXPECT_NE(s.ToString().find("revision 7"), std::string::npos);

  Status none = Status::WrongExpectedVersion("exists", std::nullopt);
  EXPECT_FALSE(none.wrong_expected_version()->actual_revision.has_value());
  EXPECT_NE(none.message().find("does not exist"), std::string::npos);
}

TEST(StatusTest, CorruptionNamesFileAndOffset) {
  Status s = Status::Corruption("/d/000000000001.seg", 4096, "bad checksum");
  ASSERT_NE(s.corruption(), nullptr);
  EXPECT_EQ(s.corruption()->file, "/d/000000000001.seg");
  EXPECT_EQ(s.corruption()->offset, 4096u);
  EXPECT_EQ(s.ToString(),
            "Corruption: bad checksum (file /d/000000000001.seg, offset 4096)");
}

TEST(StatusTest, CopyIsDeep) {
  Status a = Status::IOError("write failed", 5);
  Status b = a;
  EXPECT_EQ(b.code(), StatusCode::kIOError);
  EXPECT_EQ(b.errno_value(), 5);
  EXPECT_EQ(a.message(), b.message());
  a = Status::Ok();
  EXPECT_TRUE(a.ok());
  EXPECT_FALSE(b.ok());
}

}  // namespace
}  // namespace cairn
