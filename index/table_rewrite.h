// Copyright (c) Cairn authors.
//
// Index tables over scavenged segments (docs/format.md, "Index tables over
// scavenged segments"): a scavenge rewrites sealed segments keeping only
// some records, at the same positions but other offsets, so the tables
// whose ranges overlap the rewritten positions are rewritten too, in two
// steps with the scavenge's commit in between:
//
//   - stage: each overlapping table is copied to a new table (a new number,
//     the same range and level) without the removed positions' entries and
//     with the kept ones' new offsets; written and synced, but listed
//     nowhere, so a crash before the commit leaves garbage that the next
//     open removes;
//   - install: one manifest write replaces the overlapping tables by the
//     staged ones; then the replaced tables are unlinked. Idempotent, so the
//     engine can finish a committed scavenge at open whether the install
//     already happened, half happened or not at all.
//
// PersistentIndex::StageRewrite and InstallRewrite (or ListRewrite then
// PublishRewrite) do this on an open index; InstallStagedTables below on
// a closed index directory.
#ifndef CAIRN_INDEX_TABLE_REWRITE_H_
#define CAIRN_INDEX_TABLE_REWRITE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"
#include "engine/io/file_system.h"
#include "index/manifest.h"
#include "index/table.h"

namespace cairn::index {

// Where the records of the rewritten positions [first, end) went. Both
// functions are called for positions in that range only, possibly more
// than once per position, and must be cheap.
struct PositionRemap {
  // The new segment offset of the record at `position`; nullopt if the
  // scavenge removed it.
  std::function<std::optional<uint32_t>(uint64_t position)> offset;
  // The new offset of the first kept record at or after `position` in its
  // segment, or the end of that segment's records if none is kept after it
  // (asked for the multiples of the anchor stride; by the link index, for
  // the events of its slots' multiples).
  std::function<uint32_t(uint64_t position)> anchor;
  // Whether the record at `position` lies in a rewritten segment. The
  // entries and anchors of positions it rejects stay as they are, so one
  // rewrite can span segments left alone between rewritten ones. Empty:
  // every position of the range does.
  std::function<bool(uint64_t position)> rewritten;
};

// Tables written by a stage and the range of the tables they replace (the
// union of the ranges of the listed tables that overlap the rewritten
// positions), in the index's position space.
struct StagedTables {
  uint64_t first_position = 0;
  uint64_t end_position = 0;
  std::vector<uint64_t> numbers;  // position order

  friend bool operator==(const StagedTables&, const StagedTables&) = default;
};

// Writes table `number` in `dir`: `input` without the entries of the
// positions in [first, end) that `remap` removes, those it keeps with their
// new offsets, and the anchors of those positions from `remap`; everything
// outside [first, end) as it was. Durable on return. The new table's info.
Result<TableInfo> RewriteTable(io::FileSystem* fs, const std::string& dir,
                               const Table& input, uint64_t number,
                               uint64_t first, uint64_t end,
                               const PositionRemap& remap);

// How `current` changes when `staged` is installed, given the staged
// tables' headers (position order). nullopt: it is installed already.
// Corruption if the manifest does not list tables covering exactly the
// staged range (the index is not the one staged against: the caller
// rebuilds it) or the staged tables do not cover it.
Result<std::optional<Manifest>> ManifestWithStaged(
    const std::string& dir, const Manifest& current, const StagedTables& staged,
    const std::vector<TableInfo>& staged_infos);

// Whether `m` lists the staged tables (they are installed).
bool ListsStaged(const Manifest& m, const StagedTables& staged);
// Opens the staged tables of the index of `store_id` in `dir`; Corruption
// if one is missing, as for one that is damaged.
Result<std::vector<std::shared_ptr<Table>>> OpenStagedTables(
    io::FileSystem* fs, const std::string& dir, uint64_t store_id,
    uint32_t anchor_stride, const StagedTables& staged);

// The manifest record of a table.
ManifestTable RecordOf(const TableInfo& info);

// Installs `staged` into the closed index in `dir` (no PersistentIndex may
// have it open): verifies that each staged table opens, writes the manifest
// that lists them instead of the tables they replace, then removes those.
// Ok if it was installed already (a table it replaced and did not remove
// is unlisted, and the next open removes it). NotFound without a manifest;
// Corruption if a staged table is missing or damaged or the manifest does
// not cover the range as staged.
Status InstallStagedTables(io::FileSystem* fs, const std::string& dir,
                           const StagedTables& staged);

}  // namespace cairn::index

#endif  // CAIRN_INDEX_TABLE_REWRITE_H_
