// Copyright (c) Cairn authors.
//
// The index manifest (docs/format.md, "The index manifest"): the list of
// index tables that make up the durable index, in position order. It is the
// index's commit point: a table is part of the index once a manifest that
// lists it is durable, and the end of the last listed table is the
// checkpoint from which the log is replayed at open. It is replaced
// atomically (temporary file, fsync, rename, directory fsync).
#ifndef CAIRN_INDEX_MANIFEST_H_
#define CAIRN_INDEX_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"
#include "engine/io/file_system.h"

namespace cairn::index {

inline constexpr char kManifestFileName[] = "MANIFEST";
inline constexpr char kManifestMagic[8] = {'C', 'A', 'I', 'R',
                                           'N', 'I', 'M', 'F'};
inline constexpr uint32_t kManifestFormatVersion = 1;

struct ManifestTable {
  uint64_t number = 0;
  uint64_t first_position = 0;
  uint64_t end_position = 0;
  uint64_t entry_count = 0;
  uint32_t level = 0;
  uint32_t last_offset = 0;

  friend bool operator==(const ManifestTable&, const ManifestTable&) = default;
};

struct Manifest {
  uint64_t store_id = 0;
  // Bumped by every write; tells a reader that the table set changed.
  uint64_t generation = 0;
  uint32_t stream_hash_id = 0;
  uint32_t anchor_stride = 0;
  // Numbers below this may have been used; new tables take it and up.
  uint64_t next_table_number = 1;
  std::vector<ManifestTable> tables;  // position order, contiguous

  // First position not covered by the tables (the replay checkpoint).
  uint64_t end_position() const {
    return tables.empty() ? 0 : tables.back().end_position;
  }

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

// Layout (docs/format.md): a fixed part, one record per table, a checksum.
inline constexpr size_t kManifestFixedSize = 56;
inline constexpr size_t kManifestTableRecordSize = 40;

// One table record, without any check (DecodeManifest checks them; the
// tools read records of damaged manifests too).
ManifestTable DecodeManifestTable(const uint8_t* record);

std::string EncodeManifest(const Manifest& manifest);
// Corruption for damage (naming `path`), NotSupported for an unknown
// version.
Status DecodeManifest(const uint8_t* data, size_t size, const std::string& path,
                      Manifest* out);

// Reads dir/MANIFEST; NotFound if there is none.
Status ReadManifest(io::FileSystem* fs, const std::string& dir, Manifest* out);
// Replaces dir/MANIFEST durably: MANIFEST.tmp is written and synced, then
// renamed over MANIFEST, then the directory is synced.
Status WriteManifest(io::FileSystem* fs, const std::string& dir,
                     const Manifest& manifest);

}  // namespace cairn::index

#endif  // CAIRN_INDEX_MANIFEST_H_
