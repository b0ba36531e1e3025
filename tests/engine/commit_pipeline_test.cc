// Copyright (c) Cairn authors.
//
// The commit pipeline (commit_pipeline.h).
// - Caller-thread commit: a synchronous append that finds the store idle
//   writes and syncs its group on its own thread; one that finds a group
//   being committed queues for the commit thread. The commit state is never
//   held by two threads at once, and Close waits for a caller that holds
//   it.
// - The sync stage: while appends wait, the commit thread hands written
//   groups to the sync thread and sequences the next ones against them
//   before they are published; readers never see them before their sync.
//   The acknowledgement thread completes published groups while the sync
//   thread syncs and publishes the next ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "segment/durable_mark.h"
#include "testing/file_system_wrapper.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"

namespace cairn {
namespace {

using testing::Events;

bool IsSegment(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".seg") == 0;
}

// Records which threads write and sync segment files, and holds segment
// Syncs at a gate: each Hold() makes one later Sync wait until its
// Release() (in the order they were held).
class ThreadTracker {
 public:
  void Note(bool sync) {
    std::lock_guard<std::mutex> lock(mu_);
    (sync ? sync_threads_ : write_threads_)
        .push_back(std::this_thread::get_id());
    order_.push_back(sync ? 's' : 'w');
    cv_.notify_all();
  }
  size_t WriteCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return write_threads_.size();
  }
  void WaitWrites(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return write_threads_.size() >= n; });
  }
  // WaitWrites, but false if that takes a minute, which only a pipeline
  // that can not get there (waiting for a held Sync) does.
  bool WaitWritesOrStuck(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::minutes(1),
                        [&] { return write_threads_.size() >= n; });
  }
  // Waits until a Sync began after the n-th Write; false if that takes a
  // minute, which only a pipeline that can not get there (a deadlock)
  // does.
  bool WaitSyncAfterWrite(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::minutes(1), [&] {
      size_t writes = 0;
      for (char c : order_) {
        if (c == 'w') ++writes;
        if (c == 's' && writes >= n) return true;
      }
      return false;
    });
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    ++armed_;
  }
  // Returns whether the Sync is to fail (ReleaseFailing).
  bool MaybeWait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (armed_ == 0) return false;
    --armed_;
    const int ticket = ++held_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_ >= ticket; });
    return failing_.contains(ticket);
  }
  // Waits until `n` Syncs in all have been held.
  void WaitHeld(int n = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return held_ >= n; });
  }
  // Lets the oldest held Sync go on.
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    ++released_;
    cv_.notify_all();
  }
  // Lets the oldest held Sync go on and fail with EIO.
  void ReleaseFailing() {
    std::lock_guard<std::mutex> lock(mu_);
    failing_.insert(++released_);
    cv_.notify_all();
  }
  std::vector<std::thread::id> writes() {
    std::lock_guard<std::mutex> lock(mu_);
    return write_threads_;
  }
  std::vector<std::thread::id> syncs() {
    std::lock_guard<std::mutex> lock(mu_);
    return sync_threads_;
  }
  // A durable-end mark was written (32 bytes into a mark slot).
  void NoteMark(const void* data) {
    std::lock_guard<std::mutex> lock(mu_);
    Mark mark;
    mark.thread = std::this_thread::get_id();
    std::memcpy(mark.bytes.data(), data, mark.bytes.size());
    marks_.push_back(mark);
  }
  // A Sync of a segment begins or ends; counts Syncs that began while
  // another was still running.
  void SyncBegins() {
    std::lock_guard<std::mutex> lock(mu_);
    if (syncs_running_++ > 0) ++overlapping_syncs_;
  }
  void SyncEnds() {
    std::lock_guard<std::mutex> lock(mu_);
    --syncs_running_;
  }
  struct Mark {
    std::thread::id thread;
    std::array<uint8_t, segment::kDurableMarkSize> bytes{};
    // The fields of docs/format.md, "Durable-end marks" (little-endian).
    uint32_t end_offset() const { return Field<uint32_t>(8); }
    uint64_t next_position() const { return Field<uint64_t>(16); }
    template <typename T>
    T Field(size_t at) const {
      T value;
      std::memcpy(&value, bytes.data() + at, sizeof(value));
      return value;
    }
  };
  std::vector<Mark> marks() {
    std::lock_guard<std::mutex> lock(mu_);
    return marks_;
  }
  // Offset and size of every write that was not a mark, in order.
  std::vector<std::pair<uint64_t, size_t>> record_writes() {
    std::lock_guard<std::mutex> lock(mu_);
    return record_writes_;
  }
  void NoteRecordWrite(uint64_t offset, size_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    record_writes_.emplace_back(offset, size);
  }
  int overlapping_syncs() {
    std::lock_guard<std::mutex> lock(mu_);
    return overlapping_syncs_;
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    write_threads_.clear();
    sync_threads_.clear();
    order_.clear();
    marks_.clear();
    record_writes_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int armed_ = 0;
  int held_ = 0;
  int released_ = 0;
  std::set<int> failing_;
  std::vector<std::thread::id> write_threads_;
  std::vector<std::thread::id> sync_threads_;
  std::string order_;  // 'w' and 's', in the order they began
  std::vector<Mark> marks_;
  std::vector<std::pair<uint64_t, size_t>> record_writes_;
  int syncs_running_ = 0;
  int overlapping_syncs_ = 0;
};

