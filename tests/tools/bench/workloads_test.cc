// Copyright (c) Cairn authors.
//
// The workloads of tools/bench/workloads.h against a fake driver that
// records every call: each workload issues exactly the operations it
// defines (appends of the right size, in the right mode, in the right
// order; pre-load, after-load step, passes and reads), and refuses a
// driver that lacks what it needs before touching the store. Runs are
// bounded by event counts; timed phases get a duration that is over
// before their first operation returns. No timing assertions.
#include "tools/bench/workloads.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/options.h"
#include "tests/tools/bench/fake_driver.h"

namespace cairn::tools::bench {
namespace {

using testing::FakeDriver;

// Appends bounded by `events`; timed phases as short as they can be.
WorkloadConfig Config(uint64_t events, uint64_t streams) {
  WorkloadConfig config;
  config.events = events;
  config.streams = streams;
  config.seconds = 1e-9;
  config.event_size = 100;
  return config;
}

Capabilities Everything() { return Capabilities::All(); }

TEST(WorkloadsTest, BatchAppendsHundredEventsAtATimeRoundRobin) {
  FakeDriver fake({});
  WorkloadConfig config = Config(1000, 7);
  config.seconds = 3600;  // the event count ends the run
  auto r = RunWorkload(&fake, "batch", config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fake.resets, 1);
  EXPECT_EQ(fake.opens, std::vector<WriteMode>{WriteMode::kMeasured});
  EXPECT_EQ(fake.closes, 1);
  ASSERT_EQ(fake.calls.size(), 10u);
  for (size_t i = 0; i < fake.calls.size(); ++i) {
    EXPECT_EQ(fake.calls[i].stream, StreamName(i % 7));
    EXPECT_EQ(fake.calls[i].events, kBatchEvents);
    EXPECT_FALSE(fake.calls[i].async);
    EXPECT_EQ(fake.calls[i].mode, WriteMode::kMeasured);
  }
  EXPECT_EQ(r->events, 1000u);
  EXPECT_EQ(r->operations, 10u);
  EXPECT_EQ(r->latency_ns.count(), 10u);
  EXPECT_EQ(r->latency_of, "append");
  EXPECT_EQ(r->writers, 1u);
  EXPECT_EQ(r->streams, 7u);
  // No stats and not in this process: neither is reported.
  EXPECT_EQ(r->bytes_per_event, 0);
  EXPECT_EQ(r->memory.vm_rss, 0u);
}

TEST(WorkloadsTest, SingleAppendsOneEventAtATime) {
  FakeDriver fake(Everything());
  WorkloadConfig config = Config(50, 10);
  config.seconds = 3600;
  auto r = RunWorkload(&fake, "single", config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(fake.calls.size(), 50u);
  for (const auto& call : fake.calls) {
    EXPECT_EQ(call.events, 1u);
    EXPECT_FALSE(call.async);  // awaited, even where AppendAsync exists
  }
  // Stats and memory where the driver has them.
  EXPECT_EQ(r->bytes_per_event, 300);
  EXPECT_GT(r->memory.vm_rss, 0u);
}

TEST(WorkloadsTest, ConcurrentKeepsInFlightAppendsThroughAppendAsync) {
  FakeDriver fake(Everything(), /*hold=*/16);
  WorkloadConfig config = Config(64, 100);
  config.seconds = 3600;
  config.in_flight = 16;
  auto r = RunWorkload(&fake, "concurrent", config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(fake.calls.size(), 64u);
  for (const auto& call : fake.calls) {
    EXPECT_TRUE(call.async);
    EXPECT_EQ(call.events, 1u);
  }
  EXPECT_EQ(fake.max_held, 16u);
  EXPECT_EQ(r->writers, 16u);
  EXPECT_EQ(r->events, 64u);
}

TEST(WorkloadsTest, ConcurrentUsesTheDriversThreadsWithoutAppendAsync) {
  FakeDriver fake({});
  fake.concurrent_writers_ = 3;
  WorkloadConfig config = Config(30, 100);
  config.seconds = 3600;
  auto r = RunWorkload(&fake, "concurrent", config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fake.new_writers, 3);
  EXPECT_EQ(fake.calls.size(), 30u);
  EXPECT_EQ(r->writers, 3u);
  EXPECT_EQ(r->events, 30u);
}

TEST(WorkloadsTest, ReadAllLoadsThenPassesOverEverything) {
  FakeDriver fake({});
  auto r = RunWorkload(&fake, "read-all", Config(500, 5));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fake.opens, std::vector<WriteMode>{WriteMode::kLoad});
  ASSERT_EQ(fake.calls.size(), 5u);
  for (const auto& call : fake.calls) {
    EXPECT_EQ(call.events, kBatchEvents);
    EXPECT_EQ(call.mode, WriteMode::kLoad);
  }
  EXPECT_EQ(fake.after_loads, 1);
  // One warm-up pass, then (the duration being over at once) one timed.
  EXPECT_EQ(fake.read_all_passes, 2);
  EXPECT_EQ(r->loaded_events, 500u);
  EXPECT_EQ(r->events, 500u);
  EXPECT_EQ(r->operations, 1u);
  EXPECT_EQ(r->latency_of, "pass");
  EXPECT_EQ(fake.closes, 1);
}

TEST(WorkloadsTest, ReadAllUnverifiedPassesWithoutChecksums) {
  Capabilities caps;
  caps.unverified_reads = true;
  FakeDriver fake(caps);
  auto r = RunWorkload(&fake, "read-all-unverified", Config(500, 5));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fake.read_all_passes, 0);
  EXPECT_EQ(fake.unverified_passes, 2);
  EXPECT_EQ(r->workload, "read-all-unverified");
  EXPECT_EQ(r->events, 500u);
  EXPECT_EQ(r->latency_of, "pass");
}

TEST(WorkloadsTest, ReadStreamsReadsWholeStreamsOfTheLoad) {
  FakeDriver fake(Everything(), /*hold=*/1);
  auto r = RunWorkload(&fake, "read-streams", Config(40, 4));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // One event per append, round-robin.
  ASSERT_EQ(fake.calls.size(), 40u);
  EXPECT_EQ(fake.calls[5].stream, StreamName(1));
  EXPECT_EQ(fake.read_all_passes, 1);  // the warm-up
  ASSERT_EQ(fake.stream_reads.size(), 1u);
  EXPECT_EQ(fake.stream_reads[0].second, 0u);
  EXPECT_EQ(r->events, 10u);  // a whole stream
  EXPECT_EQ(r->latency_of, "read");
}

TEST(WorkloadsTest, ReadLongStreamReadsTheWholeLedger) {
  FakeDriver fake(Everything(), /*hold=*/1);
  auto r = RunWorkload(&fake, "read-long-stream", Config(40, 4));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The load alternates between the plain stream and the Order streams.
  ASSERT_EQ(fake.calls.size(), 40u);
  EXPECT_EQ(fake.calls[0].stream, "Ledger");
  EXPECT_EQ(fake.calls[1].stream, StreamName(0));
  EXPECT_EQ(fake.calls[2].stream, "Ledger");
  ASSERT_EQ(fake.stream_reads.size(), 1u);
  EXPECT_EQ(fake.stream_reads[0],
            (std::pair<std::string, uint64_t>("Ledger", 0)));
  EXPECT_EQ(r->events, 20u);
}

TEST(WorkloadsTest, SubscribeDeliversEveryAppendToEverySubscriber) {
  FakeDriver fake(Everything(), /*hold=*/4);
  WorkloadConfig config = Config(40, 0);
  config.seconds = 3600;
  config.in_flight = 4;
  config.subscribers = 2;
  auto r = RunWorkload(&fake, "subscribe", config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fake.calls.size(), 40u);
  EXPECT_EQ(r->events, 40u);
  EXPECT_EQ(r->delivered, 80u);
  // Two live subscriptions and the catch-up one.
  EXPECT_EQ(fake.subscriptions, 3);
  EXPECT_EQ(r->latency_ns.count(), 80u);
  EXPECT_GT(r->catchup_events_per_sec, 0);
}

TEST(WorkloadsTest, ScaleSamplesEveryTenthThenKillsAndReopens) {
  FakeDriver fake(Everything());
  auto r = RunWorkload(&fake, "scale", Config(1000, 10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(fake.calls.size(), 10u);
  for (const auto& call : fake.calls) {
    EXPECT_EQ(call.events, kBatchEvents);
    EXPECT_FALSE(call.async);
  }
  EXPECT_EQ(r->samples.size(), 10u);
  EXPECT_EQ(r->samples.back().events, 1000u);
  EXPECT_EQ(fake.kill_reopen_events,
            std::vector<uint64_t>{Options().index_memtable_events * 3 / 2});
  // The appends, then the reopen after the kill.
  EXPECT_EQ(fake.opens, (std::vector<WriteMode>{WriteMode::kMeasured,
                                                WriteMode::kMeasured}));
  // A warm-up read and a measured one, of streams the load reached.
  ASSERT_EQ(fake.stream_reads.size(), 2u);
  EXPECT_EQ(fake.stream_reads[0].second, 0u);
  EXPECT_EQ(r->reads, 1u);
  EXPECT_GT(r->read_events, 0u);
}

TEST(WorkloadsTest, RefusesWhatTheDriverCanNotDoBeforeTouchingIt) {
  for (const char* name :
       {"read-streams", "read-category", "read-long-stream", "scale",
        "subscribe", "scavenge", "read-all-unverified"}) {
    SCOPED_TRACE(name);
    FakeDriver fake({});
    auto r = RunWorkload(&fake, name, Config(10, 2));
    EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
    EXPECT_EQ(fake.resets, 0);
    EXPECT_TRUE(fake.opens.empty());
  }
  FakeDriver fake({});
  EXPECT_EQ(RunWorkload(&fake, "nope", Config(10, 2)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(fake.resets, 0);
}

}  // namespace
}  // namespace cairn::tools::bench
