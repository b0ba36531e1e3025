// Copyright (c) Cairn authors.
#include "index/persistent_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <shared_mutex>
#include <thread>

#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/index/index_test_util.h"

namespace cairn::index {
namespace {

// "s<n>". Built by appending: g++ 12 at -O2 reports a false -Wrestrict
// overlap in the inlined `"s" + std::to_string(n)` (GCC bug 105651).
std::string StreamName(uint64_t n) {
  std::string name("s");
  name += std::to_string(n);
  return name;
}

using testing::ExpectMatchesModel;
using testing::FakeLog;

constexpr uint64_t kStore = 0xabcdef;
constexpr char kDir[] = "/store/index";

// Three buckets for all streams: nearly every lookup meets collisions.
uint64_t ThreeBucketHash(std::string_view s) {
  return DefaultStreamHash(s) % 3;
}
uint64_t ConstantHash(std::string_view) { return 42; }

class Harness {
 public:
  Harness() {
    EXPECT_TRUE(fs_.CreateDir("/store").ok());
    EXPECT_TRUE(fs_.SyncDir("/").ok());
    options = testing::SmallInlineOptions();
  }

  Status Open(io::FileSystem* fs = nullptr) {
    index.reset();
    auto opened =
        PersistentIndex::Open(fs != nullptr ? fs : &fs_, kDir, store_id, 0,
                              options, log.Reader(), &durable);
    if (!opened.ok()) return opened.status();
    index = std::move(opened.value());
    return Status::Ok();
  }
  // A read-only index of the same directory and log: a follower of `index`.
  Result<std::unique_ptr<PersistentIndex>> OpenFollower() {
    IndexOptions read_only = options;
    read_only.read_only = true;
    return PersistentIndex::Open(&fs_, kDir, store_id, 0, read_only,
                                 log.Reader(), nullptr);
  }
  // Opens and replays the log from the index's checkpoint, as the engine.
  Status OpenAndReplay(io::FileSystem* fs = nullptr) {
    Status s = Open(fs);
    if (!s.ok()) return s;
    return log.Feed(index.get(), index->next_position(), log.names.size());
  }
  Status Append(const std::string& stream) {
    uint64_t p = log.Append(stream);
    return index->Add(stream, log.revisions[p], p, FakeLog::OffsetOf(p),
                      log.ids[p]);
  }
  // Appends `n` events over `streams` streams (some new each time).
  void AppendRandom(uint64_t n, uint64_t streams, std::mt19937_64* rng) {
    for (uint64_t i = 0; i < n; ++i) {
      std::string name = "stream-" + std::to_string((*rng)() % streams);
      Status s = Append(name);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }
  std::vector<std::string> Files() {
    auto names = fs_.ListDir(kDir);
    EXPECT_TRUE(names.ok());
    return names.ok() ? *names : std::vector<std::string>{};
  }
  void FlipByte(const std::string& path, uint64_t offset) {
    auto f = fs_.OpenFile(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok()) << path;
    uint8_t b = 0;
    size_t got = 0;
    ASSERT_TRUE((*f)->Read(offset, &b, 1, &got).ok());
    b ^= 0x04;
    ASSERT_TRUE((*f)->Write(offset, &b, 1).ok());
  }

  io::MemoryFileSystem fs_;
  FakeLog log;
  std::atomic<uint64_t> durable{UINT64_MAX};
  uint64_t store_id = kStore;
  IndexOptions options;
  std::unique_ptr<PersistentIndex> index;
};

struct ModelParam {
  bool background;
  StreamHashFn hash;
  const char* name;
};

class IndexModelTest : public ::testing::TestWithParam<ModelParam> {};

TEST_P(IndexModelTest, MatchesTheModelAcrossMergesAndReopens) {
  Harness h;
  h.options.background = GetParam().background;
  h.options.stream_hash = GetParam().hash;
  std::mt19937_64 rng(11);
  ASSERT_TRUE(h.OpenAndReplay().ok());
  for (int round = 0; round < 4; ++round) {
    h.AppendRandom(1500, 60 + 40 * round, &rng);
    ExpectMatchesModel(*h.index, h.log, h.log.names.size());
    h.index->WaitIdle();
    ExpectMatchesModel(*h.index, h.log, h.log.names.size());
    IndexStats st = h.index->Stats();
    EXPECT_TRUE(st.background_error.empty()) << st.background_error;
    ASSERT_TRUE(h.index->Close().ok());
    // A clean shutdown lists everything: nothing to replay.
    ASSERT_TRUE(h.Open().ok());
    EXPECT_EQ(h.index->next_position(), h.log.names.size());
    EXPECT_TRUE(h.index->open_note().empty()) << h.index->open_note();
    ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  }
  IndexStats st = h.index->Stats();
  EXPECT_GT(st.merges + st.tables.size(), 0u);
  // Merges keep fewer than fan-in tables per level.
  std::map<uint32_t, int> per_level;
  for (const auto& t : st.tables) ++per_level[t.level];
  for (const auto& [level, count] : per_level) {
    EXPECT_LT(count, static_cast<int>(h.options.merge_fan_in)) << level;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, IndexModelTest,
    ::testing::Values(ModelParam{false, nullptr, "Inline"},
                      ModelParam{true, nullptr, "Background"},
                      ModelParam{false, &ThreeBucketHash, "InlineCollisions"},
                      ModelParam{true, &ThreeBucketHash,
                                 "BackgroundCollisions"}),
    [](const ::testing::TestParamInfo<ModelParam>& info) {
      return std::string(info.param.name);
    });

TEST(IndexTest, EveryStreamOnOneHash) {
  Harness h;
  h.options.stream_hash = &ConstantHash;
  h.options.memtable_entries = 64;
  ASSERT_TRUE(h.OpenAndReplay().ok());
  std::mt19937_64 rng(3);
  h.AppendRandom(1200, 40, &rng);
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  ASSERT_TRUE(h.index->Close().ok());
  ASSERT_TRUE(h.OpenAndReplay().ok());
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  // A new stream on the shared hash starts at revision 0.
  ASSERT_TRUE(h.Append("a-new-stream").ok());
  auto last = h.index->LastRevision("a-new-stream");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::optional<uint64_t>(0));
}

TEST(IndexTest, ASearchedLastRevisionComesWithItsEntry) {
  Harness h;
  h.options.stream_hash = &ThreeBucketHash;  // colliding streams
  h.options.memtable_entries = 64;
  ASSERT_TRUE(h.OpenAndReplay().ok());
  std::mt19937_64 rng(5);
  h.AppendRandom(600, 30, &rng);
  h.index->WaitIdle();
  // Reopened, the stream cache is empty: every first lookup searches the
  // memtable and tables, and reports the entry it found.
  ASSERT_TRUE(h.index->Close().ok());
  ASSERT_TRUE(h.OpenAndReplay().ok());
  for (int i = 0; i < 30; ++i) {
    const std::string stream = "stream-" + std::to_string(i);
    std::optional<IndexedEvent> entry;
    auto last = h.index->LastRevision(stream, &entry);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    if (!last->has_value()) {
      EXPECT_FALSE(entry.has_value()) << stream;
      continue;
    }
    ASSERT_TRUE(entry.has_value()) << stream;
    auto found = h.index->Find(stream, **last);
    ASSERT_TRUE(found.ok() && found->has_value()) << stream;
    EXPECT_EQ(entry->revision, **last);
    EXPECT_EQ(entry->position, (*found)->position);
    EXPECT_EQ(entry->offset, (*found)->offset);
    EXPECT_EQ(h.log.names[entry->position], stream);
    // Now cached: the answer comes without an entry.
    auto again = h.index->LastRevision(stream, &entry);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *last);
    EXPECT_FALSE(entry.has_value()) << stream;
  }
}

TEST(IndexTest, AStreamKnownToHaveNoEventsGetsItsFirstOne) {
  Harness h;
  h.options.stream_hash = &ConstantHash;  // every stream on one chain
  ASSERT_TRUE(h.OpenAndReplay().ok());
  ASSERT_TRUE(h.Append("a").ok());
  // "b" has no events; the answer is cached, and must give way to b's
  // first event, whose hash "a" shares.
  for (int i = 0; i < 2; ++i) {
    auto none = h.index->LastRevision("b");
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, std::nullopt);
  }
  std::vector<IndexedEvent> read;
  ASSERT_TRUE(h.index->Read("b", 0, Direction::kForward, 10, &read).ok());
  EXPECT_TRUE(read.empty());
  ASSERT_TRUE(h.Append("b").ok());
  ASSERT_TRUE(h.Append("b").ok());
  auto last = h.index->LastRevision("b");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::optional<uint64_t>(1));
  ASSERT_TRUE(h.index->Read("b", 0, Direction::kForward, 10, &read).ok());
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(h.log.names[read[1].position], "b");
  // After a reopen the cache starts empty and the index answers.
  ASSERT_TRUE(h.index->Close().ok());
  ASSERT_TRUE(h.OpenAndReplay().ok());
  last = h.index->LastRevision("b");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::optional<uint64_t>(1));
}

