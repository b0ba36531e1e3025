// Copyright (c) Cairn authors.
//
// The engine over its persistent stream index: what an open replays (nothing
// after a clean close; only what follows the index checkpoint after a
// crash), an index that does not match the log, rebuilds with progress,
// locating any position through the index's anchors, read-only openers,
// and idempotent retries across restarts (docs/architecture.md, "The
// stream index").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/record_locator.h"
#include "engine/src/store_impl.h"
#include "index/table.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Event;
using testing::Events;

Options DurableIndexOptions() {
  Options o = testing::SmallOptions();
  o.segment_size = 64 * 1024;     // several segments
  o.index_memtable_events = 100;  // several tables, and merges
  return o;
}

// On the real file system, without an fdatasync per append (Close syncs):
// what these tests check does not depend on when appends become durable.
Options IndexOptions() {
  Options o = DurableIndexOptions();
  o.durability = Durability::kNone;
  return o;
}

// Counts what an open replays.
struct ProgressLog {
  uint64_t events = 0;
  int calls = 0;
  int done = 0;
  Options Attach(Options o) {
    o.open_progress = [this](const OpenProgress& p) {
      events = p.events;
      ++calls;
      if (p.done) ++done;
      EXPECT_LE(p.scanned_bytes, p.total_bytes);
    };
    return o;
  }
};

std::string StreamName(int i) { return "order-" + std::to_string(i % 17); }

// Appends `n` single events round-robin over 17 streams; returns the
// stream of each position.
void Fill(Store* store, int n, std::vector<std::string>* streams) {
  for (int i = 0; i < n; ++i) {
    const std::string stream = StreamName(static_cast<int>(streams->size()));
    auto r = store->Append(stream, ExpectedVersion::Any(),
                           {Event("E", std::string(100 + i % 300, 'x'))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->first_position.value(), streams->size());
    streams->push_back(stream);
  }
}

// Every stream reads back whole and in order, every position from
// ReadAll, as `streams` says.
void ExpectContents(Store* store, const std::vector<std::string>& streams) {
  std::map<std::string, std::vector<uint64_t>> positions;
  for (uint64_t p = 0; p < streams.size(); ++p) {
    positions[streams[p]].push_back(p);
  }
  for (const auto& [stream, expected] : positions) {
    auto read = store->ReadStream(stream, ReadStreamOptions{});
    ASSERT_TRUE(read.ok()) << stream << ": " << read.status().ToString();
    ASSERT_EQ(read->events.size(), expected.size()) << stream;
    for (size_t r = 0; r < expected.size(); ++r) {
      EXPECT_EQ(read->events[r].revision.value(), r);
      EXPECT_EQ(read->events[r].position.value(), expected[r]);
    }
  }
  auto all = store->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->events.size(), streams.size());
  for (uint64_t p = 0; p < streams.size(); ++p) {
    EXPECT_EQ(all->events[p].position.value(), p);
    EXPECT_EQ(all->events[p].stream, streams[p]);
  }
}

