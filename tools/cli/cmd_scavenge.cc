// Copyright (c) Cairn authors.
//
// cairn scavenge DIR [--json] [--progress] [--throttle-percent N]
//                    [--bytes-per-sync N]
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"

namespace cairn::tools {
namespace {

struct ScavengeArgs {
  std::string dir;
  bool json = false;
  bool progress = false;
  ScavengeOptions options;  // throttle_percent and bytes_per_sync
};

int RunScavenge(const Io& io, const ScavengeArgs& args) {
  constexpr std::string_view kName = "scavenge";
  // A writer open: a store served or embedded elsewhere is Locked, and is
  // scavenged through its own process (Store::Scavenge, the server's
  // Operations service). Interrupting this command is safe: what it
  // committed stays, the rest is left as it was.
  Options base;
  base.create_if_missing = false;  // never scavenge a store into existence
  auto store = OpenStore(args.dir, /*read_only=*/false, base);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  ScavengeOptions options = args.options;
  if (args.progress) {
    options.progress = [&io](const ScavengeProgress& p) {
      io.err << "cairn scavenge: " << p.parts_done << " of " << p.parts_total
             << " parts, " << p.events_removed << " events removed, "
             << p.bytes_reclaimed << " bytes reclaimed\n";
    };
  }
  auto result = (*store)->Scavenge(options);
  if (!result.ok()) return FailStatus(io, kName, result.status());
  Status closed = (*store)->Close();
  if (!closed.ok()) return FailStatus(io, kName, closed);
  const ScavengeResult& r = *result;
  const double seconds = static_cast<double>(r.duration_us) / 1e6;
  const double rested = static_cast<double>(r.rested_us) / 1e6;
  if (args.json) {
    io.out << "{\"end_position\":" << r.end_position.value()
           << ",\"events_examined\":" << r.events_examined
           << ",\"events_removed\":" << r.events_removed
           << ",\"parts_examined\":" << r.parts_examined
           << ",\"parts_rewritten\":" << r.parts_rewritten
           << ",\"bytes_before\":" << r.bytes_before
           << ",\"bytes_after\":" << r.bytes_after
           << ",\"bytes_reclaimed\":" << r.bytes_reclaimed()
           << ",\"seconds\":" << seconds << ",\"rested_seconds\":" << rested
           << ",\"stopped\":" << (r.stopped ? "true" : "false") << "}\n";
  } else {
    io.out << "scavenged every event below position " << r.end_position.value()
           << '\n'
           << "events:  " << r.events_removed << " removed of "
           << r.events_examined << '\n'
           << "parts:   " << r.parts_rewritten << " rewritten of "
           << r.parts_examined << '\n'
           << "bytes:   " << r.bytes_reclaimed() << " reclaimed ("
           << r.bytes_before << " -> " << r.bytes_after << ")\n"
           << "seconds: " << seconds;
    if (r.rested_us != 0) io.out << " (" << rested << " resting)";
    io.out << '\n';
  }
  return io.out ? kExitOk : kExitError;
}

}  // namespace

Command AddScavengeCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<ScavengeArgs>();
  CLI::App* sub = app.add_subcommand(
      "scavenge",
      "Remove deleted, tombstoned and expired events from a stopped store "
      "and give their disk space back");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  sub->add_flag("--json", args->json, "Print one JSON object");
  sub->add_flag("--progress", args->progress,
                "Report progress on standard error");
  sub->add_option("--throttle-percent", args->options.throttle_percent,
                  "Share of the time the scavenge works (1-100): it rests "
                  "in between, leaving the disk and CPUs to others")
      ->check(CLI::Range(ScavengeOptions::kMinThrottlePercent,
                         ScavengeOptions::kMaxThrottlePercent))
      ->capture_default_str();
  sub->add_option("--bytes-per-sync", args->options.bytes_per_sync,
                  "Write and fdatasync each rewritten part this many bytes "
                  "at a time (0: all at once)")
      ->transform(UnsignedDecimal())
      ->capture_default_str();
  return {sub, [io, args] { return RunScavenge(io, *args); }};
}

}  // namespace cairn::tools
