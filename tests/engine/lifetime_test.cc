// Copyright (c) Cairn authors.
//
// Lifetimes at the API edge: handles destroyed in any order, calls that
// race with Close(), and no background thread (or its I/O) outliving
// Close(). The use-after-free cases are caught by the ASan build, the races
// by the TSan build; the rest assert observable behaviour.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <latch>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "engine/io/file_system.h"
#include "engine/src/store_impl.h"
#include "testing/file_system_wrapper.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;
using testing::Events;
using testing::SubscriptionRecorder;

std::unique_ptr<Store> OpenStore(const std::string& path) {
  auto store = Store::Open(path, testing::SmallOptions());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store.value()) : nullptr;
}

// The names of this process's threads (/proc/self/task/*/comm).
std::multiset<std::string> ThreadNames() {
  std::multiset<std::string> names;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  return names;
}

// Every background thread names its role ("cairn-commit", ...), and none
// is left after Close(), while the subscription and group handles live on.
TEST(LifetimeTest, NoThreadOutlivesClose) {
  testing::TempDir dir;
  // A sanitizer runtime may start a thread of its own at the process's
  // first pthread_create (TSan's background thread); start one first, so
  // that thread is already among those counted before Open().
  std::thread([] {}).join();
  const std::multiset<std::string> before = ThreadNames();
  auto store = OpenStore(dir.Sub("s"));
  ASSERT_NE(store, nullptr);
  auto recorder = std::make_shared<SubscriptionRecorder>();
  auto sub = store->Subscribe(SubscriptionOptions{}, recorder);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  auto member = store->JoinConsumerGroup("g", ConsumerGroupOptions{});
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(2)).ok());
  ASSERT_TRUE(recorder->WaitForEvents(2));
  auto got = (*member)->Receive(1, std::chrono::seconds(60));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // Each of these threads has done work for the calls above, so it has
  // named itself by now.
  const std::multiset<std::string> running = ThreadNames();
  for (const char* role : {"cairn-commit", "cairn-sync", "cairn-ack",
                           "cairn-subscribe", "cairn-group"}) {
    EXPECT_EQ(running.count(role), 1u)
        << role << " " << ::testing::PrintToString(running);
  }
  ASSERT_TRUE(store->Close().ok());
  EXPECT_EQ(ThreadNames(), before);
}

TEST(LifetimeTest, SubscriptionOutlivesStore) {
  testing::TempDir dir;
  auto store = OpenStore(dir.Sub("s"));
  ASSERT_NE(store, nullptr);
  auto all = std::make_shared<SubscriptionRecorder>();
  auto one = std::make_shared<SubscriptionRecorder>();
  auto all_sub = store->Subscribe(SubscriptionOptions{}, all);
  ASSERT_TRUE(all_sub.ok()) << all_sub.status().ToString();
  SubscriptionOptions stream_options;
  stream_options.stream = "a";
  auto one_sub = store->Subscribe(stream_options, one);
  ASSERT_TRUE(one_sub.ok()) << one_sub.status().ToString();
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(3)).ok());
  ASSERT_TRUE(all->WaitForEvents(3));
  ASSERT_TRUE(one->WaitForEvents(3));

  store.reset();  // the subscriptions are still alive

  // The store's end stopped them; what is left works without it.
  EXPECT_TRUE(all->stopped());
  EXPECT_TRUE(one->stopped());
  EXPECT_TRUE(all->stop_status().IsClosed()) << all->stop_status().ToString();
  EXPECT_EQ((*all_sub)->position().value(), 3u);
  (*all_sub)->Stop();
  (*one_sub)->Stop();
  all_sub->reset();
  one_sub->reset();
  EXPECT_EQ(all->events().size(), 3u);
}