TEST(IndexRecoveryTest, CleanCloseLeavesNothingToReplay) {
  testing::TempDir dir;
  std::vector<std::string> streams;
  {
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Fill(store->get(), 1000, &streams);
    CAIRN_ASSERT_OK((*store)->Close());
  }
  ProgressLog progress;
  auto store = Store::Open(dir.path(), progress.Attach(IndexOptions()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(progress.events, 0u);
  EXPECT_EQ(progress.done, 1);
  auto stats = (*store)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->index_checkpoint.value(), 1000u);
  EXPECT_EQ(stats->events, 1000u);
  EXPECT_EQ(stats->streams, 17u);
  EXPECT_GT(stats->segments, 2u);
  ExpectContents(store->get(), streams);
}

TEST(IndexRecoveryTest, CrashReplaysOnlyWhatFollowsTheCheckpoint) {
  io::MemoryFileSystem base;
  std::vector<std::string> streams;
  uint64_t checkpoint = 0;
  {
    io::FaultInjectionFileSystem process(&base, 1);
    process.set_crash_options(io::CrashOptions::LoseUnsynced());
    auto opened =
        engine::StoreImpl::Open(&process, "/store", DurableIndexOptions());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto* store = static_cast<engine::StoreImpl*>(opened->get());
    Fill(store, 1050, &streams);
    store->WaitIndexIdle();
    auto stats = store->GetStats();
    ASSERT_TRUE(stats.ok());
    checkpoint = stats->index_checkpoint.value();
    // Tables of 100 events: at least the first 1000 are in them.
    EXPECT_GE(checkpoint, 1000u);
    process.Crash();
  }
  ProgressLog progress;
  auto store = engine::StoreImpl::Open(&base, "/store",
                                       progress.Attach(DurableIndexOptions()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(progress.events, streams.size() - checkpoint);
  ExpectContents(store->get(), streams);
  // And the store goes on from there.
  Fill(store->get(), 10, &streams);
  ExpectContents(store->get(), streams);
}

// An index that claims more than the log holds (the segments restored from
// an older backup, the index not) is discarded and rebuilt.
TEST(IndexRecoveryTest, IndexAheadOfTheLogIsRebuilt) {
  testing::TempDir dir;
  const std::string live = dir.Sub("live");
  const std::string backup = dir.Sub("backup");
  std::vector<std::string> streams;
  {
    auto store = Store::Open(live, IndexOptions());
    ASSERT_TRUE(store.ok());
    Fill(store->get(), 300, &streams);
    CAIRN_ASSERT_OK((*store)->Close());
  }
  fs::copy(live, backup, fs::copy_options::recursive);
  {
    auto store = Store::Open(live, IndexOptions());
    ASSERT_TRUE(store.ok());
    std::vector<std::string> more = streams;
    Fill(store->get(), 300, &more);
    CAIRN_ASSERT_OK((*store)->Close());
  }
  fs::remove_all(backup + "/index");
  fs::copy(live + "/index", backup + "/index", fs::copy_options::recursive);
  ProgressLog progress;
  auto store = Store::Open(backup, progress.Attach(IndexOptions()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(progress.events, 300u);
  auto stats = (*store)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 300u);
  ExpectContents(store->get(), streams);
}

TEST(IndexRecoveryTest, RebuildReplaysEverythingWithProgress) {
  testing::TempDir dir;
  std::vector<std::string> streams;
  {
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok());
    Fill(store->get(), 700, &streams);
  }
  ProgressLog progress;
  Options rebuild = progress.Attach(IndexOptions());
  rebuild.rebuild_index = true;
  auto store = Store::Open(dir.path(), rebuild);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(progress.events, 700u);
  EXPECT_EQ(progress.done, 1);
  EXPECT_GT(progress.calls, 2);  // one per segment, and the final one
  ExpectContents(store->get(), streams);
  CAIRN_ASSERT_OK((*store)->Close());
  // A rebuild needs the writer.
  Options bad = IndexOptions();
  bad.rebuild_index = true;
  bad.read_only = true;
  EXPECT_TRUE(Store::Open(dir.path(), bad).status().IsInvalidArgument());
}

// Positions are found from the index's anchors by walking record headers:
// every start position, forward and backward, from the in-memory table and
// from tables on disk, across segment boundaries.
TEST(IndexRecoveryTest, EveryPositionIsLocatedFromAnchors) {
  testing::TempDir dir;
  std::vector<std::string> streams;
  for (int round = 0; round < 2; ++round) {
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok());
    if (round == 0) Fill(store->get(), 450, &streams);
    for (uint64_t from = 0; from < streams.size(); ++from) {
      ReadAllOptions forward = testing::AllUpTo(3);
      forward.from = GlobalPosition(from);
      auto f = (*store)->ReadAll(forward);
      ASSERT_TRUE(f.ok()) << from << ": " << f.status().ToString();
      ASSERT_EQ(f->events.size(), std::min<uint64_t>(3, streams.size() - from));
      EXPECT_EQ(f->events[0].position.value(), from);
      EXPECT_EQ(f->events[0].stream, streams[from]);
      ReadAllOptions backward = testing::AllUpTo(3);
      backward.direction = Direction::kBackward;
      backward.from = GlobalPosition(from);
      auto b = (*store)->ReadAll(backward);
      ASSERT_TRUE(b.ok()) << from << ": " << b.status().ToString();
      ASSERT_EQ(b->events.size(), std::min<uint64_t>(3, from + 1));
      for (size_t k = 0; k < b->events.size(); ++k) {
        EXPECT_EQ(b->events[k].position.value(), from - k);
      }
    }
    CAIRN_ASSERT_OK((*store)->Close());
  }
}

TEST(IndexRecoveryTest, ReadOnlyOpenerReadsTheIndexAndTheTail) {
  testing::TempDir dir;
  std::vector<std::string> streams;
  {
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok());
    Fill(store->get(), 400, &streams);
    CAIRN_ASSERT_OK((*store)->Close());
  }
  auto writer = Store::Open(dir.path(), IndexOptions());
  ASSERT_TRUE(writer.ok());
  Fill(writer->get(), 30, &streams);  // in the writer's memory only
  Options ro = IndexOptions();
  ro.read_only = true;
  ProgressLog progress;
  auto reader = Store::Open(dir.path(), progress.Attach(ro));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(progress.events, 30u);
  ExpectContents(reader->get(), streams);
  // It follows the writer.
  Fill(writer->get(), 5, &streams);
  ExpectContents(reader->get(), streams);
}

// Entry blocks are verified when read, not at open. A damaged one is
// rebuilt from the log by the reads that need it (never a wrong answer) and
// recorded, so the next open drops that table and replays the log from the
// table before it.
TEST(IndexRecoveryTest, DamagedEntryBlockIsRebuiltAtTheNextOpen) {
  testing::TempDir dir;
  std::vector<std::string> streams;
  {
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok());
    Fill(store->get(), 700, &streams);
    CAIRN_ASSERT_OK((*store)->Close());
  }
  // The newest table's last entry block.
  std::string newest;
  for (const auto& entry : fs::directory_iterator(dir.path() + "/index")) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".idx") && name > newest) newest = name;
  }
  ASSERT_FALSE(newest.empty());
  const std::string table = dir.path() + "/index/" + newest;
  {
    std::fstream f(table, std::ios::in | std::ios::out | std::ios::binary);
    // Flipped, so that it changes whatever the byte was.
    f.seekg(-4096 + 8, std::ios::end);
    const char original = static_cast<char>(f.get());
    f.seekp(-4096 + 8, std::ios::end);
    f.put(static_cast<char>(original ^ 0x5a));
  }
  {
    // Every read answers: the lookups that meet the damaged block rebuild
    // it from the log, and mark the table for the next open.
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ExpectContents(store->get(), streams);
    EXPECT_TRUE(fs::exists(dir.path() + "/index/DAMAGED"));
  }
  ProgressLog progress;
  auto store = Store::Open(dir.path(), progress.Attach(IndexOptions()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_GT(progress.events, 0u);
  EXPECT_FALSE(fs::exists(dir.path() + "/index/DAMAGED"));
  ExpectContents(store->get(), streams);
}

// A damaged block of a table a scavenge rewrote (its range has holes where
// removed events were), and of one covering more positions than the log
// reader's chunk: the lookups rebuild it from the kept records.
TEST(IndexRecoveryTest, DamagedBlockOfAScavengedTableIsRebuilt) {
  testing::TempDir dir;
  std::vector<std::string> streams;
  const std::set<std::string> gone = {StreamName(3), StreamName(5)};
  {
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Fill(store->get(), 2000, &streams);
    for (const std::string& stream : gone) {
      auto tombstone = (*store)->Tombstone(stream, ExpectedVersion::Any());
      ASSERT_TRUE(tombstone.ok()) << tombstone.status().ToString();
    }
    auto scavenged = (*store)->Scavenge(ScavengeOptions{});
    ASSERT_TRUE(scavenged.ok()) << scavenged.status().ToString();
    ASSERT_GT(scavenged->events_removed, 0u);
    CAIRN_ASSERT_OK((*store)->Close());
  }
  // The table of the widest range (a merged one, rewritten by the
  // scavenge): its first and last entry blocks.
  std::string widest;
  uint64_t widest_range = 0;
  bool widest_has_gaps = false;
  for (const auto& entry : fs::directory_iterator(dir.path() + "/index")) {
    const std::string name = entry.path().filename().string();
    auto number = index::ParseTableFileName(name);
    if (!number) continue;
    auto table = index::Table::Open(io::PosixFileSystem(),
                                    entry.path().string(), 0, *number, 0);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    const index::TableInfo& info = (*table)->info();
    if (info.end_position - info.first_position > widest_range) {
      widest_range = info.end_position - info.first_position;
      widest = entry.path().string();
      widest_has_gaps = info.has_gaps();
    }
  }
  // Directory order is arbitrary: only the widest table found is checked.
  ASSERT_TRUE(widest_has_gaps) << widest;
  ASSERT_GT(widest_range, engine::RecordLocator::kEventChunk);
  const uint64_t size = fs::file_size(widest);
  for (uint64_t offset : {size - 4096 + 8, uint64_t{0}}) {
    std::fstream f(widest, std::ios::in | std::ios::out | std::ios::binary);
    if (offset == 0) {
      auto table = index::Table::Open(
          io::PosixFileSystem(), widest, 0,
          *index::ParseTableFileName(fs::path(widest).filename().string()), 0);
      ASSERT_TRUE(table.ok());
      offset = (*table)->entries_offset() + 8;
    }
    f.seekg(static_cast<std::streamoff>(offset));
    const char original = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(original ^ 0x5a));
  }
  auto store = Store::Open(dir.path(), IndexOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::map<std::string, std::vector<uint64_t>> positions;
  for (uint64_t p = 0; p < streams.size(); ++p) {
    positions[streams[p]].push_back(p);
  }
  for (const auto& [stream, expected] : positions) {
    auto read = (*store)->ReadStream(stream, ReadStreamOptions{});
    if (gone.count(stream) != 0) {
      EXPECT_TRUE(read.status().IsStreamDeleted()) << read.status().ToString();
      continue;
    }
    ASSERT_TRUE(read.ok()) << stream << ": " << read.status().ToString();
    ASSERT_EQ(read->events.size(), expected.size()) << stream;
    for (size_t r = 0; r < expected.size(); ++r) {
      EXPECT_EQ(read->events[r].position.value(), expected[r]);
    }
  }
  EXPECT_TRUE(fs::exists(dir.path() + "/index/DAMAGED"));
}

std::vector<EventData> WithIds(const std::vector<EventId>& ids) {
  std::vector<EventData> events;
  for (const EventId& id : ids) events.push_back(Event("E", "{}", id));
  return events;
}

TEST(IndexRecoveryTest, RetriesAreRecognisedAfterReopen) {
  testing::TempDir dir;
  const std::vector<EventId> exact = {EventId::Generate(), EventId::Generate()};
  const std::vector<EventId> any = {EventId::Generate()};
  AppendResult exact_first;
  AppendResult any_first;
  {
    auto store = Store::Open(dir.path(), IndexOptions());
    ASSERT_TRUE(store.ok());
    auto r = (*store)->Append("a", ExpectedVersion::NoStream(), WithIds(exact));
    ASSERT_TRUE(r.ok());
    exact_first = *r;
    auto s = (*store)->Append("b", ExpectedVersion::Any(), WithIds(any));
    ASSERT_TRUE(s.ok());
    any_first = *s;
    // Enough later events to push both into index tables.
    std::vector<std::string> streams(3);
    Fill(store->get(), 250, &streams);
    ASSERT_TRUE((*store)->Append("b", ExpectedVersion::Any(), Events(5)).ok());
  }
  auto store = Store::Open(dir.path(), IndexOptions());
  ASSERT_TRUE(store.ok());
  auto r = (*store)->Append("a", ExpectedVersion::NoStream(), WithIds(exact));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->idempotent_replay);
  EXPECT_EQ(r->first_position, exact_first.first_position);
  EXPECT_EQ(r->last_revision, exact_first.last_revision);
  auto s = (*store)->Append("b", ExpectedVersion::Any(), WithIds(any));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->idempotent_replay);
  EXPECT_EQ(s->first_position, any_first.first_position);
  // Part of a recorded append is refused, not duplicated.
  auto partial = (*store)->Append("a", ExpectedVersion::NoStream(),
                                  WithIds({exact[0], EventId::Generate()}));
  EXPECT_TRUE(partial.status().IsWrongExpectedVersion());
}

