// Copyright (c) Cairn authors.
//
// Observability hooks: every repair the store makes at open and every
// failure of its background work reaches Options::logger, and StoreStats
// exposes the stream index's counters and background error.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "segment/segment_header.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"

namespace cairn {
namespace {

using testing::Events;

// Collects reports; outlives the stores that report to it.
class LogRecorder {
 public:
  struct Entry {
    LogLevel level;
    std::string message;
  };

  Logger logger() {
    return [this](LogLevel level, std::string_view message) {
      std::lock_guard<std::mutex> lock(mu_);
      entries_.push_back({level, std::string(message)});
    };
  }

  // Whether a report at `level` contains every one of `parts`.
  bool Has(LogLevel level, std::initializer_list<std::string_view> parts) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : entries_) {
      if (e.level != level) continue;
      bool all = true;
      for (std::string_view part : parts) {
        all = all && e.message.find(part) != std::string::npos;
      }
      if (all) return true;
    }
    return false;
  }

  std::string Dump() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const Entry& e : entries_) {
      out += std::string(LogLevelName(e.level)) + ": " + e.message + "\n";
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Entry> entries_;
};

constexpr char kDir[] = "/s";
constexpr char kFirstSegment[] = "/s/000000000000.seg";

class ObservabilityTest : public ::testing::Test {
 protected:
  Options WithLogger(Options options = testing::SmallOptions()) {
    options.logger = recorder_.logger();
    return options;
  }

  // A store of `events` one-event appends, closed cleanly; returns the
  // bytes of records in it.
  uint64_t Build(int events) {
    auto store =
        engine::StoreImpl::Open(&memory_, kDir, testing::SmallOptions());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return 0;
    for (int i = 0; i < events; ++i) {
      EXPECT_TRUE(
          (*store)->Append("s", ExpectedVersion::Any(), Events(1)).ok());
    }
    auto stats = (*store)->GetStats();
    EXPECT_TRUE(stats.ok());
    EXPECT_TRUE((*store)->Close().ok());
    return stats.ok() ? stats->bytes : 0;
  }

