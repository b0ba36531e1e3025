// Copyright (c) Cairn authors.
#include "index/stream_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace cairn::index {
namespace {

TEST(StreamCacheTest, KeepsLastRevisionsAndEvictsTheLeastRecentlyUsed) {
  StreamCache cache(2);
  cache.Put("a", 1);
  cache.Put("b", 5);
  EXPECT_EQ(cache.Get("a"), 1u);  // "b" is now the least recently used
  cache.Put("c", 7);
  EXPECT_EQ(cache.Get("b"), std::nullopt);
  EXPECT_EQ(cache.Get("a"), 1u);
  EXPECT_EQ(cache.Get("c"), 7u);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.hits(), 3u);
}

TEST(StreamCacheTest, KnowsATombstoneOnlyAtItsRevision) {
  StreamCache cache(4);
  cache.PutTail("s", 3, true);
  EXPECT_EQ(cache.Tombstone("s", 3), true);
  // Asked about another revision (the caller's is newer or older), the
  // answer is not known.
  EXPECT_EQ(cache.Tombstone("s", 4), std::nullopt);
  EXPECT_EQ(cache.Tombstone("t", 3), std::nullopt);
  cache.PutTail("s", 4, false);
  EXPECT_EQ(cache.Tombstone("s", 4), false);
}

TEST(StreamCacheTest, ANewRevisionForgetsTheTombstoneAnswer) {
  StreamCache cache(4);
  cache.PutTail("s", 3, false);
  cache.Put("s", 3);  // a lookup refilling the same revision keeps it
  EXPECT_EQ(cache.Tombstone("s", 3), false);
  cache.Put("s", 4);  // an event appended without the answer (a replay)
  EXPECT_EQ(cache.Tombstone("s", 4), std::nullopt);
  cache.PutTail("s", 5, std::nullopt);
  EXPECT_EQ(cache.Tombstone("s", 5), std::nullopt);
}

TEST(StreamCacheTest, NotesAnAnswerOnlyForTheCachedRevision) {
  StreamCache cache(4);
  cache.NoteTombstone("s", 0, true);  // not cached: nothing to note
  EXPECT_EQ(cache.Tombstone("s", 0), std::nullopt);
  cache.Put("s", 2);
  cache.NoteTombstone("s", 1, true);  // a stale revision: ignored
  EXPECT_EQ(cache.Tombstone("s", 2), std::nullopt);
  cache.NoteTombstone("s", 2, true);
  EXPECT_EQ(cache.Tombstone("s", 2), true);
  cache.Clear();
  EXPECT_EQ(cache.Tombstone("s", 2), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(StreamCacheTest, KnowsAStreamWithoutEventsUntilItsFirstEvent) {
  StreamCache cache(4);
  cache.Put("$$s", StreamCache::kNoEvents);
  EXPECT_EQ(cache.Get("$$s"), StreamCache::kNoEvents);
  EXPECT_EQ(cache.hits(), 1u);
  cache.PutTail("$$s", 0, false);
  EXPECT_EQ(cache.Get("$$s"), 0u);
  EXPECT_EQ(cache.Tombstone("$$s", 0), false);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(StreamCacheTest, EvictsStreamsNotUsedSinceTheHandLastPassed) {
  StreamCache cache(3);
  cache.Put("a", 1);
  cache.Put("b", 2);
  cache.Put("c", 3);
  ASSERT_EQ(cache.Get("a"), 1u);
  ASSERT_EQ(cache.Get("c"), 3u);
  cache.Put("d", 4);  // "b" was not used: it goes
  EXPECT_EQ(cache.Get("b"), std::nullopt);
  EXPECT_EQ(cache.Get("a"), 1u);
  EXPECT_EQ(cache.Get("c"), 3u);
  EXPECT_EQ(cache.Get("d"), 4u);
  EXPECT_EQ(cache.size(), 3u);
}

// Many streams through a small cache: every cached answer is the last one
// put, whatever was evicted and whichever slots moved (a model check).
TEST(StreamCacheTest, MatchesAModelThroughEvictions) {
  StreamCache cache(64);
  std::map<std::string, uint64_t> last;
  std::mt19937_64 rng(11);
  for (uint64_t i = 0; i < 20000; ++i) {
    const std::string name = "stream-" + std::to_string(rng() % 300) +
                             (i % 7 == 0 ? "-with-a-long-name" : "");
    if (rng() % 3 == 0) {
      const uint64_t revision = last[name] + 1 + rng() % 3;
      last[name] = revision;
      cache.Put(name, revision);
    } else if (auto hit = cache.Get(name)) {
      ASSERT_EQ(*hit, last[name]) << name << " at step " << i;
    }
    ASSERT_LE(cache.size(), 64u);
  }
  EXPECT_GT(cache.hits(), 0u);
  EXPECT_GT(cache.memory_bytes(), 0u);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Get("stream-1"), std::nullopt);
}

TEST(StreamCacheTest, ZeroCapacityCachesNothing) {
  StreamCache cache(0);
  cache.PutTail("s", 1, true);
  EXPECT_EQ(cache.Get("s"), std::nullopt);
  EXPECT_EQ(cache.Tombstone("s", 1), std::nullopt);
}

}  // namespace
}  // namespace cairn::index