// With Any/StreamExists a retry is recognised only within the stream's
// last idempotency_window events; an exact expectation at any age.
TEST(IndexRecoveryTest, AnyRetryWindowIsPerStream) {
  testing::TempDir dir;
  Options o = IndexOptions();
  o.idempotency_window = 4;
  auto store = Store::Open(dir.path(), o);
  ASSERT_TRUE(store.ok());
  const std::vector<EventId> id = {EventId::Generate()};
  auto first = (*store)->Append("w", ExpectedVersion::Any(), WithIds(id));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*store)->Append("w", ExpectedVersion::Any(), Events(3)).ok());
  // Other streams do not move the window.
  ASSERT_TRUE(
      (*store)->Append("other", ExpectedVersion::Any(), Events(9)).ok());
  auto inside = (*store)->Append("w", ExpectedVersion::Any(), WithIds(id));
  ASSERT_TRUE(inside.ok());
  EXPECT_TRUE(inside->idempotent_replay);
  ASSERT_TRUE((*store)->Append("w", ExpectedVersion::Any(), Events(1)).ok());
  auto outside = (*store)->Append("w", ExpectedVersion::Any(), WithIds(id));
  ASSERT_TRUE(outside.ok());
  EXPECT_FALSE(outside->idempotent_replay);
  EXPECT_EQ(outside->first_revision.value(), 5u);
  // An exact expectation still finds the original at revision 0.
  auto exact = (*store)->Append("w", ExpectedVersion::NoStream(), WithIds(id));
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_TRUE(exact->idempotent_replay);
  EXPECT_EQ(exact->first_position, first->first_position);
}

}  // namespace
}  // namespace cairn
