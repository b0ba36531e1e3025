// Copyright (c) Cairn authors.
//
// Failing I/O, one operation at a time (SQLite's "fail the N-th operation"
// sweeps): for N = 1, 2, 3, ... the N-th fsync, write, preallocation or
// directory fsync of a workload fails, and the store must
//  - report it (IOError / NoSpace) for the appends it concerns;
//  - after a failed fsync or write (EIO): refuse every later write with
//    ReadOnly carrying the original error, and never call fsync again on a
//    file whose fsync failed (fsyncgate), nor on a directory whose fsync
//    failed;
//  - after ENOSPC: stay writable, and write again once space is freed;
//  - in every case, after a power loss and a reopen, pass the oracle:
//    nothing acknowledged lost, the failed appends whole or absent.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/reliability/oracle.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::reliability {
namespace {

using io::FaultError;
using io::FaultInjectionFileSystem;
using io::FaultOp;
using io::FaultRule;

// Faults that appends need not report: in a spare segment (prepared ahead,
// holds no data) or in the index directory (derived data, written in the
// background; see docs/durability.md).
bool NotOnTheAppendPath(const std::string& fault) {
  return fault.find(".spare ") != std::string::npos ||
         fault.find("/store/index") != std::string::npos;
}

Options TestOptions() {
  Options o;
  o.segment_size = 64 * 1024;    // rolls every ~25 appends below
  o.index_memtable_events = 64;  // index tables written and merged too
  o.compression_threshold = 0;
  return o;
}

// Appends of 1 to 3 events of ~800 bytes to a few streams, remembering
// every attempt and its outcome for the oracle.
class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}

  // `small`: one event of 10 bytes, which fits where others would not.
  Result<AppendResult> AppendOne(Store* store, bool small = false) {
    Attempt a;
    a.stream = "s-" + std::to_string(rng_() % 3);
    std::vector<EventData> events;
    const int n = small ? 1 : 1 + static_cast<int>(rng_() % 3);
    for (int k = 0; k < n; ++k) {
      EventData e;
      e.id = EventId::Generate();
      e.type = "E";
      e.data = std::string(small ? 10 : 500 + rng_() % 600,
                           static_cast<char>('a' + k));
      e.content_type = ContentType::kBinary;
      a.ids.push_back(e.id);
      a.data.push_back(e.data);
      events.push_back(std::move(e));
    }
    auto r = store->Append(a.stream, ExpectedVersion::Any(), events);
    if (r.ok()) {
      a.state = Attempt::State::kAcked;
      a.first_position = r->first_position.value();
      a.first_revision = r->first_revision.value();
    }
    attempts_.push_back(std::move(a));
    return r;
  }

  const std::vector<Attempt>& attempts() const { return attempts_; }

 private:
  std::mt19937_64 rng_;
  std::vector<Attempt> attempts_;
};

constexpr int kAppends = 80;

// How many operations of kind `op` a clean run of the workload performs
// (open, kAppends appends, close).
uint64_t CountCleanRun(FaultOp op) {
  io::MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 1);
  auto store = engine::StoreImpl::Open(&fs, "/store", TestOptions());
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return 0;
  Workload w(1);
  for (int i = 0; i < kAppends; ++i) {
    EXPECT_TRUE(w.AppendOne(store->get()).ok());
  }
  EXPECT_TRUE((*store)->Close().ok());
  return fs.count(op);
}

// Power loss, reboot, reopen: the oracle must hold and the store must take
// appends again.
void ExpectRecovers(FaultInjectionFileSystem* fs, const Workload& w,
                    const std::string& where) {
  fs->ClearFaults();
  fs->Crash();
  fs->PowerOn();
  auto store = engine::StoreImpl::Open(fs, "/store", TestOptions());
  ASSERT_TRUE(store.ok()) << where << ": " << store.status().ToString();
  OracleReport report = CheckOracle(store->get(), w.attempts());
  EXPECT_TRUE(report.ok()) << where << ":\n" << report.error;
  Workload more(99);
  EXPECT_TRUE(more.AppendOne(store->get()).ok()) << where;
}

std::vector<EventId> LogIds(Store* store) {
  std::vector<EventId> ids;
  auto visited = store->VisitAll(testing::AllUpTo(UINT64_MAX),
                                 [&](const RecordedEventView& e) {
                                   ids.push_back(e.id);
                                   return true;
                                 });
  EXPECT_TRUE(visited.ok()) << visited.status().ToString();
  return ids;
}

