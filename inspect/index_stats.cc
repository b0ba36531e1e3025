// Copyright (c) Cairn authors.
//
// inspect::ReadIndexStats: the index's manifest and each table's header,
// read from the files without opening the store or taking the writer
// lock, so it works beside a running writer. What only exists in the
// writer's memory (its memtable and stream cache) is not visible from
// outside, but the events it holds are: the log's end (from the
// watermark) minus the checkpoint. A read that raced with the writer
// replacing the manifest is taken again.
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cairn/inspect.h"
#include "engine/io/file_system.h"
#include "engine/src/watermark.h"
#include "index/manifest.h"
#include "index/table.h"
#include "inspect/index_files.h"

namespace cairn::inspect {
namespace {

// A running writer replaces the manifest and removes the tables a merge
// replaced: a table of the manifest just read may be gone by the time it
// is opened. Such a read is taken again, at most this many times.
constexpr int kReadAttempts = 16;

// The highest table level index stats lists (see IndexStats).
constexpr uint32_t kMaxListedLevel = 64;

Result<IndexStats> ReadIndexStatsOnce(const std::string& store_dir) {
  io::FileSystem* fs = io::PosixFileSystem();
  IndexStats stats;
  stats.index_dir = IndexDirOf(store_dir);
  auto listing = ListIndexDir(stats.index_dir);
  if (!listing.ok()) return listing.status();
  stats.temporary_files = listing->temporaries.size();
  index::Manifest m;
  stats.manifest_status = index::ReadManifest(fs, stats.index_dir, &m);
  if (!stats.manifest_status.ok()) return stats;
  stats.store_id = m.store_id;
  stats.generation = m.generation;
  stats.checkpoint = m.end_position();
  stats.next_table_number = m.next_table_number;
  stats.anchor_stride = m.anchor_stride;
  stats.stream_hash_id = m.stream_hash_id;
  std::set<uint64_t> listed;
  for (const index::ManifestTable& t : m.tables) {
    listed.insert(t.number);
    IndexTableStats row;
    row.table = ToTableInfo(t);
    auto table = index::Table::Open(
        fs, io::JoinPath(stats.index_dir, row.table.file_name), m.store_id,
        t.number, m.anchor_stride);
    if (table.ok()) {
      row.bytes = (*table)->file_size();
      row.new_streams = (*table)->info().new_streams;
    } else {
      row.problem = table.status().ToString();
      ++stats.damaged_tables;
    }
    stats.table_bytes += row.bytes;
    stats.streams += row.new_streams;
    // Merges add a level per doubling of a table's size: a level past 64
    // is damage that passed the manifest's checksum, not a level to list.
    if (t.level > kMaxListedLevel) {
      if (row.problem.empty()) {
        row.problem = "level " + std::to_string(t.level) + " is out of range";
      }
    } else {
      if (stats.tables_per_level.size() <= t.level) {
        stats.tables_per_level.resize(t.level + 1);
      }
      ++stats.tables_per_level[t.level];
    }
    stats.tables.push_back(std::move(row));
  }
  for (uint64_t n : listing->tables) {
    stats.unlisted_tables += listed.count(n) == 0 ? 1 : 0;
  }
  // The log's end from the watermark (never ahead of the durable log).
  if (fs->Exists(io::JoinPath(store_dir, engine::kWatermarkFileName))) {
    auto wm = engine::Watermark::Open(fs, store_dir, 0, /*writable=*/false);
    if (wm.ok() && (*wm)->store_id() == m.store_id) {
      stats.log_durable_end = (*wm)->durable_next();
    }
  }
  return stats;
}

}  // namespace

Result<IndexStats> ReadIndexStats(const std::string& store_dir) {
  for (int attempt = 1;; ++attempt) {
    auto stats = ReadIndexStatsOnce(store_dir);
    // A table that failed to open is damage only if the manifest that
    // lists it is still the current one.
    if (!stats.ok() || stats->damaged_tables == 0 || attempt == kReadAttempts ||
        !ManifestReplacedSince(stats->index_dir, stats->generation)) {
      return stats;
    }
  }
}

}  // namespace cairn::inspect
