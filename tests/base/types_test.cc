// Copyright (c) Cairn authors.
#include "cairn/types.h"

#include <gtest/gtest.h>

#include <set>

namespace cairn {
namespace {

TEST(ExpectedVersionTest, RoundTrips) {
  for (auto v : {ExpectedVersion::Any(), ExpectedVersion::NoStream(),
                 ExpectedVersion::StreamExists(), ExpectedVersion::Exact(0),
                 ExpectedVersion::Exact(123456789)}) {
    auto parsed = ExpectedVersion::Parse(v.ToString());
    ASSERT_TRUE(parsed.has_value()) << v.ToString();
    EXPECT_EQ(*parsed, v);
  }
}

TEST(ExpectedVersionTest, RejectsGarbage) {
  EXPECT_FALSE(ExpectedVersion::Parse("").has_value());
  EXPECT_FALSE(ExpectedVersion::Parse("-1").has_value());
  EXPECT_FALSE(ExpectedVersion::Parse("12x").has_value());
  EXPECT_FALSE(ExpectedVersion::Parse("anything").has_value());
}

TEST(EventIdTest, GenerateIsUniqueVersion4) {
  std::set<EventId> seen;
  for (int i = 0; i < 10000; ++i) {
    EventId id = EventId::Generate();
    EXPECT_FALSE(id.IsNil());
    EXPECT_EQ(id.bytes()[6] >> 4, 4);
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(EventIdTest, ParseAndFormat) {
  auto id = EventId::Parse("5F1C0E2A-9B3D-4C1E-8A7F-0123456789AB");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToString(), "5f1c0e2a-9b3d-4c1e-8a7f-0123456789ab");
  EXPECT_FALSE(EventId::Parse("5f1c0e2a9b3d4c1e8a7f0123456789ab").has_value());
  EXPECT_FALSE(EventId::Parse("5f1c0e2a-9b3d-4c1e-8a7f-0123456789ag").has_value());
  EXPECT_TRUE(EventId().IsNil());
}

TEST(StrongTypesTest, Compare) {
  EXPECT_LT(StreamRevision(1), StreamRevision(2));
  EXPECT_EQ(GlobalPosition(7), GlobalPosition(7));
}

}  // namespace
}  // namespace cairn