TEST(LifetimeTest, GroupMemberOutlivesStore) {
  testing::TempDir dir;
  auto store = OpenStore(dir.Sub("s"));
  ASSERT_NE(store, nullptr);
  auto member = store->JoinConsumerGroup("g", ConsumerGroupOptions{});
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(2)).ok());
  std::vector<RecordedEvent> got;
  while (got.size() < 2) {
    auto some = (*member)->Receive(2, std::chrono::seconds(60));
    ASSERT_TRUE(some.ok()) << some.status().ToString();
    ASSERT_FALSE(some->empty());
    got.insert(got.end(), some->begin(), some->end());
  }
  auto other = store->JoinConsumerGroup("g", ConsumerGroupOptions{});
  ASSERT_TRUE(other.ok()) << other.status().ToString();

  store.reset();  // both members are still alive

  auto after = (*member)->Receive(1, std::chrono::seconds(60));
  EXPECT_TRUE(after.status().IsClosed()) << after.status().ToString();
  Status ack = (*member)->Ack(got[0].position);
  EXPECT_TRUE(ack.IsClosed()) << ack.ToString();
  (*other)->Leave();
  member->reset();  // the last member out destroys the group
  other->reset();
}

TEST(LifetimeTest, GroupCheckpointSavedWhenStoreCloses) {
  testing::TempDir dir;
  {
    auto store = OpenStore(dir.Sub("s"));
    ASSERT_NE(store, nullptr);
    ConsumerGroupOptions options;
    options.checkpoint_every = std::chrono::hours(1);
    auto member = store->JoinConsumerGroup("g", options);
    ASSERT_TRUE(member.ok());
    ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(2)).ok());
    size_t acked = 0;
    while (acked < 2) {
      auto some = (*member)->Receive(2, std::chrono::seconds(60));
      ASSERT_TRUE(some.ok()) << some.status().ToString();
      ASSERT_FALSE(some->empty());
      for (const RecordedEvent& e : *some) {
        ASSERT_TRUE((*member)->Ack(e.position).ok());
        ++acked;
      }
    }
    ASSERT_TRUE(store->Close().ok());
    // The member outlives the store; its group saved its progress before
    // the store closed.
  }
  auto store = OpenStore(dir.Sub("s"));
  ASSERT_NE(store, nullptr);
  auto saved = store->LoadCheckpoint("group-g");
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  ASSERT_TRUE(saved->has_value());
  EXPECT_EQ((*saved)->value(), 2u);
}

// Handles destroyed on other threads while the store closes and is
// destroyed: whichever goes first, nothing touches freed memory (ASan) and
// nothing races (TSan).
TEST(LifetimeTest, HandlesDestroyedConcurrentlyWithStore) {
  testing::TempDir dir;
  for (int round = 0; round < 20; ++round) {
    auto store = OpenStore(dir.Sub("s" + std::to_string(round)));
    ASSERT_NE(store, nullptr);
    std::vector<std::unique_ptr<Subscription>> subs;
    std::vector<std::unique_ptr<GroupMember>> members;
    for (int i = 0; i < 3; ++i) {
      auto sub = store->Subscribe(SubscriptionOptions{},
                                  std::make_shared<SubscriptionRecorder>());
      ASSERT_TRUE(sub.ok());
      subs.push_back(std::move(sub.value()));
      auto member = store->JoinConsumerGroup("g", ConsumerGroupOptions{});
      ASSERT_TRUE(member.ok());
      members.push_back(std::move(member.value()));
    }
    ASSERT_TRUE(store->Append("a", ExpectedVersion::Any(), Events(4)).ok());
    std::latch start(2);
    std::thread other([&] {
      start.arrive_and_wait();
      for (auto& m : members) {
        auto r = m->Receive(4, std::chrono::milliseconds(0));
        EXPECT_TRUE(r.ok() || r.status().IsClosed()) << r.status().ToString();
        m.reset();
      }
      subs.clear();
    });
    start.arrive_and_wait();
    store.reset();
    other.join();
  }
}