// After a scavenge a stream's revisions can jump far (its removed events
// have no entries): reads from inside the gap, each way and of any count,
// find the events beyond it, and only as many as asked for, colliding
// streams (one hash for all) included.
TEST(IndexTest, ReadsAcrossALongGapOfRemovedRevisions) {
  const StreamHashFn hashes[] = {&DefaultStreamHash, &ConstantHash};
  for (StreamHashFn hash : hashes) {
    Harness h;
    h.options.stream_hash = hash;
    ASSERT_TRUE(h.Open().ok());
    constexpr uint64_t kJump = 10'000'000;
    ASSERT_TRUE(h.Append("s").ok());      // s@0, position 0
    ASSERT_TRUE(h.Append("other").ok());  // position 1
    h.log.Append("gone");                 // position 2, removed
    ASSERT_TRUE(h.index->SkipRemoved(3, FakeLog::OffsetOf(2)).ok());
    // s@kJump.. at positions 3..7, other@1 at 8.
    for (uint64_t i = 0; i < 5; ++i) {
      const uint64_t p = h.log.Append("s");
      ASSERT_TRUE(
          h.index->Add("s", kJump + i, p, FakeLog::OffsetOf(p), h.log.ids[p])
              .ok());
    }
    ASSERT_TRUE(h.Append("other").ok());
    auto revisions = [&](uint64_t from, Direction direction,
                         uint64_t max_count) {
      std::vector<IndexedEvent> out;
      Status s = h.index->Read("s", from, direction, max_count, &out);
      EXPECT_TRUE(s.ok()) << s.ToString();
      std::vector<uint64_t> r;
      for (const IndexedEvent& e : out) r.push_back(e.revision);
      return r;
    };
    using V = std::vector<uint64_t>;
    EXPECT_EQ(revisions(1, Direction::kForward, 1), V{kJump});
    EXPECT_EQ(revisions(1, Direction::kForward, 3),
              (V{kJump, kJump + 1, kJump + 2}));
    EXPECT_EQ(revisions(0, Direction::kForward, 2), (V{0, kJump}));
    EXPECT_EQ(revisions(kJump + 3, Direction::kForward, 10),
              (V{kJump + 3, kJump + 4}));
    EXPECT_EQ(revisions(kJump - 1, Direction::kBackward, 1), V{0});
    EXPECT_EQ(revisions(kJump + 1, Direction::kBackward, 3),
              (V{kJump + 1, kJump, 0}));
    EXPECT_EQ(revisions(UINT64_MAX, Direction::kBackward, 2),
              (V{kJump + 4, kJump + 3}));
    std::vector<IndexedEvent> other;
    ASSERT_TRUE(h.index->Read("other", 0, Direction::kForward, 5, &other).ok());
    ASSERT_EQ(other.size(), 2u);
    EXPECT_EQ(other[1].position, 8u);
  }
}