class TrackedFile : public io::FileWrapper {
 public:
  TrackedFile(std::unique_ptr<io::File> target, ThreadTracker* tracker)
      : FileWrapper(std::move(target)), tracker_(tracker) {}
  Status Write(uint64_t offset, const void* data, size_t size) override {
    tracker_->Note(/*sync=*/false);
    const bool mark = size == segment::kDurableMarkSize &&
                      std::find(segment::kDurableMarkOffsets.begin(),
                                segment::kDurableMarkOffsets.end(),
                                offset) != segment::kDurableMarkOffsets.end();
    if (mark) {
      tracker_->NoteMark(data);
    } else {
      tracker_->NoteRecordWrite(offset, size);
    }
    return FileWrapper::Write(offset, data, size);
  }
  Status Sync() override {
    tracker_->Note(/*sync=*/true);
    tracker_->SyncBegins();
    Status s = tracker_->MaybeWait()
                   ? Status::IOError("injected fdatasync failure", EIO)
                   : FileWrapper::Sync();
    tracker_->SyncEnds();
    return s;
  }

 private:
  ThreadTracker* tracker_;
};

class TrackingFileSystem : public io::FileSystemWrapper {
 public:
  TrackingFileSystem(io::FileSystem* target, ThreadTracker* tracker)
      : FileSystemWrapper(target), tracker_(tracker) {}
  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override {
    auto file = FileSystemWrapper::OpenFile(path, mode);
    if (!file.ok() || !IsSegment(path)) return file;
    return std::unique_ptr<io::File>(
        std::make_unique<TrackedFile>(std::move(file.value()), tracker_));
  }

 private:
  ThreadTracker* tracker_;
};

class CommitPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options = testing::SmallOptions();
    // One append per group whenever more are queued, so that queued
    // appends make the commit thread hand groups to the sync thread.
    options.max_group_bytes = 1;
    auto store = engine::StoreImpl::Open(&fs_, "/s", options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    tracker_.Reset();
  }

  // A caller's append to `stream` that commits on its own thread and is
  // held in its sync (it holds the commit state meanwhile); its result
  // once released.
  std::future<Result<AppendResult>> HeldLeader(const std::string& stream,
                                               ExpectedVersion expected) {
    tracker_.Hold();
    auto leader = std::async(std::launch::async, [this, stream, expected] {
      return store_->Append(stream, expected, Events(1));
    });
    tracker_.WaitHeld();
    return leader;
  }

  io::MemoryFileSystem memory_;
  ThreadTracker tracker_;
  TrackingFileSystem fs_{&memory_, &tracker_};
  std::unique_ptr<Store> store_;
};

TEST_F(CommitPipelineTest, IdleAppendWritesAndSyncsOnTheCallingThread) {
  for (int i = 0; i < 3; ++i) {
    auto r = store_->Append("a", ExpectedVersion::Any(), Events(2));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_position.value(), 2u * i);
  }
  const auto me = std::this_thread::get_id();
  ASSERT_FALSE(tracker_.writes().empty());
  ASSERT_FALSE(tracker_.syncs().empty());
  for (auto id : tracker_.writes()) EXPECT_EQ(id, me);
  for (auto id : tracker_.syncs()) EXPECT_EQ(id, me);
  // Acknowledged means durable and readable.
  auto read = store_->ReadStream("a", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 6u);
}

