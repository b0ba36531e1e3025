// Copyright (c) Cairn authors.
//
// `cairn bench` end to end with tiny settings: every workload runs, and the
// JSON report carries the fields with sane values. No timing thresholds:
// the figures depend on the machine and its load.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tools/bench/stats.h"
#include "tools/bench/workloads.h"
#include "tools/cli/cmd_bench.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

struct BenchRun {
  int code = -1;
  std::string out;
  std::string err;
};

BenchRun RunBench(std::vector<std::string> args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  const Io io{in, out, err};
  CLI::App app{"cairn"};
  Command command = AddBenchCommand(app, io);
  args.insert(args.begin(), {"cairn", "bench"});
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  BenchRun run;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    run.code = command.run();
  } catch (const CLI::ParseError& e) {
    run.code = kExitUsage;
    run.err = e.what();
  }
  run.out = out.str();
  run.err += err.str();
  return run;
}

// Tiny settings: a fraction of a second per phase, a few thousand events.
std::vector<std::string> Tiny(const std::string& workload,
                              const std::string& dir) {
  return {"--workload",     workload, "--dir",    dir,    "--duration", "0.1",
          "--raw-duration", "0.02",   "--events", "2000", "--streams",  "50",
          "--json"};
}

const json::Value& Member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.Find(key);
  static const json::Value kNull;
  EXPECT_NE(value, nullptr) << "missing \"" << key << "\"";
  return value != nullptr ? *value : kNull;
}

double Number(const json::Value& object, std::string_view key) {
  const json::Value& value = Member(object, key);
  EXPECT_TRUE(value.is_number()) << key;
  return value.AsDouble().value_or(-1);
}

void ExpectSaneResult(const json::Value& r, const std::string& workload) {
  SCOPED_TRACE(workload);
  EXPECT_EQ(Member(r, "workload").string_value(), workload);
  EXPECT_GT(Number(r, "events"), 0);
  EXPECT_GT(Number(r, "seconds"), 0);
  EXPECT_GT(Number(r, "events_per_sec"), 0);
  EXPECT_GT(Number(r, "operations"), 0);
  // A record is never smaller than its payload.
  EXPECT_GE(Number(r, "bytes_per_event"), 200);
  EXPECT_EQ(Number(r, "payload_bytes_per_event"), 200);
  const json::Value& latency = Member(r, "latency_us");
  ASSERT_TRUE(latency.is_object());
  const double p50 = Number(latency, "p50");
  const double p99 = Number(latency, "p99");
  const double p999 = Number(latency, "p999");
  // Only the order of the percentiles is asserted: a delivery can beat the
  // clock's resolution, so any latency may legitimately read 0.
  EXPECT_GE(p50, 0);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, p999);
  EXPECT_LE(p999, Number(latency, "max"));
  EXPECT_GT(Number(Member(r, "memory"), "rss_anon_bytes"), 0);
}

json::Value ParseReport(const BenchRun& run, const std::string& raw_text) {
  json::Value report;
  json::ParseError error;
  EXPECT_TRUE(json::Parse(raw_text, &report, &error))
      << error.ToString() << "\n"
      << run.out;
  EXPECT_TRUE(report.is_object());
  return report;
}

void ExpectReportHeader(const json::Value& report) {
  const json::Value& machine = Member(report, "machine");
  EXPECT_GE(Number(machine, "nproc"), 1);
  EXPECT_FALSE(Member(machine, "kernel").string_value().empty());
  EXPECT_TRUE(Member(machine, "cpu").is_string());
  EXPECT_EQ(Member(report, "date").string_value().size(), 20u);
  EXPECT_GT(Number(report, "raw_fsync_per_sec"), 0);
  EXPECT_GT(Number(report, "raw_write_mb_per_sec"), 0);
  const json::Value& raw = Member(report, "raw");
  EXPECT_GT(Number(raw, "fresh_fsync_per_sec"), 0);
  EXPECT_GE(Number(Member(raw, "fsync_latency_us"), "p50"), 0);
}

class BenchWorkloadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BenchWorkloadTest, ReportsSaneJson) {
  testing::TempDir dir;
  const std::string workload = GetParam();
  BenchRun run = RunBench(Tiny(workload, dir.path()));
  ASSERT_EQ(run.code, kExitOk) << run.err;
  // One JSON object on one line.
  ASSERT_FALSE(run.out.empty());
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1);
  json::Value report = ParseReport(run, run.out);
  EXPECT_EQ(Member(report, "workload").string_value(), workload);
  ExpectReportHeader(report);
  // The single workload's figures are at the top level and in `results`.
  ExpectSaneResult(report, workload);
  const json::Value& results = Member(report, "results");
  ASSERT_TRUE(results.is_array());
  ASSERT_EQ(results.items().size(), 1u);
  ExpectSaneResult(results.items()[0], workload);
  if (workload == "single" || workload == "concurrent" || workload == "batch" ||
      workload == "concurrent-plain") {
    // The store's group commits over the measured phase: every event
    // measured, and at least one durability sync.
    const json::Value& commits = Member(report, "commits");
    EXPECT_GE(Number(commits, "count"), 1);
    EXPECT_EQ(Number(commits, "events"), Number(report, "events"));
    // The report gives three decimals.
    EXPECT_NEAR(Number(commits, "events_per_commit"),
                Number(commits, "events") / Number(commits, "count"), 5e-4);
    EXPECT_GE(Number(commits, "syncs"), 1);
    EXPECT_GE(Number(commits, "sync_us_mean"), 0);
    if (workload != "concurrent" && workload != "concurrent-plain") {
      // One synchronous writer: nothing to merge its appends with.
      EXPECT_EQ(Number(commits, "count"), Number(report, "operations"));
    }
  }
  if (workload == "read-all" || workload == "read-streams") {
    // Measured after a reopen that committed nothing.
    EXPECT_EQ(report.Find("commits"), nullptr);
  }
  if (workload == "single") {
    EXPECT_GT(Number(report, "ratio_to_raw_fsync"), 0);
  }
  if (workload == "batch") {
    EXPECT_GT(Number(report, "ratio_to_raw_bandwidth"), 0);
    EXPECT_GT(Number(report, "ratio_to_raw_append_writes"), 0);
    EXPECT_GT(Number(Member(report, "raw"), "append_write_mb_per_sec"), 0);
    EXPECT_EQ(static_cast<uint64_t>(Number(report, "events")) % 100, 0u);
  }
  if (workload == "read-category" || workload == "read-long-stream") {
    // Whole passes over a stream holding half of the 2000 loaded events.
    EXPECT_EQ(Number(Member(report, "load"), "events"), 2000);
    EXPECT_EQ(static_cast<uint64_t>(Number(report, "events")) % 1000, 0u);
    EXPECT_GT(Number(report, "events"), 0);
  }
  if (workload == "read-all" || workload == "read-all-unverified" ||
      workload == "read-streams") {
    EXPECT_EQ(Number(Member(report, "load"), "events"), 2000);
  }
  if (workload == "read-all" || workload == "read-all-unverified") {
    // Whole passes over the 2000 loaded events.
    EXPECT_EQ(static_cast<uint64_t>(Number(report, "events")) % 2000, 0u);
  }
  if (workload == "scale") {
    EXPECT_EQ(Number(report, "events"), 2000);
    EXPECT_EQ(Member(report, "samples").items().size(), 10u);
  }
  if (workload == "scavenge") {
    // The store of 2000 events; half of its streams removable.
    EXPECT_EQ(Number(Member(report, "load"), "events"), 2000);
    const json::Value& scavenge = Member(report, "scavenge");
    EXPECT_EQ(Number(scavenge, "removable"), 0.5);
    EXPECT_GE(Number(scavenge, "events_examined"), 2000);
    EXPECT_EQ(Number(scavenge, "events_examined"), Number(report, "events"));
    EXPECT_GT(Number(scavenge, "events_removed"), 0);
    EXPECT_LT(Number(scavenge, "events_removed"), 2000);
    EXPECT_GT(Number(scavenge, "bytes_examined"), 2000 * 200);
    // Half of the events gone: the parts shrank.
    EXPECT_GT(Number(scavenge, "bytes_written"), 0);
    EXPECT_LT(Number(scavenge, "bytes_written"),
              Number(scavenge, "parts_bytes_before"));
    EXPECT_GT(Number(scavenge, "examined_mb_per_sec"), 0);
    EXPECT_GT(Number(scavenge, "written_mb_per_sec"), 0);
    EXPECT_GE(Number(scavenge, "appends_while_scavenging"), 1);
    EXPECT_GT(Number(Member(scavenge, "append_latency_us_while_scavenging"),
                     "samples"),
              0);
    EXPECT_GT(Number(report, "ratio_to_raw_bandwidth"), 0);
    EXPECT_GE(Number(report, "p99_ratio_while_scavenging"), 0);
    EXPECT_TRUE(Member(Member(report, "goal"), "met").is_bool());
  }
  if (workload == "subscribe") {
    // Every subscriber received every appended event.
    EXPECT_EQ(Number(report, "subscribers"), 1);
    EXPECT_EQ(Number(report, "delivered"), Number(report, "events"));
    EXPECT_GT(Number(report, "catchup_events_per_sec"), 0);
  }
  // The scratch directory is gone.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

