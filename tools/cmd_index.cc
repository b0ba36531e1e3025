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
#include "tools/cmd_index.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "engine/src/watermark.h"
#include "index/format.h"
#include "index/manifest.h"
#include "index/table.h"
#include "tools/bench_progress.h"
#include "tools/bench_stats.h"
#include "tools/command.h"
#include "tools/index_files.h"
#include "tools/json.h"

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
  index::Manifest m;
  Status read =
      index::ReadManifest(io::PosixFileSystem(), IndexDirOf(args.dir), &m);
  if (!read.ok()) return FailStatus(io, kName, read);
  char rate[64];
  (void)std::snprintf(
      rate, sizeof(rate), " in %.2f s (%s events/s)", seconds,
      bench::Short(seconds > 0 ? static_cast<double>(last.events) / seconds : 0)
          .c_str());
  io.out << "rebuilt the index of " << args.dir << ": " << last.events
         << " events replayed, " << stats->events << " events in "
         << stats->streams << " streams, " << m.tables.size() << " table"
         << (m.tables.size() == 1 ? "" : "s") << ", checkpoint "
         << m.end_position() << rate << '\n';
  return io.out ? kExitOk : kExitError;
}

struct TableRow {
  index::ManifestTable record;
  uint64_t bytes = 0;
  uint64_t new_streams = 0;
  std::string problem;  // why the table could not be read
};

int RunStats(const Io& io, const IndexArgs& args) {
  constexpr std::string_view kName = "index stats";
  io::FileSystem* fs = io::PosixFileSystem();
  const std::string dir = IndexDirOf(args.dir);
  auto listing = ListIndexDir(dir);
  if (!listing.ok()) {
    if (!fs->Exists(args.dir)) {
      return Fail(io, kName, "no store at " + args.dir, kExitError);
    }
    return Fail(
        io, kName,
        "no index in " + args.dir + " (the next writable open builds it)",
        kExitError);
  }
  index::Manifest m;
  Status s = index::ReadManifest(fs, dir, &m);
  if (!s.ok()) {
    return Fail(io, kName,
                "the index manifest is unusable: " + s.ToString() +
                    " (the index is derived data: the next open rebuilds it, "
                    "or run `cairn index rebuild " +
                    args.dir + "`)",
                s.IsNotFound() ? kExitError : kExitIndexDamage);
  }
  std::vector<TableRow> rows;
  uint64_t table_bytes = 0;
  uint64_t streams = 0;
  uint64_t damaged = 0;
  std::vector<uint64_t> levels;
  for (const index::ManifestTable& t : m.tables) {
    TableRow row;
    row.record = t;
    auto table = index::Table::Open(
        fs, io::JoinPath(dir, index::TableFileName(t.number)), m.store_id,
        t.number, m.anchor_stride);
    if (table.ok()) {
      row.bytes = (*table)->file_size();
      row.new_streams = (*table)->info().new_streams;
    } else {
      row.problem = table.status().ToString();
      ++damaged;
    }
    table_bytes += row.bytes;
    streams += row.new_streams;
    if (levels.size() <= t.level) levels.resize(t.level + 1);
    ++levels[t.level];
    rows.push_back(std::move(row));
  }
  std::set<uint64_t> listed;
  for (const auto& t : m.tables) listed.insert(t.number);
  uint64_t unlisted = 0;
  for (uint64_t n : listing->tables) unlisted += listed.count(n) == 0 ? 1 : 0;
  // The log's end from the watermark (never ahead of the durable log): the
  // events after the checkpoint are in the writer's memory only, and an
  // open after a crash replays them from the log.
  std::optional<uint64_t> log_end;
  if (fs->Exists(io::JoinPath(args.dir, engine::kWatermarkFileName))) {
    auto wm = engine::Watermark::Open(fs, args.dir, 0, /*writable=*/false);
    if (wm.ok() && (*wm)->store_id() == m.store_id) {
      log_end = (*wm)->durable_next();
    }
  }
  const uint64_t checkpoint = m.end_position();
  if (args.json) {
    std::string out = "{\"dir\":";
    json::AppendQuoted(dir, &out);
    out +=
        ",\"store_id\":\"" + Hex64(m.store_id) +
        "\",\"generation\":" + std::to_string(m.generation) +
        ",\"checkpoint\":" + std::to_string(checkpoint) +
        ",\"next_table_number\":" + std::to_string(m.next_table_number) +
        ",\"anchor_stride\":" + std::to_string(m.anchor_stride) +
        ",\"stream_hash_id\":" + std::to_string(m.stream_hash_id) +
        ",\"streams\":" + std::to_string(streams) +
        ",\"table_bytes\":" + std::to_string(table_bytes) +
        ",\"damaged_tables\":" + std::to_string(damaged) +
        ",\"unlisted_tables\":" + std::to_string(unlisted) +
        ",\"temporary_files\":" + std::to_string(listing->temporaries.size());
    if (log_end) {
      out += ",\"log_durable_end\":" + std::to_string(*log_end) +
             ",\"unindexed_events\":" +
             std::to_string(*log_end > checkpoint ? *log_end - checkpoint : 0);
    }
    out += ",\"tables\":[";
    for (size_t i = 0; i < rows.size(); ++i) {
      const TableRow& r = rows[i];
      out += std::string(i == 0 ? "" : ",") +
             "{\"number\":" + std::to_string(r.record.number) +
             ",\"level\":" + std::to_string(r.record.level) +
             ",\"first_position\":" + std::to_string(r.record.first_position) +
             ",\"end_position\":" + std::to_string(r.record.end_position) +
             ",\"entries\":" + std::to_string(r.record.entry_count) +
             ",\"bytes\":" + std::to_string(r.bytes) +
             ",\"new_streams\":" + std::to_string(r.new_streams);
      if (!r.problem.empty()) {
        out += ",\"problem\":";
        json::AppendQuoted(r.problem, &out);
      }
      out += "}";
    }
    out += "]}\n";
    io.out << out;
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
    for (const TableRow& r : rows) {
      char line[160];
      (void)std::snprintf(
          line, sizeof(line), "  %-6llu  %-5u  %-23s  %-12llu  %llu",
          static_cast<unsigned long long>(r.record.number), r.record.level,
          ("[" + std::to_string(r.record.first_position) + ", " +
           std::to_string(r.record.end_position) + ")")
              .c_str(),
          static_cast<unsigned long long>(r.record.entry_count),
          static_cast<unsigned long long>(r.bytes));
      io.out << line << (r.problem.empty() ? "" : "  DAMAGED: " + r.problem)
             << '\n';
    }
    if (unlisted > 0 || !listing->temporaries.empty()) {
      io.out << "leftovers:   " << unlisted << " unlisted table(s), "
             << listing->temporaries.size()
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
