// Copyright (c) Cairn authors.
//
// Planning a scavenge on a live store: which records of the sealed log no
// stream read can return (deletion, tombstones, $maxCount, $maxAge, $tb,
// older metadata), decided from the store's own index and log.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "engine/io/file_system.h"
#include "engine/src/small_file.h"
#include "engine/src/store_impl.h"
#include "segment/scavenged_segment.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

// Retention is cached for this many streams while planning.
constexpr size_t kPlanCache = 16;

// Appends to "filler" until everything written so far is in a sealed
// segment (the plan examines sealed segments only).
void AppendUntilSealed(Store& store) {
  auto stats = store.GetStats();
  ASSERT_TRUE(stats.ok());
  const uint64_t end = stats->events;
  auto* impl = static_cast<engine::StoreImpl*>(&store);
  for (int i = 0; i < 1000; ++i) {
    auto plan = impl->PlanScavenge(kPlanCache);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    if (plan->examined_end >= end) return;
    std::vector<EventData> big;
    big.push_back(
        testing::Event("F", std::string(16 * 1024, 'f'), EventId::Generate()));
    ASSERT_TRUE(store.Append("filler", ExpectedVersion::Any(), big).ok());
  }
  FAIL() << "the log never rolled";
}

class StoreScavengeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  Result<std::unique_ptr<Store>> Open() {
    Options options = testing::SmallOptions();
    options.compression_threshold = 0;
    return Store::Open(dir_.Sub("store"), options);
  }
  engine::StoreImpl* impl() {
    return static_cast<engine::StoreImpl*>(store_.get());
  }
  void SetMetadata(const std::string& stream, const std::string& json) {
    auto set =
        store_->SetStreamMetadataJson(stream, ExpectedVersion::Any(), json);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
  }
  void SealEverything() { AppendUntilSealed(*store_); }
  // Five events of "gone", tombstoned (removable), and four of "kept", all
  // sealed.
  void TombstoneFiveKeepFourAndSeal() {
    ASSERT_TRUE(
        store_->Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
    ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
    ASSERT_TRUE(
        store_->Append("kept", ExpectedVersion::NoStream(), Events(4)).ok());
    SealEverything();
  }
  engine::ScavengePlan Plan() {
    auto plan = impl()->PlanScavenge(kPlanCache);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return plan.ok() ? std::move(plan).value() : engine::ScavengePlan{};
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreScavengeTest, AnEmptyStoreHasNothingToRemove) {
  engine::ScavengePlan plan = Plan();
  EXPECT_EQ(plan.examined_end, 0u);
  EXPECT_EQ(plan.records, 0u);
  EXPECT_EQ(plan.removable_records, 0u);
  EXPECT_TRUE(plan.units.empty());
}

TEST_F(StoreScavengeTest, ReadableEventsAreNeverRemovable) {
  ASSERT_TRUE(store_->Append("a", ExpectedVersion::NoStream(), Events(5)).ok());
  SealEverything();
  engine::ScavengePlan plan = Plan();
  EXPECT_GT(plan.records, 5u);
  EXPECT_EQ(plan.removable_records, 0u);
  EXPECT_EQ(plan.removable_bytes, 0u);
}

TEST_F(StoreScavengeTest, ATombstonedStreamLosesEverythingButItsTombstone) {
  ASSERT_TRUE(
      store_->Append("gone", ExpectedVersion::NoStream(), Events(7)).ok());
  ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
  SealEverything();
  engine::ScavengePlan plan = Plan();
  EXPECT_EQ(plan.removable_records, 7u);
  ASSERT_FALSE(plan.units.empty());
  EXPECT_EQ(plan.units.front().unit, 0u);
  EXPECT_GT(plan.removable_bytes, 7u * 32);
}

TEST_F(StoreScavengeTest, MaxCountAndTruncateBeforeHideTheOldestEvents) {
  ASSERT_TRUE(
      store_->Append("a", ExpectedVersion::NoStream(), Events(10)).ok());
  ASSERT_TRUE(
      store_->Append("b", ExpectedVersion::NoStream(), Events(10)).ok());
  SetMetadata("a", R"({"$maxCount":2})");
  SetMetadata("b", R"({"$tb":4})");
  SealEverything();
  // a: revisions 0..7; b: 0..3.
  EXPECT_EQ(Plan().removable_records, 8u + 4u);
}

TEST_F(StoreScavengeTest, MaxCountOneAndTruncateBeyondTheEndKeepTheLast) {
  ASSERT_TRUE(store_->Append("a", ExpectedVersion::NoStream(), Events(6)).ok());
  ASSERT_TRUE(store_->Append("b", ExpectedVersion::NoStream(), Events(6)).ok());
  SetMetadata("a", R"({"$maxCount":1})");
  SetMetadata("b", R"({"$tb":1000})");
  SealEverything();
  // Each keeps revision 5: b reads as empty but its revision continues.
  EXPECT_EQ(Plan().removable_records, 5u + 5u);
}

TEST_F(StoreScavengeTest, ASoftDeleteKeepsTheLastEventForItsRevision) {
  ASSERT_TRUE(store_->Append("a", ExpectedVersion::NoStream(), Events(4)).ok());
  ASSERT_TRUE(store_->Delete("a", ExpectedVersion::Any()).ok());
  SealEverything();
  EXPECT_EQ(Plan().removable_records, 3u);
  // Appending again continues the revisions; the old last event is no
  // longer needed for that.
  auto again = store_->Append("a", ExpectedVersion::Any(), Events(2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->last_revision.value(), 5u);
  SealEverything();
  EXPECT_EQ(Plan().removable_records, 4u);
}

TEST_F(StoreScavengeTest, OnlyTheNewestMetadataEventStays) {
  ASSERT_TRUE(store_->Append("a", ExpectedVersion::NoStream(), Events(1)).ok());
  SetMetadata("a", R"({"x":1})");
  SetMetadata("a", R"({"x":2})");
  SetMetadata("a", R"({"x":3})");
  SealEverything();
  EXPECT_EQ(Plan().removable_records, 2u);
  auto meta = store_->GetStreamMetadata("a");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->json, R"({"x":3})");
}

TEST_F(StoreScavengeTest, MaxAgeJudgesTheCreationTime) {
  ASSERT_TRUE(store_->Append("a", ExpectedVersion::NoStream(), Events(5)).ok());
  SetMetadata("a", R"({"$maxAge":10})");
  SealEverything();
  auto read = store_->ReadStream("a", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok());
  const int64_t newest = read->events.back().created_us;
  impl()->SetRetentionClockForTest(newest);
  EXPECT_EQ(Plan().removable_records, 0u);
  // Long after: every event but the last is beyond the age.
  impl()->SetRetentionClockForTest(newest + 11'000'000);
  EXPECT_EQ(Plan().removable_records, 4u);
}

TEST_F(StoreScavengeTest, PlanningChangesNothing) {
  ASSERT_TRUE(
      store_->Append("gone", ExpectedVersion::NoStream(), Events(3)).ok());
  ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
  SealEverything();
  auto before = store_->ReadAll(testing::AllUpTo(100000));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(Plan().removable_records, 3u);
  EXPECT_EQ(Plan().removable_records, 3u);
  auto after = store_->ReadAll(testing::AllUpTo(100000));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->events.size(), before->events.size());
}

