// Copyright (c) Cairn authors.
//
// Store::Backup: a consistent, verified, incremental copy of a live store.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::SmallOptions;

// Events of about 250 bytes, so that a few hundred appends fill several
// 64 KiB segments.
std::vector<EventData> Events(int n) {
  std::vector<EventData> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(testing::Event(
        "E", "{\"pad\":\"" + std::string(200, 'x') + std::to_string(i) + "\"}",
        EventId::Generate()));
  }
  return out;
}

Options Small() {
  Options options = SmallOptions();
  options.segment_size = 64 * 1024;
  return options;
}

std::unique_ptr<Store> OpenOrDie(const std::string& dir,
                                 const Options& options) {
  auto opened = Store::Open(dir, options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::vector<RecordedEvent> ReadEverything(Store& store) {
  auto all = store.ReadAll(testing::AllUpTo(1u << 30));
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  return all.ok() ? all->events : std::vector<RecordedEvent>{};
}

// The backup holds exactly the source's first `end` events.
void ExpectPrefixOf(const std::vector<RecordedEvent>& backup,
                    const std::vector<RecordedEvent>& source, uint64_t end) {
  ASSERT_EQ(backup.size(), end);
  ASSERT_LE(end, source.size());
  for (uint64_t i = 0; i < end; ++i) {
    EXPECT_EQ(backup[i].position, source[i].position);
    EXPECT_EQ(backup[i].id, source[i].id);
    EXPECT_EQ(backup[i].stream, source[i].stream);
    EXPECT_EQ(backup[i].revision, source[i].revision);
    EXPECT_EQ(backup[i].data, source[i].data);
  }
}

void AppendMany(Store& store, int appends, int per_append) {
  for (int i = 0; i < appends; ++i) {
    auto r = store.Append("s-" + std::to_string(i % 7), ExpectedVersion::Any(),
                          Events(per_append));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

TEST(BackupTest, CopyOfAStoreOpensWithEveryEvent) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("src"), Small());
  AppendMany(*store, 300, 10);  // several segments
  CAIRN_ASSERT_OK(store->SaveCheckpoint("reader", GlobalPosition(1234)));
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  BackupOptions options;
  options.progress = [&](uint64_t done, uint64_t total) {
    progress.emplace_back(done, total);
  };
  CAIRN_ASSERT_OK_AND_ASSIGN(result, store->Backup(dir.Sub("dst"), options));
  EXPECT_EQ(result.end_position, GlobalPosition(3000));
  EXPECT_GT(result.files_copied, 2u);
  EXPECT_EQ(result.files_reused, 0u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().first, progress.back().second);

  auto source = ReadEverything(*store);
  auto copy = OpenOrDie(dir.Sub("dst"), Small());
  ExpectPrefixOf(ReadEverything(*copy), source, 3000);
  CAIRN_ASSERT_OK_AND_ASSIGN(ckpt, copy->LoadCheckpoint("reader"));
  EXPECT_EQ(ckpt, GlobalPosition(1234));
  CAIRN_ASSERT_OK_AND_ASSIGN(rev, copy->GetStreamRevision("s-0"));
  EXPECT_EQ(rev, StreamRevision(429));
  // The restored store takes appends where the log ended.
  CAIRN_ASSERT_OK_AND_ASSIGN(
      appended, copy->Append("s-0", ExpectedVersion::Exact(429), Events(1)));
  EXPECT_EQ(appended.first_position, GlobalPosition(3000));
}

// A scavenge that rewrites segments while a backup copies them: a segment
// replaced after the backup's snapshot (its file gone, its mapping not
// cached: one segment stays mapped) is copied as its new generation, so
// the backup opens, with every event the source still has.
TEST(BackupTest, SegmentsAScavengeRewritesMeanwhileAreCopiedAsRewritten) {
  testing::TempDir dir;
  Options options = Small();
  options.max_open_segments = 1;
  auto store = OpenOrDie(dir.Sub("src"), options);
  AppendMany(*store, 300, 10);  // s-0 .. s-6 in every segment
  ASSERT_TRUE(store->Tombstone("s-0", ExpectedVersion::Any()).ok());
  BackupOptions backup;
  bool scavenged = false;
  backup.progress = [&](uint64_t, uint64_t) {
    if (scavenged) return;
    scavenged = true;
    auto run = store->Scavenge(ScavengeOptions{});
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    EXPECT_GT(run->parts_rewritten, 2u);
  };
  CAIRN_ASSERT_OK_AND_ASSIGN(result, store->Backup(dir.Sub("dst"), backup));
  EXPECT_TRUE(scavenged);
  const std::vector<RecordedEvent> source = ReadEverything(*store);
  store.reset();
  auto copy = OpenOrDie(dir.Sub("dst"), options);
  ASSERT_NE(copy, nullptr);
  // The copy holds the events of the segments copied before the scavenge
  // that the source has since removed, and every event the source kept.
  std::set<EventId> copied;
  for (const RecordedEvent& e : ReadEverything(*copy)) copied.insert(e.id);
  for (const RecordedEvent& e : source) {
    if (e.position.value() >= result.end_position.value()) break;
    EXPECT_TRUE(copied.contains(e.id)) << e.position.value();
  }
}

TEST(BackupTest, BackupWhileAppendingHoldsADurablePrefix) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("src"), Small());
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::thread writer([&] {
    for (int i = 0; i < 400; ++i) {
      auto r = store->Append("w-" + std::to_string(i % 3),
                             ExpectedVersion::Any(), Events(5));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      cv.notify_all();
    }
  });
  uint64_t acknowledged = 0;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done >= 100; });
    acknowledged = static_cast<uint64_t>(done) * 5;
  }
  auto result = store->Backup(dir.Sub("dst"), {});
  writer.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // Every event acknowledged before the backup started is in it.
  EXPECT_GE(result->end_position.value(), acknowledged);

  auto source = ReadEverything(*store);
  auto copy = OpenOrDie(dir.Sub("dst"), Small());
  ExpectPrefixOf(ReadEverything(*copy), source, result->end_position.value());
}

