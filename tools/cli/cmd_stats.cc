// Copyright (c) Cairn authors.
//
// cairn stats DIR [--json]
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"

namespace cairn::tools {
namespace {

struct StatsArgs {
  std::string dir;
  bool json = false;
};

int RunStats(const Io& io, const StatsArgs& args) {
  constexpr std::string_view kName = "stats";
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  auto stats = (*store)->GetStats();
  if (!stats.ok()) return FailStatus(io, kName, stats.status());
  const StoreStats& s = stats.value();
  if (args.json) {
    io.out << "{\"events\":" << s.events << ",\"streams\":" << s.streams
           << ",\"segments\":" << s.segments << ",\"bytes\":" << s.bytes
           << ",\"durable_position_end\":" << s.durable_position_end.value()
           << "}\n";
  } else {
    io.out << "events:           " << s.events << '\n'
           << "streams:          " << s.streams << '\n'
           << "segments:         " << s.segments << '\n'
           << "bytes:            " << s.bytes << '\n'
           << "durable position: " << s.durable_position_end.value() << '\n';
  }
  return io.out ? kExitOk : kExitError;
}

}  // namespace

Command AddStatsCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<StatsArgs>();
  CLI::App* sub = app.add_subcommand(
      "stats", "Print event, stream, segment and byte counts (read-only)");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  sub->add_flag("--json", args->json, "Print one JSON object");
  return {sub, [io, args] { return RunStats(io, *args); }};
}

}  // namespace cairn::tools
