// Copyright (c) Cairn authors.
//
// cairn_peer_bench: runs one `cairn bench` workload against one peer store
// that bench/peers/run started, and prints the figures as one JSON object
// with the field names of `cairn bench --json` (workload, events, seconds,
// events_per_sec, latency_us {p50, p99, p999, ...}) plus the peer, its
// settings and its durability, so one report can merge both.
//
//   cairn_peer_bench --peer postgresql --pg "host=/tmp/x port=5432 ..."
//                    --workload concurrent --connections 64 --json
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/peers/driver.h"
#include "bench/peers/workloads.h"
#include "tools/bench/report.h"
#include "tools/bench/sysinfo.h"
#include "tools/jsonl/json_writer.h"

namespace cairn::peers {
namespace {

struct Args {
  std::string peer;
  std::string workload;
  std::string pg;
  std::string pg_admin;
  std::string sqlite;
  std::string nats;
  std::string dir;  // where the peer keeps its data, for the fs type
  int connections = 64;
  WorkloadConfig config;
  bool json = false;
};

std::string Json(const Args& args, Driver* driver,
                 const std::vector<Setting>& settings, const PeerResult& r,
                 const std::string& date, double load_start, double load_end) {
  const tools::bench::MachineInfo m = tools::bench::ReadMachineInfo();
  tools::json::Writer w;
  w.BeginObject();
  w.String("peer", driver->name());
  w.String("workload", r.workload);
  w.String("date", date);
  w.BeginObject("machine");
  w.Uint("nproc", m.nproc);
  w.String("kernel", m.kernel);
  w.String("cpu", m.cpu_model);
  w.Uint("memory_bytes", m.memory_bytes);
  w.EndObject();
  w.String("dir", args.dir);
  w.String("fs", args.dir.empty() ? "unknown"
                                  : tools::bench::FileSystemType(args.dir));
  w.Number("load_average_start", load_start);
  w.Number("load_average_end", load_end);
  w.String("durability", driver->durability());
  w.BeginObject("settings");
  w.Number("duration_s", args.config.seconds);
  w.Uint("event_size", args.config.event_size);
  w.Uint("streams", args.config.streams);
  w.Uint("batch_events", args.config.batch_events);
  w.Uint("read_events", args.config.read_events);
  w.Uint("in_flight", args.config.in_flight);
  for (const auto& [key, value] : settings) w.String(key, value);
  w.EndObject();
  w.Uint("events", r.events);
  w.Number("seconds", r.seconds);
  w.Number("events_per_sec", r.events_per_sec);
  w.Uint("operations", r.operations);
  w.Uint("payload_bytes_per_event", args.config.event_size);
  w.Uint("streams", args.config.streams);
  w.Uint("writers", r.writers);
  w.String("latency_of", r.latency_of);
  tools::bench::WriteLatency(&w, "latency_us", r.latency_ns);
  if (r.loaded_events > 0) {
    w.BeginObject("load");
    w.Uint("events", r.loaded_events);
    w.Number("seconds", r.load_seconds);
    w.EndObject();
  }
  w.EndObject();
  return w.Take();
}

std::unique_ptr<Driver> MakeDriver(const Args& args, std::string* error) {
  if (args.peer == "postgresql") {
    if (args.pg.empty()) *error = "--pg is required";
    return NewPostgresDriver(args.pg, args.connections);
  }
  if (args.peer == "messagedb") {
    if (args.pg.empty() || args.pg_admin.empty()) {
      *error = "--pg and --pg-admin are required";
    }
    return NewMessageDbDriver(args.pg_admin, args.pg, args.connections);
  }
  if (args.peer == "sqlite") {
    if (args.sqlite.empty()) *error = "--sqlite is required";
    return NewSqliteDriver(args.sqlite, args.connections);
  }
  if (args.nats.empty()) *error = "--nats is required";
  return NewNatsDriver(args.nats);
}

int Main(int argc, char** argv) {
  Args args;
  CLI::App app{"Runs a cairn bench workload against a peer store"};
  app.add_option("--peer", args.peer, "The peer")
      ->required()
      ->check(
          CLI::IsMember({"postgresql", "messagedb", "sqlite", "jetstream"}));
  std::vector<std::string> workloads(std::begin(kWorkloads),
                                     std::end(kWorkloads));
  app.add_option("--workload", args.workload, "The workload")
      ->required()
      ->check(CLI::IsMember(workloads));
  app.add_option("--duration", args.config.seconds, "Seconds measured")
      ->capture_default_str();
  app.add_option("--event-size", args.config.event_size,
                 "Bytes of type + data + metadata per event")
      ->capture_default_str();
  app.add_option("--streams", args.config.streams, "Streams written")
      ->capture_default_str();
  app.add_option("--events", args.config.read_events,
                 "Events pre-loaded for read-all")
      ->capture_default_str();
  app.add_option("--in-flight", args.config.in_flight,
                 "concurrent: asynchronous appends outstanding (JetStream)")
      ->capture_default_str();
  app.add_option("--connections", args.connections,
                 "concurrent: writer threads, one connection each (SQL "
                 "peers)")
      ->capture_default_str();
  app.add_option("--pg", args.pg, "libpq connection string of the writers");
  app.add_option("--pg-admin", args.pg_admin,
                 "messagedb: connection string of the database owner");
  app.add_option("--sqlite", args.sqlite, "SQLite database file");
  app.add_option("--nats", args.nats, "NATS server URL");
  app.add_option("--dir", args.dir, "The peer's data directory (reported)");
  app.add_flag("--progress", args.config.progress, "Progress on stderr");
  app.add_flag("--json", args.json, "Print one JSON object");
  CLI11_PARSE(app, argc, argv);

  std::string error;
  std::unique_ptr<Driver> driver = MakeDriver(args, &error);
  if (!error.empty()) {
    std::cerr << "cairn_peer_bench: " << error << "\n";
    return 2;
  }
  const std::string date = tools::bench::UtcTimestamp();
  const double load_start = tools::bench::LoadAverage();
  auto result = RunWorkload(driver.get(), args.workload, args.config);
  const double load_end = tools::bench::LoadAverage();
  if (!result.ok()) {
    std::cerr << "cairn_peer_bench: " << driver->name() << " " << args.workload
              << ": " << result.status().ToString() << "\n";
    return 1;
  }
  const std::vector<Setting> settings = driver->Settings();
  if (args.json) {
    std::cout << Json(args, driver.get(), settings, *result, date, load_start,
                      load_end)
              << "\n";
  } else {
    const LatencyHistogram& h = result->latency_ns;
    std::printf(
        "%s %s: %llu events in %.2f s = %.0f events/s; latency per %s p50 "
        "%.0f us, p99 %.0f us, p99.9 %.0f us\n",
        driver->name().c_str(), result->workload.c_str(),
        static_cast<unsigned long long>(result->events), result->seconds,
        result->events_per_sec, result->latency_of.c_str(),
        static_cast<double>(h.Percentile(0.5)) / 1e3,
        static_cast<double>(h.Percentile(0.99)) / 1e3,
        static_cast<double>(h.Percentile(0.999)) / 1e3);
  }
  return 0;
}

}  // namespace
}  // namespace cairn::peers

int main(int argc, char** argv) { return cairn::peers::Main(argc, argv); }