TEST(BackupTest, SecondBackupReusesSealedSegments) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("src"), Small());
  AppendMany(*store, 200, 10);
  CAIRN_ASSERT_OK_AND_ASSIGN(first, store->Backup(dir.Sub("dst"), {}));
  AppendMany(*store, 200, 10);
  CAIRN_ASSERT_OK_AND_ASSIGN(second, store->Backup(dir.Sub("dst"), {}));
  // Every segment sealed at the first backup is kept; its last one (a
  // prefix then) is copied again.
  EXPECT_EQ(second.files_reused, first.files_copied - 1);
  EXPECT_GT(second.bytes_reused, first.bytes_copied / 2);
  EXPECT_EQ(second.end_position, GlobalPosition(4000));

  auto source = ReadEverything(*store);
  auto copy = OpenOrDie(dir.Sub("dst"), Small());
  ExpectPrefixOf(ReadEverything(*copy), source, 4000);
}

TEST(BackupTest, ReadOnlyOpenBacksUpBesideTheWriter) {
  testing::TempDir dir;
  auto writer = OpenOrDie(dir.Sub("src"), Small());
  AppendMany(*writer, 100, 10);
  Options read_only = Small();
  read_only.read_only = true;
  auto reader = OpenOrDie(dir.Sub("src"), read_only);
  CAIRN_ASSERT_OK_AND_ASSIGN(result, reader->Backup(dir.Sub("dst"), {}));
  EXPECT_EQ(result.end_position, GlobalPosition(1000));
  auto copy = OpenOrDie(dir.Sub("dst"), Small());
  ExpectPrefixOf(ReadEverything(*copy), ReadEverything(*writer), 1000);
}

TEST(BackupTest, RefusesADestinationThatIsNotAnOlderBackup) {
  testing::TempDir dir;
  auto store = OpenOrDie(dir.Sub("src"), Small());
  AppendMany(*store, 50, 10);

  // The live store's own directory: its writer holds the lock.
  auto self = store->Backup(dir.Sub("src"), {});
  EXPECT_EQ(self.status().code(), StatusCode::kLocked)
      << self.status().ToString();

  // A directory with other files in it.
  ASSERT_TRUE(std::filesystem::create_directories(dir.Sub("other")));
  std::ofstream(dir.Sub("other") + "/notes.txt") << "mine";
  auto other = store->Backup(dir.Sub("other"), {});
  EXPECT_TRUE(other.status().IsInvalidArgument()) << other.status().ToString();

  // A backup of another store.
  auto stranger = OpenOrDie(dir.Sub("stranger"), Small());
  AppendMany(*stranger, 5, 1);
  CAIRN_ASSERT_OK(stranger->Backup(dir.Sub("dst"), {}).status());
  auto mixed = store->Backup(dir.Sub("dst"), {});
  EXPECT_TRUE(mixed.status().IsInvalidArgument()) << mixed.status().ToString();

  // A backup that was opened (and so may have been written) as a store.
  CAIRN_ASSERT_OK(store->Backup(dir.Sub("dst2"), {}).status());
  {
    auto opened = OpenOrDie(dir.Sub("dst2"), Small());
    // While it is open, its lock keeps backups out.
    auto locked = store->Backup(dir.Sub("dst2"), {});
    EXPECT_EQ(locked.status().code(), StatusCode::kLocked);
  }
  auto reused = store->Backup(dir.Sub("dst2"), {});
  EXPECT_TRUE(reused.status().IsInvalidArgument())
      << reused.status().ToString();
}

