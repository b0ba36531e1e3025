// Copyright (c) Cairn authors.
//
// Durable named checkpoints, and resuming a subscription from one after a
// simulated power loss.
#include <gtest/gtest.h>

#include "cairn/cairn.h"
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

}  // namespace
}  // namespace cairn
