// Copyright (c) Cairn authors.
#include "tools/bench/report.h"

#include <cmath>
#include <cstdio>
#include <string_view>

#include "tools/jsonl/json.h"
#include "tools/jsonl/json_writer.h"

namespace cairn::tools::bench {
namespace {

// The goals the project set itself (docs/benchmarks.md).
constexpr double kSingleGoal = 0.9;          // x raw fdatasync rate
constexpr double kConcurrentGoal = 250'000;  // events/s
constexpr double kConcurrentVsSingle = 50;   // x single
constexpr double kBatchGoal = 0.6;           // x raw durable bandwidth
constexpr uint64_t kBatchGoalWriters = 8;    // ... with this many writers
constexpr double kReadAllGoal = 15'000'000;  // events/s
constexpr double kReadAllUnverifiedGoal = 25'000'000;  // events/s
// Issue 10: $ce-/$et- indexing costs <= 15 % of concurrent throughput, and
// reading a $ce- stream runs at >= 50 % of a plain one's rate.
constexpr double kLinkAppendGoal = 0.85;  // concurrent over concurrent-plain
constexpr double kLinkReadGoal = 0.5;     // read-category over plain
// Issue 10: a scavenge rewrites at >= 50 % of the raw durable bandwidth,
// and append p99 while one runs is <= 2x that without.
constexpr double kScavengeRewriteGoal = 0.5;
constexpr double kScavengeP99Goal = 2;

double PerSecond(double amount, double seconds) {
  return seconds > 0 ? amount / seconds : 0;
}

double Micros(uint64_t nanos) { return static_cast<double>(nanos) / 1e3; }

// Only where measured: the process's memory is the store's only when the
// store runs in it.
void WriteMemory(json::Writer* w, std::string_view key, const MemoryUsage& m) {
  if (m.vm_rss == 0) return;
  w->BeginObject(key);
  w->Uint("vm_rss_bytes", m.vm_rss);
  w->Uint("rss_anon_bytes", m.rss_anon);
  w->EndObject();
}

// The members of one result (inside an object the caller opened); the
// top level already names the workload, so it asks to leave it out.
void WriteResultMembers(json::Writer* w, const BenchReport& report,
                        const WorkloadResult& r, bool with_name = true) {
  if (with_name) w->String("workload", r.workload);
  w->Uint("events", r.events);
  w->Number("seconds", r.seconds);
  w->Number("events_per_sec", r.events_per_sec);
  w->Uint("operations", r.operations);
  w->Number("bytes_per_event", r.bytes_per_event);
  w->Uint("payload_bytes_per_event", r.payload_bytes_per_event);
  w->Uint("streams", r.streams);
  if (r.writers > 0) w->Uint("writers", r.writers);
  if (r.commits > 0) {
    w->BeginObject("commits");
    w->Uint("count", r.commits);
    w->Uint("events", r.committed_events);
    w->Number("events_per_commit", static_cast<double>(r.committed_events) /
                                       static_cast<double>(r.commits));
    w->Uint("syncs", r.syncs);
    if (r.syncs > 0) {
      w->Number("sync_us_mean", static_cast<double>(r.sync_micros) /
                                    static_cast<double>(r.syncs));
    }
    w->EndObject();
  }
  w->String("latency_of", r.latency_of);
  WriteLatency(w, "latency_us", r.latency_ns);
  WriteMemory(w, "memory", r.memory);
  if (r.loaded_events > 0) {
    w->BeginObject("load");
    w->Uint("events", r.loaded_events);
    w->Number("seconds", r.load_seconds);
    w->Number("open_seconds", r.open_seconds);
    WriteMemory(w, "memory_after_open", r.memory_after_open);
    w->EndObject();
  }
  if (r.crash_appended_events > 0) {
    w->BeginObject("restart");
    w->Uint("killed_after_appending", r.crash_appended_events);
    w->Uint("replayed_events_after_kill", r.crash_replayed_events);
    w->Number("open_seconds_after_kill", r.crash_open_seconds);
    w->Number("open_seconds_after_close", r.open_seconds);
    w->Uint("random_stream_reads", r.reads);
    w->Uint("events_read", r.read_events);
    w->Number("read_events_per_sec",
              r.read_seconds > 0
                  ? static_cast<double>(r.read_events) / r.read_seconds
                  : 0);
    w->Number(
        "reads_per_sec",
        r.read_seconds > 0 ? static_cast<double>(r.reads) / r.read_seconds : 0);
    WriteLatency(w, "read_latency_us", r.read_latency_ns);
    w->EndObject();
  }
  if (r.subscribers > 0) {
    w->Uint("subscribers", r.subscribers);
    w->Uint("in_flight", r.in_flight);
    w->Uint("delivered", r.delivered);
    w->Number("delivered_per_sec", r.delivered_per_sec);
    w->Number("catchup_events_per_sec", r.catchup_events_per_sec);
  }
  if (r.workload == "scavenge") {
    const ScavengeFigures& f = r.scavenge;
    w->BeginObject("scavenge");
    w->Number("removable", f.removable);
    w->Uint("throttle_percent", f.throttle_percent);
    w->Uint("bytes_per_sync", f.bytes_per_sync);
    w->Uint("events_examined", f.events_examined);
    w->Uint("events_removed", f.events_removed);
    w->Uint("bytes_examined", f.bytes_examined);
    w->Uint("parts_bytes_before", f.parts_bytes_before);
    w->Uint("bytes_written", f.bytes_written);
    w->Number("seconds", f.seconds);
    w->Number("rested_seconds", f.rested_seconds);
    w->Number(
        "examined_mb_per_sec",
        PerSecond(static_cast<double>(f.bytes_examined) / 1e6, f.seconds));
    w->Number("written_mb_per_sec",
              PerSecond(static_cast<double>(f.bytes_written) / 1e6, f.seconds));
    w->Uint("appends_while_scavenging", f.appends_while_scavenging);
    WriteLatency(w, "append_latency_us_while_scavenging", f.latency_ns);
    w->EndObject();
  }
  if (!r.samples.empty()) {
    w->BeginArray("samples");
    for (const ScaleSample& s : r.samples) {
      w->BeginObject();
      w->Uint("events", s.events);
      w->Number("seconds", s.seconds);
      w->Number("events_per_sec", s.events_per_sec);
      w->Uint("vm_rss_bytes", s.memory.vm_rss);
      w->Uint("rss_anon_bytes", s.memory.rss_anon);
      w->EndObject();
    }
    w->EndArray();
  }
  const Assessment a = Assess(report, r);
  if (a.ratio_to_raw_fsync) {
    w->Number("ratio_to_raw_fsync", *a.ratio_to_raw_fsync);
  }
  if (a.ratio_to_raw_bandwidth) {
    w->Number("ratio_to_raw_bandwidth", *a.ratio_to_raw_bandwidth);
  }
  if (a.stored_mb_per_sec) w->Number("stored_mb_per_sec", *a.stored_mb_per_sec);
  if (a.payload_mb_per_sec) {
    w->Number("payload_mb_per_sec", *a.payload_mb_per_sec);
  }
  if (a.ratio_to_raw_append_writes) {
    w->Number("ratio_to_raw_append_writes", *a.ratio_to_raw_append_writes);
  }
  if (a.ratio_to_single) w->Number("ratio_to_single", *a.ratio_to_single);
  if (a.ratio_to_baseline) {
    w->Number("ratio_to_baseline", *a.ratio_to_baseline);
  }
  if (a.raw_p99_ratio_beside_writer) {
    w->Number("raw_p99_ratio_beside_writer", *a.raw_p99_ratio_beside_writer);
  }
  if (a.p99_ratio_while_scavenging) {
    w->Number("p99_ratio_while_scavenging", *a.p99_ratio_while_scavenging);
  }
  if (!a.goal.empty()) {
    w->BeginObject("goal");
    w->String("text", a.goal);
    if (a.goal_met) {
      w->Bool("met", *a.goal_met);
    } else {
      w->Null("met");
    }
    w->EndObject();
  }
}

// The raw limits, as an object "raw" and, for older readers, the two
// headline rates at the top level.
void WriteRaw(json::Writer* w, const RawLimits& raw) {
  w->BeginObject("raw");
  w->Number("fsync_per_sec", raw.fsync_per_sec);
  w->Uint("fsync_ops", raw.fsync_ops);
  WriteLatency(w, "fsync_latency_us", raw.fsync_latency_ns);
  w->Number("fresh_fsync_per_sec", raw.fresh_fsync_per_sec);
  WriteLatency(w, "fresh_fsync_latency_us", raw.fresh_fsync_latency_ns);
  w->Number("write_mb_per_sec", raw.write_mb_per_sec);
  w->Uint("write_bytes", raw.write_bytes);
  if (raw.beside_writer_fsync_latency_ns.count() > 0) {
    WriteLatency(w, "beside_writer_fsync_latency_us",
                 raw.beside_writer_fsync_latency_ns);
    w->Number("beside_writer_mb_per_sec", raw.beside_writer_mb_per_sec);
  }
  if (raw.append_write_bytes > 0) {
    w->Uint("append_write_bytes", raw.append_write_bytes);
    w->Number("append_writes_per_sec", raw.append_writes_per_sec);
    w->Number("append_write_mb_per_sec", raw.append_write_mb_per_sec);
  }
  w->EndObject();
  w->Number("raw_fsync_per_sec", raw.fsync_per_sec);
  w->Number("raw_write_mb_per_sec", raw.write_mb_per_sec);
}

const WorkloadResult* Find(const BenchReport& report, std::string_view name) {
  for (const WorkloadResult& r : report.results) {
    if (r.workload == name) return &r;
  }
  return nullptr;
}

std::string Format(const char* format, double value) {
  char text[64];
  (void)std::snprintf(text, sizeof(text), format, value);
  return text;
}

// "850 us", "12.3 ms", "1.20 s".
std::string Duration(uint64_t nanos) {
  const double us = Micros(nanos);
  if (us < 1) return Format("%.2f us", us);
  if (us < 10'000) return Format("%.0f us", us);
  if (us < 10'000'000) return Format("%.1f ms", us / 1e3);
  return Format("%.2f s", us / 1e6);
}

std::string Latencies(const LatencyHistogram& h) {
  return "p50 " + Duration(h.Percentile(0.5)) + ", p99 " +
         Duration(h.Percentile(0.99)) + ", p99.9 " +
         Duration(h.Percentile(0.999));
}

// The raw limits, for people.
std::string RawText(const RawLimits& raw) {
  std::string out = "raw disk:  4 KiB write+fdatasync " +
                    Format("%.0f/s", raw.fsync_per_sec) + " (" +
                    Latencies(raw.fsync_latency_ns) + ")\n";
  out += "           into fresh preallocated blocks " +
         Format("%.0f/s", raw.fresh_fsync_per_sec) + " (" +
         Latencies(raw.fresh_fsync_latency_ns) + ")\n";
  out += "           1 MiB write+fdatasync " +
         Format("%.1f MB/s", raw.write_mb_per_sec) + "\n";
  if (raw.beside_writer_fsync_latency_ns.count() > 0) {
    out += "           4 KiB write+fdatasync beside a 1 MiB writer (" +
           Format("%.1f MB/s", raw.beside_writer_mb_per_sec) +
           "): " + Latencies(raw.beside_writer_fsync_latency_ns) + "\n";
  }
  if (raw.append_write_bytes > 0) {
    out += "           " + std::to_string(raw.append_write_bytes) +
           " B write+fdatasync (one batch append's bytes) " +
           Format("%.0f/s", raw.append_writes_per_sec) + " = " +
           Format("%.1f MB/s", raw.append_write_mb_per_sec) + "\n";
  }
  return out;
}

std::string MiB(uint64_t bytes) {
  return Format("%.0f MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string Describe(const WorkloadResult& r) {
  const std::string from =
      r.writers > 1 ? ", " + std::to_string(r.writers) + " writers" : "";
  if (r.workload == "single") {
    return "1 event per append, each awaited, durable" + from;
  }
  if (r.workload == "concurrent") {
    return std::to_string(r.writers) +
           " single-event appends in flight, durable";
  }
  if (r.workload == "batch") {
    return std::to_string(kBatchEvents) +
           "-event appends, each awaited, durable" + from;
  }
  if (r.workload == "read-all") {
    return "a pass over everything in global order, warm, repeated";
  }
  if (r.workload == "read-all-unverified") {
    return "read-all without verifying checksums";
  }
  if (r.workload == "read-streams") {
    return "random single-stream ReadStream, warm";
  }
  if (r.workload == "scale") {
    return std::to_string(kBatchEvents) + "-event Appends as the store grows";
  }
  if (r.workload == "concurrent-plain") {
    return "concurrent without the $ce-/$et- streams";
  }
  if (r.workload == "read-category") {
    return "whole $ce- stream ReadStream, 1024 per call, warm";
  }
  if (r.workload == "read-long-stream") {
    return "whole plain stream ReadStream (as long as the $ce- one), warm";
  }
  if (r.workload == "scavenge") {
    return "durable single-event appends, then one Scavenge over the store "
           "while they go on";
  }
  if (r.workload == "subscribe") {
    return "live $all subscriptions while " + std::to_string(r.in_flight) +
           " single-event AppendAsync are in flight, durable";
  }
  return "";
}

// The scavenge workload's own lines.
std::string ScavengeText(const WorkloadResult& r) {
  const ScavengeFigures& f = r.scavenge;
  std::string out = "  store    " + MiB(f.bytes_examined) + " of records, " +
                    Format("%.0f%%", f.removable * 100) +
                    " of the streams removable\n";
  const double mb_per_sec =
      PerSecond(static_cast<double>(f.bytes_examined) / 1e6, f.seconds);
  out += "  scavenge: removed " + std::to_string(f.events_removed) + " of " +
         std::to_string(f.events_examined) + " events in " +
         Format("%.2f s", f.seconds) +
         (f.throttle_percent < 100
              ? " (throttle " + std::to_string(f.throttle_percent) + "%, " +
                    Format("%.2f s resting)", f.rested_seconds)
              : std::string()) +
         ", going over " + Format("%.1f MB/s of records", mb_per_sec) +
         "; rewrote parts of " + MiB(f.parts_bytes_before) + " on disk into " +
         MiB(f.bytes_written) + "\n";
  out += "  " + std::to_string(f.appends_while_scavenging) +
         " appends while it ran: " + Latencies(f.latency_ns) + "\n";
  return out;
}

// A goal of the form "rate >= goal x baseline rate", both from the same
// run; unjudged (no ratio) when either is missing.
void JudgeAgainst(double rate, double baseline, double goal,
                  const char* goal_format, Assessment* a) {
  if (rate > 0 && baseline > 0) a->ratio_to_baseline = rate / baseline;
  a->goal = Format(goal_format, goal * 100);
  if (a->ratio_to_baseline) a->goal_met = *a->ratio_to_baseline >= goal;
}

void AssessScavenge(const BenchReport& report, const WorkloadResult& r,
                    Assessment* a) {
  const ScavengeFigures& f = r.scavenge;
  const double examined =
      PerSecond(static_cast<double>(f.bytes_examined) / 1e6, f.seconds);
  if (report.raw.write_mb_per_sec > 0 && examined > 0) {
    a->ratio_to_raw_bandwidth = examined / report.raw.write_mb_per_sec;
  }
  const uint64_t quiet = r.latency_ns.Percentile(0.99);
  if (quiet > 0 && f.latency_ns.count() > 0) {
    a->p99_ratio_while_scavenging =
        static_cast<double>(f.latency_ns.Percentile(0.99)) /
        static_cast<double>(quiet);
  }
  const uint64_t raw_quiet = report.raw.fsync_latency_ns.Percentile(0.99);
  const LatencyHistogram& beside = report.raw.beside_writer_fsync_latency_ns;
  if (raw_quiet > 0 && beside.count() > 0) {
    a->raw_p99_ratio_beside_writer =
        static_cast<double>(beside.Percentile(0.99)) /
        static_cast<double>(raw_quiet);
  }
  a->goal =
      Format(">= %.0f%% of the raw durable bandwidth",
             kScavengeRewriteGoal * 100) +
      Format(" and append p99 <= %.0fx while scavenging", kScavengeP99Goal);
  if (a->ratio_to_raw_bandwidth && a->p99_ratio_while_scavenging) {
    a->goal_met = *a->ratio_to_raw_bandwidth >= kScavengeRewriteGoal &&
                  *a->p99_ratio_while_scavenging <= kScavengeP99Goal;
  }
}

}  // namespace

Assessment Assess(const BenchReport& report, const WorkloadResult& r) {
  Assessment a;
  // The goals are Cairn's.
  if (!report.peer.empty()) return a;
  const double eps = r.events_per_sec;
  if (r.workload == "single") {
    if (report.raw.fsync_per_sec > 0) {
      a.ratio_to_raw_fsync = eps / report.raw.fsync_per_sec;
    }
    a.goal = Format(">= %.2fx the raw fdatasync rate", kSingleGoal);
    if (a.ratio_to_raw_fsync) a.goal_met = *a.ratio_to_raw_fsync >= kSingleGoal;
  } else if (r.workload == "batch") {
    a.stored_mb_per_sec = eps * r.bytes_per_event / 1e6;
    a.payload_mb_per_sec = eps * r.payload_bytes_per_event / 1e6;
    if (report.raw.write_mb_per_sec > 0) {
      a.ratio_to_raw_bandwidth =
          *a.stored_mb_per_sec / report.raw.write_mb_per_sec;
    }
    if (report.raw.append_write_mb_per_sec > 0) {
      a.ratio_to_raw_append_writes =
          *a.stored_mb_per_sec / report.raw.append_write_mb_per_sec;
    }
    a.goal =
        Format(">= %.0f%% of the raw durable bandwidth", kBatchGoal * 100) +
        Format(" with %.0f writers", static_cast<double>(kBatchGoalWriters));
    if (r.writers < kBatchGoalWriters) {
      a.not_judged = Format("judged with --writers %.0f",
                            static_cast<double>(kBatchGoalWriters));
    } else if (a.ratio_to_raw_bandwidth) {
      a.goal_met = *a.ratio_to_raw_bandwidth >= kBatchGoal;
    }
  } else if (r.workload == "concurrent") {
    const WorkloadResult* single = Find(report, "single");
    if (single != nullptr && single->events_per_sec > 0) {
      a.ratio_to_single = eps / single->events_per_sec;
    }
    a.goal = Format(">= %.0fk events/s", kConcurrentGoal / 1e3) +
             Format(" and >= %.0fx single", kConcurrentVsSingle);
    if (eps < kConcurrentGoal) {
      a.goal_met = false;
    } else if (a.ratio_to_single) {
      a.goal_met = *a.ratio_to_single >= kConcurrentVsSingle;
    }
  } else if (r.workload == "read-all") {
    a.goal = Format(">= %.0fM events/s", kReadAllGoal / 1e6);
    a.goal_met = eps >= kReadAllGoal;
  } else if (r.workload == "read-all-unverified") {
    a.goal = Format(">= %.0fM events/s", kReadAllUnverifiedGoal / 1e6);
    a.goal_met = eps >= kReadAllUnverifiedGoal;
  } else if (r.workload == "concurrent-plain") {
    // The cost of the $ce-/$et- streams per append, from the same run.
    const WorkloadResult* with = Find(report, "concurrent");
    JudgeAgainst(with != nullptr ? with->events_per_sec : 0, eps,
                 kLinkAppendGoal, "concurrent >= %.0f%% of this", &a);
  } else if (r.workload == "read-category") {
    const WorkloadResult* plain = Find(report, "read-long-stream");
    JudgeAgainst(eps, plain != nullptr ? plain->events_per_sec : 0,
                 kLinkReadGoal, ">= %.0f%% of read-long-stream", &a);
  } else if (r.workload == "scavenge") {
    AssessScavenge(report, r, &a);
  }
  return a;
}

std::string ReportJson(const BenchReport& report) {
  json::Writer w;
  w.BeginObject();
  if (!report.peer.empty()) w.String("peer", report.peer);
  w.String("workload", report.workload);
  w.String("date", report.date);
  w.BeginObject("machine");
  w.Uint("nproc", report.machine.nproc);
  w.String("kernel", report.machine.kernel);
  w.String("cpu", report.machine.cpu_model);
  w.Uint("memory_bytes", report.machine.memory_bytes);
  w.EndObject();
  w.String("dir", report.dir);
  w.String("fs", report.fs_type);
  w.Number("load_average_start", report.load_start);
  w.Number("load_average_end", report.load_end);
  if (!report.durability_text.empty()) {
    w.String("durability", report.durability_text);
  }
  w.BeginObject("settings");
  w.Number("duration_s", report.seconds);
  w.Uint("event_size", report.event_size);
  w.Uint("events", report.events);
  w.Uint("streams", report.streams);
  if (report.in_flight > 0) w.Uint("in_flight", report.in_flight);
  if (!report.durability.empty()) w.String("durability", report.durability);
  if (report.raw_seconds > 0) w.Number("raw_duration_s", report.raw_seconds);
  for (const auto& [key, value] : report.store_settings) w.String(key, value);
  w.EndObject();
  if (report.raw_seconds > 0) WriteRaw(&w, report.raw);
  // A single workload's figures also sit at the top level, so scripts can
  // read `.events_per_sec` without knowing about `results`.
  if (report.results.size() == 1 && report.workload != "all") {
    WriteResultMembers(&w, report, report.results.front(),
                       /*with_name=*/false);
  }
  w.BeginArray("results");
  for (const WorkloadResult& r : report.results) {
    w.BeginObject();
    WriteResultMembers(&w, report, r);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string ReportText(const BenchReport& report) {
  std::string out;
  const MachineInfo& m = report.machine;
  out += (report.peer.empty() ? "cairn bench " : report.peer + " ") +
         report.workload + ", " + report.date + "\n";
  out += "machine:   " + std::to_string(m.nproc) + " CPUs, " +
         (m.cpu_model.empty() ? "unknown CPU" : m.cpu_model) + ", " +
         Format("%.1f GiB", static_cast<double>(m.memory_bytes) /
                                static_cast<double>(1ull << 30)) +
         ", " + m.kernel + "\n";
  out += "directory: " + report.dir + " (" + report.fs_type + ")\n";
  out += "load:      " + Format("%.2f", report.load_start) + " before, " +
         Format("%.2f", report.load_end) +
         " after (1-minute load average; other work skews the figures)\n";
  out += "settings:  " + Format("%g s", report.seconds) + " per workload, " +
         std::to_string(report.event_size) + " B events, durability " +
         (report.durability_text.empty() ? report.durability
                                         : report.durability_text) +
         "\n";
  if (report.raw_seconds > 0) out += RawText(report.raw);
  for (const WorkloadResult& r : report.results) {
    out += "\n" + r.workload + ": " + Describe(r) + "\n";
    if (r.loaded_events > 0 && r.workload != "scale") {
      out += "  loaded   " + std::to_string(r.loaded_events) + " events over " +
             std::to_string(r.streams) + " streams in " +
             Format("%.2f s", r.load_seconds) +
             (report.peer.empty() ? "; reopen took " : "; after the load ") +
             Format("%.2f s", r.open_seconds) + "\n";
    }
    out += "  " + std::to_string(r.events) + " events in " +
           Format("%.2f s", r.seconds) + " = " +
           Format("%.0f events/s", r.events_per_sec) + " (" +
           (r.bytes_per_event > 0
                ? Format("%.0f", r.bytes_per_event) + " B/event stored, "
                : std::string()) +
           std::to_string(r.payload_bytes_per_event) + " B payload)\n";
    if (r.latency_ns.count() > 0) {
      out += "  latency per " + r.latency_of + ": " + Latencies(r.latency_ns) +
             "\n";
    }
    if (r.subscribers > 0) {
      out += "  " + std::to_string(r.subscribers) +
             " subscribers: " + std::to_string(r.delivered) + " deliveries = " +
             Format("%.0f deliveries/s", r.delivered_per_sec) +
             "; catch-up of a new subscription " +
             Format("%.0f events/s", r.catchup_events_per_sec) + "\n";
    }
    for (const ScaleSample& s : r.samples) {
      out += "  " + Format("%10.0f", static_cast<double>(s.events)) +
             " events  " + Format("%8.1f s", s.seconds) + "  " +
             Format("%9.0f events/s", s.events_per_sec) + "  VmRSS " +
             MiB(s.memory.vm_rss) + "  RssAnon " + MiB(s.memory.rss_anon) +
             "\n";
    }
    if (r.workload == "scale") {
      out += "  reopen after a clean close took " +
             Format("%.2f s", r.open_seconds) + "; RssAnon after reopen " +
             MiB(r.memory_after_open.rss_anon) + "\n";
      out += "  reopen after kill -9 took " +
             Format("%.2f s", r.crash_open_seconds) + " (replayed " +
             std::to_string(r.crash_replayed_events) + " events)\n";
      if (r.read_seconds > 0) {
        out += "  random stream reads: " +
               Format("%.0f reads/s",
                      static_cast<double>(r.reads) / r.read_seconds) +
               ", " +
               Format("%.0f events/s",
                      static_cast<double>(r.read_events) / r.read_seconds) +
               ", p99 " +
               Format("%.0f us",
                      static_cast<double>(r.read_latency_ns.Percentile(0.99)) /
                          1e3) +
               "\n";
      }
    }
    if (r.workload == "scavenge") out += ScavengeText(r);
    const Assessment a = Assess(report, r);
    if (a.ratio_to_raw_fsync) {
      out += "  = " + Format("%.2fx", *a.ratio_to_raw_fsync) +
             " the raw fdatasync rate\n";
    }
    if (a.ratio_to_raw_bandwidth && r.workload == "scavenge") {
      out += "  went over the log at " +
             Format("%.0f%%", *a.ratio_to_raw_bandwidth * 100) +
             " of the raw durable bandwidth\n";
    } else if (a.ratio_to_raw_bandwidth) {
      out += "  = " + Format("%.1f MB/s stored", *a.stored_mb_per_sec) +
             Format(" (%.1f MB/s payload), ", *a.payload_mb_per_sec) +
             Format("%.0f%%", *a.ratio_to_raw_bandwidth * 100) +
             " of the raw durable bandwidth\n";
    }
    if (a.ratio_to_raw_append_writes) {
      out += "  = " + Format("%.0f%%", *a.ratio_to_raw_append_writes * 100) +
             " of raw writes+fdatasync of the same size\n";
    }
    if (a.ratio_to_baseline) {
      out += "  ratio " + Format("%.2f", *a.ratio_to_baseline) +
             (r.workload == "read-category" ? " of read-long-stream\n"
                                            : " (concurrent over this)\n");
    }
    if (a.ratio_to_single) {
      out += "  = " + Format("%.1fx", *a.ratio_to_single) + " single\n";
    }
    if (a.p99_ratio_while_scavenging) {
      out += "  append p99 while scavenging = " +
             Format("%.2fx", *a.p99_ratio_while_scavenging) + " without\n";
      if (a.raw_p99_ratio_beside_writer) {
        out +=
            "  (the disk's own 4 KiB fdatasync p99 beside a 1 MiB writer = " +
            Format("%.2fx", *a.raw_p99_ratio_beside_writer) +
            " its quiet p99)\n";
      }
    }
    if (!a.goal.empty()) {
      out += "  goal " + a.goal + ": " +
             (a.goal_met              ? (*a.goal_met ? "met" : "NOT MET")
              : !a.not_judged.empty() ? "not judged (" + a.not_judged + ")"
                                      : "not assessed (run `all` to compare)") +
             "\n";
    }
  }
  return out;
}

void WriteLatency(json::Writer* w, std::string_view key,
                  const LatencyHistogram& h) {
  w->BeginObject(key);
  w->Number("p50", Micros(h.Percentile(0.5)));
  w->Number("p99", Micros(h.Percentile(0.99)));
  w->Number("p999", Micros(h.Percentile(0.999)));
  w->Number("mean", h.Mean() / 1e3);
  w->Number("max", Micros(h.max()));
  w->Uint("samples", h.count());
  w->EndObject();
}

}  // namespace cairn::tools::bench