TEST_F(StoreScavengeTest, PlanningRunsBesideAppendsAndDeletes) {
  // Another thread appends, tombstones and rolls segments while plans run;
  // every plan must succeed, and the removable count only grows (each
  // stream is tombstoned whole, so a later plan sees at least as much).
  constexpr int kStreams = 12;
  std::thread writer([&] {
    for (int i = 0; i < kStreams; ++i) {
      // Appended, not `"w" + std::to_string(i)`: g++ 12 at -O2 reports a
      // false -Wrestrict overlap in that (GCC bug 105651).
      std::string name("w");
      name += std::to_string(i);
      std::vector<EventData> events;
      for (int k = 0; k < 4; ++k) {
        events.push_back(testing::Event("E", std::string(8 * 1024, 'w'),
                                        EventId::Generate()));
      }
      ASSERT_TRUE(
          store_->Append(name, ExpectedVersion::NoStream(), events).ok());
      ASSERT_TRUE(store_->Tombstone(name, ExpectedVersion::Any()).ok());
    }
  });
  uint64_t seen = 0;
  for (int round = 0; round < 20; ++round) {
    auto plan = impl()->PlanScavenge(kPlanCache);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_GE(plan->removable_records, seen);
    seen = plan->removable_records;
  }
  writer.join();
  SealEverything();
  EXPECT_EQ(Plan().removable_records, kStreams * 4u);
}