TEST(IndexTest, RevisionAndPositionGapsAreRefused) {
  Harness h;
  ASSERT_TRUE(h.Open().ok());
  ASSERT_TRUE(h.Append("a").ok());
  ASSERT_TRUE(h.Append("a").ok());
  EXPECT_TRUE(h.index->Add("a", 5, 2, 0, EventId::Generate()).IsCorruption());
  EXPECT_TRUE(h.index->Add("b", 1, 2, 0, EventId::Generate()).IsCorruption());
  EXPECT_TRUE(h.index->Add("b", 0, 3, 0, EventId::Generate()).IsCorruption());
  EXPECT_EQ(h.index->next_position(), 2u);
}

TEST(IndexTest, ReadClampsAndPages) {
  Harness h;
  ASSERT_TRUE(h.Open().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.Append("s").ok());
  std::vector<IndexedEvent> out;
  ASSERT_TRUE(h.index->Read("s", 7, Direction::kForward, 100, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].revision, 7u);
  out.clear();
  ASSERT_TRUE(h.index->Read("s", 10, Direction::kForward, 100, &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(h.index->Read("s", 99, Direction::kBackward, 2, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].revision, 9u);
  EXPECT_EQ(out[1].revision, 8u);
  out.clear();
  ASSERT_TRUE(h.index->Read("s", 0, Direction::kForward, 0, &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(h.index->Read("t", 0, Direction::kForward, 9, &out).ok());
  EXPECT_TRUE(out.empty());
  auto found = h.index->Find("s", 4);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->position, 4u);
  found = h.index->Find("s", 10);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

// FindTagged gives what a filter of the stream's events by id tag gives,
// newest first, whether the events are in the in-memory tables, in index
// files or both, and for streams whose hash others share.
class FindTaggedTest : public ::testing::TestWithParam<ModelParam> {};

TEST_P(FindTaggedTest, EqualsTheEventsFilteredByTag) {
  Harness h;
  h.options.background = GetParam().background;
  h.options.stream_hash = GetParam().hash;
  ASSERT_TRUE(h.OpenAndReplay().ok());
  std::mt19937_64 rng(23);
  // Few distinct ids, so that tags repeat within and across streams.
  std::vector<EventId> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(EventId::Generate());
  // Not a multiple of memtable_entries: the newest events stay in memory.
  for (int i = 0; i < 3020; ++i) {
    // Skewed: stream 0 gets a third of the events, a long stream.
    const uint64_t stream = rng() % 3 == 0 ? 0 : rng() % 30;
    const uint64_t p = h.log.Append(StreamName(stream));
    h.log.ids[p] = ids[rng() % ids.size()];
    ASSERT_TRUE(h.index
                    ->Add(h.log.names[p], h.log.revisions[p], p,
                          FakeLog::OffsetOf(p), h.log.ids[p])
                    .ok());
  }
  h.index->WaitIdle();
  for (uint64_t stream = 0; stream < 31; ++stream) {
    const std::string name = StreamName(stream);
    const std::vector<uint64_t>& positions = h.log.streams[name];
    for (uint64_t lo = 0; lo < 1200; lo += 97) {
      const uint64_t hi = lo + rng() % 400;
      std::vector<uint32_t> tags = {IdTag(ids[rng() % ids.size()]),
                                    IdTag(ids[rng() % ids.size()])};
      std::sort(tags.begin(), tags.end());
      tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
      std::vector<uint64_t> expected;
      for (uint64_t r = std::min<uint64_t>(hi + 1, positions.size()); r > lo;
           --r) {
        const uint64_t p = positions[r - 1];
        if (std::binary_search(tags.begin(), tags.end(), IdTag(h.log.ids[p]))) {
          expected.push_back(p);
        }
      }
      std::vector<IndexedEvent> found;
      ASSERT_TRUE(h.index->FindTagged(name, lo, hi, tags, &found).ok());
      std::vector<uint64_t> got;
      for (const IndexedEvent& e : found) {
        got.push_back(e.position);
        EXPECT_EQ(e.revision, h.log.revisions[e.position]);
        EXPECT_EQ(e.offset, FakeLog::OffsetOf(e.position));
      }
      EXPECT_EQ(got, expected) << name << " [" << lo << ", " << hi << "]";
    }
  }
  IndexStats st = h.index->Stats();
  EXPECT_FALSE(st.tables.empty());
}

// Stream "a" has its first events in a table when "b", on the same hash,
// starts in the in-memory table and "a" goes on after it: the chain's
// revisions rise (b 0, a 10), so nothing marks it as holding two streams,
// and its oldest entry is b's. The search for a's earlier ids must still
// reach the table.
TEST(IndexTest, FindTaggedReachesTheFilesBelowAnotherStreamsOldestEntry) {
  Harness h;
  h.options.stream_hash = &ConstantHash;
  h.options.memtable_entries = 10;
  ASSERT_TRUE(h.OpenAndReplay().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.Append("a").ok());
  h.index->WaitIdle();
  ASSERT_FALSE(h.index->Stats().tables.empty());
  ASSERT_TRUE(h.Append("b").ok());
  ASSERT_TRUE(h.Append("a").ok());
  for (uint64_t p : {3u, 11u}) {  // a's revisions 3 and 10
    const std::vector<uint32_t> tags = {IdTag(h.log.ids[p])};
    std::vector<IndexedEvent> found;
    ASSERT_TRUE(h.index->FindTagged("a", 0, 10, tags, &found).ok());
    std::vector<uint64_t> got;
    for (const IndexedEvent& e : found) got.push_back(e.position);
    EXPECT_NE(std::find(got.begin(), got.end(), p), got.end())
        << "position " << p << " of a not found";
  }
  // And "b" finds its own event, which is the chain's oldest.
  std::vector<IndexedEvent> found;
  const std::vector<uint32_t> tags = {IdTag(h.log.ids[10])};
  ASSERT_TRUE(h.index->FindTagged("b", 0, 0, tags, &found).ok());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].position, 10u);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, FindTaggedTest,
    ::testing::Values(ModelParam{false, nullptr, "Inline"},
                      ModelParam{true, nullptr, "Background"},
                      ModelParam{false, &ThreeBucketHash, "InlineCollisions"},
                      ModelParam{false, &ConstantHash, "OneHash"}),
    [](const ::testing::TestParamInfo<ModelParam>& info) {
      return std::string(info.param.name);
    });

TEST(IndexTest, DurabilityGatesTheManifest) {
  Harness h;
  h.options.memtable_entries = 20;
  h.durable = 50;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(5);
  h.AppendRandom(200, 10, &rng);
  IndexStats st = h.index->Stats();
  EXPECT_EQ(st.checkpoint, 40u);  // tables [0,20) and [20,40) only
  ASSERT_TRUE(h.index->Close().ok());
  ASSERT_TRUE(h.Open().ok());
  EXPECT_EQ(h.index->next_position(), 40u);
  // The tables written past the durable end were not listed, and are gone.
  for (const std::string& name : h.Files()) {
    EXPECT_TRUE(name == "MANIFEST" || name.ends_with(".idx")) << name;
  }
  EXPECT_LE(h.Files().size(), 3u);
  h.durable = UINT64_MAX;
  ASSERT_TRUE(h.log.Feed(h.index.get(), 40, h.log.names.size()).ok());
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
}

TEST(IndexTest, MissingTableIsRebuiltFromTheLog) {
  Harness h;
  h.options.merge_fan_in = 16;  // keep several tables
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(6);
  h.AppendRandom(400, 30, &rng);
  ASSERT_TRUE(h.index->Close().ok());
  Manifest m;
  ASSERT_TRUE(ReadManifest(&h.fs_, kDir, &m).ok());
  ASSERT_GE(m.tables.size(), 4u);
  const ManifestTable victim = m.tables[2];
  ASSERT_TRUE(
      h.fs_.RemoveFile(std::string(kDir) + "/" + TableFileName(victim.number))
          .ok());
  ASSERT_TRUE(h.Open().ok());
  EXPECT_NE(h.index->open_note().find("dropped"), std::string::npos)
      << h.index->open_note();
  EXPECT_EQ(h.index->next_position(), victim.first_position);
  // Newer tables than the missing one are gone too (not trusted alone).
  EXPECT_FALSE(h.fs_.Exists(std::string(kDir) + "/" +
                            TableFileName(m.tables[3].number)));
  ASSERT_TRUE(
      h.log.Feed(h.index.get(), victim.first_position, h.log.names.size())
          .ok());
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
}

TEST(IndexTest, DamagedManifestOrForeignIndexStartsOver) {
  Harness h;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(7);
  h.AppendRandom(300, 20, &rng);
  ASSERT_TRUE(h.index->Close().ok());
  h.FlipByte(std::string(kDir) + "/MANIFEST", 20);
  ASSERT_TRUE(h.OpenAndReplay().ok());
  EXPECT_NE(h.index->open_note().find("manifest"), std::string::npos);
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  ASSERT_TRUE(h.index->Close().ok());
  // The same files opened for another store's log are not used.
  h.store_id = kStore + 1;
  ASSERT_TRUE(h.Open().ok());
  EXPECT_EQ(h.index->next_position(), 0u);
  EXPECT_NE(h.index->open_note().find("another store"), std::string::npos);
}

// 1 200 events over 30 streams in four level-0 tables, the index closed;
// *m is its manifest. Then a byte of the oldest table's first entry block
// is flipped.
void FourTablesWithADamagedBlock(Harness* h, Manifest* m) {
  h->options.merge_fan_in = 8;
  h->options.memtable_entries = 300;
  ASSERT_TRUE(h->Open().ok());
  std::mt19937_64 rng(8);
  h->AppendRandom(1200, 30, &rng);
  ASSERT_TRUE(h->index->Close().ok());
  ASSERT_TRUE(ReadManifest(&h->fs_, kDir, m).ok());
  ASSERT_EQ(m->tables.size(), 4u);
  const std::string first =
      std::string(kDir) + "/" + TableFileName(m->tables[0].number);
  auto t = Table::Open(&h->fs_, first, kStore, m->tables[0].number, 8);
  ASSERT_TRUE(t.ok());
  uint64_t entries_at =
      (*t)->file_size() - (*t)->info().block_count() * kTableBlockSize;
  h->FlipByte(first, entries_at + 100);
}

TEST(IndexTest, DamagedFencesDropTheTableDamagedBlocksFailReads) {
  Harness h;
  Manifest m;
  ASSERT_NO_FATAL_FAILURE(FourTablesWithADamagedBlock(&h, &m));
  const std::string last =
      std::string(kDir) + "/" + TableFileName(m.tables[3].number);
  h.FlipByte(last, kTableHeaderSize + 3);  // a fence of the newest table
  ASSERT_TRUE(h.Open().ok());
  EXPECT_EQ(h.index->next_position(), m.tables[3].first_position);
  ASSERT_TRUE(
      h.log.Feed(h.index.get(), m.tables[3].first_position, h.log.names.size())
          .ok());
  // Reads that need the damaged block report it (never a wrong answer).
  int corrupt = 0;
  for (const auto& [name, positions] : h.log.streams) {
    std::vector<IndexedEvent> events;
    Status s = h.index->Read(name, 0, Direction::kForward, UINT64_MAX, &events);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.ToString().find("rebuild"), std::string::npos);
      ++corrupt;
      continue;
    }
    ASSERT_EQ(events.size(), positions.size());
    for (size_t r = 0; r < events.size(); ++r) {
      EXPECT_EQ(events[r].position, positions[r]);
    }
  }
  EXPECT_GT(corrupt, 0);
}

