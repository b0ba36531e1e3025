// Copyright (c) Cairn authors.
//
// The log over a scavenged segment (docs/format.md, "Scavenged segments"):
// the newest generation of a segment number is listed and older ones are
// removed by a writer open, $all reads and subscriptions continue across
// the hole its removed records leave, damage in it is Corruption, and the
// swap that lists it replaces the old file under live readers.
//
// Most tests keep the stream index's tables of the range (their rewrite is
// the index's part of a scavenge): $all reads use none of its offsets in
// a scavenged segment, so they exercise the log alone. One removes the
// index, so that the open rebuilds it across the hole.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "cairn/inspect.h"
#include "engine/src/store_impl.h"
#include "segment/segment_header.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Events;

constexpr size_t kPlanCache = 16;
// "a" 0-2, "gone" 3-7 (removed), its tombstone 8, "kept" 9-12.
constexpr uint64_t kFirstRemoved = 3;
constexpr uint64_t kEndRemoved = 8;

std::vector<uint64_t> Positions(const std::vector<RecordedEvent>& events) {
  std::vector<uint64_t> out;
  for (const RecordedEvent& e : events) out.push_back(e.position.value());
  return out;
}

class ScavengedLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(Dir(), Opts());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<Store> store = std::move(opened).value();
    auto* impl = static_cast<engine::StoreImpl*>(store.get());
    ASSERT_TRUE(
        store->Append("a", ExpectedVersion::NoStream(), Events(3)).ok());
    ASSERT_TRUE(
        store->Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
    ASSERT_TRUE(store->Tombstone("gone", ExpectedVersion::Any()).ok());
    ASSERT_TRUE(
        store->Append("kept", ExpectedVersion::NoStream(), Events(4)).ok());
    // Fillers until segment 0 is sealed (the plan examines sealed ones).
    for (int i = 0;; ++i) {
      ASSERT_LT(i, 100) << "the log never rolled";
      auto plan = impl->PlanScavenge(kPlanCache);
      ASSERT_TRUE(plan.ok()) << plan.status().ToString();
      if (plan->examined_end > kEndRemoved) {
        ASSERT_EQ(plan->units.size(), 1u);
        ASSERT_EQ(plan->units.front().unit, 0u);
        break;
      }
      std::vector<EventData> big;
      big.push_back(testing::Event("F", std::string(16 * 1024, 'f'),
                                   EventId::Generate()));
      ASSERT_TRUE(store->Append("filler", ExpectedVersion::Any(), big).ok());
    }
    engine::ScavengePlanner planner = impl->MakeScavengePlanner(kPlanCache);
    segment::ScavengeCopyStats stats;
    auto entry = impl->WriteScavengedUnit(0, &planner, &stats);
    ASSERT_TRUE(entry.ok()) << entry.status().ToString();
    ASSERT_EQ(stats.removed_records, kEndRemoved - kFirstRemoved);
    auto all = store->ReadAll(testing::AllUpTo(1 << 20));
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    all_ = Positions(all->events);
    for (uint64_t p : all_) {
      if (p < kFirstRemoved || p >= kEndRemoved) kept_.push_back(p);
    }
    ASSERT_TRUE(store->Close().ok());
  }

  std::string Dir() { return dir_.Sub("store"); }
  Options Opts(bool read_only = false) {
    Options options = testing::SmallOptions();
    options.compression_threshold = 0;
    options.read_only = read_only;
    return options;
  }
  std::string Original() { return Dir() + "/" + segment::SegmentFileName(0); }
  std::string Rewritten() {
    return Dir() + "/" + segment::ScavengedSegmentFileName(0, 1);
  }
  // What a scavenge's commit does with the copy: its final name.
  void Commit() { fs::rename(Rewritten() + ".scv", Rewritten()); }

  std::unique_ptr<Store> Reopen(bool read_only = false) {
    auto opened = Store::Open(Dir(), Opts(read_only));
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  testing::TempDir dir_;
  std::vector<uint64_t> all_;   // positions before the scavenge
  std::vector<uint64_t> kept_;  // and after it
};

