// Copyright (c) Cairn authors.
#include "bench/serve/load_events.h"

#include <gtest/gtest.h>

namespace cairn::bench::serve {
namespace {

TEST(LoadEventsTest, DataCarriesTheSendTimeAndFillsTheEventSize) {
  std::mt19937_64 rng(7);
  const std::string data = EventData(1234567890123, 200, rng);
  EXPECT_EQ(data.size() + kEventType.size(), 200u);
  EXPECT_EQ(SentNanos(data), 1234567890123);
  EXPECT_EQ(data.front(), '{');
  EXPECT_EQ(data.substr(data.size() - 2), "\"}");
}

TEST(LoadEventsTest, SmallEventSizeStillCarriesTheTime) {
  std::mt19937_64 rng(7);
  const std::string data = EventData(42, 1, rng);
  EXPECT_EQ(SentNanos(data), 42);
}

TEST(LoadEventsTest, DataWithoutTheTimeHasNone) {
  EXPECT_EQ(SentNanos("{\"other\":1}"), std::nullopt);
  EXPECT_EQ(SentNanos(""), std::nullopt);
  EXPECT_EQ(SentNanos("{\"sent_ns\":x}"), std::nullopt);
}

TEST(LoadEventsTest, UuidsAreVersionFourAndDiffer) {
  std::mt19937_64 rng(7);
  const std::string a = RandomUuid(rng);
  const std::string b = RandomUuid(rng);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace cairn::bench::serve