TEST(IndexTest, ALookupRebuildsADamagedBlockFromTheLog) {
  Harness h;
  h.options.log_events = h.log.EventReader();
  Manifest m;
  ASSERT_NO_FATAL_FAILURE(FourTablesWithADamagedBlock(&h, &m));
  ASSERT_TRUE(h.OpenAndReplay().ok());
  EXPECT_EQ(h.index->open_note(), "");
  // Every answer is right: the lookups that meet the damaged block rebuild
  // it from the log once.
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  IndexStats stats = h.index->Stats();
  ASSERT_EQ(stats.tables.size(), 4u);
  EXPECT_EQ(stats.tables[0].repaired_blocks, 1u);
  EXPECT_EQ(stats.tables[1].repaired_blocks, 0u);
  ASSERT_TRUE(h.index->Close().ok());
  // The table is still damaged on disk: the next open drops it and every
  // newer one, and the log is indexed again from there.
  ASSERT_TRUE(h.OpenAndReplay().ok());
  EXPECT_NE(h.index->open_note().find("found damaged by a lookup"),
            std::string::npos)
      << h.index->open_note();
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  for (const auto& t : h.index->Stats().tables) {
    EXPECT_EQ(t.repaired_blocks, 0u);
  }
  ASSERT_TRUE(h.index->Close().ok());
}