TEST_F(ScavengedLogTest, AllReadsContinueAcrossTheHoleBothWays) {
  Commit();
  std::unique_ptr<Store> store = Reopen();
  ASSERT_NE(store, nullptr);
  auto forward = store->ReadAll(testing::AllUpTo(1 << 20));
  ASSERT_TRUE(forward.ok()) << forward.status().ToString();
  EXPECT_EQ(Positions(forward->events), kept_);
  for (const RecordedEvent& e : forward->events) {
    // Only the tombstone of "gone" stays.
    if (e.stream == "gone") {
      EXPECT_EQ(e.position.value(), kEndRemoved);
    }
  }

  ReadAllOptions backward = testing::AllUpTo(1 << 20);
  backward.direction = Direction::kBackward;
  auto reversed = store->ReadAll(backward);
  ASSERT_TRUE(reversed.ok()) << reversed.status().ToString();
  std::vector<uint64_t> expected(kept_.rbegin(), kept_.rend());
  EXPECT_EQ(Positions(reversed->events), expected);

  // From a removed position: the next kept one. Paging resumes across.
  ReadAllOptions page = testing::AllUpTo(1);
  page.from = GlobalPosition(5);
  auto in_hole = store->ReadAll(page);
  ASSERT_TRUE(in_hole.ok()) << in_hole.status().ToString();
  EXPECT_EQ(Positions(in_hole->events), std::vector<uint64_t>{kEndRemoved});
  page.from = GlobalPosition(2);
  auto before = store->ReadAll(page);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(Positions(before->events), std::vector<uint64_t>{2});
  ASSERT_TRUE(before->next_position.has_value());
  page.from = before->next_position;
  auto after = store->ReadAll(page);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Positions(after->events), std::vector<uint64_t>{kEndRemoved});

  // Backwards from inside the hole: the kept ones below it.
  backward.from = GlobalPosition(6);
  backward.max_count = 2;
  auto below = store->ReadAll(backward);
  ASSERT_TRUE(below.ok()) << below.status().ToString();
  EXPECT_EQ(Positions(below->events), (std::vector<uint64_t>{2, 1}));
  ASSERT_TRUE(below->next_position.has_value());
  EXPECT_EQ(below->next_position->value(), 0u);
}

// Without its index files the open rebuilds both indexes from the log,
// across the hole: stream reads then return the kept events, the
// tombstoned stream stays deleted, and appends continue.
TEST_F(ScavengedLogTest, AnIndexRebuiltAcrossTheHoleServesStreamReads) {
  Commit();
  fs::remove_all(Dir() + "/index");
  std::vector<uint64_t> kept_positions{9, 10, 11, 12};
  for (int open = 0; open < 2; ++open) {  // rebuilt, then from its tables
    std::unique_ptr<Store> store = Reopen();
    ASSERT_NE(store, nullptr);
    auto a = store->ReadStream("a", testing::StreamUpTo(100));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(Positions(a->events), (std::vector<uint64_t>{0, 1, 2}));
    auto kept = store->ReadStream("kept", testing::StreamUpTo(100));
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(Positions(kept->events), kept_positions);
    auto gone = store->ReadStream("gone", testing::StreamUpTo(100));
    EXPECT_TRUE(gone.status().IsStreamDeleted()) << gone.status().ToString();
    if (open == 0) {
      auto more = store->Append("kept", ExpectedVersion::Exact(3), Events(1));
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      EXPECT_EQ(more->first_revision.value(), 4u);
      kept_positions.push_back(more->first_position.value());
    }
    ASSERT_TRUE(store->Close().ok());
  }
}

TEST_F(ScavengedLogTest, ASubscriptionFromBeforeTheHoleResumesAfterIt) {
  Commit();
  std::unique_ptr<Store> store = Reopen();
  ASSERT_NE(store, nullptr);
  auto recorder = std::make_shared<testing::SubscriptionRecorder>();
  SubscriptionOptions options;
  options.from_position = GlobalPosition(1);
  auto sub = store->Subscribe(options, recorder);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  const std::vector<uint64_t> expected(kept_.begin() + 1, kept_.end());
  ASSERT_TRUE(recorder->WaitForEvents(expected.size()));
  EXPECT_EQ(Positions(recorder->events()), expected);
  (*sub)->Stop();
}

