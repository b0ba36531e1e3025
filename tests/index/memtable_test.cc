// Copyright (c) Cairn authors.
#include "index/memtable.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cairn::index {
namespace {

Entry At(uint64_t hash, uint64_t revision, uint64_t position) {
  return Entry{hash, revision, position, static_cast<uint32_t>(position * 2),
               static_cast<uint32_t>(hash)};
}

TEST(MemTableTest, NewestFirstPerHash) {
  MemTable m(10, 4);
  m.Add(At(1, 0, 10));
  m.Add(At(2, 0, 11));
  m.Add(At(1, 1, 12));
  m.Add(At(1, 2, 13));
  EXPECT_EQ(m.first_position(), 10u);
  EXPECT_EQ(m.end_position(), 14u);
  EXPECT_EQ(m.new_streams(), 2u);
  EXPECT_EQ(m.last_offset(), 26u);
  std::vector<uint64_t> revisions;
  m.ForEachNewest(1, [&](const Entry& e) {
    revisions.push_back(e.revision);
    return true;
  });
  EXPECT_EQ(revisions, (std::vector<uint64_t>{2, 1, 0}));
  revisions.clear();
  m.ForEachNewest(3, [&](const Entry& e) {
    revisions.push_back(e.revision);
    return true;
  });
  EXPECT_TRUE(revisions.empty());
  std::vector<Entry> scanned;
  m.Scan(1, 1, 1, &scanned);
  ASSERT_EQ(scanned.size(), 1u);
  EXPECT_EQ(scanned[0].position, 12u);
  EXPECT_EQ(m.Anchor(12), 24u);
  EXPECT_FALSE(m.Anchor(13));
  EXPECT_FALSE(m.Anchor(8));
}

TEST(MemTableTest, ReservedRoomHoldsTheSameEntriesAndIsNotCountedAsMemory) {
  MemTable plain(0, 4);
  MemTable reserved(0, 4);
  reserved.Reserve(1 << 16);
  EXPECT_EQ(reserved.memory_bytes(), plain.memory_bytes());
  for (uint64_t p = 0; p < 1000; ++p) {
    plain.Add(At(p % 7, p / 7, p));
    reserved.Add(At(p % 7, p / 7, p));
  }
  EXPECT_EQ(reserved.memory_bytes(), plain.memory_bytes());
  EXPECT_EQ(reserved.Sorted(), plain.Sorted());
  std::vector<Entry> a;
  std::vector<Entry> b;
  plain.Scan(3, 10, 20, &a);
  reserved.Scan(3, 10, 20, &b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.size(), 11u);
}

TEST(MemTableTest, TailKeepsTheEntriesFromAPosition) {
  MemTable m(10, 4);
  m.Add(At(1, 0, 10));
  m.Add(At(2, 0, 11));
  m.Add(At(1, 1, 12));
  m.Add(At(3, 0, 13));
  m.Add(At(1, 2, 14));
  const MemTable tail(m, 12);
  EXPECT_EQ(tail.first_position(), 12u);
  EXPECT_EQ(tail.end_position(), 15u);
  EXPECT_EQ(tail.new_streams(), 1u);  // stream 3 only
  EXPECT_EQ(tail.anchor_stride(), 4u);
  EXPECT_EQ(tail.anchors(), std::vector<uint32_t>{24});
  EXPECT_EQ(tail.Anchor(12), 24u);
  std::vector<uint64_t> revisions;
  tail.ForEachNewest(1, [&](const Entry& e) {
    revisions.push_back(e.revision);
    return true;
  });
  EXPECT_EQ(revisions, (std::vector<uint64_t>{2, 1}));
  EXPECT_TRUE(MemTable(m, 15).empty());
  EXPECT_EQ(MemTable(m, 10).Sorted(), m.Sorted());
}

// Positions a scavenge removed: no entries, the anchors of the multiples
// among them name what follows; a tail from inside a hole keeps them.
TEST(MemTableTest, SkippedPositionsKeepTheirAnchors) {
  MemTable m(10, 4);
  m.Add(At(1, 0, 10));
  m.Skip(17, 500);  // 12 and 16 are multiples of the stride
  m.Add(At(1, 3, 17));
  m.Skip(21, 700);  // 20
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.end_position(), 21u);
  EXPECT_EQ(m.last_position(), 17u);
  EXPECT_EQ(m.last_offset(), 34u);
  EXPECT_EQ(m.Anchor(12), std::optional<uint32_t>(500));
  EXPECT_EQ(m.Anchor(16), std::optional<uint32_t>(500));
  EXPECT_EQ(m.Anchor(20), std::optional<uint32_t>(700));
  EXPECT_EQ(m.anchors(), (std::vector<uint32_t>{500, 500, 700}));

