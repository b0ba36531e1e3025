// Copyright (c) Cairn authors.
//
// The `cairn bench` command: arguments, the scratch directory, and the
// order of the phases. The measuring lives in tools/bench/raw.cc and
// tools/bench/workloads.cc, the printing in tools/bench/report.cc.
#include "tools/cli/cmd_bench.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/bench/progress.h"
#include "tools/bench/raw.h"
#include "tools/bench/report.h"
#include "tools/bench/sysinfo.h"
#include "tools/bench/workloads.h"

namespace cairn::tools {
namespace {

constexpr std::string_view kName = "bench";

// What `all` runs: the write workloads, whose ratios compare with each
// other, and the full read; read-streams and scale take long enough to be
// asked for on their own.
constexpr std::string_view kAllWorkloads[] = {"single", "concurrent", "batch",
                                              "read-all"};

struct BenchArgs {
  std::string workload;
  double seconds = 5;
  std::string dir;
  uint32_t event_size = 200;
  uint64_t events = 0;
  uint64_t streams = 0;
  uint32_t subscribers = 1;
  uint32_t in_flight = 256;
  uint32_t writers = 1;
  uint64_t store_mib = 256;
  double removable = 0.5;
  uint32_t scavenge_throttle_percent = ScavengeOptions().throttle_percent;
  uint64_t scavenge_bytes_per_sync = ScavengeOptions().bytes_per_sync;
  std::string durability = "group";
  double raw_seconds = 1;
  bool json = false;
  bool no_category_streams = false;
  uint64_t index_cache_streams = 0;
};

// A fresh directory, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() = default;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }

  // Creates <parent>/cairn-bench-XXXXXX.
  Status Create(const std::string& parent) {
    std::string name = parent;
    if (!name.empty() && name.back() != '/') name += '/';
    name += "cairn-bench-XXXXXX";
    std::vector<char> buffer(name.begin(), name.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
      return Status::IOError("cannot create a directory in " + parent, errno);
    }
    path_ = buffer.data();
    return Status::Ok();
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string DefaultParent() {
  // Read once, before the benchmark starts any thread.
  const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// "a,b,c" -> {"a", "b", "c"}: the names of a --workload list.
std::vector<std::string_view> SplitWorkloads(std::string_view list) {
  std::vector<std::string_view> names;
  while (true) {
    const size_t comma = list.find(',');
    names.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) return names;
    list = list.substr(comma + 1);
  }
}

Durability ParseDurability(const std::string& name) {
  if (name == "interval") return Durability::kInterval;
  if (name == "none") return Durability::kNone;
  return Durability::kGroupCommit;
}

int RunBench(const Io& io, const BenchArgs& args) {
  // Progress goes to standard error unless it would garble a JSON consumer
  // reading both streams from a pipe.
  bench::Progress progress(!args.json || ::isatty(STDERR_FILENO) ? &io.err
                                                                 : nullptr);
  // A comma-separated list runs in one report, so ratios between its
  // workloads (concurrent against concurrent-plain, read-category against
  // read-long-stream) come from the same run.
  const std::vector<std::string_view> workloads =
      args.workload == "all"
          ? std::vector<std::string_view>(std::begin(kAllWorkloads),
                                          std::end(kAllWorkloads))
          : SplitWorkloads(args.workload);

  ScratchDir scratch;
  Status s = scratch.Create(args.dir.empty() ? DefaultParent() : args.dir);
  if (!s.ok()) return FailStatus(io, kName, s);

  bench::BenchReport report;
  report.workload = args.workload;
  report.date = bench::UtcTimestamp();
  report.machine = bench::ReadMachineInfo();
  report.dir = scratch.path();
  report.fs_type = bench::FileSystemType(scratch.path());
  report.load_start = bench::LoadAverage();
  report.seconds = args.seconds;
  report.event_size = args.event_size;
  report.events = args.events;
  report.streams = args.streams;
  report.durability = args.durability;
  report.raw_seconds = args.raw_seconds;

  // The batch workloads' appends are compared with raw writes of the same
  // size, the limit for a single synchronous writer.
  bool has_batch = false;
  for (std::string_view name : workloads) {
    has_batch = has_batch || name == "batch" || name == "scale";
  }
  const uint64_t append_bytes =
      has_batch ? bench::StoredAppendBytes(args.event_size, bench::kBatchEvents)
                : 0;
  const bench::RawProgress raw_progress = [&](const char* phase,
                                              double fraction) {
    if (!progress.Due(bench::NowNanos())) return;
    progress.Show(
        std::string("cairn bench: ") + phase + "  " +
        std::to_string(static_cast<int>(std::min(fraction, 1.0) * 100)) + "%");
  };
  s = bench::MeasureRawLimits(scratch.path(), args.raw_seconds, append_bytes,
                              raw_progress, &report.raw);
  // The scavenge workload's append latency is compared with what the disk
  // itself does to small durable writes beside a bulk writer.
  const bool has_scavenge = std::find(workloads.begin(), workloads.end(),
                                      "scavenge") != workloads.end();
  if (s.ok() && has_scavenge) {
    s = bench::MeasureSyncBesideWriter(scratch.path(), args.raw_seconds,
                                       raw_progress, &report.raw);
  }
  progress.Clear();
  if (!s.ok()) return FailStatus(io, kName, s);

  for (std::string_view name : workloads) {
    bench::WorkloadConfig config;
    config.dir = scratch.path() + "/" + std::string(name);
    config.seconds = args.seconds;
    config.event_size = args.event_size;
    config.events = args.events;
    config.streams = args.streams;
    config.subscribers = args.subscribers;
    config.in_flight = args.in_flight;
    config.writers = args.writers;
    config.store_bytes = args.store_mib << 20;
    config.removable = args.removable;
    config.scavenge_throttle_percent = args.scavenge_throttle_percent;
    config.scavenge_bytes_per_sync = args.scavenge_bytes_per_sync;
    config.durability = ParseDurability(args.durability);
    config.category_and_type_streams = !args.no_category_streams;
    config.index_cache_streams = args.index_cache_streams;
    config.progress = &progress;
    auto result = bench::RunWorkload(name, config);
    // Each store goes as soon as it is measured: a scale run can leave
    // gigabytes behind.
    std::error_code ignored;
    std::filesystem::remove_all(config.dir, ignored);
    if (!result.ok()) {
      return Fail(io, kName,
                  std::string(name) + ": " + result.status().ToString(),
                  ExitCodeFor(result.status()));
    }
    report.results.push_back(std::move(result.value()));
  }

  report.load_end = bench::LoadAverage();
  if (args.json) {
    io.out << bench::ReportJson(report) << '\n';
  } else {
    io.out << bench::ReportText(report);
  }
  io.out.flush();
  return io.out ? kExitOk : kExitError;
}

}  // namespace

Command AddBenchCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Measure Cairn and the raw disk limits on this machine (writes to a "
      "temporary directory, removed afterwards)");
  sub->add_option("--workload", args->workload,
                  "single, concurrent, batch, read-all, read-streams, scale, "
                  "subscribe, concurrent-plain, read-category, "
                  "read-long-stream, scavenge, read-all-unverified, a "
                  "comma-separated list of "
                  "them, or all (single, concurrent, batch and read-all)")
      ->required()
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            if (value == "all") return "";
            for (std::string_view name : SplitWorkloads(value)) {
              if (std::find(std::begin(bench::kWorkloadNames),
                            std::end(bench::kWorkloadNames),
                            name) == std::end(bench::kWorkloadNames)) {
                return "unknown workload '" + std::string(name) + "'";
              }
            }
            return "";
          },
          "WORKLOAD[,WORKLOAD...]"));
  sub->add_option("--duration", args->seconds,
                  "Seconds each workload measures (scale runs until --events "
                  "are stored)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--dir", args->dir,
                  "Run in a fresh subdirectory of DIR (default: $TMPDIR or "
                  "/tmp); removed afterwards")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--event-size", args->event_size,
                  "Bytes of type + data + metadata per event")
      ->capture_default_str()
      ->check(CLI::Range(16u, 16u << 20));
  sub->add_option("--events", args->events,
                  "Events to pre-load (read-all: 1000000, read-streams: 10 "
                  "per stream) or store (scale: 100000000, scavenge: "
                  "instead of --store-mib); caps single, concurrent and "
                  "batch")
      ->check(CLI::PositiveNumber);
  sub->add_option("--subscribers", args->subscribers,
                  "subscribe: live subscriptions while appends run "
                  "(default 1)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--in-flight", args->in_flight,
                  "subscribe: the writer's appends in flight (default 256)")
      ->check(CLI::Range(1u, 65536u));
  sub->add_option("--writers", args->writers,
                  "single and batch: client threads, each awaiting its own "
                  "appends (default 1; batch's goal is judged with 8)")
      ->check(CLI::Range(1u, 1024u));
  sub->add_option("--store-mib", args->store_mib,
                  "scavenge: MiB of records in the store it builds (unless "
                  "--events gives its event count)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--removable", args->removable,
                  "scavenge: the fraction of the streams a scavenge removes "
                  "(tombstoned or cut by $maxCount)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--scavenge-throttle-percent",
                  args->scavenge_throttle_percent,
                  "scavenge: ScavengeOptions::throttle_percent, the share "
                  "of the time the scavenge works")
      ->capture_default_str()
      ->check(CLI::Range(ScavengeOptions::kMinThrottlePercent,
                         ScavengeOptions::kMaxThrottlePercent));
  sub->add_option("--scavenge-bytes-per-sync", args->scavenge_bytes_per_sync,
                  "scavenge: ScavengeOptions::bytes_per_sync (0: one "
                  "fdatasync per rewritten part)")
      ->transform(UnsignedDecimal())
      ->capture_default_str();
  sub->add_option("--streams", args->streams,
                  "Streams to spread events over (default 10000; "
                  "read-streams: 100000, scavenge: 1000)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--durability", args->durability,
                  "Durability of the measured appends: group (default, "
                  "acknowledged after fdatasync), interval or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"group", "interval", "none"}));
  sub->add_option("--raw-duration", args->raw_seconds,
                  "Seconds for each raw disk measurement")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--no-category-streams", args->no_category_streams,
                "Open the stores without the $ce-/$et- streams "
                "(Options::category_and_type_streams = false)");
  sub->add_option("--index-cache-streams", args->index_cache_streams,
                  "Options::index_cache_streams of the stores (streams whose "
                  "last revision the index caches; default 65536)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--json", args->json,
                "Print one JSON object instead of the summary");
  return {sub, [io, args] { return RunBench(io, *args); }};
}

}  // namespace cairn::tools
