// Copyright (c) Cairn authors.
//
// cairn_peer_bench: runs one `cairn bench` workload (the same code,
// tools/bench/workloads.cc) against one peer store that bench/peers/run
// started, and prints the figures with the report writer of `cairn bench`
// (tools/bench/report.cc): the same field names (workload, events,
// seconds, events_per_sec, latency_us {p50, p99, p999, ...}) plus the
// peer, its settings and its durability, so one report can merge both.
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
#include "tools/bench/progress.h"
#include "tools/bench/report.h"
#include "tools/bench/sysinfo.h"
#include "tools/bench/workloads.h"

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
  tools::bench::WorkloadConfig config;
  bool progress = false;
  bool json = false;
};

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
  std::vector<std::string> workloads(
      std::begin(tools::bench::kPeerWorkloadNames),
      std::end(tools::bench::kPeerWorkloadNames));
  app.add_option("--workload", args.workload, "The workload")
      ->required()
      ->check(CLI::IsMember(workloads));
  app.add_option("--duration", args.config.seconds, "Seconds measured")
      ->capture_default_str();
  app.add_option("--event-size", args.config.event_size,
                 "Bytes of type + data + metadata per event")
      ->capture_default_str();
  app.add_option("--streams", args.config.streams,
                 "Streams written (default 10000)");
  app.add_option("--events", args.config.events,
                 "Events pre-loaded for read-all (default 1000000); caps "
                 "single, concurrent and batch");
  app.add_option("--in-flight", args.config.in_flight,
                 "concurrent: appends in flight (drivers with AppendAsync: "
                 "JetStream)")
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
  app.add_flag("--progress", args.progress, "Progress on stderr");
  app.add_flag("--json", args.json, "Print one JSON object");
  CLI11_PARSE(app, argc, argv);

  std::string error;
  std::unique_ptr<Driver> driver = MakeDriver(args, &error);
  if (!error.empty()) {
    std::cerr << "cairn_peer_bench: " << error << "\n";
    return 2;
  }
  tools::bench::Progress progress(args.progress ? &std::cerr : nullptr);
  args.config.progress = &progress;
  tools::bench::BenchReport report;
  report.peer = driver->name();
  report.durability_text = driver->durability();
  report.workload = args.workload;
  report.date = tools::bench::UtcTimestamp();
  report.machine = tools::bench::ReadMachineInfo();
  report.dir = args.dir;
  report.fs_type =
      args.dir.empty() ? "unknown" : tools::bench::FileSystemType(args.dir);
  report.seconds = args.config.seconds;
  report.event_size = args.config.event_size;
  report.events = args.config.events;
  report.streams = args.config.streams;
  report.in_flight = args.config.in_flight;
  report.load_start = tools::bench::LoadAverage();
  auto result =
      tools::bench::RunWorkload(driver.get(), args.workload, args.config);
  report.load_end = tools::bench::LoadAverage();
  if (!result.ok()) {
    std::cerr << "cairn_peer_bench: " << driver->name() << " " << args.workload
              << ": " << result.status().ToString() << "\n";
    return 1;
  }
  report.results.push_back(std::move(result.value()));
  report.store_settings = driver->Settings();
  std::cout << (args.json ? tools::bench::ReportJson(report) + "\n"
                          : tools::bench::ReportText(report));
  return 0;
}

}  // namespace
}  // namespace cairn::peers

int main(int argc, char** argv) { return cairn::peers::Main(argc, argv); }
