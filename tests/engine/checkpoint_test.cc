// Copyright (c) Cairn authors.
//
// Durable named checkpoints, and resuming a subscription from one after a
// simulated power loss.
#include <gtest/gtest.h>

#include "cairn/cairn.h"
#include "engine/src/checkpoint_store.h"
#include "engine/src/fail_stop.h"
#include "engine/src/store_impl.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

TEST(CheckpointTest, SaveLoadAcrossReopen) {
  testing::TempDir dir;
  {
    auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    auto none = (*store)->LoadCheckpoint("projection-a");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    CAIRN_ASSERT_OK(
        (*store)->SaveCheckpoint("projection-a", GlobalPosition(41)));
    CAIRN_ASSERT_OK(
        (*store)->SaveCheckpoint("projection-a", GlobalPosition(42)));
    CAIRN_ASSERT_OK(
        (*store)->SaveCheckpoint("projection.b_2", GlobalPosition(7)));
    EXPECT_TRUE((*store)
                    ->SaveCheckpoint("bad/name", GlobalPosition(1))
                    .IsInvalidArgument());
    EXPECT_TRUE(
        (*store)->SaveCheckpoint("", GlobalPosition(1)).IsInvalidArgument());
    EXPECT_TRUE(
        (*store)->SaveCheckpoint("..", GlobalPosition(1)).IsInvalidArgument());
  }
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  auto a = (*store)->LoadCheckpoint("projection-a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(**a, GlobalPosition(42));
  auto b = (*store)->LoadCheckpoint("projection.b_2");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(**b, GlobalPosition(7));
  // Read-only openers can load but not save.
  Options ro;
  ro.read_only = true;
  store->reset();
  auto reader = Store::Open(dir.Sub("s"), ro);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->SaveCheckpoint("x", GlobalPosition(1)).IsReadOnly());
  EXPECT_EQ(**(*reader)->LoadCheckpoint("projection-a"), GlobalPosition(42));
}

TEST(CheckpointTest, SurvivesPowerLossAndResumesSubscription) {
  io::MemoryFileSystem fs;
  Options options = testing::SmallOptions();
  uint64_t saved = 0;
  {
    io::FaultInjectionFileSystem process(&fs, 1);
    process.set_crash_options(io::CrashOptions::LoseUnsynced());
    auto store = engine::StoreImpl::Open(&process, "/s", options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Append("a", ExpectedVersion::Any(), Events(30)).ok());
    auto recorder = std::make_shared<testing::SubscriptionRecorder>();
    auto sub = (*store)->Subscribe(SubscriptionOptions{}, recorder);
    ASSERT_TRUE(sub.ok());
    ASSERT_TRUE(recorder->WaitForEvents(30));
    (*sub)->Stop();
    saved = 18;  // the consumer processed 18 events durably elsewhere
    CAIRN_ASSERT_OK((*store)->SaveCheckpoint("p", GlobalPosition(saved)));
    ASSERT_TRUE((*store)->Append("a", ExpectedVersion::Any(), Events(5)).ok());
    process.Crash();
  }
  auto store = engine::StoreImpl::Open(&fs, "/s", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto loaded = (*store)->LoadCheckpoint("p");
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, GlobalPosition(saved));
  auto recorder = std::make_shared<testing::SubscriptionRecorder>();
  SubscriptionOptions resume;
  resume.from_position = **loaded;
  auto sub = (*store)->Subscribe(resume, recorder);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(recorder->WaitForEvents(35 - saved));
  auto events = recorder->events();
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].position, GlobalPosition(saved + i));
  }
}