TEST_F(ScavengedLogTest, AWriterOpenRemovesOlderGenerations) {
  Commit();
  ASSERT_TRUE(fs::exists(Original()));
  {
    // A reader changes nothing, and reads the newest generation.
    std::unique_ptr<Store> reader = Reopen(/*read_only=*/true);
    ASSERT_NE(reader, nullptr);
    auto all = reader->ReadAll(testing::AllUpTo(1 << 20));
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    EXPECT_EQ(Positions(all->events), kept_);
  }
  EXPECT_TRUE(fs::exists(Original()));
  std::unique_ptr<Store> store = Reopen();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(fs::exists(Original()));
  EXPECT_TRUE(fs::exists(Rewritten()));
  auto all = store->ReadAll(testing::AllUpTo(1 << 20));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Positions(all->events), kept_);
}

TEST_F(ScavengedLogTest, OlderGenerationsStayWhileTheNewestDoesNotVerify) {
  Commit();
  {
    std::fstream file(Rewritten(),
                      std::ios::in | std::ios::out | std::ios::binary);
    // The store id, inside the header checksum. The id is random, so the
    // byte is flipped: a fixed value would match it once in 256 runs.
    file.seekg(20);
    const char original = static_cast<char>(file.get());
    file.seekp(20);
    file.put(static_cast<char>(original ^ 0x7f));
  }
  auto opened = Store::Open(Dir(), Opts());
  ASSERT_FALSE(opened.ok());
  EXPECT_TRUE(opened.status().IsCorruption()) << opened.status().ToString();
  EXPECT_TRUE(fs::exists(Original()));
}

TEST_F(ScavengedLogTest, DamageInTheScavengedSegmentIsCorruption) {
  Commit();
  Reopen().reset();  // the writer open removes the original
  const uint64_t size = fs::file_size(Rewritten());
  std::vector<uint64_t> offsets;
  // Every byte of the header's fields, of the first records, and a sample
  // of the rest (the durable-end mark is checked by a replay or verify
  // only: the records' answers do not depend on it).
  for (uint64_t at = 0; at < 80; ++at) offsets.push_back(at);
  for (uint64_t at = 4096; at < 4096 + 512 && at < size; ++at) {
    offsets.push_back(at);
  }
  for (uint64_t at = 4096 + 512; at < size; at += 1021) offsets.push_back(at);
  for (uint64_t at : offsets) {
    std::fstream file(Rewritten(),
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(at));
    const char original = static_cast<char>(file.get());
    file.seekp(static_cast<std::streamoff>(at));
    file.put(static_cast<char>(original ^ 0x20));
    file.close();

    Status seen;
    auto opened = Store::Open(Dir(), Opts(/*read_only=*/true));
    if (!opened.ok()) {
      seen = opened.status();
    } else {
      ReadAllOptions both = testing::AllUpTo(1 << 20);
      auto forward = (*opened)->ReadAll(both);
      both.direction = Direction::kBackward;
      auto backward = (*opened)->ReadAll(both);
      seen = !forward.ok() ? forward.status() : backward.status();
    }
    // A changed format version reads as a version this build does not
    // know (docs/format.md, "Versioning"); anything else is damage.
    const bool version = at >= 8 && at < 12;
    EXPECT_TRUE(seen.IsCorruption() ||
                (version && seen.code() == StatusCode::kNotSupported))
        << "byte " << at << " flipped: " << seen.ToString();

    std::fstream restore(Rewritten(),
                         std::ios::in | std::ios::out | std::ios::binary);
    restore.seekp(static_cast<std::streamoff>(at));
    restore.put(original);
  }
}