// --- writing rewritten units (store_scavenge_write.cc) ---

// The bytes of a file of the store directory.
std::string ReadStoreFile(const std::string& dir, const std::string& name) {
  auto bytes = engine::ReadSmallFile(io::PosixFileSystem(),
                                     io::JoinPath(dir, name), size_t{1} << 30);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? std::move(bytes).value() : std::string();
}

TEST_F(StoreScavengeTest, WritesAVerifiedCopyWithoutTheRemovableRecords) {
  ASSERT_TRUE(
      store_->Append("gone", ExpectedVersion::NoStream(), Events(7)).ok());
  ASSERT_TRUE(
      store_->Append("kept", ExpectedVersion::NoStream(), Events(3)).ok());
  ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
  SealEverything();
  engine::ScavengePlan plan = Plan();
  ASSERT_EQ(plan.units.size(), 1u);
  const engine::ScavengeUnitPlan& unit = plan.units.front();

  engine::ScavengePlanner planner = impl()->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  auto entry = impl()->WriteScavengedUnit(unit.unit, &planner, &stats);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->number, unit.unit);
  EXPECT_EQ(entry->generation, 1u);
  EXPECT_EQ(stats.removed_records, unit.removable_records);
  EXPECT_EQ(stats.removed_bytes, unit.removable_bytes);
  EXPECT_EQ(stats.kept_records, unit.records - unit.removable_records);

  const std::string name =
      segment::ScavengedSegmentFileName(unit.unit, 1) + ".scv";
  const std::string bytes = ReadStoreFile(dir_.Sub("store"), name);
  EXPECT_EQ(bytes.size(), entry->size);
  EXPECT_EQ(engine::ScavengeFileHash(bytes), entry->hash);
  segment::SegmentHeader header;
  segment::ScavengedFields fields;
  uint64_t records = 0;
  ASSERT_TRUE(segment::ScanScavengedSegment(
                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                  name, [&](const segment::ScannedRecord&) { ++records; },
                  &header, &fields)
                  .ok());
  EXPECT_EQ(records, stats.kept_records);
  EXPECT_EQ(header.segment_number, unit.unit);
  EXPECT_EQ(fields.generation, 1u);
}

