// Copyright (c) Cairn authors.
//
// cairn stats DIR [--json]
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"
#include "tools/jsonl/json.h"

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
  const StoreIndexStats& x = s.index;
  if (args.json) {
    io.out << "{\"events\":" << s.events << ",\"streams\":" << s.streams
           << ",\"segments\":" << s.segments << ",\"bytes\":" << s.bytes
           << ",\"durable_position_end\":" << s.durable_position_end.value()
           << ",\"index\":{\"checkpoint\":" << s.index_checkpoint.value()
           << ",\"tables\":" << x.tables << ",\"table_bytes\":" << x.table_bytes
           << ",\"memory_entries\":" << x.memory_entries
           << ",\"flushes\":" << x.flushes << ",\"merges\":" << x.merges
           << ",\"cache_hits\":" << x.cache_hits
           << ",\"cache_misses\":" << x.cache_misses
           << ",\"background_error\":" << json::Quote(x.background_error)
           << "}}\n";
  } else {
    io.out << "events:           " << s.events << '\n'
           << "streams:          " << s.streams << '\n'
           << "segments:         " << s.segments << '\n'
           << "bytes:            " << s.bytes << '\n'
           << "durable position: " << s.durable_position_end.value() << '\n'
           << "index checkpoint: " << s.index_checkpoint.value() << '\n'
           << "index tables:     " << x.tables << " (" << x.table_bytes
           << " bytes)\n"
           << "index in memory:  " << x.memory_entries << " entries\n"
           << "index flushes:    " << x.flushes << '\n'
           << "index merges:     " << x.merges << '\n'
           << "index cache:      " << x.cache_hits << " hits, "
           << x.cache_misses << " misses\n"
           << "index error:      "
           << (x.background_error.empty() ? "none" : x.background_error)
           << '\n';
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