// A reopen in the same boot (no power loss), after a failed fsync: the
// failed writes are still in the page cache (clean: Linux never writes
// them), and must not come back as events. Everything it reads is
// durable: a power loss then keeps exactly that.
void ExpectSameBootReopenReadsOnlyDurable(FaultInjectionFileSystem* fs,
                                          const Workload& w,
                                          const std::string& where) {
  fs->ClearFaults();
  std::vector<EventId> read;
  {
    auto store = engine::StoreImpl::Open(fs, "/store", TestOptions());
    ASSERT_TRUE(store.ok()) << where << ": " << store.status().ToString();
    OracleReport report = CheckOracle(store->get(), w.attempts());
    EXPECT_TRUE(report.ok()) << where << ":\n" << report.error;
    read = LogIds(store->get());
    CAIRN_ASSERT_OK((*store)->Close());
  }
  fs->Crash();
  fs->PowerOn();
  auto store = engine::StoreImpl::Open(fs, "/store", TestOptions());
  ASSERT_TRUE(store.ok()) << where << ": " << store.status().ToString();
  EXPECT_EQ(LogIds(store->get()), read)
      << where << ": the same-boot reopen read events a power loss took away";
}

TEST(FailStopTest, EveryFailedFsyncMakesTheStoreReadOnlyAndIsNeverRetried) {
  const uint64_t syncs = CountCleanRun(FaultOp::kSync);
  ASSERT_GT(syncs, uint64_t{kAppends});
  int read_only = 0;
  for (uint64_t n = 1; n <= syncs; ++n) {
    const std::string where = "fsync #" + std::to_string(n);
    io::MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, n);
    FaultRule rule;
    rule.op = FaultOp::kSync;
    rule.nth = n;
    fs.AddRule(rule);
    Workload w(n);
    auto store = engine::StoreImpl::Open(&fs, "/store", TestOptions());
    if (!store.ok()) {
      // The failure hit the open itself: it must say so, and a later open
      // must work.
      EXPECT_TRUE(store.status().IsIOError()) << where;
      ExpectRecovers(&fs, w, where);
      continue;
    }
    Status failure;
    for (int i = 0; i < kAppends && failure.ok(); ++i) {
      auto r = w.AppendOne(store->get());
      if (!r.ok()) failure = r.status();
    }
    // Spare segments are prepared (zero-filled, synced) ahead of time and
    // hold no data: a failed fsync of one only costs the spare. Index
    // files are derived data written in the background: a failed fsync
    // costs that file (the index writes a new one later, and an open
    // rebuilds whatever a crash leaves missing).
    // The count first, then the fault: both are set together, and the
    // index's background writes may inject the fault between two reads.
    const uint64_t injected = fs.faults_injected();
    const bool spare = NotOnTheAppendPath(fs.last_fault());
    if (failure.ok() && injected == 0) {
      // The background preparation of spares did less I/O in this run
      // than in the counted one: there was no N-th fsync before Close. It
      // may be Close's own, of its durable-end mark: Close reports it.
      Status closed = (*store)->Close();
      EXPECT_TRUE(closed.ok() ||
                  (closed.IsIOError() && fs.faults_injected() == 1 &&
                   fs.last_fault().find(".seg ") != std::string::npos))
          << where << ": " << closed.ToString();
    } else if (failure.ok()) {
      EXPECT_TRUE(spare) << where << ": a failed fsync went unreported: "
                         << fs.last_fault();
      EXPECT_TRUE((*store)->Close().ok()) << where;
    } else {
      EXPECT_TRUE(failure.IsIOError()) << where << ": " << failure.ToString();
      auto next = w.AppendOne(store->get());
      if (next.status().IsReadOnly()) {
        ++read_only;
        EXPECT_NE(next.status().ToString().find("injected"), std::string::npos)
            << where << ": " << next.status().ToString();
        EXPECT_TRUE((*store)->Sync().IsReadOnly()) << where;
        // Reads still serve what was acknowledged.
        auto read = (*store)->ReadAll(testing::AllUpTo(1 << 20));
        EXPECT_TRUE(read.ok()) << where;
      } else {
        // Only the fsync of a segment being made from a spare (a new
        // file, removed again on failure) may leave the store writable.
        EXPECT_TRUE(spare) << where << ": " << failure.ToString();
        EXPECT_TRUE(next.ok()) << where << ": " << next.status().ToString();
      }
      (void)(*store)->Close();
    }
    store->reset();
    EXPECT_EQ(fs.retried_syncs(), 0u) << where << ": an fsync was retried";
    ExpectSameBootReopenReadsOnlyDurable(&fs, w, where);
    ExpectRecovers(&fs, w, where);
  }
  EXPECT_GT(read_only, kAppends / 2);
}