TEST(StoreScavengeMemoryTest, ACopyLargerThanAPieceHoldsOnlyTwoPieces) {
  // A segment of 8 MiB, nearly all of it kept: the copy is several pieces
  // long, and the run's buffer stays at two pieces.
  testing::TempDir dir;
  Options options = testing::SmallOptions();
  options.segment_size = uint64_t{8} << 20;
  options.compression_threshold = 0;
  auto opened = Store::Open(dir.Sub("store"), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(opened).value();
  for (int i = 0; i < 500; ++i) {
    std::vector<EventData> events;
    events.push_back(
        testing::Event("K", std::string(10 * 1024, 'k'), EventId::Generate()));
    ASSERT_TRUE(store->Append("kept", ExpectedVersion::Any(), events).ok());
  }
  ASSERT_TRUE(
      store->Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
  ASSERT_TRUE(store->Tombstone("gone", ExpectedVersion::Any()).ok());
  AppendUntilSealed(*store);
  auto* impl = static_cast<engine::StoreImpl*>(store.get());
  auto plan = impl->PlanScavenge(kPlanCache);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_FALSE(plan->units.empty());
  engine::ScavengePlanner planner = impl->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  engine::StoreImpl::ScavengeWriting writing;
  auto entry = impl->WriteScavengedUnit(plan->units.front().unit, &planner,
                                        &stats, nullptr, &writing);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_GT(entry->size, 4 * engine::StoreImpl::kScavengePieceSize);
  EXPECT_LE(writing.piece.capacity(),
            2 * engine::StoreImpl::kScavengePieceSize);
  EXPECT_EQ(stats.removed_records, 5u);
}

TEST_F(StoreScavengeTest, WritingACopyChangesNoRead) {
  TombstoneFiveKeepFourAndSeal();
  engine::ScavengePlan plan = Plan();
  ASSERT_FALSE(plan.units.empty());
  engine::ScavengePlanner planner = impl()->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  ASSERT_TRUE(
      impl()
          ->WriteScavengedUnit(plan.units.front().unit, &planner, &stats)
          .ok());
  // The copy is garbage until a commit names it: the log reads as before.
  auto kept = store_->ReadStream("kept", ReadStreamOptions{});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->events.size(), 4u);
  EXPECT_EQ(Plan().removable_records, plan.removable_records);
}

TEST_F(StoreScavengeTest, WritingTheSameUnitAgainReplacesTheLeftover) {
  ASSERT_TRUE(
      store_->Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
  ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
  SealEverything();
  const uint64_t unit = Plan().units.front().unit;
  engine::ScavengePlanner planner = impl()->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats first_stats;
  auto first = impl()->WriteScavengedUnit(unit, &planner, &first_stats);
  ASSERT_TRUE(first.ok());
  // A stopped scavenge restarts: the same copy again, byte for byte.
  segment::ScavengeCopyStats second_stats;
  auto second = impl()->WriteScavengedUnit(unit, &planner, &second_stats);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*first, *second);
}

TEST_F(StoreScavengeTest, OnlySealedSegmentsAreRewritten) {
  ASSERT_TRUE(store_->Append("a", ExpectedVersion::NoStream(), Events(2)).ok());
  engine::ScavengePlanner planner = impl()->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  // Segment 0 is the active one here, and 99 does not exist.
  for (const uint64_t unit : {uint64_t{0}, uint64_t{99}}) {
    auto entry = impl()->WriteScavengedUnit(unit, &planner, &stats);
    ASSERT_FALSE(entry.ok());
    EXPECT_TRUE(entry.status().IsInvalidArgument())
        << entry.status().ToString();
  }
}

TEST_F(StoreScavengeTest, AWriterOpenDiscardsAnUncommittedScavenge) {
  TombstoneFiveKeepFourAndSeal();
  const uint64_t unit = Plan().units.front().unit;
  engine::ScavengePlanner planner = impl()->MakeScavengePlanner(kPlanCache);
  segment::ScavengeCopyStats stats;
  ASSERT_TRUE(impl()->WriteScavengedUnit(unit, &planner, &stats).ok());
  const std::string dir = dir_.Sub("store");
  io::FileSystem* fs = io::PosixFileSystem();
  ASSERT_TRUE(engine::WriteFileSynced(fs, io::JoinPath(dir, "SCAVENGE.tmp"),
                                      "cairn-scavenge 1\n")
                  .ok());
  const std::string scv =
      segment::ScavengedSegmentFileName(unit, 1) + engine::kScavengeWriteSuffix;
  ASSERT_TRUE(fs->Exists(io::JoinPath(dir, scv)));
  store_.reset();

  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened).value();
  EXPECT_FALSE(fs->Exists(io::JoinPath(dir, scv)));
  EXPECT_FALSE(fs->Exists(io::JoinPath(dir, "SCAVENGE.tmp")));
  auto kept = store_->ReadStream("kept", ReadStreamOptions{});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->events.size(), 4u);
  // Nothing was removed: the same records are removable as before.
  EXPECT_EQ(Plan().removable_records, 5u);
}