TEST_F(CommitPipelineTest, AppendsArrivingMeanwhileGoThroughTheCommitThread) {
  tracker_.Hold();
  const auto leader_id = std::make_shared<std::thread::id>();
  auto leader = std::async(std::launch::async, [&] {
    *leader_id = std::this_thread::get_id();
    return store_->Append("a", ExpectedVersion::NoStream(), Events(1));
  });
  tracker_.WaitHeld();  // the leader holds the commit state, in its sync
  // Queued while the state is held: the commit thread takes it after.
  std::promise<std::pair<Result<AppendResult>, std::thread::id>> queued;
  store_->AppendAsync(
      "b", ExpectedVersion::NoStream(), Events(2), [&](Result<AppendResult> r) {
        queued.set_value({std::move(r), std::this_thread::get_id()});
      });
  tracker_.Release();
  auto led = leader.get();
  ASSERT_TRUE(led.ok()) << led.status().ToString();
  EXPECT_EQ(led->first_position.value(), 0u);
  auto [result, thread] = queued.get_future().get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->first_position.value(), 1u);
  EXPECT_NE(thread, *leader_id);
  EXPECT_NE(thread, std::this_thread::get_id());
  // Each group was synced by the thread that wrote it.
  const auto writes = tracker_.writes();
  const auto syncs = tracker_.syncs();
  ASSERT_GE(writes.size(), 2u);
  EXPECT_EQ(writes.front(), *leader_id);
  EXPECT_EQ(syncs.front(), *leader_id);
  EXPECT_EQ(writes.back(), thread);
  auto all = store_->ReadAll(testing::AllUpTo(10));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->events.size(), 3u);
}

TEST_F(CommitPipelineTest, SynchronousAppendsRaceWithoutLosingOrder) {
  constexpr int kThreads = 4;
  constexpr int kAppends = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Appended, not concatenated: g++ 12's false -Wrestrict and
      // -Wstringop-overflow (GCC bug 105651).
      std::string stream = "s";
      stream += std::to_string(t);
      for (int i = 0; i < kAppends; ++i) {
        auto r = store_->Append(stream,
                                i == 0 ? ExpectedVersion::NoStream()
                                       : ExpectedVersion::Exact(i - 1),
                                Events(1));
        if (!r.ok() || r->first_revision.value() != static_cast<uint64_t>(i)) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = store_->ReadAll(testing::AllUpTo(kThreads * kAppends + 1));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->events.size(), static_cast<size_t>(kThreads * kAppends));
  for (size_t i = 0; i < all->events.size(); ++i) {
    EXPECT_EQ(all->events[i].position.value(), i);
  }
}

TEST_F(CommitPipelineTest, CloseWaitsForTheCallerHoldingTheCommitState) {
  auto leader = HeldLeader("a", ExpectedVersion::Any());
  auto closer = std::async(std::launch::async, [&] { return store_->Close(); });
  tracker_.Release();
  auto led = leader.get();
  // The append that held the state completes (it was written and synced).
  ASSERT_TRUE(led.ok()) << led.status().ToString();
  Status closed = closer.get();
  ASSERT_TRUE(closed.ok()) << closed.ToString();
  EXPECT_TRUE(store_->Append("a", ExpectedVersion::Any(), Events(1))
                  .status()
                  .IsClosed());
  store_.reset();
  auto reopened =
      engine::StoreImpl::Open(&memory_, "/s", testing::SmallOptions());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto read = (*reopened)->ReadStream("a", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 1u);
}

// An AppendAsync whose outcome a test collects.
struct Outcome {
  std::promise<Result<AppendResult>> promise;
  std::future<Result<AppendResult>> future = promise.get_future();
  AppendCallback callback() {
    return [this](Result<AppendResult> r) { promise.set_value(std::move(r)); };
  }
};