TEST(FailStopTest, EveryFailedDirectoryFsyncIsReported) {
  const uint64_t syncs = CountCleanRun(FaultOp::kSyncDir);
  ASSERT_GT(syncs, 2u);
  for (uint64_t n = 1; n <= syncs; ++n) {
    const std::string where = "directory fsync #" + std::to_string(n);
    io::MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, n);
    FaultRule rule;
    rule.op = FaultOp::kSyncDir;
    rule.nth = n;
    fs.AddRule(rule);
    Workload w(n);
    auto store = engine::StoreImpl::Open(&fs, "/store", TestOptions());
    if (store.ok()) {
      Status failure;
      for (int i = 0; i < kAppends && failure.ok(); ++i) {
        auto r = w.AppendOne(store->get());
        if (!r.ok()) failure = r.status();
      }
      EXPECT_TRUE(failure.IsIOError() || fs.faults_injected() == 0 ||
                  NotOnTheAppendPath(fs.last_fault()))
          << where << ": " << failure.ToString();
      if (failure.IsIOError()) {
        // Fail-stop: the writer syncs nothing more until reopened.
        EXPECT_TRUE((*store)->Sync().IsReadOnly()) << where;
      }
      (void)(*store)->Close();
      store->reset();
    } else {
      EXPECT_TRUE(store.status().IsIOError()) << where;
    }
    // The store directory's (segments): never synced again by the writer
    // after a failure. The index directories may be: their files are
    // derived, rewritten under new names, and checked at open
    // (durability.md, "Index files are not on the append path").
    EXPECT_EQ(fs.retried_dir_syncs("/store"), 0u)
        << where << ": a failed directory fsync was retried";
    ExpectRecovers(&fs, w, where);
  }
}

TEST(FailStopTest, EveryFailedWriteMakesTheStoreReadOnly) {
  const uint64_t writes = CountCleanRun(FaultOp::kWrite);
  for (uint64_t n = 1; n <= writes; ++n) {
    for (bool power_loss : {false, true}) {
      const std::string where = "write #" + std::to_string(n) +
                                (power_loss ? " + power loss" : " + restart");
      io::MemoryFileSystem memory;
      FaultInjectionFileSystem fs(&memory, n);
      FaultRule rule;
      rule.op = FaultOp::kWrite;
      rule.nth = n;
      rule.partial_write = true;  // a random prefix lands first
      fs.AddRule(rule);
      Workload w(n);
      auto store = engine::StoreImpl::Open(&fs, "/store", TestOptions());
      if (store.ok()) {
        Status failure;
        for (int i = 0; i < kAppends && failure.ok(); ++i) {
          auto r = w.AppendOne(store->get());
          if (!r.ok()) failure = r.status();
        }
        // The count first, then the fault (see above).
        const uint64_t injected = fs.faults_injected();
        const bool spare = NotOnTheAppendPath(fs.last_fault());
        if (failure.ok()) {
          // Unreported only if it was a spare's, or if there was no N-th
          // write in this run (spares are prepared in the background).
          EXPECT_TRUE(spare || injected == 0)
              << where
              << ": a failed write went unreported: " << fs.last_fault();
        } else {
          EXPECT_TRUE(failure.IsIOError())
              << where << ": " << failure.ToString();
          auto next = w.AppendOne(store->get());
          if (next.ok()) {
            // Only a write to a spare segment (a new file, removed again
            // on failure) may leave the store writable.
            EXPECT_TRUE(spare) << where << ": " << failure.ToString();
          } else {
            EXPECT_TRUE(next.status().IsReadOnly())
                << where << ": " << next.status().ToString();
          }
        }
        (void)(*store)->Close();
        store->reset();
      }
      if (power_loss) {
        ExpectRecovers(&fs, w, where);
        continue;
      }
      // A process restart: the partial write stays in the page cache.
      fs.ClearFaults();
      auto reopened = engine::StoreImpl::Open(&fs, "/store", TestOptions());
      ASSERT_TRUE(reopened.ok())
          << where << ": " << reopened.status().ToString();
      OracleReport report = CheckOracle(reopened->get(), w.attempts());
      EXPECT_TRUE(report.ok()) << where << ":\n" << report.error;
    }
  }
}

