// Copyright (c) Cairn authors.
//
// Reading the persistent index's files below the Store, for the inspection
// API (cairn/inspect.h: verify, dump and index stats) (docs/format.md, "Index
// files"). index::Table and index::ReadManifest refuse a damaged file as a
// whole; inspection needs to show what is still there, so this walks a table's
// or a manifest's bytes field by field, checking each checksum it can and never
// trusting a count or offset before it has checked that it stays inside
// the file. The checksum seeds are computed here from the specification,
// independently of index/table.cc, so inspection and the engine that disagree
// about the format show up as a checksum mismatch rather than agreeing on
// the same mistake.
#ifndef CAIRN_INSPECT_INDEX_FILES_H_
#define CAIRN_INSPECT_INDEX_FILES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/inspect.h"
#include "cairn/result.h"
#include "cairn/status.h"
#include "index/manifest.h"
#include "index/table.h"

namespace cairn::inspect {

// "0x0123456789abcdef", "0x89abcdef": fixed-width hex for ids, hashes and
// checksums in dumps.
std::string Hex64(uint64_t v);
std::string Hex32(uint32_t v);

// A manifest's table record as the inspection API shows it.
ManifestTableInfo ToTableInfo(const index::ManifestTable& t);

// The store id in the header of any segment file in `dir` (but
// `except_name`) whose header verifies: what checksums of a file with a
// damaged header are checked with.
std::optional<uint64_t> StoreIdOfSegmentsIn(
    const std::string& dir, const std::string& except_name = "");

// What a file of an index directory is, by its name.
enum class IndexFileNameKind : uint8_t {
  kManifest,   // MANIFEST
  kTable,      // NNNNNNNNNNNN.idx
  kTemporary,  // MANIFEST.tmp, NNNNNNNNNNNN.idx.tmp: a crash's leftover
  kOther,      // not the index's (left alone by the engine)
};
IndexFileNameKind ClassifyIndexFileName(std::string_view name);

struct IndexDirListing {
  bool has_manifest = false;
  std::vector<uint64_t> tables;          // numbers, ascending
  std::vector<std::string> temporaries;  // names
};
// NotFound if `index_dir` does not exist.
Result<IndexDirListing> ListIndexDir(const std::string& index_dir);

// Whether the manifest in `index_dir` now has another generation than
// `generation`: a live writer replaced it (and may have removed tables the
// old one listed) since that one was read. False if it can not be read.
bool ManifestReplacedSince(const std::string& index_dir, uint64_t generation);

// Reads a whole (small) file; Corruption if it is larger than `max_size`.
Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_size);

// The checksum seeds of docs/format.md, "Index tables".
uint64_t IndexTableSeed(uint64_t store_id, uint64_t number);
uint64_t IndexBlockSeed(uint64_t table_seed, uint64_t block);
// The bytes of one block's summary in a table of format `version`: its
// filter (version 3), then its part directory (version 4); 0 before.
uint64_t SummarySize(uint32_t version);
// The seed of block `block`'s filter checksum (format versions 3 and 4).
uint64_t IndexFilterSeed(uint64_t table_seed, uint64_t block);

// The raw header fields of an index table, decoded without checks.
struct RawTableHeader {
  bool magic_ok = false;
  uint32_t format_version = 0;
  uint32_t header_size = 0;
  index::TableInfo info;
  uint32_t reserved = 0;
  uint64_t fences_offset = 0;
  uint64_t anchors_offset = 0;
  uint64_t filters_offset = 0;  // 0 before version 3
  uint64_t entries_offset = 0;
  uint64_t file_size = 0;
  uint64_t fences_checksum = 0;
  uint64_t anchors_checksum = 0;
  uint64_t header_checksum = 0;
};

// What a walk of a table file found out about its header and sections.
struct TableWalkHeader {
  RawTableHeader raw;
  // index::DecodeTableHeader's verdict on the first 4096 bytes.
  Status status;
  bool header_checksum_ok = false;
  // The section fields agree with the counts and the file size, so the
  // fences, anchors and blocks can be located (even if the header checksum
  // failed: then the walk goes on with the raw fields, marked untrusted).
  bool layout_ok = false;
  // The checksum seed: from the header when it verified, otherwise from
  // the store id hint and the number in the file name.
  std::optional<uint64_t> seed;
  bool fences_ok = false;
  bool anchors_ok = false;
  // The verified header names another number than the file name, or
  // another store than the hint.
  bool number_mismatch = false;
  bool store_mismatch = false;
  uint64_t block_count = 0;
  uint64_t anchor_count = 0;
};

struct TableWalkBlock {
  uint64_t index = 0;
  uint64_t offset = 0;   // in the file
  uint64_t entries = 0;  // used entries (the rest is padding)
  bool checksum_ok = false;
  bool padding_zero = false;
  uint64_t fence_hash = 0;
  uint64_t fence_revision = 0;
  const uint8_t* data = nullptr;  // kTableBlockSize bytes
  // Versions 3 and 4: the block's filter, its checksum, and whether its bits
  // are exactly those of the block's hashes (meaningful if checksum_ok).
  bool has_filter = false;
  uint64_t filter_offset = 0;
  bool filter_checksum_ok = false;
  bool filter_matches = false;
  // Version 4: the block's part directory (after the filter): whether its
  // checksum, its keys (the parts' first keys), every part's checksum and
  // its zero bytes are right.
  bool has_parts = false;
  bool parts_ok = false;
};

struct TableWalkResult {
  TableWalkHeader header;
  uint64_t blocks_ok = 0;
  uint64_t blocks_damaged = 0;
  uint64_t problems = 0;  // header, section and block problems
};

// Walks a table's bytes data[0, size) (the file `path`, for messages):
// header, anchors, then every block. `number` is the number in the file
// name (if it is a table name);
// `store_id_hint` the store's identity from elsewhere (the manifest, the
// segments), used to check checksums when the header is damaged. Never
// reads outside the buffer.
TableWalkResult WalkTable(
    const uint8_t* data, size_t size, const std::string& path,
    std::optional<uint64_t> number, std::optional<uint64_t> store_id_hint,
    const std::function<void(const TableWalkHeader&)>& on_header,
    const std::function<void(uint64_t position, uint32_t offset)>& on_anchor,
    const std::function<void(const TableWalkBlock&)>& on_block);

// A manifest's bytes decoded field by field, as far as they go.
struct RawManifest {
  bool magic_ok = false;
  uint32_t version = 0;
  uint32_t reserved1 = 0;
  uint32_t reserved2 = 0;
  index::Manifest fields;  // tables: the records the bytes hold
  uint32_t table_count = 0;
  bool size_matches_count = false;
  bool checksum_ok = false;
  // index::DecodeManifest's verdict.
  Status status;
};
RawManifest DecodeRawManifest(const uint8_t* data, size_t size,
                              const std::string& path);

}  // namespace cairn::inspect

#endif  // CAIRN_INSPECT_INDEX_FILES_H_