  MemTable tail(m, 13);
  EXPECT_EQ(tail.first_position(), 13u);
  EXPECT_EQ(tail.end_position(), 21u);
  EXPECT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail.Anchor(16), std::optional<uint32_t>(500));
  EXPECT_EQ(tail.Anchor(20), std::optional<uint32_t>(700));
  EXPECT_EQ(tail.Sorted(), (std::vector<Entry>{At(1, 3, 17)}));
}

TEST(MemTableTest, CollidingStreamsAreAllScanned) {
  MemTable m(0, 8);
  // Two streams share hash 5; their revisions interleave on one chain.
  m.Add(At(5, 0, 0));  // A0
  m.Add(At(5, 1, 1));  // A1
  m.Add(At(5, 0, 2));  // B0 (chain is no longer decreasing)
  m.Add(At(5, 2, 3));  // A2
  std::vector<Entry> scanned;
  m.Scan(5, 0, 0, &scanned);
  ASSERT_EQ(scanned.size(), 2u);  // A0 and B0
  scanned.clear();
  m.Scan(5, 1, 2, &scanned);
  ASSERT_EQ(scanned.size(), 2u);
}

TEST(MemTableTest, GrowsAndSortsManyStreams) {
  MemTable m(0, 16);
  std::mt19937_64 rng(7);
  std::vector<uint64_t> next(5000);
  std::vector<Entry> all;
  for (uint64_t p = 0; p < 50000; ++p) {
    uint64_t s = rng() % next.size();
    Entry e = At(s * 0x9E3779B97F4A7C15ull, next[s]++, p);
    m.Add(e);
    all.push_back(e);
  }
  std::sort(all.begin(), all.end(), EntryLess);
  EXPECT_EQ(m.Sorted(), all);
  for (uint64_t s = 0; s < next.size(); s += 97) {
    uint64_t h = s * 0x9E3779B97F4A7C15ull;
    uint64_t expect = next[s];
    m.ForEachNewest(h, [&](const Entry& e) {
      EXPECT_EQ(e.revision, --expect);
      return true;
    });
    EXPECT_EQ(expect, 0u);
  }
  EXPECT_GT(m.memory_bytes(), 50000u * sizeof(Entry));
}

// Scan's answer by brute force: the entries of `hash` with revision in
// [lo, hi], newest (highest position) first.
std::vector<Entry> BruteScan(const std::vector<Entry>& added, uint64_t hash,
                             uint64_t lo, uint64_t hi) {
  std::vector<Entry> out;
  for (auto it = added.rbegin(); it != added.rend(); ++it) {
    if (it->hash == hash && it->revision >= lo && it->revision <= hi) {
      out.push_back(*it);
    }
  }
  return out;
}

// A long stream read in pages from its start: Scan skips the newer entries
// by jumps, and must still return exactly the page, also across revision
// gaps (events a scavenge removed before a replay) and beside other
// streams.
TEST(MemTableTest, ScansOfOldRevisionsOfALongStreamAreExact) {
  MemTable m(0, 64);
  std::vector<Entry> added;
  std::mt19937_64 rng(7);
  uint64_t revision = 0;
  for (uint64_t position = 0; position < 20'000; ++position) {
    Entry e = rng() % 4 == 0 ? At(100 + rng() % 50, position, position)
                             : At(1, revision, position);
    if (e.hash == 1) revision += rng() % 16 == 0 ? 3 : 1;  // gaps at times
    m.Add(e);
    added.push_back(e);
  }
  for (uint64_t lo = 0; lo < revision + 5; lo += 1 + rng() % 97) {
    for (uint64_t width : {0ull, 1ull, 19ull, 500ull}) {
      SCOPED_TRACE(std::to_string(lo) + ".." + std::to_string(lo + width));
      std::vector<Entry> scanned;
      m.Scan(1, lo, lo + width, &scanned);
      EXPECT_EQ(scanned, BruteScan(added, 1, lo, lo + width));
    }
  }
  // Everything, and nothing above the newest.
  std::vector<Entry> all;
  m.Scan(1, 0, UINT64_MAX, &all);
  EXPECT_EQ(all, BruteScan(added, 1, 0, UINT64_MAX));
  std::vector<Entry> none;
  m.Scan(1, revision + 10, revision + 20, &none);
  EXPECT_TRUE(none.empty());
}

