// Copyright (c) Cairn authors.
//
// The scavenge rule (which events no read can return) and the planner's
// bounded cache of stream retention.
#include "engine/src/scavenge_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace cairn::engine {
namespace {

// "s<n>". Built by appending: g++ 12 at -O2 reports a false -Wrestrict
// overlap in the inlined `"s" + std::to_string(n)` (GCC bug 105651).
std::string StreamName(int n) {
  std::string name("s");
  name += std::to_string(n);
  return name;
}

StreamRetention Retention(uint64_t last, uint64_t first_readable = 0) {
  StreamRetention r;
  r.last = last;
  r.first_readable = first_readable;
  return r;
}

TEST(ScavengeRuleTest, KeepsTheLastEventWhateverTheRetention) {
  StreamRetention r = Retention(5, /*first_readable=*/9);
  r.min_created_us = 1'000;
  EXPECT_FALSE(IsRemovable(r, 5, 0));
  r.tombstoned = true;
  EXPECT_FALSE(IsRemovable(r, 5, 0));
}

TEST(ScavengeRuleTest, EventsWrittenAfterTheRetentionWasComputedStay) {
  StreamRetention r = Retention(5, 9);
  r.tombstoned = true;
  EXPECT_FALSE(IsRemovable(r, 6, 0));
  EXPECT_FALSE(IsRemovable(r, 100, 0));
}

TEST(ScavengeRuleTest, ATombstoneRemovesEverythingBeforeIt) {
  StreamRetention r = Retention(3);
  r.tombstoned = true;
  for (uint64_t rev = 0; rev < 3; ++rev) EXPECT_TRUE(IsRemovable(r, rev, 0));
}

TEST(ScavengeRuleTest, RevisionsBelowTheFirstReadableGo) {
  const StreamRetention r = Retention(9, 4);
  for (uint64_t rev = 0; rev < 4; ++rev) EXPECT_TRUE(IsRemovable(r, rev, 0));
  for (uint64_t rev = 4; rev <= 9; ++rev) EXPECT_FALSE(IsRemovable(r, rev, 0));
}

TEST(ScavengeRuleTest, FirstReadableBeyondTheEndKeepsOnlyTheLast) {
  const StreamRetention r = Retention(9, 100);
  for (uint64_t rev = 0; rev < 9; ++rev) EXPECT_TRUE(IsRemovable(r, rev, 0));
  EXPECT_FALSE(IsRemovable(r, 9, 0));
}

TEST(ScavengeRuleTest, MaxAgeRemovesOnlyEventsCreatedBeforeTheCutOff) {
  StreamRetention r = Retention(9);
  r.min_created_us = 1'000;
  EXPECT_TRUE(IsRemovable(r, 0, 999));
  EXPECT_FALSE(IsRemovable(r, 0, 1'000));
  EXPECT_FALSE(IsRemovable(r, 0, 2'000));
}

TEST(ScavengePlannerTest, LooksEachStreamUpOnceWhileCached) {
  std::map<std::string, int> lookups;
  ScavengePlanner planner(
      [&](std::string_view stream) -> Result<std::optional<StreamRetention>> {
        ++lookups[std::string(stream)];
        return std::optional<StreamRetention>(Retention(9, 5));
      },
      /*max_cached_streams=*/8);
  for (uint64_t rev = 0; rev < 10; ++rev) {
    auto removable = planner.Removable("a", rev, 0);
    ASSERT_TRUE(removable.ok());
    EXPECT_EQ(*removable, rev < 5) << rev;
  }
  EXPECT_EQ(lookups["a"], 1);
}

TEST(ScavengePlannerTest, TheCacheStaysWithinItsBound) {
  int lookups = 0;
  ScavengePlanner planner(
      [&](std::string_view) -> Result<std::optional<StreamRetention>> {
        ++lookups;
        return std::optional<StreamRetention>(Retention(1));
      },
      /*max_cached_streams=*/3);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(planner.Removable(StreamName(i), 0, 0).ok());
    EXPECT_LE(planner.cached_streams(), 3u);
  }
  EXPECT_EQ(lookups, 10);
}

TEST(ScavengePlannerTest, AStreamWithoutEventsHasNothingToRemove) {
  ScavengePlanner planner(
      [](std::string_view) -> Result<std::optional<StreamRetention>> {
        return std::optional<StreamRetention>();
      },
      4);
  auto removable = planner.Removable("x", 0, 0);
  ASSERT_TRUE(removable.ok());
  EXPECT_FALSE(*removable);
}

TEST(ScavengePlannerTest, ALookupFailureIsReportedNotGuessed) {
  ScavengePlanner planner(
      [](std::string_view) -> Result<std::optional<StreamRetention>> {
        return Status::Corruption("dir", 0, "damaged");
      },
      4);
  auto removable = planner.Removable("x", 0, 0);
  ASSERT_FALSE(removable.ok());
  EXPECT_TRUE(removable.status().IsCorruption());
}

}  // namespace
}  // namespace cairn::engine
