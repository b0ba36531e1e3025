// Copyright (c) Cairn authors.
//
// Many threads appending to the same and to different streams: global
// positions gapless, revisions contiguous, every acknowledged append present
// exactly as acknowledged.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;

struct Ack {
  std::string stream;
  AppendResult result;
  std::vector<EventId> ids;
};

void CheckLog(Store& store, const std::vector<Ack>& acks, uint64_t total) {
  std::map<uint64_t, const Ack*> by_position;
  for (const Ack& a : acks) {
    for (uint64_t p = a.result.first_position.value();
         p <= a.result.last_position.value(); ++p) {
      ASSERT_TRUE(by_position.emplace(p, &a).second) << "position twice: " << p;
    }
  }
  std::map<std::string, uint64_t> next_revision;
  uint64_t expected_position = 0;
  auto next = store.VisitAll(
      testing::AllUpTo(total + 10), [&](const RecordedEventView& e) {
        EXPECT_EQ(e.position.value(), expected_position);
        ++expected_position;
        uint64_t& rev = next_revision[std::string(e.stream)];
        EXPECT_EQ(e.revision.value(), rev) << e.stream;
        ++rev;
        auto it = by_position.find(e.position.value());
        if (it != by_position.end()) {
          const Ack& a = *it->second;
          uint64_t i = e.position.value() - a.result.first_position.value();
          EXPECT_EQ(e.stream, a.stream);
          EXPECT_EQ(e.id, a.ids[i]);
          EXPECT_EQ(e.revision.value(), a.result.first_revision.value() + i);
        }
        return true;
      });
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(expected_position, total);
}

TEST(ConcurrentAppendTest, ThreadsSameAndDifferentStreams) {
  testing::TempDir dir;
  Options options = testing::SmallOptions();
  auto opened = Store::Open(dir.Sub("s"), options);
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  constexpr int kThreads = 8;
  constexpr int kAppends = 150;
  std::mutex mu;
  std::vector<Ack> acks;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        // Half the appends go to one hot stream, half to the thread's own.
        std::string stream = i % 2 == 0 ? "hot" : "own-" + std::to_string(t);
        std::vector<EventData> events;
        for (int k = 0; k <= i % 3; ++k) {
          events.push_back(Event("E", "{\"t\":" + std::to_string(t) + "}",
                                 EventId::Generate()));
        }
        auto r = store.Append(stream, ExpectedVersion::Any(), events);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        Ack ack{stream, *r, {}};
        for (const auto& e : events) ack.ids.push_back(e.id);
        std::lock_guard<std::mutex> lock(mu);
        acks.push_back(std::move(ack));
      }
    });
  }
  for (auto& t : threads) t.join();
  uint64_t total = 0;
  for (const Ack& a : acks) {
    total +=
        a.result.last_position.value() - a.result.first_position.value() + 1;
  }
  CheckLog(store, acks, total);
  CAIRN_ASSERT_OK(store.Close());
  auto reopened = Store::Open(dir.Sub("s"), options);
  ASSERT_TRUE(reopened.ok());
  CheckLog(**reopened, acks, total);
}

TEST(ConcurrentAppendTest, ExactVersionRaceHasOneWinnerPerRevision) {
  testing::TempDir dir;
  auto opened = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  constexpr int kThreads = 6;
  constexpr int kRounds = 100;
  std::atomic<int> wins{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto rev = store.GetStreamRevision("race");
        ASSERT_TRUE(rev.ok());
        ExpectedVersion v = rev->has_value()
                                ? ExpectedVersion::Exact((*rev)->value())
                                : ExpectedVersion::NoStream();
        auto r = store.Append("race", v, {Event("E")});
        if (r.ok()) {
          ++wins;
        } else {
          ASSERT_TRUE(r.status().IsWrongExpectedVersion())
              << r.status().ToString();
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins + conflicts, kThreads * kRounds);
  auto rev = store.GetStreamRevision("race");
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ((*rev)->value() + 1, static_cast<uint64_t>(wins.load()));
}

TEST(ConcurrentAppendTest, ManyAsyncAppendsFromOneThread) {
  testing::TempDir dir;
  auto opened = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  constexpr int kAppends = 3000;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<Ack> acks(kAppends);
  for (int i = 0; i < kAppends; ++i) {
    std::string stream = "s-" + std::to_string(i % 17);
    EventData e = Event("E", "{}", EventId::Generate());
    acks[i].stream = stream;
    acks[i].ids = {e.id};
    store.AppendAsync(stream, ExpectedVersion::Any(), {e},
                      [&, i](Result<AppendResult> r) {
                        ASSERT_TRUE(r.ok()) << r.status().ToString();
                        std::lock_guard<std::mutex> lock(mu);
                        acks[i].result = *r;
                        ++done;
                        cv.notify_one();
                      });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == kAppends; });
  lock.unlock();
  CheckLog(store, acks, kAppends);
}

}  // namespace
}  // namespace cairn
