// Copyright (c) Cairn authors.
//
// The shared loops of tools/bench/loops.h against a fake driver that
// records every call: each loop issues exactly the appends, reads and
// passes its run defines, with the tokens the store handed back. No
// timing assertions: runs are bounded by event counts, and timed runs by
// a duration that is over before their first step returns.
#include "tools/bench/loops.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/tools/bench/fake_driver.h"
#include "tools/bench/workloads.h"

namespace cairn::tools::bench {
namespace {

using testing::FakeDriver;

std::vector<std::string> Streams(size_t n) {
  std::vector<std::string> streams;
  for (size_t i = 0; i < n; ++i) {
    // Appended, not `"s" + std::to_string(i)`: g++ 12 -O2 reports a false
    // -Wrestrict overlap in that (GCC bug 105651).
    std::string name = "s";
    name += std::to_string(i);
    streams.push_back(std::move(name));
  }
  return streams;
}

Capabilities Async() {
  Capabilities c;
  c.async_append = true;
  return c;
}

AppendRun RunOf(const std::vector<std::string>& streams,
                const std::vector<EventData>& pool, uint64_t per_append,
                uint64_t total) {
  AppendRun run;
  run.streams = &streams;
  run.pool = &pool;
  run.per_append = per_append;
  run.total = total;
  return run;
}

TEST(RunWritersTest, AppendsRoundRobinWithTheTokensItGotBack) {
  FakeDriver fake({});
  ASSERT_TRUE(fake.Open(WriteMode::kMeasured).ok());
  const auto streams = Streams(3);
  const auto pool = MakeEvents(64, 10, 1);
  AppendRun run = RunOf(streams, pool, 2, 12);
  LatencyHistogram latency;
  run.latency = &latency;
  AppendTotals totals;
  ASSERT_TRUE(RunWriters(&fake, run, &totals).ok());
  EXPECT_EQ(totals.events, 12u);
  EXPECT_EQ(totals.appends, 6u);
  EXPECT_EQ(latency.count(), 6u);
  EXPECT_EQ(fake.new_writers, 1);
  ASSERT_EQ(fake.calls.size(), 6u);
  for (size_t i = 0; i < fake.calls.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(fake.calls[i].stream, streams[i % 3]);
    // The first round finds no stream; the second states the version the
    // first got back.
    EXPECT_EQ(fake.calls[i].expected, i < 3 ? -1 : 1);
    EXPECT_EQ(fake.calls[i].events, 2u);
    EXPECT_FALSE(fake.calls[i].async);
  }
  EXPECT_EQ(fake.stored(), 12u);
}

TEST(RunWritersTest, TheLastAppendCarriesWhatIsLeftOfTheTotal) {
  FakeDriver fake({});
  ASSERT_TRUE(fake.Open(WriteMode::kMeasured).ok());
  const auto streams = Streams(2);
  const auto pool = MakeEvents(64, 10, 1);
  AppendTotals totals;
  ASSERT_TRUE(RunWriters(&fake, RunOf(streams, pool, 3, 7), &totals).ok());
  ASSERT_EQ(fake.calls.size(), 3u);
  EXPECT_EQ(fake.calls[0].events, 3u);
  EXPECT_EQ(fake.calls[1].events, 3u);
  EXPECT_EQ(fake.calls[2].events, 1u);
  EXPECT_EQ(totals.events, 7u);
}

TEST(RunWritersTest, ThreadsShareTheRunWithoutSkippingOrRacingAStream) {
  FakeDriver fake({});
  ASSERT_TRUE(fake.Open(WriteMode::kMeasured).ok());
  // Fewer streams than threads: threads must wait for a stream's token.
  const auto streams = Streams(3);
  const auto pool = MakeEvents(64, 10, 1);
  AppendRun run = RunOf(streams, pool, 1, 400);
  run.threads = 4;
  AppendTotals totals;
  ASSERT_TRUE(RunWriters(&fake, run, &totals).ok());
  EXPECT_EQ(fake.new_writers, 4);
  // Every append succeeded (the fake refuses a stale token) and none was
  // skipped.
  EXPECT_EQ(totals.events, 400u);
  EXPECT_EQ(fake.calls.size(), 400u);
  EXPECT_EQ(fake.stored(), 400u);
}

TEST(RunWritersTest, StopsAtTheFirstFailure) {
  FakeDriver fake({});
  // Not opened: the fake refuses every append.
  const auto streams = Streams(2);
  const auto pool = MakeEvents(64, 10, 1);
  AppendTotals totals;
  EXPECT_FALSE(RunWriters(&fake, RunOf(streams, pool, 1, 10), &totals).ok());
  EXPECT_EQ(fake.calls.size(), 1u);
}

TEST(RunWritersTest, RefusesARunWithoutBounds) {
  FakeDriver fake({});
  const auto streams = Streams(2);
  const auto pool = MakeEvents(64, 10, 1);
  AppendTotals totals;
  EXPECT_EQ(RunWriters(&fake, RunOf(streams, pool, 1, 0), &totals).code(),
            StatusCode::kInvalidArgument);
  // A pool smaller than one append.
  EXPECT_EQ(RunWriters(&fake, RunOf(streams, pool, 11, 20), &totals).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake.calls.empty());
}

TEST(RunPipelinedTest, KeepsExactlyInFlightAppendsOutstanding) {
  FakeDriver fake(Async(), /*hold=*/8);
  ASSERT_TRUE(fake.Open(WriteMode::kMeasured).ok());
  const auto streams = Streams(16);
  const auto pool = MakeEvents(64, 10, 1);
  AppendRun run = RunOf(streams, pool, 1, 64);
  run.in_flight = 8;
  LatencyHistogram latency;
  run.latency = &latency;
  uint64_t acks = 0;
  run.after_append = [&](uint64_t, int64_t, const Appended&) { ++acks; };
  AppendTotals totals;
  ASSERT_TRUE(RunPipelined(&fake, run, &totals).ok());
  EXPECT_EQ(fake.max_held, 8u);
  ASSERT_EQ(fake.calls.size(), 64u);
  for (size_t i = 0; i < fake.calls.size(); ++i) {
    EXPECT_TRUE(fake.calls[i].async);
    EXPECT_EQ(fake.calls[i].stream, streams[i % 16]);
    EXPECT_EQ(fake.calls[i].expected, static_cast<int64_t>(i / 16) - 1);
  }
  EXPECT_EQ(totals.events, 64u);
  EXPECT_EQ(totals.appends, 64u);
  EXPECT_EQ(latency.count(), 64u);
  EXPECT_EQ(acks, 64u);
  EXPECT_EQ(fake.new_writers, 0);
}

TEST(RunPipelinedTest, AnAppendWaitsForItsStreamsPreviousOne) {
  // Two streams and four slots: never more than one append per stream.
  FakeDriver fake(Async(), /*hold=*/2);
  ASSERT_TRUE(fake.Open(WriteMode::kMeasured).ok());
  const auto streams = Streams(2);
  const auto pool = MakeEvents(64, 10, 1);
  AppendRun run = RunOf(streams, pool, 1, 8);
  run.in_flight = 4;
  AppendTotals totals;
  ASSERT_TRUE(RunPipelined(&fake, run, &totals).ok());
  EXPECT_EQ(fake.max_held, 2u);
  ASSERT_EQ(fake.calls.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(fake.calls[i].expected, static_cast<int64_t>(i / 2) - 1);
  }
  EXPECT_EQ(fake.stored(), 8u);
}

TEST(RunPipelinedTest, NeedsAppendAsync) {
  FakeDriver fake({});
  const auto streams = Streams(2);
  const auto pool = MakeEvents(64, 10, 1);
  AppendTotals totals;
  EXPECT_EQ(RunPipelined(&fake, RunOf(streams, pool, 1, 4), &totals).code(),
            StatusCode::kNotSupported);
  EXPECT_TRUE(fake.calls.empty());
}

TEST(LoadEventsTest, PipelinedWhereTheDriverHasAppendAsync) {
  FakeDriver fake(Async(), /*hold=*/kLoadInFlight);
  ASSERT_TRUE(fake.Open(WriteMode::kLoad).ok());
  const auto streams = Streams(100);
  const auto pool = MakeEvents(64, 16, 1);
  AppendTotals totals;
  ASSERT_TRUE(LoadEvents(&fake, streams, pool, kLoadInFlight * 10, 10,
                         WriteMode::kLoad, nullptr, "", &totals)
                  .ok());
  EXPECT_EQ(fake.calls.size(), kLoadInFlight);
  EXPECT_EQ(fake.max_held, kLoadInFlight);
  for (const auto& call : fake.calls) {
    EXPECT_TRUE(call.async);
    EXPECT_EQ(call.events, 10u);
    EXPECT_EQ(call.mode, WriteMode::kLoad);
  }
  EXPECT_EQ(totals.events, kLoadInFlight * 10);
}

TEST(LoadEventsTest, WritersOtherwise) {
  FakeDriver fake({});
  ASSERT_TRUE(fake.Open(WriteMode::kLoad).ok());
  const auto streams = Streams(5);
  const auto pool = MakeEvents(64, 16, 1);
  AppendTotals totals;
  ASSERT_TRUE(LoadEvents(&fake, streams, pool, 95, 10, WriteMode::kLoad,
                         nullptr, "", &totals)
                  .ok());
  EXPECT_EQ(fake.new_writers, fake.load_writers());
  ASSERT_EQ(fake.calls.size(), 10u);
  EXPECT_EQ(fake.calls.back().events, 5u);
  for (const auto& call : fake.calls) {
    EXPECT_FALSE(call.async);
    EXPECT_EQ(call.mode, WriteMode::kLoad);
  }
}

TEST(RunTimedTest, RunsAtLeastOnceAndFinishesAPass) {
  // The duration is over before the first step returns; the run still
  // completes the pass its steps belong to.
  int calls = 0;
  TimedTotals totals;
  LatencyHistogram latency;
  ASSERT_TRUE(RunTimed(
                  1e-9,
                  [&]() -> Result<Step> {
                    ++calls;
                    return Step{10, calls == 3};
                  },
                  &latency, nullptr, "", &totals)
                  .ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(totals.operations, 3u);
  EXPECT_EQ(totals.events, 30u);
  EXPECT_EQ(latency.count(), 3u);
}

TEST(RunTimedTest, StopsAtTheFirstError) {
  int calls = 0;
  TimedTotals totals;
  const Status s = RunTimed(
      1e-9,
      [&]() -> Result<Step> {
        ++calls;
        if (calls == 2) return Status::IOError("gone");
        return Step{1, false};
      },
      nullptr, nullptr, "", &totals);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace cairn::tools::bench