TEST_F(CommitPipelineTest, QueuedAppendsSequenceAgainstGroupsStillSyncing) {
  // A caller's append holds the commit state in its sync while three
  // appends to the same stream queue, each expecting the one before.
  auto leader = HeldLeader("a", ExpectedVersion::NoStream());
  Outcome queued[3];
  for (int i = 0; i < 3; ++i) {
    store_->AppendAsync("a", ExpectedVersion::Exact(i), Events(1),
                        queued[i].callback());
  }
  // The first queued group is handed to the sync thread (more wait behind
  // it), which is held in its sync; the others are sequenced meanwhile.
  tracker_.Hold();
  tracker_.Release();
  ASSERT_TRUE(leader.get().ok());
  tracker_.WaitHeld(2);
  // Nothing of a group waiting for its sync is visible.
  auto read = store_->ReadStream("a", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 1u);
  auto all = store_->ReadAll(testing::AllUpTo(10));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->events.size(), 1u);
  auto revision = store_->GetStreamRevision("a");
  ASSERT_TRUE(revision.ok()) << revision.status().ToString();
  ASSERT_TRUE(revision->has_value());
  EXPECT_EQ(revision->value().value(), 0u);
  tracker_.Release();
  for (int i = 0; i < 3; ++i) {
    auto r = queued[i].future.get();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(r->first_revision.value(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(r->first_position.value(), static_cast<uint64_t>(i + 1));
  }
  read = store_->ReadStream("a", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 4u);
  // A thread that wrote no segment bytes synced: the sync thread.
  const auto writes = tracker_.writes();
  bool sync_stage = false;
  for (auto id : tracker_.syncs()) {
    sync_stage |= std::find(writes.begin(), writes.end(), id) == writes.end();
  }
  EXPECT_TRUE(sync_stage);
}

TEST_F(CommitPipelineTest, RetryOfAnAppendStillSyncingGetsTheOriginalResult) {
  auto leader = HeldLeader("x", ExpectedVersion::Any());
  std::vector<EventData> events = Events(2);
  for (auto& e : events) e.id = EventId::Generate();
  Outcome original;
  Outcome other;
  store_->AppendAsync("r", ExpectedVersion::Any(), events, original.callback());
  store_->AppendAsync("x", ExpectedVersion::Any(), Events(1), other.callback());
  tracker_.Hold();
  tracker_.Release();
  ASSERT_TRUE(leader.get().ok());
  tracker_.WaitHeld(2);  // the original's group waits for its sync
  Outcome retry;
  store_->AppendAsync("r", ExpectedVersion::Any(), events, retry.callback());
  tracker_.Release();
  auto first = original.future.get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(other.future.get().ok());
  auto again = retry.future.get();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->idempotent_replay);
  EXPECT_EQ(again->first_position, first->first_position);
  EXPECT_EQ(again->last_revision, first->last_revision);
  auto read = store_->ReadStream("r", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 2u);
}

TEST_F(CommitPipelineTest, AppendsWithFreshIdsToOneStreamDoNotWaitForSyncs) {
  // Appends carrying client ids to one stream: a retry check reads the
  // stream's published events, but appends whose ids no unpublished group
  // holds are sequenced against the unpublished ones like any others, not
  // after a sync each.
  auto leader = HeldLeader("x", ExpectedVersion::Any());
  constexpr int kAppends = 4;  // the sync stage takes 4 groups in flight
  Outcome queued[kAppends];
  for (auto& outcome : queued) {
    std::vector<EventData> events = Events(1);
    events[0].id = EventId::Generate();
    store_->AppendAsync("s", ExpectedVersion::Any(), std::move(events),
                        outcome.callback());
  }
  // The first group of "s" waits in its sync; the others are written
  // meanwhile, one group each (max_group_bytes = 1).
  tracker_.Hold();
  tracker_.Release();
  ASSERT_TRUE(leader.get().ok());
  EXPECT_TRUE(tracker_.WaitWritesOrStuck(1 + kAppends));
  tracker_.Release();
  for (int i = 0; i < kAppends; ++i) {
    auto r = queued[i].future.get();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_FALSE(r->idempotent_replay);
    EXPECT_EQ(r->first_revision.value(), static_cast<uint64_t>(i));
  }
  auto read = store_->ReadStream("s", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), static_cast<size_t>(kAppends));
}

