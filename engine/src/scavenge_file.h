// Copyright (c) Cairn authors.
//
// The SCAVENGE file, the commit point of a scavenge (docs/format.md, "The
// SCAVENGE file"), and the names of the files a scavenge writes. Text, one
// item per line, ending with a checksum over everything before it, so a
// torn or damaged file is recognised and treated as absent.
#ifndef CAIRN_ENGINE_SRC_SCAVENGE_FILE_H_
#define CAIRN_ENGINE_SRC_SCAVENGE_FILE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/result.h"
#include "engine/io/file_system.h"
#include "index/table_rewrite.h"

namespace cairn::engine {

inline constexpr char kScavengeFileName[] = "SCAVENGE";
inline constexpr char kScavengeTempSuffix[] = ".tmp";
// The suffix of a rewritten segment while it is written; renamed to its
// final name only after the commit point.
inline constexpr char kScavengeWriteSuffix[] = ".scv";

// One rewritten segment: its number, generation, and the size and XXH3-64
// (seed 0) of its whole file, which identify the finished `.scv` file.
struct ScavengeUnitEntry {
  uint64_t number = 0;
  uint32_t generation = 0;
  uint64_t size = 0;
  uint64_t hash = 0;

  bool operator==(const ScavengeUnitEntry&) const = default;
};

struct ScavengeCommit {
  uint64_t store_id = 0;
  std::vector<ScavengeUnitEntry> units;
  // The staged tables of the stream index and the link index that replace
  // the tables covering the rewritten range (none for the link index when
  // the store keeps no category and event-type streams).
  index::StagedTables index_tables;
  index::StagedTables link_tables;

  bool operator==(const ScavengeCommit&) const = default;
};

std::string EncodeScavengeCommit(const ScavengeCommit& commit);
// nullopt when `text` is not a whole, intact SCAVENGE file of this version
// (then no scavenge committed: its leftovers are garbage).
std::optional<ScavengeCommit> DecodeScavengeCommit(std::string_view text);

// XXH3-64 with seed 0 of a file's bytes, as in a unit line.
uint64_t ScavengeFileHash(std::string_view bytes);
// The same of the file at `path`, which must be `size` bytes long
// (Corruption before it is read otherwise, or if it ends early), read
// `piece` bytes at a time through *buffer, which keeps its capacity.
// `each_piece` (may be empty) sees each piece read, with its offset, in
// order. NotFound if there is no such file.
Result<uint64_t> ScavengeFileHashOf(
    io::FileSystem* fs, const std::string& path, uint64_t size, size_t piece,
    std::string* buffer,
    const std::function<void(uint64_t offset, std::string_view bytes)>&
        each_piece = {});

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SCAVENGE_FILE_H_