// A chain shared by colliding streams (mixed) is walked whole: the jumps,
// computed from revisions that do not decrease there, are not used.
TEST(MemTableTest, ScansOfAMixedChainAreExact) {
  MemTable m(0, 64);
  std::vector<Entry> added;
  std::mt19937_64 rng(11);
  uint64_t revisions[3] = {0, 0, 0};
  for (uint64_t position = 0; position < 3'000; ++position) {
    // One hash, three streams' revisions interleaved.
    const size_t stream = rng() % 3;
    Entry e = At(9, revisions[stream]++, position);
    m.Add(e);
    added.push_back(e);
  }
  for (uint64_t lo = 0; lo < 1'100; lo += 37) {
    std::vector<Entry> scanned;
    m.Scan(9, lo, lo + 19, &scanned);
    EXPECT_EQ(scanned, BruteScan(added, 9, lo, lo + 19)) << lo;
  }
}

// ScanTagged returns what a scan filtered by tag would, newest first: for
// a stream alone on its hash and for colliding streams, with tags repeated
// within a stream and shared across streams, and across the growth of the
// id-tag buckets (none reserved) as well as with room reserved.
TEST(MemTableTest, TaggedScansEqualFilteredScans) {
  for (const bool reserve : {false, true}) {
    MemTable m(0, 64);
    if (reserve) m.Reserve(1 << 14);
    std::vector<Entry> added;
    std::mt19937_64 rng(5);
    uint64_t revisions[5] = {0, 0, 0, 0, 0};
    for (uint64_t position = 0; position < 5'000; ++position) {
      // Hashes 1 and 2 are one stream each; hash 3 is shared by three.
      const size_t stream = rng() % 5;
      const uint64_t hash = stream < 2 ? stream + 1 : 3;
      Entry e{hash, revisions[stream]++, position, 0,
              static_cast<uint32_t>(rng() % 40)};
      m.Add(e);
      added.push_back(e);
    }
    for (uint64_t hash = 1; hash <= 4; ++hash) {
      for (uint32_t tag = 0; tag < 40; tag += 3) {
        for (uint64_t lo = 0; lo < 1'200; lo += 151) {
          std::vector<Entry> tagged;
          const uint32_t tags[] = {tag};
          m.ScanTagged(hash, tags, lo, lo + 300, &tagged);
          std::vector<Entry> expected;
          for (const Entry& e : BruteScan(added, hash, lo, lo + 300)) {
            if (e.id_tag == tag) expected.push_back(e);
          }
          EXPECT_EQ(tagged, expected) << reserve << " " << hash << " " << tag;
        }
      }
    }
  }
}

TEST(MemTableTest, OldestEntryUnlessTheChainIsKnownToBeMixed) {
  MemTable m(100, 64);
  EXPECT_FALSE(m.OldestEntry(1));
  EXPECT_FALSE(m.Contains(1));
  m.Add(At(1, 7, 100));
  m.Add(At(2, 0, 101));
  m.Add(At(1, 8, 102));
  m.Add(At(2, 1, 103));
  ASSERT_TRUE(m.OldestEntry(1));
  EXPECT_EQ(m.OldestEntry(1)->revision, 7u);
  EXPECT_EQ(m.OldestEntry(1)->position, 100u);
  ASSERT_TRUE(m.OldestEntry(2));
  EXPECT_EQ(m.OldestEntry(2)->revision, 0u);
  EXPECT_EQ(m.OldestEntry(2)->position, 101u);
  EXPECT_TRUE(m.Contains(1));
  // A second stream with hash 2 restarts at revision 0: the chain is mixed
  // and its first entry no longer gives the stream's oldest revision.
  m.Add(At(2, 0, 104));
  EXPECT_FALSE(m.OldestEntry(2));
  EXPECT_TRUE(m.Contains(2));
}

}  // namespace
}  // namespace cairn::index