TEST_F(CommitPipelineTest, RetryBehindUnpublishedAppendsCountsThemInTheWindow) {
  // idempotency_window 3: a retry is recognised while its first event is
  // among the stream's last three events, published or not.
  store_.reset();
  Options options = testing::SmallOptions();
  options.max_group_bytes = 1;
  options.idempotency_window = 3;
  auto reopened = engine::StoreImpl::Open(&fs_, "/w", options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened.value());
  std::vector<EventData> original = Events(1);
  original[0].id = EventId::Generate();
  auto first = store_->Append("s", ExpectedVersion::Any(), original);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  for (int others : {2, 3}) {
    // `others` appends with fresh ids wait unpublished (their first sync
    // is held) while the retry is sequenced behind them.
    tracker_.Hold();
    std::vector<std::unique_ptr<Outcome>> pending;
    for (int i = 0; i < others; ++i) {
      pending.push_back(std::make_unique<Outcome>());
      std::vector<EventData> events = Events(1);
      events[0].id = EventId::Generate();
      store_->AppendAsync("s", ExpectedVersion::Any(), std::move(events),
                          pending.back()->callback());
    }
    Outcome retry;
    store_->AppendAsync("s", ExpectedVersion::Any(), original,
                        retry.callback());
    tracker_.WaitHeld(others == 2 ? 1 : 2);
    tracker_.Release();
    for (auto& p : pending) ASSERT_TRUE(p->future.get().ok());
    auto again = retry.future.get();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    if (others == 2) {
      // The original is the third event from the end: the original result.
      EXPECT_TRUE(again->idempotent_replay);
      EXPECT_EQ(again->first_position, first->first_position);
    } else {
      // It is the fourth (or further back): appended as new.
      EXPECT_FALSE(again->idempotent_replay);
    }
  }
}

TEST_F(CommitPipelineTest, NextGroupsAreSyncedWhileAnAcknowledgementRuns) {
  // A caller's append holds the commit state in its sync while "b" and
  // "d" queue; each is handed to the sync thread, which is held in the
  // sync of "b" until both are written.
  auto leader = HeldLeader("a", ExpectedVersion::Any());
  Outcome inner;
  std::promise<bool> synced_meanwhile;
  std::promise<bool> readable_before_acknowledged;
  std::promise<Result<AppendResult>> first;
  Outcome second;
  // The callback of "b" (on the acknowledgement thread) appends "c" and
  // waits until the sync thread has begun a sync after writing it.
  store_->AppendAsync(
      "b", ExpectedVersion::Any(), Events(1), [&](Result<AppendResult> r) {
        const size_t writes = tracker_.WriteCount();
        store_->AppendAsync("c", ExpectedVersion::Any(), Events(1),
                            inner.callback());
        synced_meanwhile.set_value(tracker_.WaitSyncAfterWrite(writes + 1));
        // Published (readable) as soon as it is synced, and acknowledged
        // only after "b".
        auto* impl = static_cast<engine::StoreImpl*>(store_.get());
        for (;;) {
          const uint32_t seen = impl->ChangeSequence();
          if (store_->ReadStream("c", testing::StreamUpTo(10)).ok()) break;
          impl->WaitForChange(seen, std::chrono::milliseconds(200));
        }
        readable_before_acknowledged.set_value(
            inner.future.wait_for(std::chrono::seconds(0)) ==
            std::future_status::timeout);
        first.set_value(std::move(r));
      });
  store_->AppendAsync("d", ExpectedVersion::Any(), Events(1),
                      second.callback());
  tracker_.Hold();
  tracker_.Release();
  ASSERT_TRUE(leader.get().ok());
  tracker_.WaitHeld(2);
  tracker_.WaitWrites(3);  // "a", "b" and "d"
  tracker_.Release();
  EXPECT_TRUE(synced_meanwhile.get_future().get());
  EXPECT_TRUE(readable_before_acknowledged.get_future().get());
  auto b = first.get_future().get();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto d = second.future.get();
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto c = inner.future.get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_LT(d->first_position, c->first_position);
  auto read = store_->ReadStream("c", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 1u);
}