TEST(IndexTest, LeftoversFromACrashAreRemovedAtOpen) {
  Harness h;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(9);
  h.AppendRandom(120, 10, &rng);
  ASSERT_TRUE(h.index->Close().ok());
  for (const char* name :
       {"000000000999.idx", "000000000998.idx.tmp", "MANIFEST.tmp"}) {
    auto f =
        h.fs_.OpenFile(std::string(kDir) + "/" + name, io::OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Write(0, "junk", 4).ok());
  }
  auto keep =
      h.fs_.OpenFile(std::string(kDir) + "/NOTES", io::OpenMode::kCreate);
  ASSERT_TRUE(keep.ok());
  ASSERT_TRUE(h.OpenAndReplay().ok());
  EXPECT_TRUE(h.index->open_note().empty());
  auto files = h.Files();
  EXPECT_EQ(std::count(files.begin(), files.end(), "000000000999.idx"), 0);
  EXPECT_EQ(std::count(files.begin(), files.end(), "000000000998.idx.tmp"), 0);
  EXPECT_EQ(std::count(files.begin(), files.end(), "MANIFEST.tmp"), 0);
  EXPECT_EQ(std::count(files.begin(), files.end(), "NOTES"), 1);
  // New tables never reuse a number seen on disk.
  h.AppendRandom(200, 10, &rng);
  ASSERT_TRUE(h.index->Close().ok());
  Manifest m;
  ASSERT_TRUE(ReadManifest(&h.fs_, kDir, &m).ok());
  EXPECT_GT(m.tables.back().number, 999u);
  ASSERT_TRUE(h.OpenAndReplay().ok());
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
}

