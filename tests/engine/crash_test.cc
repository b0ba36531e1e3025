// Copyright (c) Cairn authors.
//
// Simulated power loss on the in-memory file system: threads append while
// the "machine" loses everything not synced. After a reboot every
// acknowledged event is present exactly as acknowledged, positions are
// gapless, revisions contiguous, and in-flight appends are all-or-nothing.
// (The reliability harness extends this with torn writes, bit flips and
// thousands of seeds.)
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"

namespace cairn {
namespace {

using testing::Event;

struct Acked {
  std::string stream;
  AppendResult result;
  std::vector<EventId> ids;
};

class CrashTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashTest, AcknowledgedAppendsSurvivePowerLoss) {
  const int seed = GetParam();
  std::mt19937 rng(seed);
  io::MemoryFileSystem fs;
  Options options = testing::SmallOptions();
  options.segment_size = 64 * 1024;  // roll often
  // Index tables written and merged often, so crashes hit them too.
  options.index_memtable_events = 32 + static_cast<uint64_t>(rng() % 64);
  std::mutex mu;
  std::vector<Acked> acked;
  std::map<EventId, std::vector<EventId>> attempted;  // first id -> all ids
  const int crash_after = 20 + static_cast<int>(rng() % 200);

  for (int round = 0; round < 3; ++round) {
    io::FaultInjectionFileSystem process(&fs, 1);
    process.set_crash_options(io::CrashOptions::LoseUnsynced());
    auto opened = engine::StoreImpl::Open(&process, "/store", options);
    ASSERT_TRUE(opened.ok())
        << "round " << round << ": " << opened.status().ToString();
    std::unique_ptr<Store> store = std::move(opened).value();
    std::atomic<int> acks{0};
    std::atomic<bool> crashed{false};
    std::atomic<int> finished{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 local(seed * 31 + t + round * 7);
        for (int i = 0; i < 400 && !crashed; ++i) {
          std::string stream = "s-" + std::to_string(local() % 5);
          std::vector<EventData> events;
          int n = 1 + static_cast<int>(local() % 4);
          for (int k = 0; k < n; ++k) {
            events.push_back(Event("E", std::string(50 + local() % 500, 'p'),
                                   EventId::Generate()));
          }
          std::vector<EventId> ids;
          for (const auto& e : events) ids.push_back(e.id);
          {
            std::lock_guard<std::mutex> lock(mu);
            attempted[ids[0]] = ids;
          }
          auto r = store->Append(stream, ExpectedVersion::Any(), events);
          if (!r.ok()) continue;  // after the crash: outcome unknown
          std::lock_guard<std::mutex> lock(mu);
          acked.push_back({stream, *r, ids});
          ++acks;
        }
        ++finished;
      });
    }
    // Crash once enough appends were acknowledged (no sleeping: the main
    // thread waits on the acknowledgement count).
    while (acks < crash_after && finished < 4) std::this_thread::yield();
    process.Crash();
    crashed = true;
    for (auto& t : threads) t.join();
    store.reset();
  }

  // Reboot and check the oracle.
  auto opened = engine::StoreImpl::Open(&fs, "/store", options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(opened).value();
  std::map<uint64_t, EventId> log_ids;
  std::map<std::string, uint64_t> next_revision;
  uint64_t next_position = 0;
  std::vector<RecordedEvent> log;
  auto next = store->VisitAll(
      testing::AllUpTo(1u << 30), [&](const RecordedEventView& e) {
        EXPECT_EQ(e.position.value(), next_position++);
        uint64_t& rev = next_revision[std::string(e.stream)];
        EXPECT_EQ(e.revision.value(), rev++);
        log.push_back(e.ToOwned());
        return true;
      });
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  for (const Acked& a : acked) {
    for (size_t i = 0; i < a.ids.size(); ++i) {
      uint64_t p = a.result.first_position.value() + i;
      ASSERT_LT(p, log.size()) << "acknowledged event lost";
      EXPECT_EQ(log[p].id, a.ids[i]);
      EXPECT_EQ(log[p].stream, a.stream);
      EXPECT_EQ(log[p].revision.value(), a.result.first_revision.value() + i);
    }
  }
  // The test must have exercised something: acknowledged appends in every
  // round and a log that kept them.
  EXPECT_GE(acked.size(), 3u * crash_after);
  RecordProperty("acked", static_cast<int>(acked.size()));
  RecordProperty("log", static_cast<int>(log.size()));
  // Atomicity: each append present is present whole.
  for (size_t p = 0; p < log.size();) {
    auto it = attempted.find(log[p].id);
    ASSERT_NE(it, attempted.end()) << "event that was never appended";
    for (const EventId& id : it->second) {
      ASSERT_LT(p, log.size()) << "append cut short";
      EXPECT_EQ(log[p].id, id);
      ++p;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, CrashTest, ::testing::Range(1, 9));

}  // namespace
}  // namespace cairn