TEST(FailStopTest, NoSpaceIsNotFatalAndHealsWhenSpaceIsFreed) {
  const uint64_t allocations = CountCleanRun(FaultOp::kAllocate);
  ASSERT_GT(allocations, 2u);
  // From the N-th preallocation on, the disk is full; then space is freed.
  for (uint64_t n = 1; n <= allocations; ++n) {
    const std::string where = "ENOSPC from allocation #" + std::to_string(n);
    io::MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, n);
    FaultRule rule;
    rule.op = FaultOp::kAllocate;
    rule.nth = n;
    rule.sticky = true;
    rule.error = FaultError::kNoSpace;
    fs.AddRule(rule);
    Workload w(n);
    auto store = engine::StoreImpl::Open(&fs, "/store", TestOptions());
    if (!store.ok()) {
      // Full while creating the store's first segment: a clear error, and
      // an open once space is freed works.
      EXPECT_TRUE(store.status().IsNoSpace())
          << where << ": " << store.status().ToString();
      ExpectRecovers(&fs, w, where);
      continue;
    }
    Status failure;
    int acked = 0;
    for (int i = 0; i < kAppends && failure.ok(); ++i) {
      auto r = w.AppendOne(store->get());
      if (r.ok()) {
        ++acked;
      } else {
        failure = r.status();
      }
    }
    if (failure.ok()) {
      // Only the preparation of a spare segment ahead of need, or an index
      // file, ran out of space; no append needed it.
      EXPECT_TRUE(fs.faults_injected() == 0 ||
                  NotOnTheAppendPath(fs.last_fault()))
          << where << ": " << fs.last_fault();
      CAIRN_ASSERT_OK((*store)->Close());
      store->reset();
      ExpectRecovers(&fs, w, where);
      continue;
    }
    ASSERT_TRUE(failure.IsNoSpace()) << where << ": " << failure.ToString();
    // Still full: still a clear NoSpace, never ReadOnly. (An append
    // smaller than the one that needed a new segment may still fit the
    // current one: which allocation is the N-th depends on the background
    // threads preparing spares and writing index tables.)
    auto again = w.AppendOne(store->get());
    EXPECT_TRUE(again.ok() || again.status().IsNoSpace())
        << where << ": " << again.status().ToString();
    auto read = (*store)->ReadAll(testing::AllUpTo(1 << 20));
    ASSERT_TRUE(read.ok()) << where;
    fs.ClearFaults();  // space freed
    for (int i = 0; i < 30; ++i) {
      auto r = w.AppendOne(store->get());
      EXPECT_TRUE(r.ok()) << where << ": " << r.status().ToString();
    }
    CAIRN_ASSERT_OK((*store)->Close());
    store->reset();
    ExpectRecovers(&fs, w, where);
  }
}