TEST_F(StoreScavengeTest, ACommittedScavengeWhoseSegmentIsMissingIsRefused) {
  ASSERT_TRUE(store_->Append("a", ExpectedVersion::NoStream(), Events(2)).ok());
  store_.reset();
  engine::ScavengeCommit commit;
  commit.store_id = 1;
  commit.units.push_back({0, 1, 4096, 1});
  const std::string dir = dir_.Sub("store");
  ASSERT_TRUE(engine::ReplaceFile(io::PosixFileSystem(), dir,
                                  engine::kScavengeFileName, ".tmp",
                                  engine::EncodeScavengeCommit(commit))
                  .ok());
  auto reopened = Open();
  ASSERT_FALSE(reopened.ok());
  EXPECT_TRUE(reopened.status().IsCorruption()) << reopened.status().ToString();
  EXPECT_TRUE(io::PosixFileSystem()->Exists(
      io::JoinPath(dir, engine::kScavengeFileName)));
}

TEST_F(StoreScavengeTest, ADamagedScavengeFileIsCorruption) {
  store_.reset();
  const std::string dir = dir_.Sub("store");
  ASSERT_TRUE(engine::WriteFileSynced(
                  io::PosixFileSystem(),
                  io::JoinPath(dir, engine::kScavengeFileName),
                  "cairn-scavenge 1\nstore 1\nindex\nlinks\nchecksum 0\n")
                  .ok());
  auto reopened = Open();
  ASSERT_FALSE(reopened.ok());
  EXPECT_TRUE(reopened.status().IsCorruption()) << reopened.status().ToString();
}

// Power loss at every mutating step of writing a rewritten copy: the next
// writer open discards what was written, and every readable event still
// reads, with the same records removable as before.
TEST(ScavengeWriteCrashTest, PowerLossWhileWritingACopyLosesNothing) {
  Options options = testing::SmallOptions();
  options.compression_threshold = 0;
  const std::string dir = "/store";
  for (uint64_t crash_at = 1;; ++crash_at) {
    SCOPED_TRACE("crash at mutation " + std::to_string(crash_at));
    io::MemoryFileSystem memory;
    io::FaultInjectionFileSystem fs(&memory, crash_at);
    uint64_t removable = 0;
    bool finished = false;
    {
      CAIRN_ASSERT_OK_AND_ASSIGN(store,
                                 engine::StoreImpl::Open(&fs, dir, options));
      auto* impl = static_cast<engine::StoreImpl*>(store.get());
      ASSERT_TRUE(
          store->Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
      ASSERT_TRUE(store->Tombstone("gone", ExpectedVersion::Any()).ok());
      ASSERT_TRUE(
          store->Append("kept", ExpectedVersion::NoStream(), Events(4)).ok());
      AppendUntilSealed(*store);
      auto plan = impl->PlanScavenge(kPlanCache);
      ASSERT_TRUE(plan.ok()) << plan.status().ToString();
      ASSERT_FALSE(plan->units.empty());
      removable = plan->removable_records;
      impl->WaitIndexIdle();
      engine::ScavengePlanner planner = impl->MakeScavengePlanner(kPlanCache);
      segment::ScavengeCopyStats stats;
      fs.CrashAtMutation(crash_at, "");
      auto written =
          impl->WriteScavengedUnit(plan->units.front().unit, &planner, &stats);
      finished = !fs.DisarmCrash();
      if (finished) {
        ASSERT_TRUE(written.ok()) << written.status().ToString();
      }
    }
    if (!finished) fs.Crash();
    fs.PowerOn();
    CAIRN_ASSERT_OK_AND_ASSIGN(store,
                               engine::StoreImpl::Open(&fs, dir, options));
    auto names = fs.ListDir(dir);
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names) {
      EXPECT_EQ(name.find(engine::kScavengeWriteSuffix), std::string::npos)
          << name;
    }
    auto kept = store->ReadStream("kept", ReadStreamOptions{});
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(kept->events.size(), 4u);
    EXPECT_TRUE(store->ReadStream("gone", ReadStreamOptions{})
                    .status()
                    .IsStreamDeleted());
    auto plan =
        static_cast<engine::StoreImpl*>(store.get())->PlanScavenge(kPlanCache);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_EQ(plan->removable_records, removable);
    if (finished) {
      // Create, write, sync, close and the directory fsync were all hit.
      EXPECT_GT(crash_at, 3u);
      break;
    }
    ASSERT_LT(crash_at, 100u) << "the write never finished";
  }
}

}  // namespace
}  // namespace cairn
