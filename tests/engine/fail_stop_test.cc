// Copyright (c) Cairn authors.
//
// A failed fdatasync is never retried: the store turns read-only until
// reopened, and nothing acknowledged is lost. A full disk at a segment roll
// is a clear, non-fatal error.
#include "engine/src/fail_stop.h"

#include <gtest/gtest.h>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;
using testing::Events;

TEST(FailStopTest, TheFirstFatalErrorIsKeptAndNamedByTheGate) {
  engine::FailStop fail_stop;
  EXPECT_FALSE(fail_stop.failed());
  EXPECT_TRUE(fail_stop.Gate().ok());
  EXPECT_TRUE(fail_stop.fatal().ok());
  fail_stop.Fail(Status::IOError("fdatasync of 000001.seg: EIO"));
  fail_stop.Fail(Status::IOError("a later failure"));
  EXPECT_TRUE(fail_stop.failed());
  Status gate = fail_stop.Gate();
  EXPECT_TRUE(gate.IsReadOnly()) << gate.ToString();
  EXPECT_NE(gate.message().find("000001.seg: EIO"), std::string::npos)
      << gate.ToString();
  EXPECT_TRUE(fail_stop.fatal().IsIOError());
  EXPECT_EQ(fail_stop.fatal().message(), "fdatasync of 000001.seg: EIO");
}

TEST(FailStopTest, FailedFsyncMakesStoreReadOnly) {
  testing::TempDir dir;
  io::FaultInjectionFileSystem faulty(io::PosixFileSystem(), 1);
  std::vector<AppendResult> acked;
  {
    auto store =
        engine::StoreImpl::Open(&faulty, dir.Sub("s"), testing::SmallOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 0; i < 10; ++i) {
      auto r = (*store)->Append("s", ExpectedVersion::Any(), Events(2));
      ASSERT_TRUE(r.ok());
      acked.push_back(*r);
    }
    faulty.AddRule(io::FaultRule::Always(io::FaultOp::kSync));
    auto failed = (*store)->Append("s", ExpectedVersion::Any(), Events(2));
    EXPECT_TRUE(failed.status().IsIOError()) << failed.status().ToString();
    const uint64_t syncs_after_failure = faulty.count(io::FaultOp::kSync);

    // Fail-stop: later writes are refused without touching the disk, even
    // once the device would work again.
    faulty.ClearFaults();
    auto refused = (*store)->Append("s", ExpectedVersion::Any(), Events(1));
    EXPECT_TRUE(refused.status().IsReadOnly()) << refused.status().ToString();
    EXPECT_NE(refused.status().message().find("injected fault: sync"),
              std::string::npos);
    EXPECT_TRUE((*store)->Sync().IsReadOnly());
    auto async = (*store)->AppendFuture("s", ExpectedVersion::Any(), Events(1));
    EXPECT_TRUE(async.get().status().IsReadOnly());
    EXPECT_EQ(faulty.count(io::FaultOp::kSync), syncs_after_failure);
    EXPECT_EQ(faulty.retried_syncs(), 0u);  // no retry

    // Reads still serve what was acknowledged.
    auto read = (*store)->ReadStream("s", testing::StreamUpTo(100));
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->events.size(), 20u);
    EXPECT_FALSE((*store)->Close().ok());  // reports the sticky error
  }
  // Reopen recovers: every acknowledged event is there; the failed append's
  // outcome was unknown, so it may or may not be.
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto read = (*store)->ReadStream("s", testing::StreamUpTo(100));
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->events.size() == 20u || read->events.size() == 22u);
  for (size_t i = 0; i < read->events.size(); ++i) {
    EXPECT_EQ(read->events[i].revision, StreamRevision(i));
  }
  EXPECT_TRUE((*store)->Append("s", ExpectedVersion::Any(), Events(1)).ok());
}

