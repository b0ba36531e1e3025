// Copyright (c) Cairn authors.
//
// What `cairn bench` and bench/peers print: the figures of a run, for
// Cairn set against the raw limits measured in the same run and against
// the project's goals, as one JSON object or as a summary for people. One
// writer for both, so the peers' JSON has the field names of Cairn's.
#ifndef CAIRN_TOOLS_BENCH_REPORT_H_
#define CAIRN_TOOLS_BENCH_REPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/bench/driver.h"
#include "tools/bench/raw.h"
#include "tools/bench/sysinfo.h"
#include "tools/bench/workloads.h"
#include "tools/jsonl/json_writer.h"

namespace cairn::tools::bench {

struct BenchReport {
  // The peer measured (bench/peers: its driver's name); empty for Cairn's
  // own `cairn bench`, whose results are assessed against the goals.
  std::string peer;
  // The peer's durability of an acknowledged append, in words.
  std::string durability_text;
  // The peer's settings, as its driver reports them.
  std::vector<Setting> store_settings;
  std::string workload;  // as asked for: a workload name or "all"
  std::string date;      // UTC, ISO 8601
  MachineInfo machine;
  std::string dir;  // where the run wrote (removed afterwards)
  std::string fs_type;
  // 1-minute load average before and after the run.
  double load_start = -1;
  double load_end = -1;
  // Settings as given on the command line.
  double seconds = 0;
  uint32_t event_size = 0;
  uint64_t events = 0;     // 0: the workloads' defaults
  uint64_t streams = 0;    // 0: the workloads' defaults
  uint32_t in_flight = 0;  // 0: not reported
  std::string durability;  // `cairn bench --durability`
  // The raw limits, when measured (raw_seconds > 0).
  double raw_seconds = 0;
  RawLimits raw;
  std::vector<WorkloadResult> results;
};

// A result against the raw limits, the other results of the run and the
// goal set for its workload.
struct Assessment {
  // single: events/s over raw 4 KiB fdatasyncs/s.
  std::optional<double> ratio_to_raw_fsync;
  // batch: stored MB/s over raw durable MB/s, and the MB/s themselves;
  // scavenge: the log's record MB it went over per second, over raw
  // durable MB/s.
  std::optional<double> ratio_to_raw_bandwidth;
  std::optional<double> stored_mb_per_sec;
  std::optional<double> payload_mb_per_sec;
  // batch: stored MB/s over raw writes+fdatasync of one append's size.
  std::optional<double> ratio_to_raw_append_writes;
  // concurrent: events/s over those of `single` in the same run.
  std::optional<double> ratio_to_single;
  // concurrent-plain: concurrent's events/s over its own (the cost of the
  // $ce-/$et- streams per append); read-category: its events/s over
  // read-long-stream's. Both from the same run.
  std::optional<double> ratio_to_baseline;
  // scavenge: append p99 while the scavenge runs over the p99 without;
  // and the disk's own: raw 4 KiB fdatasync p99 beside a sequential 1 MiB
  // writer over the quiet one.
  std::optional<double> p99_ratio_while_scavenging;
  std::optional<double> raw_p99_ratio_beside_writer;
  // The goal for this workload, if it has one, and whether it was met
  // (nullopt when the run lacks what the goal compares against).
  std::string goal;
  std::optional<bool> goal_met;
  // Why the goal is not judged from this run (empty: it is, or the run
  // lacks a workload it compares with).
  std::string not_judged;
};

Assessment Assess(const BenchReport& report, const WorkloadResult& result);

// One JSON object (no trailing newline).
std::string ReportJson(const BenchReport& report);

// A latency histogram as {"p50":..,"p99":..,"p999":..,"mean":..,"max":..,
// "samples":N}, in microseconds: the shape of every latency in the JSON
// reports of `cairn bench` and bench/peers.
void WriteLatency(json::Writer* w, std::string_view key,
                  const LatencyHistogram& h);
// The human summary.
std::string ReportText(const BenchReport& report);

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_REPORT_H_
