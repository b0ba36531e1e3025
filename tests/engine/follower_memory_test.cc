// Copyright (c) Cairn authors.
//
// A read-only opener following a live writer keeps its memory bounded by
// the in-memory table setting, whatever the log's length: it takes up the
// writer's index tables as they appear and indexes only the tail they do
// not cover, and its answers stay exact while the tables change under it.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "engine/io/file_system.h"
#include "engine/src/store_impl.h"
#include "testing/file_system_wrapper.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;

constexpr uint64_t kMemTable = 64;
constexpr int kStreams = 23;
constexpr int kMaxAppend = 7;

// What the writer appended: each stream's event payloads, in order.
struct Model {
  std::map<std::string, std::vector<std::string>> streams;
  uint64_t events = 0;
};

// `got` must be the first events of `stream` (all of them if `complete`).
void ExpectStream(const Model& model, const std::string& stream,
                  const Result<ReadStreamResult>& got, bool complete) {
  const std::vector<std::string>& want = model.streams.at(stream);
  ASSERT_TRUE(got.ok()) << stream << ": " << got.status().ToString();
  ASSERT_LE(got->events.size(), want.size()) << stream;
  if (complete) {
    ASSERT_EQ(got->events.size(), want.size()) << stream;
  }
  ASSERT_FALSE(got->events.empty()) << stream;
  EXPECT_EQ(got->last_revision.value(), got->events.size() - 1) << stream;
  for (size_t r = 0; r < got->events.size(); ++r) {
    EXPECT_EQ(got->events[r].revision.value(), r) << stream;
    EXPECT_EQ(got->events[r].data, want[r]) << stream << " revision " << r;
  }
}

// The options of this file's writers: small in-memory tables, so that the
// writer lists tables often.
Options WriterOptions() {
  Options options = testing::SmallOptions();
  options.index_memtable_events = kMemTable;
  return options;
}

// The same, for a follower.
Options FollowerOptions() {
  Options options = WriterOptions();
  options.read_only = true;
  return options;
}

// Event data naming its stream and revision, which readers check.
std::string Payload(int stream, uint64_t revision) {
  return "{\"s\":" + std::to_string(stream) +
         ",\"r\":" + std::to_string(revision) + "}";
}

class FollowerMemoryTest : public ::testing::TestWithParam<bool> {};