// Each fsync of a save (the store directory's, when the first save creates
// checkpoints/; the new file's; checkpoints/'s after the rename) and the
// directory fsync of a removal: a failure is reported, fail-stops the store,
// and nothing is synced again.
TEST(CheckpointTest, AFailedFsyncIsFatalAndNeverRetried) {
  struct Case {
    io::FaultOp op;
    const char* path;
    bool on_remove;
  };
  const Case cases[] = {
      {io::FaultOp::kSyncDir, "/store", false},
      {io::FaultOp::kSync, "/store/checkpoints/p.ckpt.tmp", false},
      {io::FaultOp::kSyncDir, "/store/checkpoints", false},
      {io::FaultOp::kSyncDir, "/store/checkpoints", true},
  };
  for (const Case& c : cases) {
    const std::string where =
        std::string(c.path) + (c.on_remove ? " (remove)" : " (save)");
    io::MemoryFileSystem memory;
    io::FaultInjectionFileSystem fs(&memory, 1);
    CAIRN_ASSERT_OK(fs.CreateDir("/store"));
    engine::FailStop fail_stop;
    engine::CheckpointStore checkpoints(&fs, "/store", &fail_stop);
    if (c.on_remove) CAIRN_ASSERT_OK(checkpoints.Save("p", 5));
    io::FaultRule rule;
    rule.op = c.op;
    rule.path_suffix = c.path;
    fs.AddRule(rule);
    Status failed =
        c.on_remove ? checkpoints.Remove("p") : checkpoints.Save("p", 7);
    EXPECT_TRUE(failed.IsIOError()) << where << ": " << failed.ToString();
    EXPECT_EQ(fs.faults_injected(), 1u) << where;
    EXPECT_TRUE(fail_stop.failed()) << where;

    const uint64_t syncs = fs.count(io::FaultOp::kSync);
    const uint64_t dir_syncs = fs.count(io::FaultOp::kSyncDir);
    EXPECT_TRUE(checkpoints.Save("p", 8).IsReadOnly()) << where;
    EXPECT_TRUE(checkpoints.Save("q", 9).IsReadOnly()) << where;
    EXPECT_TRUE(checkpoints.Remove("p").IsReadOnly()) << where;
    EXPECT_EQ(fs.count(io::FaultOp::kSync), syncs) << where;
    EXPECT_EQ(fs.count(io::FaultOp::kSyncDir), dir_syncs) << where;
    EXPECT_EQ(fs.retried_dir_syncs(), 0u) << where;
    // Loads still answer, from what the files hold.
    EXPECT_TRUE(checkpoints.Load("q").ok()) << where;
  }
}

// Through the store: a checkpoint's failed fsync stops appends too, with
// the error, until a reopen.
TEST(CheckpointTest, AFailedCheckpointFsyncMakesTheStoreReadOnly) {
  io::MemoryFileSystem memory;
  io::FaultInjectionFileSystem fs(&memory, 1);
  auto store = engine::StoreImpl::Open(&fs, "/s", testing::SmallOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CAIRN_ASSERT_OK((*store)->SaveCheckpoint("p", GlobalPosition(1)));
  ASSERT_TRUE((*store)->Append("a", ExpectedVersion::Any(), Events(3)).ok());
  io::FaultRule rule;
  rule.op = io::FaultOp::kSyncDir;
  rule.path_suffix = "/s/checkpoints";
  fs.AddRule(rule);
  EXPECT_TRUE((*store)->SaveCheckpoint("p", GlobalPosition(2)).IsIOError());
  auto append = (*store)->Append("a", ExpectedVersion::Any(), Events(1));
  ASSERT_FALSE(append.ok());
  EXPECT_TRUE(append.status().IsReadOnly()) << append.status().ToString();
  EXPECT_NE(append.status().ToString().find("injected"), std::string::npos)
      << append.status().ToString();
  EXPECT_TRUE((*store)->Sync().IsReadOnly());
  (void)(*store)->Close();
  store->reset();

  fs.ClearFaults();
  auto reopened = engine::StoreImpl::Open(&fs, "/s", testing::SmallOptions());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto loaded = (*reopened)->LoadCheckpoint("p");
  ASSERT_TRUE(loaded.ok());
  // The rename happened before the failed directory fsync: the page cache
  // has the new checkpoint; a power loss could bring back the old one.
  ASSERT_TRUE(loaded->has_value());
  EXPECT_TRUE(**loaded == GlobalPosition(1) || **loaded == GlobalPosition(2));
  EXPECT_TRUE((*reopened)->Append("a", ExpectedVersion::Any(), Events(1)).ok());
}

}  // namespace
}  // namespace cairn