  // Writes `bytes` at `offset` of `path` (created if missing), durably.
  void WriteFile(const std::string& path, uint64_t offset,
                 const std::string& bytes) {
    auto file = memory_.OpenFile(path, io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    CAIRN_ASSERT_OK((*file)->Write(offset, bytes.data(), bytes.size()));
    CAIRN_ASSERT_OK((*file)->Sync());
    CAIRN_ASSERT_OK(memory_.SyncDir(kDir));
  }

  uint64_t EventsIn(Store* store) {
    auto stats = store->GetStats();
    EXPECT_TRUE(stats.ok());
    return stats.ok() ? stats->events : 0;
  }

  io::MemoryFileSystem memory_;
  LogRecorder recorder_;
};

TEST_F(ObservabilityTest, TornTailCutIsAWarning) {
  const uint64_t bytes = Build(3);
  WriteFile(kFirstSegment, segment::kSegmentHeaderSize + bytes,
            std::string(40, '\x5a'));
  auto store = engine::StoreImpl::Open(&memory_, kDir, WithLogger());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(EventsIn(store->get()), 3u);
  EXPECT_TRUE(recorder_.Has(LogLevel::kWarning, {"torn tail", kFirstSegment}))
      << recorder_.Dump();
}

TEST_F(ObservabilityTest, ShortActiveSegmentExtendedIsAWarning) {
  const uint64_t bytes = Build(3);
  {
    auto file = memory_.OpenFile(kFirstSegment, io::OpenMode::kReadWrite);
    ASSERT_TRUE(file.ok());
    CAIRN_ASSERT_OK((*file)->Truncate(segment::kSegmentHeaderSize + bytes));
    CAIRN_ASSERT_OK((*file)->Sync());
  }
  auto store = engine::StoreImpl::Open(&memory_, kDir, WithLogger());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(EventsIn(store->get()), 3u);
  EXPECT_TRUE(recorder_.Has(LogLevel::kWarning,
                            {"extended the active segment", kFirstSegment}))
      << recorder_.Dump();
}

TEST_F(ObservabilityTest, InterruptedSegmentAndStaleSpareRemovedAreReported) {
  Build(3);
  // A roll that crashed before the new segment's header was synced, and a
  // spare for a segment number the log will not reach next.
  WriteFile("/s/000000000001.seg", 0, std::string(64 * 1024, '\0'));
  WriteFile("/s/000000000007.seg.spare", 0, std::string(4096, '\0'));
  auto store = engine::StoreImpl::Open(&memory_, kDir, WithLogger());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(EventsIn(store->get()), 3u);
  EXPECT_FALSE(memory_.Exists("/s/000000000001.seg"));
  EXPECT_FALSE(memory_.Exists("/s/000000000007.seg.spare"));
  EXPECT_TRUE(recorder_.Has(LogLevel::kWarning,
                            {"removed segment file", "/s/000000000001.seg"}))
      << recorder_.Dump();
  EXPECT_TRUE(recorder_.Has(LogLevel::kInfo, {"removed spare segment file",
                                              "/s/000000000007.seg.spare"}))
      << recorder_.Dump();
}

TEST_F(ObservabilityTest, DiscardedIndexIsAWarningAndItsReplayInfo) {
  Build(5);
  WriteFile("/s/index/MANIFEST", 0, std::string(64, '\x33'));
  auto store = engine::StoreImpl::Open(&memory_, kDir, WithLogger());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(EventsIn(store->get()), 5u);
  EXPECT_TRUE(recorder_.Has(LogLevel::kWarning,
                            {"stream index in /s/index", "manifest"}))
      << recorder_.Dump();
  EXPECT_TRUE(recorder_.Has(LogLevel::kInfo, {"replayed 5 events"}))
      << recorder_.Dump();
}

TEST_F(ObservabilityTest, RequestedRebuildIsInfo) {
  Build(4);
  Options options = WithLogger();
  options.rebuild_index = true;
  auto store = engine::StoreImpl::Open(&memory_, kDir, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(recorder_.Has(LogLevel::kInfo, {"rebuild_index"}))
      << recorder_.Dump();
  EXPECT_TRUE(recorder_.Has(LogLevel::kInfo, {"replayed 4 events"}))
      << recorder_.Dump();
}

TEST_F(ObservabilityTest, CleanOpenReportsNothing) {
  Build(4);
  auto store = engine::StoreImpl::Open(&memory_, kDir, WithLogger());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CAIRN_ASSERT_OK((*store)->Close());
  EXPECT_EQ(recorder_.Dump(), "");
}

TEST_F(ObservabilityTest, ReplayAfterPowerLossIsInfo) {
  {
    io::FaultInjectionFileSystem process(&memory_, 1);
    process.set_crash_options(io::CrashOptions::LoseUnsynced());
    auto store =
        engine::StoreImpl::Open(&process, kDir, testing::SmallOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Append("s", ExpectedVersion::Any(), Events(6)).ok());
    process.Crash();
  }
  auto store = engine::StoreImpl::Open(&memory_, kDir, WithLogger());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(EventsIn(store->get()), 6u);
  EXPECT_TRUE(
      recorder_.Has(LogLevel::kInfo, {"replayed 6 events", "from position 0"}))
      << recorder_.Dump();
}

TEST_F(ObservabilityTest, BackgroundIndexFailureIsAnErrorAndInStats) {
  io::FaultInjectionFileSystem fs(&memory_, 1);
  Options options = WithLogger();
  options.index_memtable_events = 10;
  auto opened = engine::StoreImpl::Open(&fs, kDir, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto* store = static_cast<engine::StoreImpl*>(opened->get());
  // Every index table write fails, as on a full disk (a table is written
  // as NNN.idx.tmp, then renamed).
  io::FaultRule rule =
      io::FaultRule::Always(io::FaultOp::kWrite, io::FaultError::kNoSpace);
  rule.path_suffix = ".idx.tmp";
  fs.AddRule(rule);
  ASSERT_TRUE(store->Append("s", ExpectedVersion::Any(), Events(25)).ok());
  store->WaitIndexIdle();  // returns once the failure is recorded
  auto stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->index.background_error.find("injected fault"),
            std::string::npos)
      << stats->index.background_error;
  EXPECT_TRUE(recorder_.Has(LogLevel::kError,
                            {"stream index background work failed", ".idx"}))
      << recorder_.Dump();
  // Answers stay right: the entries wait in memory.
  EXPECT_GE(stats->index.memory_entries, 10u);
  auto read = store->ReadStream("s", testing::StreamUpTo(100));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->events.size(), 25u);
  fs.ClearFaults();
  (void)store->Close();
}

TEST_F(ObservabilityTest, IndexCountersAreInStats) {
  Options options = testing::SmallOptions();
  options.index_memtable_events = 10;
  auto opened = engine::StoreImpl::Open(&memory_, kDir, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto* store = static_cast<engine::StoreImpl*>(opened->get());
  auto before = store->GetStats();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->index.tables, 0u);
  EXPECT_EQ(before->index.flushes, 0u);
  EXPECT_EQ(before->index.background_error, "");
  // 60 appends of one event to 3 streams: 6 tables of 10 entries, merged
  // four at a time.
  for (int i = 0; i < 60; ++i) {
    const std::string stream = "s-" + std::to_string(i % 3);
    ASSERT_TRUE(store->Append(stream, ExpectedVersion::Any(), Events(1)).ok());
  }
  store->WaitIndexIdle();
  auto stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  const StoreIndexStats& index = stats->index;
  EXPECT_GE(index.flushes, 5u);
  EXPECT_GE(index.merges, 1u);
  EXPECT_GE(index.tables, 1u);
  EXPECT_LT(index.tables, index.flushes);  // merged
  EXPECT_GT(index.table_bytes, 0u);
  EXPECT_LT(index.memory_entries, 20u);
  // Each append after a stream's first finds its last revision cached.
  EXPECT_GE(index.cache_hits, 57u);
  EXPECT_EQ(index.background_error, "");
  CAIRN_ASSERT_OK(store->Close());
}

}  // namespace
}  // namespace cairn
