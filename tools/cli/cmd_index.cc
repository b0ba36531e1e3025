// Copyright (c) Cairn authors.
//
// cairn index rebuild DIR [--progress | --no-progress]
// cairn index stats DIR [--json]
//
// `rebuild` opens the store for writing with Options::rebuild_index, which
// discards the index and replays the whole log into it, then closes it so
// the new index is on disk. `stats` reads the index files directly (the
// manifest and each table's header), without opening the store or taking
// the writer lock, so it works beside a running writer; what only exists
// in the writer's memory (its memtable and stream cache) is not visible
// from outside, but the events it holds are: the log's end minus the
// checkpoint.
#include "tools/cli/cmd_index.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "cairn/inspect.h"
#include "tools/bench/progress.h"
#include "tools/bench/stats.h"
#include "tools/cli/command.h"
#include "tools/jsonl/json_writer.h"

namespace cairn::tools {
namespace {

struct IndexArgs {
  std::string dir;
  bool json = false;
  bool progress = false;
  bool no_progress = false;
};

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "100%";
  return std::to_string(std::min<uint64_t>(100, part * 100 / whole)) + "%";
}

std::string MiB(uint64_t bytes) {
  char buf[32];
  (void)std::snprintf(buf, sizeof(buf), "%.1f MiB",
                      static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

// The progress line of a rebuild: a bar of the log bytes scanned against
// the upper bound (segments count at their capacity, so the bar can jump
// to the end when the last segment turns out short).
std::string RebuildProgressLine(const OpenProgress& p) {
  constexpr int kWidth = 30;
  const uint64_t total = std::max(p.total_bytes, p.scanned_bytes);
  const int filled = total == 0 || p.done
                         ? kWidth
                         : static_cast<int>(p.scanned_bytes * kWidth / total);
  return "rebuilding index [" + std::string(filled, '#') +
         std::string(kWidth - filled, '.') + "] " +
         (p.done ? "100%" : Percent(p.scanned_bytes, total)) + "  " +
         bench::Short(static_cast<double>(p.events)) + " events  " +
         MiB(p.scanned_bytes) + " of " + MiB(total);
}

namespace {

int RunRebuild(const Io& io, const IndexArgs& args) {
  constexpr std::string_view kName = "index rebuild";
  const bool tty = &io.err == &std::cerr && ::isatty(STDERR_FILENO) != 0;
  const bool show = args.progress || (tty && !args.no_progress);
  bench::Progress progress(show ? &io.err : nullptr);
  Options options;
  options.create_if_missing = false;  // rebuilding nothing is a typo
  options.rebuild_index = true;
  OpenProgress last;
  options.open_progress = [&](const OpenProgress& p) {
    last = p;
    if (progress.Due(bench::NowNanos()) || p.done) {
      progress.Show(RebuildProgressLine(p));
    }
  };
  const auto start = std::chrono::steady_clock::now();
  auto store = OpenStore(args.dir, /*read_only=*/false, options);
  if (!store.ok()) {
    progress.Clear();
    return FailStatus(io, kName, store.status());
  }
  auto stats = (*store)->GetStats();
  Status closed = (*store)->Close();
  progress.Clear();
  if (!stats.ok()) return FailStatus(io, kName, stats.status());
  if (!closed.ok()) return FailStatus(io, kName, closed);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  auto index = inspect::ReadIndexStats(args.dir);
  if (!index.ok()) return FailStatus(io, kName, index.status());
  if (!index->manifest_status.ok()) {
    return FailStatus(io, kName, index->manifest_status);
  }
  char rate[64];
  (void)std::snprintf(
      rate, sizeof(rate), " in %.2f s (%s events/s)", seconds,
      bench::Short(seconds > 0 ? static_cast<double>(last.events) / seconds : 0)
          .c_str());
  io.out << "rebuilt the index of " << args.dir << ": " << last.events
         << " events replayed, " << stats->events << " events in "
         << stats->streams << " streams, " << index->tables.size() << " table"
         << (index->tables.size() == 1 ? "" : "s") << ", checkpoint "
         << index->checkpoint << rate << '\n';
  return io.out ? kExitOk : kExitError;
}

int RunStats(const Io& io, const IndexArgs& args) {
  constexpr std::string_view kName = "index stats";
  auto read = inspect::ReadIndexStats(args.dir);
  if (!read.ok()) {
    std::error_code ec;
    if (!std::filesystem::exists(args.dir, ec)) {
      return Fail(io, kName, "no store at " + args.dir, kExitError);
    }
    return Fail(
        io, kName,
        "no index in " + args.dir + " (the next writable open builds it)",
        kExitError);
  }
  const inspect::IndexStats& m = *read;
  const Status& s = m.manifest_status;
  if (!s.ok()) {
    return Fail(io, kName,
                "the index manifest is unusable: " + s.ToString() +
                    " (the index is derived data: the next open rebuilds it, "
                    "or run `cairn index rebuild " +
                    args.dir + "`)",
                s.IsNotFound() ? kExitError : kExitIndexDamage);
  }
  const std::string& dir = m.index_dir;
  const std::vector<inspect::IndexTableStats>& rows = m.tables;
  const std::vector<uint64_t>& levels = m.tables_per_level;
  const uint64_t streams = m.streams;
  const uint64_t table_bytes = m.table_bytes;
  const uint64_t damaged = m.damaged_tables;
  const uint64_t unlisted = m.unlisted_tables;
  const std::optional<uint64_t>& log_end = m.log_durable_end;
  const uint64_t checkpoint = m.checkpoint;
  if (args.json) {
    json::Writer w;
    w.BeginObject();
    w.String("dir", dir);
    w.String("store_id", Hex64(m.store_id));
    w.Uint("generation", m.generation);
    w.Uint("checkpoint", checkpoint);
    w.Uint("next_table_number", m.next_table_number);
    w.Uint("anchor_stride", m.anchor_stride);
    w.Uint("stream_hash_id", m.stream_hash_id);
    w.Uint("streams", streams);
    w.Uint("table_bytes", table_bytes);
    w.Uint("damaged_tables", damaged);
    w.Uint("unlisted_tables", unlisted);
    w.Uint("temporary_files", m.temporary_files);
    if (log_end) {
      w.Uint("log_durable_end", *log_end);
      w.Uint("unindexed_events",
             *log_end > checkpoint ? *log_end - checkpoint : 0);
    }
    w.BeginArray("tables");
    for (const inspect::IndexTableStats& r : rows) {
      w.BeginObject();
      w.Uint("number", r.table.number);
      w.Uint("level", r.table.level);
      w.Uint("first_position", r.table.first_position);
      w.Uint("end_position", r.table.end_position);
      w.Uint("entries", r.table.entry_count);
      w.Uint("bytes", r.bytes);
      w.Uint("new_streams", r.new_streams);
      if (!r.problem.empty()) w.String("problem", r.problem);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    io.out << w.Take() << '\n';
  } else {
    io.out << "index " << dir << " (store " << Hex64(m.store_id) << ")\n"
           << "manifest:    generation " << m.generation
           << ", next table number " << m.next_table_number
           << ", anchor stride " << m.anchor_stride << ", stream hash "
           << m.stream_hash_id << '\n'
           << "checkpoint:  " << checkpoint
           << " (every event below it is in the tables)\n";
    if (log_end) {
      io.out << "log:         durable end " << *log_end << ", "
             << (*log_end > checkpoint ? *log_end - checkpoint : 0)
             << " events after the checkpoint (in the writer's memory, "
                "replayed from the log after a crash)\n";
    }
    io.out << "streams:     " << streams << " (created below the checkpoint)\n"
           << "tables:      " << rows.size() << ", " << table_bytes << " bytes";
    for (size_t level = 0; level < levels.size(); ++level) {
      if (levels[level] > 0) {
        io.out << (level == 0 ? "; " : ", ") << levels[level] << " at level "
               << level;
      }
    }
    io.out << '\n';
    if (!rows.empty()) {
      io.out << "  number  level  positions                entries       "
                "bytes\n";
    }
    for (const inspect::IndexTableStats& r : rows) {
      char line[160];
      (void)std::snprintf(
          line, sizeof(line), "  %-6llu  %-5u  %-23s  %-12llu  %llu",
          static_cast<unsigned long long>(r.table.number), r.table.level,
          ("[" + std::to_string(r.table.first_position) + ", " +
           std::to_string(r.table.end_position) + ")")
              .c_str(),
          static_cast<unsigned long long>(r.table.entry_count),
          static_cast<unsigned long long>(r.bytes));
      io.out << line << (r.problem.empty() ? "" : "  DAMAGED: " + r.problem)
             << '\n';
    }
    if (unlisted > 0 || m.temporary_files > 0) {
      io.out << "leftovers:   " << unlisted << " unlisted table(s), "
             << m.temporary_files
             << " temporary file(s) (removed at the next writable open)\n";
    }
  }
  if (damaged > 0) return kExitIndexDamage;
  return io.out ? kExitOk : kExitError;
}

}  // namespace

Command AddIndexCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<IndexArgs>();
  CLI::App* sub = app.add_subcommand(
      "index", "Rebuild or inspect a store's persistent stream index");
  sub->require_subcommand(1);
  CLI::App* rebuild = sub->add_subcommand(
      "rebuild",
      "Discard the index and rebuild it from the log (opens the store for "
      "writing)");
  rebuild->add_option("DIR", args->dir, "Store directory")->required();
  auto* on = rebuild->add_flag("--progress", args->progress,
                               "Show a progress bar on standard error even "
                               "when it is not a terminal");
  rebuild
      ->add_flag("--no-progress", args->no_progress,
                 "No progress bar, even on a terminal")
      ->excludes(on);
  CLI::App* stats = sub->add_subcommand(
      "stats",
      "Print the index's tables (level, positions, entries, bytes), "
      "checkpoint and manifest generation, from the files (read-only, works "
      "beside a writer)");
  stats->add_option("DIR", args->dir, "Store directory")->required();
  stats->add_flag("--json", args->json, "Print one JSON object");
  return {sub, [io, args, rebuild] {
            return rebuild->parsed() ? RunRebuild(io, *args)
                                     : RunStats(io, *args);
          }};
}

}  // namespace cairn::tools