INSTANTIATE_TEST_SUITE_P(AllWorkloads, BenchWorkloadTest,
                         ::testing::Values("single", "concurrent", "batch",
                                           "read-all", "read-streams", "scale",
                                           "subscribe", "concurrent-plain",
                                           "read-category", "read-long-stream",
                                           "scavenge", "read-all-unverified"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST(BenchTest, AllRunsFourWorkloadsAndComparesConcurrentWithSingle) {
  testing::TempDir dir;
  BenchRun run = RunBench(Tiny("all", dir.path()));
  ASSERT_EQ(run.code, kExitOk) << run.err;
  json::Value report = ParseReport(run, run.out);
  ExpectReportHeader(report);
  const auto& results = Member(report, "results").items();
  ASSERT_EQ(results.size(), 4u);
  const char* expected[] = {"single", "concurrent", "batch", "read-all"};
  for (size_t i = 0; i < results.size(); ++i) {
    ExpectSaneResult(results[i], expected[i]);
  }
  EXPECT_GT(Number(results[1], "ratio_to_single"), 0);
  EXPECT_TRUE(Member(Member(results[1], "goal"), "met").is_bool());
}

TEST(BenchTest, ListComparesTheLinkStreamWorkloadsInOneRun) {
  testing::TempDir dir;
  BenchRun run = RunBench(
      Tiny("concurrent,concurrent-plain,read-category,read-long-stream",
           dir.path()));
  ASSERT_EQ(run.code, kExitOk) << run.err;
  json::Value report = ParseReport(run, run.out);
  const auto& results = Member(report, "results").items();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_GT(Number(results[1], "ratio_to_baseline"), 0);
  EXPECT_TRUE(Member(Member(results[1], "goal"), "met").is_bool());
  EXPECT_GT(Number(results[2], "ratio_to_baseline"), 0);
  EXPECT_TRUE(Member(Member(results[2], "goal"), "met").is_bool());
  BenchRun bad = RunBench(Tiny("concurrent,nope", dir.path()));
  EXPECT_NE(bad.code, kExitOk);
}

TEST(BenchTest, HumanSummaryAndProgress) {
  testing::TempDir dir;
  std::vector<std::string> args = Tiny("single", dir.path());
  args.pop_back();  // no --json
  BenchRun run = RunBench(args);
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("raw disk:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("events/s"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("the raw fdatasync rate"), std::string::npos);
  // Progress lines are rewritten in place on stderr.
  EXPECT_NE(run.err.find('\r'), std::string::npos);
}

TEST(BenchTest, RejectsUnknownWorkloadAndBadSizes) {
  testing::TempDir dir;
  EXPECT_EQ(RunBench({"--workload", "nope", "--dir", dir.path()}).code,
            kExitUsage);
  EXPECT_EQ(RunBench({"--workload", "single", "--event-size", "3", "--dir",
                      dir.path()})
                .code,
            kExitUsage);
  EXPECT_EQ(
      RunBench({"--workload", "single", "--duration", "0", "--dir", dir.path()})
          .code,
      kExitUsage);
}

TEST(BenchEventsTest, EventsHaveTheExactSizeAndJsonPayloads) {
  for (uint32_t size : {16u, 64u, 200u, 1000u, 10000u}) {
    auto events = bench::MakeEvents(size, 8, 1);
    ASSERT_EQ(events.size(), 8u);
    for (const EventData& e : events) {
      EXPECT_EQ(e.type.size() + e.data.size() + e.metadata.size(), size);
      EXPECT_TRUE(json::IsJson(e.data)) << e.data;
      if (!e.metadata.empty()) {
        EXPECT_TRUE(json::IsJson(e.metadata));
      }
    }
    EXPECT_NE(events[0].data, events[1].data);
  }
  EXPECT_NE(bench::StreamName(1), bench::StreamName(2));
  EXPECT_EQ(bench::StreamName(7).rfind("Order-", 0), 0u);
}

TEST(BenchHistogramTest, PercentilesWithinBucketResolution) {
  bench::LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  for (uint64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 100000000u);
  auto near = [](uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want / 100;
  };
  EXPECT_TRUE(near(h.Percentile(0.5), 50e6)) << h.Percentile(0.5);
  EXPECT_TRUE(near(h.Percentile(0.99), 99e6)) << h.Percentile(0.99);
  EXPECT_TRUE(near(h.Percentile(0.999), 99.9e6)) << h.Percentile(0.999);
  EXPECT_EQ(h.Percentile(1.0), 100000000u);
  EXPECT_EQ(h.Percentile(0.0), 1000u);

  // Buckets tile the value range without gaps or overlaps.
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 255ull, 256ull, 1000ull,
                     (1ull << 40) + 12345, ~0ull}) {
    const size_t b = bench::LatencyHistogram::BucketOf(v);
    EXPECT_LE(v, bench::LatencyHistogram::BucketUpperBound(b)) << v;
    if (b > 0) {
      EXPECT_GT(v, bench::LatencyHistogram::BucketUpperBound(b - 1)) << v;
    }
  }

  bench::LatencyHistogram other;
  other.Record(5);
  h.Merge(other);
  EXPECT_EQ(h.count(), 100001u);
  EXPECT_EQ(h.min(), 5u);
}

}  // namespace
}  // namespace cairn::tools