TEST(BackupTest, DamagedSourceIsCorruptionAndKeepsTheOlderBackup) {
  testing::TempDir dir;
  std::string victim;
  {
    auto store = OpenOrDie(dir.Sub("src"), Small());
    AppendMany(*store, 100, 10);
    CAIRN_ASSERT_OK(store->Backup(dir.Sub("dst"), {}).status());
    AppendMany(*store, 100, 10);
    CAIRN_ASSERT_OK(store->Close());
  }
  // Flip a byte inside a record of a segment sealed after the first
  // backup (its first record, just after the header page).
  auto copy_events = [&] {
    Options read_only = Small();
    read_only.read_only = true;
    auto copy = OpenOrDie(dir.Sub("dst"), read_only);
    return ReadEverything(*copy).size();
  };
  const uint64_t before = copy_events();
  char name[32];
  (void)std::snprintf(name, sizeof(name), "/%012d.seg", 5);
  victim = dir.Sub("src") + name;
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << victim;
    f.seekp(4096 + 100);
    char c = 0;
    f.seekg(4096 + 100);
    f.get(c);
    f.seekp(4096 + 100);
    f.put(static_cast<char>(c ^ 0x40));
  }
  auto store = OpenOrDie(dir.Sub("src"), Small());
  auto result = store->Backup(dir.Sub("dst"), {});
  ASSERT_TRUE(result.status().IsCorruption()) << result.status().ToString();
  EXPECT_EQ(result.status().corruption()->file, victim);
  EXPECT_GE(copy_events(), before);
}

// Power loss at every mutating step of an incremental backup leaves a
// destination that opens and holds at least the older backup, every event
// equal to the source's.
TEST(BackupTest, PowerLossDuringBackupLeavesAnOpenableBackup) {
  const Options options = Small();
  for (uint64_t crash_at = 1;; ++crash_at) {
    SCOPED_TRACE("crash at mutation " + std::to_string(crash_at));
    io::MemoryFileSystem memory;
    io::FaultInjectionFileSystem fs(&memory, crash_at);
    std::vector<RecordedEvent> source;
    uint64_t first_end = 0;
    bool finished = false;
    {
      auto opened = engine::StoreImpl::Open(&fs, "/src", options);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      auto store = std::move(opened).value();
      AppendMany(*store, 40, 10);
      CAIRN_ASSERT_OK_AND_ASSIGN(first, store->Backup("/dst", {}));
      first_end = first.end_position.value();
      AppendMany(*store, 40, 10);
      source = ReadEverything(*store);
      static_cast<engine::StoreImpl*>(store.get())->WaitIndexIdle();
      fs.CrashAtMutation(crash_at, "");
      auto second = store->Backup("/dst", {});
      finished = !fs.DisarmCrash();
      if (finished) {
        ASSERT_TRUE(second.ok()) << second.status().ToString();
      }
    }
    if (!finished) fs.Crash();
    fs.PowerOn();
    auto opened = engine::StoreImpl::Open(&fs, "/dst", options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto copy = std::move(opened).value();
    auto events = ReadEverything(*copy);
    ASSERT_GE(events.size(), first_end);
    ExpectPrefixOf(events, source, events.size());
    if (finished) {
      EXPECT_EQ(events.size(), source.size());
      // Each segment copy takes several steps; all of them were hit.
      EXPECT_GT(crash_at, 20u);
      break;
    }
    ASSERT_LT(crash_at, 2000u) << "the backup never finished";
  }
}

}  // namespace
}  // namespace cairn