TEST_P(FollowerMemoryTest, FollowerMemoryStaysBoundedAndAnswersExact) {
  const bool in_memory = GetParam();
  io::MemoryFileSystem memory;
  testing::TempDir temp;
  io::FileSystem* fs = in_memory ? &memory : io::PosixFileSystem();
  if (in_memory) {
    ASSERT_TRUE(memory.CreateDir("/t").ok());
  }
  const std::string dir = in_memory ? "/t/store" : temp.Sub("store");

  auto writer = engine::StoreImpl::Open(fs, dir, WriterOptions());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto* w = static_cast<engine::StoreImpl*>(writer->get());
  Model model;
  uint64_t counter = 0;
  auto append = [&](int n) {
    const std::string stream = "s-" + std::to_string(counter % kStreams);
    std::vector<EventData> events;
    for (int i = 0; i < n; ++i) {
      std::string data = "{\"n\":" + std::to_string(counter++) + "}";
      model.streams[stream].push_back(data);
      events.push_back(Event("E", data));
    }
    auto r = w->Append(stream, ExpectedVersion::Any(), events);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    model.events += n;
  };
  for (int i = 0; i < kStreams; ++i) append(1);

  auto reader = engine::StoreImpl::Open(fs, dir, FollowerOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto* r = static_cast<engine::StoreImpl*>(reader->get());

  // The follower holds at most this many entries in memory: a few
  // in-memory tables, plus the rest of an append it stopped inside.
  const uint64_t bound =
      index::PersistentIndex::kFollowerMemTables * kMemTable + kMaxAppend;
  uint64_t most_in_memory = 0;
  for (int round = 1; round <= 195; ++round) {
    for (int i = 0; i < 12; ++i) append(1 + static_cast<int>(counter % 7));
    // Reads catch the follower up (as far as the writer's tables allow).
    const std::string stream = "s-" + std::to_string(round % kStreams);
    ExpectStream(model, stream, r->ReadStream(stream, {}), false);
    auto revision = r->GetStreamRevision(stream);
    ASSERT_TRUE(revision.ok()) << revision.status().ToString();
    ASSERT_TRUE(revision->has_value());
    EXPECT_LT(revision->value().value(), model.streams[stream].size());
    const index::IndexStats st = r->IndexStatsForTest();
    most_in_memory = std::max(most_in_memory, st.memtable_entries);
    ASSERT_LE(st.memtable_entries, bound) << "round " << round;
    EXPECT_EQ(st.memtable_entries, st.next_position - st.checkpoint);

    if (round % 15 == 0) {
      // Once the writer's tables are written, the follower sees it all.
      w->WaitIndexIdle();
      auto stats = r->GetStats();
      ASSERT_TRUE(stats.ok()) << stats.status().ToString();
      EXPECT_EQ(stats->events, model.events);
      EXPECT_EQ(stats->streams, static_cast<uint64_t>(kStreams));
      for (const auto& [name, payloads] : model.streams) {
        ExpectStream(model, name, r->ReadStream(name, {}), true);
        auto last = r->GetStreamRevision(name);
        ASSERT_TRUE(last.ok());
        ASSERT_TRUE(last->has_value());
        EXPECT_EQ(last->value().value(), payloads.size() - 1) << name;
      }
      auto all = r->ReadAll(testing::AllUpTo(model.events + 1));
      ASSERT_TRUE(all.ok()) << all.status().ToString();
      ASSERT_EQ(all->events.size(), model.events);
      EXPECT_LE(r->IndexStatsForTest().memtable_entries, bound);
    }
  }
  // The log grew far past what the follower holds in memory.
  EXPECT_GT(model.events, 30 * bound);
  EXPECT_LE(most_in_memory, bound);
  EXPECT_GT(r->IndexStatsForTest().checkpoint, model.events - bound);
}

// Reads through the follower run while other reads take up the writer's
// tables under them (every read refreshes): each answer is a gapless,
// exact prefix of its stream.
TEST(FollowerConcurrencyTest, ReadsStayExactWhileTablesChange) {
  io::MemoryFileSystem memory;
  ASSERT_TRUE(memory.CreateDir("/t").ok());
  auto writer = engine::StoreImpl::Open(&memory, "/t/store", WriterOptions());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  constexpr int kFew = 5;
  std::vector<uint64_t> written(kFew, 0);
  auto append = [&](int stream, int n) {
    std::vector<EventData> events;
    events.reserve(n);
    for (int i = 0; i < n; ++i) {
      events.push_back(Event("E", Payload(stream, written[stream] + i)));
    }
    auto r = (*writer)->Append("c-" + std::to_string(stream),
                               ExpectedVersion::Any(), events);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    written[stream] += n;
  };
  for (int s = 0; s < kFew; ++s) append(s, 1);
  auto reader = engine::StoreImpl::Open(&memory, "/t/store", FollowerOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto* r = static_cast<engine::StoreImpl*>(reader->get());

  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  readers.reserve(3);
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      for (uint64_t i = t; !done.load(); ++i) {
        const int stream = static_cast<int>(i % kFew);
        auto got = r->ReadStream("c-" + std::to_string(stream), {});
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        ASSERT_FALSE(got->events.empty());
        EXPECT_EQ(got->last_revision.value(), got->events.size() - 1);
        for (size_t rev = 0; rev < got->events.size(); ++rev) {
          ASSERT_EQ(got->events[rev].data, Payload(stream, rev));
        }
        auto last = r->GetStreamRevision("c-" + std::to_string(stream));
        ASSERT_TRUE(last.ok()) << last.status().ToString();
        ASSERT_TRUE(last->has_value());
        EXPECT_GE(last->value().value(), got->events.size() - 1);
        reads.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 1500; ++i) append(i % kFew, 1 + i % kMaxAppend);
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0u);
  static_cast<engine::StoreImpl*>(writer->get())->WaitIndexIdle();
  for (int s = 0; s < kFew; ++s) {
    auto got = r->ReadStream("c-" + std::to_string(s), {});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->events.size(), written[s]);
  }
  EXPECT_LE(
      r->IndexStatsForTest().memtable_entries,
      index::PersistentIndex::kFollowerMemTables * kMemTable + kMaxAppend);
  EXPECT_GT(r->IndexStatsForTest().checkpoint, 0u);
}