// Regression: a write that failed with ENOSPC after part of it landed left
// the records of that group in the file; the next group is written at the
// same offset, and if it is shorter, a stale whole record could follow it
// at exactly the next position, be kept by recovery and break the log (a
// revision that does not follow: the store refused to open).
TEST(FailStopTest, PartialNoSpaceWriteLeavesNoStaleRecordBehind) {
  io::MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 7);
  Options options = TestOptions();
  auto opened = engine::StoreImpl::Open(&fs, "/store", options);
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<Store> store = std::move(opened).value();
  std::vector<Attempt> attempts;
  // a, c and d get no ids from the client: appends with client ids to one
  // stream are never grouped (a retry check reads published events).
  auto event = [](char fill, bool with_id = true) {
    EventData e;
    if (with_id) e.id = EventId::Generate();
    e.type = "E";
    e.data = std::string(100, fill);
    e.content_type = ContentType::kBinary;
    return e;
  };
  auto remember = [&](const std::string& stream, const EventData& e,
                      const Result<AppendResult>& r) {
    Attempt a;
    a.stream = stream;
    a.ids = {e.id};
    a.data = {e.data};
    if (r.ok()) {
      a.state = Attempt::State::kAcked;
      a.first_position = r->first_position.value();
      a.first_revision = r->first_revision.value();
    }
    attempts.push_back(a);
  };
  // Every record below is 32 + 48 + 3 (stream) + 1 (type) + 100 bytes.
  const uint64_t record = 32 + 48 + 3 + 1 + 100;

  // Hold the commit thread in the write of a first append, so that the
  // next three queue up behind it and form one group.
  fs.HoldNext(FaultOp::kWrite, ".seg");
  EventData first = event('0');
  auto first_done = store->AppendFuture("s-x", ExpectedVersion::Any(), {first});
  fs.WaitUntilHeld();
  EventData a = event('a', false);
  EventData c = event('c', false);
  EventData d = event('d', false);
  auto a_done = store->AppendFuture("s-x", ExpectedVersion::Any(), {a});
  auto c_done = store->AppendFuture("s-x", ExpectedVersion::Any(), {c});
  auto d_done = store->AppendFuture("s-x", ExpectedVersion::Any(), {d});
  // That group's write fails with ENOSPC after a and c landed whole.
  FaultRule rule;
  rule.op = FaultOp::kWrite;
  rule.nth = 2;
  rule.error = FaultError::kNoSpace;
  rule.partial_write = true;
  rule.partial_bytes = 2 * record + 10;
  rule.path_suffix = ".seg";
  fs.AddRule(rule);
  fs.Release();
  auto first_r = first_done.get();
  ASSERT_TRUE(first_r.ok()) << first_r.status().ToString();
  remember("s-x", first, first_r);
  for (auto* f : {&a_done, &c_done, &d_done}) {
    auto r = f->get();
    EXPECT_TRUE(r.status().IsNoSpace()) << r.status().ToString();
  }
  // Not fatal: the next append, to another stream and as long as a's
  // record, goes where a was; the stale c would follow it exactly.
  EventData b = event('b');
  auto b_r = store->Append("s-y", ExpectedVersion::Any(), {b});
  ASSERT_TRUE(b_r.ok()) << b_r.status().ToString();
  remember("s-y", b, b_r);
  CAIRN_ASSERT_OK(store->Close());
  store.reset();

  auto reopened = engine::StoreImpl::Open(&fs, "/store", options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  OracleReport report = CheckOracle(reopened->get(), attempts);
  EXPECT_TRUE(report.ok()) << report.error;
  EXPECT_EQ(report.log_events, 2u);  // first and b; nothing of a, c, d
}

TEST(FailStopTest, FailedFsyncOnTheRealFileSystem) {
  testing::TempDir dir;
  for (uint64_t n : {3, 10, 25}) {
    const std::string path = dir.Sub("s" + std::to_string(n));
    FaultInjectionFileSystem fs(io::PosixFileSystem(), n);
    FaultRule rule;
    rule.op = FaultOp::kSync;
    rule.nth = n;
    rule.path_suffix = ".seg";
    fs.AddRule(rule);
    Workload w(n);
    {
      auto store = engine::StoreImpl::Open(&fs, path, TestOptions());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      Status failure;
      for (int i = 0; i < kAppends && failure.ok(); ++i) {
        auto r = w.AppendOne(store->get());
        if (!r.ok()) failure = r.status();
      }
      ASSERT_TRUE(failure.IsIOError()) << failure.ToString();
      EXPECT_TRUE(w.AppendOne(store->get()).status().IsReadOnly());
      EXPECT_FALSE((*store)->Close().ok());
    }
    EXPECT_EQ(fs.retried_syncs(), 0u);
    auto store = Store::Open(path, TestOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    OracleReport report = CheckOracle(store->get(), w.attempts());
    EXPECT_TRUE(report.ok()) << report.error;
    EXPECT_TRUE(Workload(5).AppendOne(store->get()).ok());
  }
}

}  // namespace
}  // namespace cairn::reliability