TEST(IndexTest, ResetForgetsEverything) {
  Harness h;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(10);
  h.AppendRandom(300, 10, &rng);
  ASSERT_TRUE(h.index->Reset(0).ok());
  EXPECT_EQ(h.index->next_position(), 0u);
  EXPECT_EQ(h.index->StreamCount(), 0u);
  auto last = h.index->LastRevision("stream-1");
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->has_value());
  ASSERT_TRUE(h.log.Feed(h.index.get(), 0, h.log.names.size()).ok());
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  ASSERT_TRUE(h.index->Close().ok());
  ASSERT_TRUE(h.OpenAndReplay().ok());
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
}

TEST(IndexTest, ReadOnlyChangesNothing) {
  Harness h;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(12);
  h.AppendRandom(260, 10, &rng);
  // Leave the last 10 events to replay.
  h.durable = 250;
  ASSERT_TRUE(h.index->Close().ok());
  h.index.reset();
  auto before = h.Files();
  const uint64_t ops_before = h.fs_.operation_count();
  h.options.read_only = true;
  h.durable = UINT64_MAX;
  ASSERT_TRUE(h.Open().ok());
  EXPECT_EQ(h.index->next_position(), 250u);
  ASSERT_TRUE(h.log.Feed(h.index.get(), 250, h.log.names.size()).ok());
  h.AppendRandom(300, 10, &rng);  // frozen memtables stay in memory
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
  ASSERT_TRUE(h.index->Close().ok());
  h.index.reset();
  EXPECT_EQ(h.Files(), before);
  (void)ops_before;
  // Without an index directory, a read-only index creates none.
  Harness fresh;
  fresh.options.read_only = true;
  ASSERT_TRUE(fresh.Open().ok());
  ASSERT_TRUE(fresh.Append("x").ok());
  EXPECT_FALSE(fresh.fs_.Exists(kDir));
}

// A follower (read-only) feeds what it catches up with into memory and
// takes up the writer's tables as they appear: it keeps in memory only what
// follows them, and the tables it holds stay readable after the writer
// merges them away and removes their files.
TEST(IndexTest, ReadOnlyIndexAdoptsTheWritersTables) {
  Harness h;  // the writer: inline flushes and merges, tables of 50
  ASSERT_TRUE(h.Open().ok());
  auto opened = h.OpenFollower();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<PersistentIndex> reader = std::move(opened.value());
  std::mt19937_64 rng(21);
  uint64_t fed = 0;
  uint64_t adoptions = 0;
  for (int round = 0; round < 60; ++round) {
    h.AppendRandom(37, 25, &rng);
    const uint64_t end = h.log.names.size();
    bool adopted = false;
    ASSERT_TRUE(reader->AdoptWriterTables(&adopted).ok());
    adoptions += adopted ? 1 : 0;
    // The tables may reach past what the follower indexed: it goes on from
    // their end.
    fed = std::max(fed, reader->next_position());
    ASSERT_TRUE(h.log.Feed(reader.get(), fed, end).ok());
    fed = end;
    // Only the writer's unlisted tail (its in-memory table) stays in memory.
    EXPECT_EQ(reader->tables_end(), h.index->Stats().checkpoint);
    EXPECT_EQ(reader->memory_entries(), end - reader->tables_end());
    EXPECT_LT(reader->memory_entries(), h.options.memtable_entries);
    EXPECT_EQ(reader->Stats().memtable_entries, reader->memory_entries());
    ExpectMatchesModel(*reader, h.log, end);
  }
  EXPECT_GT(adoptions, 20u);
  EXPECT_GT(h.index->Stats().merges, 5u);

  // Without adopting, the follower still answers from the tables it holds
  // while the writer merges them away and removes their files.
  const IndexStats held = reader->Stats();
  h.AppendRandom(600, 25, &rng);
  bool any_removed = false;
  for (const auto& t : held.tables) {
    any_removed |=
        !h.fs_.Exists(std::string(kDir) + "/" + TableFileName(t.number));
  }
  EXPECT_TRUE(any_removed);
  ASSERT_TRUE(h.log.Feed(reader.get(), fed, h.log.names.size()).ok());
  fed = h.log.names.size();
  ExpectMatchesModel(*reader, h.log, fed);
  bool adopted = false;
  ASSERT_TRUE(reader->AdoptWriterTables(&adopted).ok());
  EXPECT_TRUE(adopted);
  EXPECT_LT(reader->memory_entries(), h.options.memtable_entries);
  ExpectMatchesModel(*reader, h.log, fed);

  // A writer that starts its index over lists less than the follower
  // holds: the follower keeps its tables until the new ones catch up.
  const uint64_t before = reader->tables_end();
  ASSERT_TRUE(h.index->Reset(0).ok());
  ASSERT_TRUE(reader->AdoptWriterTables(&adopted).ok());
  EXPECT_FALSE(adopted);
  EXPECT_EQ(reader->tables_end(), before);
  ExpectMatchesModel(*reader, h.log, fed);
  ASSERT_TRUE(h.log.Feed(h.index.get(), 0, h.log.names.size()).ok());
  ASSERT_TRUE(reader->AdoptWriterTables(&adopted).ok());
  EXPECT_TRUE(adopted);
  EXPECT_GE(reader->tables_end(), before);
  ExpectMatchesModel(*reader, h.log, fed);

  // A writer's index is not adopted by a writer.
  EXPECT_TRUE(h.index->AdoptWriterTables(&adopted).IsInvalidArgument());
}