// Read-only opens beside a writer that keeps appending, and so keeps
// rewriting the durable-end mark slots of its active segment: each open
// scans that segment (against the mark it listed, never the slots of its
// mapping) and answers with an exact prefix of every stream.
TEST(FollowerConcurrencyTest, OpensBesideAWriterRewritingItsMarks) {
  io::MemoryFileSystem memory;
  ASSERT_TRUE(memory.CreateDir("/t").ok());
  auto writer = engine::StoreImpl::Open(&memory, "/t/store", WriterOptions());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  constexpr int kFew = 3;
  auto append = [&](int stream, int revision) {
    auto r =
        (*writer)->Append("m-" + std::to_string(stream), ExpectedVersion::Any(),
                          {Event("E", Payload(stream, revision))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  for (int s = 0; s < kFew; ++s) append(s, 0);
  std::atomic<bool> done{false};
  // Each append is a group of its own: a mark every 64 of them.
  std::thread appender([&] {
    for (int i = kFew; i < 3000; ++i) append(i % kFew, i / kFew);
    done = true;
  });
  int opens = 0;
  while (!done.load() || opens < 3) {
    auto reader =
        engine::StoreImpl::Open(&memory, "/t/store", FollowerOptions());
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    for (int s = 0; s < kFew; ++s) {
      auto got = (*reader)->ReadStream("m-" + std::to_string(s), {});
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_FALSE(got->events.empty());
      for (size_t r = 0; r < got->events.size(); ++r) {
        ASSERT_EQ(got->events[r].data, Payload(s, r));
      }
    }
    ++opens;
  }
  appender.join();
}

// The writer's file system, failing the creation of index tables (a full
// disk, say) while `block_tables` is set: the writer keeps its index in
// memory and lists no new table.
class TableBlockingFileSystem : public io::FileSystemWrapper {
 public:
  explicit TableBlockingFileSystem(io::FileSystem* base)
      : FileSystemWrapper(base) {}
  std::atomic<bool> block_tables{false};

  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override {
    if (block_tables && path.ends_with(".idx.tmp")) {
      return Status::NoSpace("index tables are blocked by the test");
    }
    return FileSystemWrapper::OpenFile(path, mode);
  }
};

// A live writer whose index tables fall behind: the follower stops
// catching up where its memory bound is reached (its answers describe that
// prefix of the log, exactly) and goes on once the writer's tables appear.
TEST(FollowerLagTest, FollowerWaitsForTheWritersTables) {
  io::MemoryFileSystem memory;
  ASSERT_TRUE(memory.CreateDir("/t").ok());
  TableBlockingFileSystem writer_fs(&memory);
  auto writer =
      engine::StoreImpl::Open(&writer_fs, "/t/store", WriterOptions());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto append = [&](const std::string& stream, int n) {
    std::vector<EventData> events(n, Event("E"));
    auto r = (*writer)->Append(stream, ExpectedVersion::Any(), events);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  append("a", 1);
  auto reader = engine::StoreImpl::Open(&memory, "/t/store", FollowerOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto* r = static_cast<engine::StoreImpl*>(reader->get());

  writer_fs.block_tables = true;
  const uint64_t bound =
      index::PersistentIndex::kFollowerMemTables * kMemTable + kMaxAppend;
  uint64_t total = 1;
  for (int i = 0; i < 300; ++i) {
    append(i % 2 == 0 ? "a" : "b", 5);
    total += 5;
    auto stats = r->GetStats();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    const index::IndexStats st = r->IndexStatsForTest();
    ASSERT_LE(st.memtable_entries, bound) << i;
    // What the follower lists, it answers for exactly: stream "a" holds
    // the first event and every other append of five.
    auto a = r->ReadStream("a", {});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    const uint64_t seen = stats->events;
    const uint64_t appends = (seen - 1) / 5;
    EXPECT_EQ(a->events.size(), 1 + 5 * ((appends + 1) / 2)) << i;
    EXPECT_EQ(a->last_revision.value(), a->events.size() - 1);
    for (const auto& e : a->events) EXPECT_LT(e.position.value(), seen);
  }
  // The follower fell behind rather than hold the writer's unlisted tail.
  auto behind = r->GetStats();
  ASSERT_TRUE(behind.ok());
  EXPECT_LT(behind->events, total);
  EXPECT_LE(behind->events, bound + kMaxAppend);
  // A read-only open now replays no more than the bound either.
  auto late = engine::StoreImpl::Open(&memory, "/t/store", FollowerOptions());
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  auto* l = static_cast<engine::StoreImpl*>(late->get());
  EXPECT_LE(l->IndexStatsForTest().memtable_entries, bound);
  auto late_stats = l->GetStats();
  ASSERT_TRUE(late_stats.ok());
  EXPECT_LT(late_stats->events, total);

  // The writer's tables appear (its close writes them): the follower
  // catches up, still within its bound.
  writer_fs.block_tables = false;
  ASSERT_TRUE((*writer)->Close().ok());
  auto caught_up = r->GetStats();
  ASSERT_TRUE(caught_up.ok()) << caught_up.status().ToString();
  EXPECT_EQ(caught_up->events, total);
  EXPECT_LE(r->IndexStatsForTest().memtable_entries, bound);
  auto b = r->ReadStream("b", {});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->events.size(), 150u * 5);
  auto revision = r->GetStreamRevision("a");
  ASSERT_TRUE(revision.ok() && revision->has_value());
  EXPECT_EQ(revision->value().value(), 150u * 5);
  auto late_caught_up = l->GetStats();
  ASSERT_TRUE(late_caught_up.ok());
  EXPECT_EQ(late_caught_up->events, total);
  EXPECT_LE(l->IndexStatsForTest().memtable_entries, bound);
}

INSTANTIATE_TEST_SUITE_P(FileSystems, FollowerMemoryTest,
                         ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "InMemory" : "Posix";
                         });

}  // namespace
}  // namespace cairn