namespace cairn::reliability {
namespace {

// Regression: a spare segment left by a run that lost power while zero-
// filling it was adopted at the next open on its size alone. Its unsynced
// zeros may come back garbled; once the spare became a segment and was
// sealed, garbage after its last record made every later open fail with
// Corruption. The crash here keeps the spare's unsynced zero-fill with one
// flipped bit (and its name), for several seeds (the bit's position
// depends on the seed); the store must open after sealing that segment.
// A roll whose new segment is named (renamed, the directory synced) but
// cannot be opened or mapped: the name is taken back, so the appends that
// go on into the active segment do not end where the new one starts
// (which the next open would call corruption); when the name can not be
// taken back either, the writer stops. Either way the store opens again
// with every acknowledged event.
TEST(FailStopTest, ANewSegmentThatCannotBeMappedIsTakenBack) {
  for (bool removal_fails : {false, true}) {
    const std::string where =
        removal_fails ? "removal fails too" : "removal works";
    io::MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, 1);
    FaultRule map;
    map.op = FaultOp::kMap;
    map.path_suffix = "/000000000001.seg";
    fs.AddRule(map);
    if (removal_fails) {
      FaultRule remove;
      remove.op = FaultOp::kRemove;
      remove.path_suffix = "/000000000001.seg";
      fs.AddRule(remove);
    }
    Workload w(7);
    {
      auto store = engine::StoreImpl::Open(&fs, "/store", TestOptions());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      Status failure;
      for (int i = 0; i < kAppends && failure.ok(); ++i) {
        auto r = w.AppendOne(store->get());
        if (!r.ok()) failure = r.status();
      }
      ASSERT_TRUE(failure.IsIOError()) << where << ": " << failure.ToString();
      // Small: it fits the active segment, where the roll failed.
      auto next = w.AppendOne(store->get(), /*small=*/true);
      if (removal_fails) {
        EXPECT_TRUE(next.status().IsReadOnly())
            << where << ": " << next.status().ToString();
      } else {
        EXPECT_TRUE(next.ok()) << where << ": " << next.status().ToString();
      }
      (void)(*store)->Close();
    }
    fs.ClearFaults();
    auto store = engine::StoreImpl::Open(&fs, "/store", TestOptions());
    ASSERT_TRUE(store.ok()) << where << ": " << store.status().ToString();
    OracleReport report = CheckOracle(store->get(), w.attempts());
    EXPECT_TRUE(report.ok()) << where << ":\n" << report.error;
    // And it rolls on.
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(w.AppendOne(store->get()).ok()) << where;
    }
  }
}

TEST(FailStopTest, GarbledSpareSegmentIsNotAdopted) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const std::string where = "seed " + std::to_string(seed);
    io::MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, seed);
    Options options = TestOptions();
    // Hold the background preparation of the next segment's spare just
    // before its fsync, and cut the power there.
    fs.HoldNext(FaultOp::kSync, "000000000001.seg.spare");
    auto store = engine::StoreImpl::Open(&fs, "/store", options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    fs.WaitUntilHeld();
    io::CrashOptions crash;
    crash.keep_whole = 1;
    crash.keep_torn = 0;
    crash.flip_bit = 1;
    crash.persist_dir = 1;
    fs.set_crash_options(crash);
    const io::CrashReport report = fs.Crash();
    ASSERT_EQ(report.bits_flipped, 1u) << where;
    fs.Release();
    store->reset();
    fs.PowerOn();

    // Reopen, and fill segment 0 and then segment 1 (the spare) with big
    // appends, so that segment 1 is sealed with a long unused tail.
    std::vector<Attempt> attempts;
    {
      auto reopened = engine::StoreImpl::Open(&fs, "/store", options);
      ASSERT_TRUE(reopened.ok())
          << where << ": " << reopened.status().ToString();
      for (int i = 0; i < 7; ++i) {
        Attempt a;
        a.stream = "big";
        EventData e;
        e.id = EventId::Generate();
        e.type = "Big";
        e.data = std::string(25000, static_cast<char>('a' + i));
        e.content_type = ContentType::kBinary;
        a.ids = {e.id};
        a.data = {e.data};
        auto r = (*reopened)->Append("big", ExpectedVersion::Any(), {e});
        ASSERT_TRUE(r.ok()) << where << ": " << r.status().ToString();
        a.state = Attempt::State::kAcked;
        a.first_position = r->first_position.value();
        a.first_revision = r->first_revision.value();
        attempts.push_back(a);
      }
      auto stats = (*reopened)->GetStats();
      ASSERT_TRUE(stats.ok());
      ASSERT_GE(stats->segments, 3u) << where;
      CAIRN_ASSERT_OK((*reopened)->Close());
    }
    auto again = engine::StoreImpl::Open(&fs, "/store", options);
    ASSERT_TRUE(again.ok()) << where << ": " << again.status().ToString();
    OracleReport oracle = CheckOracle(again->get(), attempts);
    EXPECT_TRUE(oracle.ok()) << where << ":\n" << oracle.error;
  }
}

}  // namespace
}  // namespace cairn::reliability