TEST_F(CommitPipelineTest, DurableMarkIsWrittenByTheThreadThatSyncedItsGroups) {
  // Synchronous appends commit on this thread, one durable group each,
  // until one is followed by a durable-end mark: that is how many groups
  // a mark waits for (kGroupsPerDurableMark).
  int groups_per_mark = 0;
  while (tracker_.marks().empty()) {
    ASSERT_LT(groups_per_mark, 1000);
    ASSERT_TRUE(store_->Append("x", ExpectedVersion::Any(), Events(1)).ok());
    ++groups_per_mark;
  }
  ASSERT_GE(groups_per_mark, 3);
  for (int i = 0; i < groups_per_mark - 2; ++i) {
    ASSERT_TRUE(store_->Append("x", ExpectedVersion::Any(), Events(1)).ok());
  }
  tracker_.Reset();
  // The next mark follows the second group from now: a caller's append
  // "a" holds the commit state in its sync while "b" and "d" queue, so
  // that "b", the mark's group, is handed to the sync thread, whose sync
  // of it is held until "d" is written and handed off too.
  auto leader = HeldLeader("a", ExpectedVersion::Any());
  Outcome b;
  Outcome d;
  store_->AppendAsync("b", ExpectedVersion::Any(), Events(1), b.callback());
  store_->AppendAsync("d", ExpectedVersion::Any(), Events(1), d.callback());
  tracker_.Hold();
  tracker_.Release();
  ASSERT_TRUE(leader.get().ok());
  tracker_.WaitHeld(2);
  tracker_.WaitWrites(3);  // "a", "b" and "d"
  tracker_.Release();
  auto b_result = b.future.get();
  ASSERT_TRUE(b_result.ok()) << b_result.status().ToString();
  auto d_result = d.future.get();
  ASSERT_TRUE(d_result.ok()) << d_result.status().ToString();
  const std::vector<std::thread::id> syncs = tracker_.syncs();
  ASSERT_GE(syncs.size(), 2u);
  const std::thread::id sync_thread = syncs[1];  // the sync of "b"
  ASSERT_NE(sync_thread, std::this_thread::get_id());
  const std::vector<ThreadTracker::Mark> marks = tracker_.marks();
  const std::vector<std::pair<uint64_t, size_t>> writes =
      tracker_.record_writes();
  ASSERT_EQ(marks.size(), 1u);
  ASSERT_EQ(writes.size(), 3u);
  // Written by the thread that synced and published the groups it covers:
  // only that thread knows an offset and a position of the same group,
  // and no other sync of the segment runs meanwhile (a second one could
  // take a writeback error of the first's pages and return success).
  EXPECT_EQ(marks[0].thread, sync_thread);
  EXPECT_EQ(tracker_.overlapping_syncs(), 0);
  // The mark names the end of "b" or of "d" (if one sync covered both),
  // offset and position of the same append.
  const uint64_t end_b = writes[1].first + writes[1].second;
  const uint64_t end_d = writes[2].first + writes[2].second;
  const uint64_t next_b = b_result->first_position.value() + 1;
  const uint64_t next_d = d_result->first_position.value() + 1;
  const std::pair<uint64_t, uint64_t> named{marks[0].end_offset(),
                                            marks[0].next_position()};
  EXPECT_TRUE(named == std::make_pair(end_b, next_b) ||
              named == std::make_pair(end_d, next_d))
      << "mark names offset " << named.first << " and position "
      << named.second;
}

TEST_F(CommitPipelineTest,
       NothingIsWrittenOrAcknowledgedAfterTheSyncStageFails) {
  // Fill most of the first segment, so that the last append below needs a
  // roll; a roll waits for the groups in flight (Drain).
  const uint64_t capacity = testing::SmallOptions().segment_size;
  std::vector<EventData> big(1);
  big[0].type = "Big";
  // Incompressible, so that it takes its size in the segment.
  std::mt19937_64 rng(7);
  for (uint64_t i = 0; i < capacity / 4; ++i) {
    big[0].data.push_back(static_cast<char>(rng()));
  }
  big[0].content_type = ContentType::kBinary;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->Append("fill", ExpectedVersion::Any(), big).ok());
  }
  auto leader = HeldLeader("a", ExpectedVersion::Any());
  Outcome in_flight;
  Outcome after_roll;
  store_->AppendAsync("b", ExpectedVersion::Any(), Events(1),
                      in_flight.callback());
  store_->AppendAsync("c", ExpectedVersion::Any(), big, after_roll.callback());
  // "b" is handed to the sync thread, whose fdatasync fails while the
  // commit thread waits to roll for "c".
  tracker_.Hold();
  tracker_.Release();
  ASSERT_TRUE(leader.get().ok());
  tracker_.WaitHeld(2);
  tracker_.ReleaseFailing();
  auto b = in_flight.future.get();
  EXPECT_FALSE(b.ok());
  // Neither rolled nor written: a new segment synced on its own would
  // vouch for "c" while "b", before it, is lost.
  auto c = after_roll.future.get();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsReadOnly()) << c.status().ToString();
  EXPECT_TRUE(store_->Sync().IsReadOnly());
  EXPECT_FALSE(store_->Close().ok());
  store_.reset();
  // A power loss: what was never synced ("b") is gone, and the log ends
  // cleanly after "a".
  memory_.SimulateCrash();
  auto reopened =
      engine::StoreImpl::Open(&memory_, "/s", testing::SmallOptions());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto all = (*reopened)->ReadAll(testing::AllUpTo(10));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->events.size(), 4u);
  EXPECT_EQ(all->events.back().stream, "a");
}

}  // namespace
}  // namespace cairn