TEST(FailStopTest, NoSpaceAtSegmentRollIsNotFatal) {
  testing::TempDir dir;
  io::FaultInjectionFileSystem faulty(io::PosixFileSystem(), 1);
  Options options = testing::SmallOptions();
  options.compression_threshold = 0;  // the events must fill segments
  auto store = engine::StoreImpl::Open(&faulty, dir.Sub("s"), options);
  ASSERT_TRUE(store.ok());
  std::string big(10000, 'b');
  faulty.AddRule(
      io::FaultRule::Always(io::FaultOp::kAllocate, io::FaultError::kNoSpace));
  Status first_failure;
  int appended = 0;
  for (int i = 0; i < 100 && first_failure.ok(); ++i) {
    auto r = (*store)->Append("s", ExpectedVersion::Any(), {Event("B", big)});
    if (r.ok()) {
      ++appended;
    } else {
      first_failure = r.status();
    }
  }
  ASSERT_TRUE(first_failure.IsNoSpace()) << first_failure.ToString();
  auto before = (*store)->GetStats();
  ASSERT_TRUE(before.ok());
  faulty.ClearFaults();
  auto r = (*store)->Append("s", ExpectedVersion::Any(), {Event("B", big)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_revision, StreamRevision(appended));
  auto stats = (*store)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->segments, before->segments + 1);
  EXPECT_EQ(stats->events, static_cast<uint64_t>(appended) + 1);
}

// Issue 9, item 13: after a failed fdatasync, Linux keeps the pages it
// could not write in the cache, marked clean. A reopen in the same boot
// read them and listed the failed append as if it were durable (its
// "successful" sync at open wrote nothing), then lost it at the next power
// loss, with later appends built on it. The reopen must read what is on
// the device.
TEST(FailStopTest, ReopenAfterAFailedSyncReadsOnlyWhatIsDurable) {
  io::MemoryFileSystem memory;
  io::FaultInjectionFileSystem fs(&memory, 1);
  const Options options = testing::SmallOptions();
  {
    auto store = engine::StoreImpl::Open(&fs, "/s", options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Append("s", ExpectedVersion::Any(), Events(2)).ok());
    io::FaultRule rule;
    rule.op = io::FaultOp::kSync;
    rule.path_suffix = ".seg";
    fs.AddRule(rule);
    auto failed = (*store)->Append("s", ExpectedVersion::Any(),
                                   {Event("Failed", "{\"sync\":\"failed\"}")});
    ASSERT_TRUE(failed.status().IsIOError()) << failed.status().ToString();
    EXPECT_FALSE((*store)->Close().ok());
  }
  fs.ClearFaults();
  auto expect_only_durable = [](Store* store, uint64_t events) {
    auto read = store->ReadStream("s", testing::StreamUpTo(100));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->events.size(), events);
    for (const auto& e : read->events) EXPECT_NE(e.type, "Failed");
  };
  // Same boot: a reader with no writer about, then the writer.
  {
    Options ro = options;
    ro.read_only = true;
    auto reader = engine::StoreImpl::Open(&fs, "/s", ro);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    expect_only_durable(reader->get(), 2);
  }
  {
    auto store = engine::StoreImpl::Open(&fs, "/s", options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    expect_only_durable(store->get(), 2);
    auto r = (*store)->Append("s", ExpectedVersion::Exact(1), Events(1));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    CAIRN_ASSERT_OK((*store)->Close());
  }
  // What the reopen read and built on was durable: a power loss keeps it.
  fs.Crash();
  fs.PowerOn();
  auto store = engine::StoreImpl::Open(&fs, "/s", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  expect_only_durable(store->get(), 3);
}

// kInterval: the timed sync fails. The store fails; the commit thread
// then waits for work instead of scheduling the sync again and again (a
// failed store syncs nothing more, so the bytes stay unsynced for good).
TEST(FailStopTest, AFailedIntervalSyncLeavesTheCommitThreadIdle) {
  testing::TempDir dir;
  io::FaultInjectionFileSystem faulty(io::PosixFileSystem(), 1);
  Options options = testing::SmallOptions();
  options.durability = Durability::kInterval;
  options.sync_interval = std::chrono::milliseconds(1);
  auto store = engine::StoreImpl::Open(&faulty, dir.Sub("s"), options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto* impl = static_cast<engine::StoreImpl*>(store->get());
  faulty.AddRule(io::FaultRule::Always(io::FaultOp::kSync));
  // Acknowledged before its sync, which then fails.
  ASSERT_TRUE((*store)->Append("s", ExpectedVersion::Any(), Events(1)).ok());
  impl->WaitCommitThreadIdleForTest();
  auto refused = (*store)->Append("s", ExpectedVersion::Any(), Events(1));
  EXPECT_TRUE(refused.status().IsReadOnly()) << refused.status().ToString();
  EXPECT_FALSE((*store)->Close().ok());
}

}  // namespace
}  // namespace cairn