// Calls racing with Close() return Closed or a correct answer, and none
// races (TSan) with Close writing out the index's in-memory table. With
// `reads_only`, nothing the readers do synchronises with Close except the
// closed flag, so TSan sees any unordered access; otherwise appends and
// subscriptions are mixed in.
void CallsDuringClose(bool reads_only) {
  testing::TempDir dir;
  auto store = OpenStore(dir.Sub("s"));
  ASSERT_NE(store, nullptr);
  constexpr int kEvents = 50;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(store
                    ->Append("s-" + std::to_string(i % 5),
                             ExpectedVersion::Any(),
                             {Event("E", "{\"i\":" + std::to_string(i) + "}")})
                    .ok());
  }
  constexpr int kReaders = 4;
  std::latch started(kReaders + 1);
  std::vector<std::thread> threads;
  threads.reserve(kReaders);
  for (int t = 0; t < kReaders; ++t) {
    threads.emplace_back([&, t] {
      bool arrived = false;
      for (uint64_t n = 0;; ++n) {
        const std::string stream = "s-" + std::to_string((t + n) % 5);
        Status status;
        switch ((t + n) % (reads_only ? 3 : 5)) {
          case 0: {
            auto r = store->ReadStream(stream, ReadStreamOptions{});
            status = r.status();
            if (r.ok()) {
              EXPECT_EQ(r->events.size(), kEvents / 5u);
            }
            break;
          }
          case 1: {
            auto r = store->GetStreamRevision(stream);
            status = r.status();
            if (r.ok()) {
              ASSERT_TRUE(r->has_value());
              EXPECT_GE((*r)->value(), kEvents / 5u - 1);
            }
            break;
          }
          case 2: {
            auto r = store->ReadAll(testing::AllUpTo(kEvents));
            status = r.status();
            if (r.ok()) {
              EXPECT_EQ(r->events.size(), static_cast<size_t>(kEvents));
            }
            break;
          }
          case 3: {
            auto r = store->Append("t-" + std::to_string(t),
                                   ExpectedVersion::Any(), {Event("T")});
            status = r.status();
            break;
          }
          default: {
            auto sub =
                store->Subscribe(SubscriptionOptions{},
                                 std::make_shared<SubscriptionRecorder>());
            status = sub.status();
            break;
          }
        }
        if (!arrived) {
          arrived = true;
          started.count_down();
        }
        if (status.IsClosed()) return;
        EXPECT_TRUE(status.ok()) << status.ToString();
      }
    });
  }
  started.arrive_and_wait();
  EXPECT_TRUE(store->Close().ok());
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(
      store->ReadStream("s-0", ReadStreamOptions{}).status().IsClosed());
  EXPECT_TRUE(store->Append("s-0", ExpectedVersion::Any(), {Event("E")})
                  .status()
                  .IsClosed());
}

TEST(LifetimeTest, ReadsDuringCloseReturnClosedOrCorrectAnswer) {
  CallsDuringClose(/*reads_only=*/true);
}

TEST(LifetimeTest, CallsDuringCloseReturnClosedOrCorrectAnswer) {
  CallsDuringClose(/*reads_only=*/false);
}

// A MemoryFileSystem wrapper that holds the background preparer's
// zero-fill of segment 1's spare file: its first write until an index file
// operation is seen after Arm() (Close writes the index out), every later
// one until the writer lock is released. It counts spare writes made after
// the lock was released: a second writer could by then have opened the
// store and adopted the half-written file.
class PreparerGateFileSystem final : public io::FileSystemWrapper {
 public:
  explicit PreparerGateFileSystem(io::FileSystem* base)
      : FileSystemWrapper(base) {}