TEST_F(ScavengedLogTest, TheSwapReplacesTheSegmentUnderLiveReaders) {
  // One mapping cached: readers also reopen segment 0 after the swap,
  // when its old file may be gone, and then read its successor.
  Options options = Opts();
  options.max_open_segments = 1;
  auto opened = Store::Open(Dir(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(opened).value();
  auto* impl = static_cast<engine::StoreImpl*>(store.get());
  // The writer open discarded the uncommitted copy: the scavenge writes it.
  engine::ScavengePlanner planner = impl->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  ASSERT_TRUE(impl->WriteScavengedUnit(0, &planner, &stats).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      ReadAllOptions options = testing::AllUpTo(1 << 20);
      if (r == 1) options.direction = Direction::kBackward;
      while (!stop.load()) {
        auto all = store->ReadAll(options);
        ASSERT_TRUE(all.ok()) << all.status().ToString();
        std::vector<uint64_t> got = Positions(all->events);
        if (r == 1) std::reverse(got.begin(), got.end());
        // Before the swap or after it, never a mix or an error.
        EXPECT_TRUE(got == all_ || got == kept_);
        reads.fetch_add(1);
      }
    });
  }
  auto wait_reads = [&](int n) {
    while (reads.load() < n) std::this_thread::yield();
  };
  wait_reads(6);
  Commit();
  const Status swapped = impl->SwapScavengedSegment(0, 1);
  EXPECT_TRUE(swapped.ok()) << swapped.ToString();
  // The scavenge's clean-up: the old file goes while readers may hold it.
  fs::remove(Original());
  const int after_swap = reads.load();
  wait_reads(after_swap + 6);
  stop = true;
  for (std::thread& t : readers) t.join();

  auto all = store->ReadAll(testing::AllUpTo(1 << 20));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Positions(all->events), kept_);
  // A second swap to the same generation is refused.
  EXPECT_TRUE(impl->SwapScavengedSegment(0, 1).IsInvalidArgument());
}

TEST_F(ScavengedLogTest, AFollowerFindsTheNewGenerationWhenTheOldIsGone) {
  std::unique_ptr<Store> store = Reopen();
  ASSERT_NE(store, nullptr);
  auto* impl = static_cast<engine::StoreImpl*>(store.get());
  // A read-only opener beside the writer, keeping one segment mapped:
  // segment 0 is not mapped once it has read the later ones.
  Options follower_options = Opts(/*read_only=*/true);
  follower_options.max_open_segments = 1;
  auto follower = Store::Open(Dir(), follower_options);
  ASSERT_TRUE(follower.ok()) << follower.status().ToString();
  auto before = (*follower)->ReadAll(testing::AllUpTo(1 << 20));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(Positions(before->events), all_);

  engine::ScavengePlanner planner = impl->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  ASSERT_TRUE(impl->WriteScavengedUnit(0, &planner, &stats).ok());
  Commit();
  ASSERT_TRUE(impl->SwapScavengedSegment(0, 1).ok());
  fs::remove(Original());

  // Its list still names the original file, which is gone: it reads the
  // newest generation in the directory instead.
  auto after = (*follower)->ReadAll(testing::AllUpTo(1 << 20));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(Positions(after->events), kept_);
}

TEST_F(ScavengedLogTest, AnIncrementalBackupCopiesTheRewrittenSegment) {
  const std::string dest = dir_.Sub("backup");
  std::unique_ptr<Store> store = Reopen();
  ASSERT_NE(store, nullptr);
  auto* impl = static_cast<engine::StoreImpl*>(store.get());
  auto first = store->Backup(dest, BackupOptions{});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(fs::exists(dest + "/" + segment::SegmentFileName(0)));

  engine::ScavengePlanner planner = impl->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  ASSERT_TRUE(impl->WriteScavengedUnit(0, &planner, &stats).ok());
  Commit();
  ASSERT_TRUE(impl->SwapScavengedSegment(0, 1).ok());
  auto second = store->Backup(dest, BackupOptions{});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  // Segment 0 again (a newer generation) and the last one; the others
  // sealed since the first run are reused.
  EXPECT_EQ(second->files_copied, 2u);
  EXPECT_FALSE(fs::exists(dest + "/" + segment::SegmentFileName(0)));
  EXPECT_TRUE(fs::exists(dest + "/" + segment::ScavengedSegmentFileName(0, 1)));
  ASSERT_TRUE(store->Close().ok());
  std::ifstream manifest(dest + "/BACKUP");
  const std::string text((std::istreambuf_iterator<char>(manifest)),
                         std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\nsealed 0 1 "), std::string::npos) << text;

  // The copy's log verifies. (Opening it rebuilds the stream index from
  // the log, which needs an index that takes gaps: the index's part.)
  auto report = inspect::VerifyStore(dest);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->log_problems, 0u);
  EXPECT_EQ(report->events, kept_.size());
}

}  // namespace
}  // namespace cairn