// A follower that found the writer's index not matching the log (and
// started over in memory) does not take up that same manifest later, only
// one the writer writes after it.
TEST(IndexTest, ReadOnlyIndexSkipsTheManifestItDiscarded) {
  Harness h;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(22);
  h.AppendRandom(120, 10, &rng);
  auto opened = h.OpenFollower();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<PersistentIndex> reader = std::move(opened.value());
  EXPECT_EQ(reader->next_position(), 100u);
  ASSERT_TRUE(reader->Reset(0).ok());  // as the engine does on a mismatch
  ASSERT_TRUE(h.log.Feed(reader.get(), 0, h.log.names.size()).ok());
  bool adopted = true;
  ASSERT_TRUE(reader->AdoptWriterTables(&adopted).ok());
  EXPECT_FALSE(adopted);
  EXPECT_EQ(reader->memory_entries(), 120u);
  h.AppendRandom(40, 10, &rng);  // the writer lists a table past it
  ASSERT_TRUE(h.log.Feed(reader.get(), 120, h.log.names.size()).ok());
  ASSERT_TRUE(reader->AdoptWriterTables(&adopted).ok());
  EXPECT_TRUE(adopted);
  EXPECT_EQ(reader->tables_end(), 150u);
  EXPECT_EQ(reader->memory_entries(), 10u);
  ExpectMatchesModel(*reader, h.log, h.log.names.size());
}

TEST(IndexTest, BackgroundWorkKeepsMemoryAndTablesBounded) {
  Harness h;
  h.options.background = true;
  h.options.memtable_entries = 500;
  h.options.merge_fan_in = 4;
  h.options.cache_streams = 100;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(13);
  h.AppendRandom(40000, 2000, &rng);
  h.index->WaitIdle();
  IndexStats st = h.index->Stats();
  EXPECT_TRUE(st.background_error.empty()) << st.background_error;
  EXPECT_EQ(st.frozen_memtables, 0u);
  EXPECT_LT(st.memtable_entries, 500u);
  EXPECT_LE(st.cache_streams, 100u);
  EXPECT_EQ(st.checkpoint, 40000u / 500 * 500);
  EXPECT_GT(st.merges, 0u);
  // 80 flushes at fan-in 4 leave at most 3 tables per level.
  EXPECT_LE(st.tables.size(), 3u * 4);
  EXPECT_EQ(st.streams, h.log.streams.size());
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
}

// A merge that fails every time (here: a damaged entry block in the tables
// it must read) is reported, and flushes go on: appends waiting in
// Throttle() are never held back by it. A flusher that backed off on the
// merger's errors too would flush about once a second here at best, and
// with the merger retrying every second, possibly never: the engine's
// commit thread would wait in Throttle() forever.
// Streams "stream-N" hash low and every other name high, so damage to the
// first entry block of the first tables is met by their merge but by no
// lookup of a later stream.
uint64_t LowForOldStreams(std::string_view s) {
  const uint64_t h = DefaultStreamHash(s) >> 2;
  return s.starts_with("stream-") ? h : h | (uint64_t{1} << 63);
}