  void Arm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = true;
  }
  uint64_t writes_after_unlock() {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_after_unlock_;
  }
  bool gave_up() {
    std::lock_guard<std::mutex> lock(mu_);
    return gave_up_;
  }
  // Waits until the preparer is held at its first write.
  bool WaitUntilPreparerHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60),
                        [&] { return spare_writes_ > 0; });
  }

  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override {
    Saw(path);
    auto file = target()->OpenFile(path, mode);
    if (!file.ok()) return file.status();
    return std::unique_ptr<io::File>(
        new GatedFile(this, std::move(file.value()), path));
  }
  Status CreateDir(const std::string& path) override {
    Saw(path);
    return target()->CreateDir(path);
  }
  Status SyncDir(const std::string& path) override {
    Saw(path);
    return target()->SyncDir(path);
  }
  Status RemoveFile(const std::string& path) override {
    Saw(path);
    return target()->RemoveFile(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    Saw(to);
    return target()->Rename(from, to);
  }
  Result<std::unique_ptr<io::FileLock>> LockFile(
      const std::string& path) override {
    auto lock = target()->LockFile(path);
    if (!lock.ok()) return lock.status();
    return std::unique_ptr<io::FileLock>(
        new NotifyingLock(this, std::move(lock.value())));
  }

 private:
  class NotifyingLock final : public io::FileLock {
   public:
    NotifyingLock(PreparerGateFileSystem* fs,
                  std::unique_ptr<io::FileLock> lock)
        : fs_(fs), lock_(std::move(lock)) {}
    ~NotifyingLock() override {
      lock_.reset();
      std::lock_guard<std::mutex> lock(fs_->mu_);
      fs_->unlocked_ = true;
      fs_->cv_.notify_all();
    }

   private:
    PreparerGateFileSystem* fs_;
    std::unique_ptr<io::FileLock> lock_;
  };

  class GatedFile final : public io::FileWrapper {
   public:
    GatedFile(PreparerGateFileSystem* fs, std::unique_ptr<io::File> file,
              std::string path)
        : FileWrapper(std::move(file)), fs_(fs), path_(std::move(path)) {}
    Status Write(uint64_t offset, const void* data, size_t size) override {
      if (path_.ends_with("000000000001.seg.spare")) fs_->SpareWrite();
      return target()->Write(offset, data, size);
    }

   private:
    PreparerGateFileSystem* fs_;
    std::string path_;
  };

  void Saw(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    if (armed_ && path.find("/index") != std::string::npos) {
      index_seen_ = true;
      cv_.notify_all();
    }
  }

  void SpareWrite() {
    std::unique_lock<std::mutex> lock(mu_);
    const bool first = spare_writes_++ == 0;
    cv_.notify_all();
    // The safety timeout is reached only by a broken implementation (a
    // Close that waits for the preparer without having told it to stop).
    bool opened = cv_.wait_for(lock, std::chrono::seconds(60), [&] {
      return unlocked_ || (first && index_seen_);
    });
    if (!opened) gave_up_ = true;
    if (unlocked_) ++writes_after_unlock_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool index_seen_ = false;
  bool unlocked_ = false;
  bool gave_up_ = false;
  uint64_t spare_writes_ = 0;
  uint64_t writes_after_unlock_ = 0;
};

TEST(LifetimeTest, CloseStopsSegmentPreparerBeforeReleasingLock) {
  io::MemoryFileSystem memory;
  PreparerGateFileSystem fs(&memory);
  Options options;
  options.segment_size = 8 << 20;  // the zero-fill takes several writes
  {
    auto store = engine::StoreImpl::Open(&fs, "/store", options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // Something for Close to write to the index.
    ASSERT_TRUE((*store)->Append("a", ExpectedVersion::Any(), Events(1)).ok());
    ASSERT_TRUE(fs.WaitUntilPreparerHeld());
    fs.Arm();
    EXPECT_TRUE((*store)->Close().ok());
  }
  EXPECT_FALSE(fs.gave_up());
  EXPECT_EQ(fs.writes_after_unlock(), 0u);
}

}  // namespace
}  // namespace cairn