TEST(IndexTest, AFailingMergeDoesNotHoldBackFlushes) {
  Harness h;
  h.options.memtable_entries = 300;  // three entry blocks per table
  h.options.merge_fan_in = 2;
  h.options.stream_hash = LowForOldStreams;
  ASSERT_TRUE(h.Open().ok());
  std::mt19937_64 rng(21);
  h.AppendRandom(600, 10, &rng);  // two level-0 tables, not merged
  ASSERT_TRUE(h.index->Close().ok());
  Manifest m;
  ASSERT_TRUE(ReadManifest(&h.fs_, kDir, &m).ok());
  for (const auto& listed : m.tables) {
    const std::string path =
        std::string(kDir) + "/" + TableFileName(listed.number);
    auto t = Table::Open(&h.fs_, path, kStore, listed.number, 8);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    const uint64_t entries_at =
        (*t)->file_size() - (*t)->info().block_count() * kTableBlockSize;
    h.FlipByte(path, entries_at + 100);
  }
  h.options.background = true;
  ASSERT_TRUE(h.OpenAndReplay().ok());
  const uint64_t flushes_before = h.index->Stats().flushes;
  // Forty more tables' worth of entries, each append admitted by Throttle
  // as the engine's commit thread does.
  for (uint64_t i = 0; i < 40 * 300; ++i) {
    h.index->Throttle();
    Status s = h.Append(StreamName(rng() % 50));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  h.index->Throttle();
  IndexStats st = h.index->Stats();
  EXPECT_NE(st.background_error.find("orrupt"), std::string::npos)
      << st.background_error;
  EXPECT_LE(st.frozen_memtables, PersistentIndex::kMaxFrozenTables);
  EXPECT_GE(st.flushes - flushes_before, 40u - 1 - 2);
}

// The engine's contract: Add under an exclusive lock, lookups under a
// shared one, while flushes and merges run in the background.
TEST(IndexTest, ConcurrentReadersSeeConsistentAnswers) {
  Harness h;
  h.options.background = true;
  h.options.memtable_entries = 200;
  h.options.merge_fan_in = 2;
  ASSERT_TRUE(h.Open().ok());
  std::shared_mutex mu;
  std::atomic<bool> done{false};
  constexpr int kStreams = 20;
  constexpr int kEvents = 10000;
  // Pre-size the log so the fake reader's views never move.
  h.log.names.reserve(kEvents);
  h.log.revisions.reserve(kEvents);
  h.log.ids.reserve(kEvents);
  std::atomic<uint64_t> reads{0};
  std::atomic<int> readers_running{2};  // a failed reader stops early
  std::thread writer([&] {
    std::mt19937_64 rng(14);
    for (int i = 0; i < kEvents; ++i) {
      // Halfway, the readers have read something, however the threads
      // are scheduled: the rest of the appends run beside their reads.
      while (i == kEvents / 2 && reads.load() == 0 &&
             readers_running.load() > 0) {
        std::this_thread::yield();
      }
      std::unique_lock<std::shared_mutex> lock(mu);
      Status s = h.Append(StreamName(rng() % kStreams));
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    done = true;
  });
  std::vector<std::thread> readers;
  readers.reserve(2);
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      struct Leaving {
        std::atomic<int>* running;
        ~Leaving() { --*running; }
      } leaving{&readers_running};
      std::vector<uint64_t> seen(kStreams);
      while (!done) {
        for (int s = t; s < kStreams; s += 2) {
          std::shared_lock<std::shared_mutex> lock(mu);
          std::string name = StreamName(s);
          auto last = h.index->LastRevision(name);
          ASSERT_TRUE(last.ok()) << last.status().ToString();
          if (!last->has_value()) continue;
          EXPECT_GE(**last + 1, seen[s]);  // never goes back
          seen[s] = **last + 1;
          // The newest few events: consecutive revisions down from the
          // last, each the stream's own record.
          std::vector<IndexedEvent> events;
          Status r =
              h.index->Read(name, **last, Direction::kBackward, 20, &events);
          ASSERT_TRUE(r.ok()) << r.ToString();
          ASSERT_EQ(events.size(), std::min<uint64_t>(20, **last + 1));
          for (size_t i = 0; i < events.size(); ++i) {
            ASSERT_EQ(events[i].revision, **last - i);
            ASSERT_EQ(h.log.names[events[i].position], name);
          }
          ++reads;
          lock.unlock();
          // Give the writer a turn: shared_mutex does not promise one.
          std::this_thread::yield();
        }
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_GT(reads.load(), 0u);
  h.index->WaitIdle();
  ExpectMatchesModel(*h.index, h.log, h.log.names.size());
}

// Power is cut before each mutating file operation in turn while events are
// added (flushes and merges inline); the next open must find a consistent index
// that, with the log replayed from its checkpoint, matches the model.
TEST(IndexTest, PowerCutAtEveryFileOperation) {
  constexpr uint64_t kEvents = 150;
  auto run = [&](uint64_t cut, bool* cut_happened) {
    Harness h;
    h.options.memtable_entries = 16;
    h.options.merge_fan_in = 2;
    std::mt19937_64 rng(15);
    for (uint64_t i = 0; i < kEvents; ++i) {
      h.log.Append(StreamName(rng() % 12));
    }
    io::FaultInjectionFileSystem fs(&h.fs_, 1);
    fs.set_crash_options(io::CrashOptions::LoseUnsynced());
    fs.CrashAtMutation(cut);
    Status s = h.Open(&fs);
    for (uint64_t p = 0; s.ok() && p < kEvents; ++p) {
      s = h.log.Feed(h.index.get(), p, p + 1);
    }
    if (s.ok()) s = h.index->Close();
    *cut_happened = fs.crashed_by_trigger();
    h.index.reset();
    if (!*cut_happened) h.fs_.SimulateCrash();
    Status o = h.OpenAndReplay();
    ASSERT_TRUE(o.ok()) << "cut at " << cut << ": " << o.ToString();
    ExpectMatchesModel(*h.index, h.log, kEvents);
    for (const std::string& name : h.Files()) {
      EXPECT_FALSE(name.ends_with(".tmp")) << name;
    }
    if (!*cut_happened) {
      // The run completed: its clean close left nothing to replay.
      EXPECT_TRUE(h.index->open_note().empty());
    }
  };
  bool happened = true;
  uint64_t cut = 1;
  for (; happened; ++cut) {
    run(cut, &happened);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(cut, 50u);  // the sweep covered flushes and merges
}

}  // namespace
}  // namespace cairn::index
