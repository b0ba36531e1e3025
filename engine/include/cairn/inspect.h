// Copyright (c) Cairn authors.
//
// Inspection of a store's files: the tooling API of the file backend.
//
// Unlike the backend-neutral Store API (cairn/store.h), this header speaks
// of what the file backend keeps on disk: segment files of checksummed
// records and the index files derived from them (docs/format.md). It reads
// the files directly, without opening the store or taking its writer lock,
// so it works on a store the engine refuses to open and beside a running
// writer, and it never changes a byte. `cairn verify`, `cairn dump` and
// `cairn index stats` print what these functions return.
//
// Every walk is built for damaged files: it checks each checksum before
// it trusts a length or a count, reports what is damaged and carries on.
// A dump's memory is bounded by the size of one index table's header
// sections and a few mapped segments, not by the size of the log; records
// and index entries are handed to a visitor one at a time. VerifyStore
// also keeps what it checks across the whole log: each stream's name and
// next revision (about 100 bytes per stream) and one bit per position.
#ifndef CAIRN_INSPECT_H_
#define CAIRN_INSPECT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/export.h"
#include "cairn/result.h"
#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn::inspect {

// The version of the segment format this build reads and writes.
CAIRN_EXPORT uint32_t SegmentFormatVersion();

// Bytes an uncompressed one-event append takes in a segment: record
// header, fixed body fields, the stream name, and `payload_bytes` of type,
// data and metadata.
CAIRN_EXPORT uint64_t StoredRecordBytes(size_t stream_name_bytes,
                                        size_t payload_bytes);

// Bytes an uncompressed append of `events` events takes in a segment, each
// event with `type_bytes` of type, `metadata_bytes` of metadata and
// `data_bytes` of data. The first event's record carries the stream name;
// the others name the first instead.
CAIRN_EXPORT uint64_t StoredAppendBytes(size_t stream_name_bytes,
                                        uint64_t events, size_t type_bytes,
                                        size_t metadata_bytes,
                                        size_t data_bytes);

// ---------------------------------------------------------------------------
// Verify

// What a finding concerns. The index is derived data: an open (or `cairn
// index rebuild`) recreates it from the log, so its damage is reported
// apart from damage to the log.
enum class Area : uint8_t { kLog, kIndex };

enum class Severity : uint8_t {
  kProblem,  // damage, or a broken invariant
  kWarning,  // expected after a crash (a torn tail, leftovers)
};

struct Finding {
  Area area = Area::kLog;
  Severity severity = Severity::kProblem;
  std::string file;
  uint64_t offset = 0;  // in `file`
  std::string message;
};

struct VerifyOptions {
  // Called with each finding as it is found, in order (log findings
  // first, then the index's). May be empty.
  std::function<void(const Finding&)> on_finding;
  // VerifyReport::findings keeps at most this many findings (the counts
  // count them all), so a badly damaged store does not grow the report
  // without bound.
  size_t max_findings = 10'000;
};

struct VerifyReport {
  uint64_t segments = 0;
  uint64_t events = 0;   // in whole appends of the log
  uint64_t streams = 0;  // distinct streams among them
  uint64_t log_problems = 0;
  uint64_t index_problems = 0;
  uint64_t warnings = 0;  // log and index
  // DIR/index exists; its tables, entries and checkpoint (the position
  // below which every event is in the tables).
  bool index_present = false;
  uint64_t index_tables = 0;
  uint64_t index_entries = 0;
  uint64_t index_checkpoint = 0;
  // The index was checked against the log (only when the log is healthy).
  bool index_checked_against_log = false;
  // The first VerifyOptions::max_findings findings, in order.
  std::vector<Finding> findings;
  size_t findings_dropped = 0;

  bool healthy() const { return log_problems == 0 && index_problems == 0; }
  // The log is intact and only derived data (the index) is damaged.
  bool only_derived_damaged() const {
    return log_problems == 0 && index_problems > 0;
  }
};

// Checks every segment header, record checksum and log invariant of the
// store in `dir` (positions gapless, revisions contiguous per stream, whole
// appends only, zeros after the last record of sealed segments), then its
// index files, on their own and against the log. A torn tail of the last
// segment is a warning. A directory without segment files gives a report
// with `segments` 0 and nothing checked. An error (not a finding) means
// `dir` could not be listed.
CAIRN_EXPORT Result<VerifyReport> VerifyStore(
    const std::string& dir, const VerifyOptions& options = {});

// ---------------------------------------------------------------------------
// Dump segments

// The segment files of a store directory, in segment-number order.
CAIRN_EXPORT Result<std::vector<std::string>> SegmentFilesOf(
    const std::string& dir);

struct SegmentHeaderInfo {
  uint32_t format_version = 0;
  uint64_t store_id = 0;
  uint64_t segment_number = 0;
  uint64_t first_position = 0;
  uint64_t capacity = 0;
  int64_t created_us = 0;  // microseconds since the Unix epoch
  // A scavenged segment (format version 3) only; 0 for other versions.
  uint32_t generation = 0;
  uint64_t end_position = 0;  // the position after the last it covers
};

struct SegmentStart {
  std::string path;
  uint64_t file_size = 0;
  // OK, or why the header does not verify.
  Status header_status;
  SegmentHeaderInfo header;  // meaningful when header_status is OK
  // With a damaged header: the store id of another segment of the same
  // directory, which (with the number in the file name) seeds the record
  // checksums. Without it the records can not be checked and are not
  // walked.
  std::optional<uint64_t> store_id_from_sibling;
  bool records_walked = false;
};

enum class RecordStatus : uint8_t {
  kOk,
  kBadHeader,  // the header checksum or a header field is wrong
  kBadBody,    // the header verified, the body checksum does not match
  kTruncated,  // the record runs past the end of the file
  kMalformed,  // both checksums match but the body does not decode
};

// "ok", "bad header", "bad body", "truncated", "malformed".
CAIRN_EXPORT std::string_view RecordStatusName(RecordStatus status);

struct RecordInfo {
  uint64_t offset = 0;  // of the record's header in the file
  // Bytes the record spans: header + body when the header verified, else
  // what is left of the file for a truncated header, else 0 (unknown).
  uint64_t length = 0;
  RecordStatus status = RecordStatus::kOk;
  // The header verified: these fields are meaningful.
  bool header_valid = false;
  uint64_t position = 0;
  bool compressed = false;
  bool commit = false;  // the last record of an append
  // Not the first record of its append: the stream name, the creation
  // time and the revision come from the append's first record.
  bool continuation = false;
  uint64_t synced_offset = 0;
  // The body verified and decoded: these fields are meaningful. The views
  // are valid during the visitor's call only.
  bool body_valid = false;
  std::string_view stream;
  uint64_t revision = 0;
  std::string_view type;
  EventId id;
  ContentType content_type = ContentType::kJson;
  uint64_t data_size = 0;
  uint64_t metadata_size = 0;
  int64_t created_us = 0;
};

// A byte range the walk could not read as records; it resynchronises at
// the next offset where a record header verifies.
struct SkippedRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool all_zero = false;
};

struct SegmentEnd {
  // Just past the last record whose header verified: in a healthy
  // segment, where the zeroed space begins.
  uint64_t end_of_records = 0;
  uint64_t records_ok = 0;
  // Damaged records and skipped bytes that are not zero (a damaged
  // segment header is not counted here).
  uint64_t problems = 0;
};

class SegmentVisitor {
 public:
  virtual ~SegmentVisitor() = default;
  virtual void OnStart(const SegmentStart& start) = 0;
  // Only when SegmentStart::records_walked.
  virtual void OnRecord(const RecordInfo& record) = 0;
  virtual void OnSkipped(const SkippedRange& range) = 0;
  virtual void OnEnd(const SegmentEnd& end) = 0;
};

// Walks one segment file: OnStart, then (if the records can be checked)
// every record and skipped range in file order and OnEnd. An error means
// the file could not be read at all (nothing was visited).
CAIRN_EXPORT Status DumpSegment(const std::string& path,
                                SegmentVisitor* visitor);

// ---------------------------------------------------------------------------
// Dump index files

// DIR/index: where a store keeps its index files.
CAIRN_EXPORT std::string IndexDirOf(const std::string& store_dir);

enum class IndexFileKind : uint8_t { kNone, kManifest, kTable };

// What `path` is: by its name (MANIFEST, NNNNNNNNNNNN.idx, or their .tmp
// forms) or, under any other name, by its magic.
CAIRN_EXPORT IndexFileKind IndexFileKindOf(const std::string& path);

// The index files of an index directory: the manifest, the tables in
// number order, then leftovers of interrupted writes (*.tmp). Empty if
// there are none or the directory does not exist.
CAIRN_EXPORT std::vector<std::string> IndexFilesOf(
    const std::string& index_dir);

struct ManifestTableInfo {
  uint64_t number = 0;
  uint32_t level = 0;
  uint64_t first_position = 0;
  uint64_t end_position = 0;
  uint64_t entry_count = 0;
  uint64_t last_offset = 0;
  std::string file_name;  // NNNNNNNNNNNN.idx
};

// A manifest decoded field by field, as far as its bytes go; the fields
// are unverified unless `status` is OK.
struct ManifestDump {
  std::string path;
  uint64_t file_size = 0;
  Status status;  // the engine's verdict on the whole file
  bool magic_ok = false;
  uint32_t version = 0;
  uint32_t reserved1 = 0;
  uint32_t reserved2 = 0;
  uint64_t store_id = 0;
  uint64_t generation = 0;
  uint32_t stream_hash_id = 0;
  uint32_t anchor_stride = 0;
  uint64_t next_table_number = 0;
  uint32_t table_count = 0;  // as the bytes state it
  bool size_matches_count = false;
  bool checksum_ok = false;
  // The end of the last table: every event below it is in the tables.
  uint64_t checkpoint = 0;
  std::vector<ManifestTableInfo> tables;  // the records the bytes hold
};

// Reads and decodes a manifest file (at most 4 MiB).
CAIRN_EXPORT Result<ManifestDump> DumpManifest(const std::string& path);

struct TableStart {
  std::string path;
  uint64_t file_size = 0;
  Status header_status;  // the engine's verdict on the header
  // The raw header fields (unverified unless header_status is OK).
  bool magic_ok = false;
  uint32_t format_version = 0;
  uint64_t store_id = 0;
  uint64_t number = 0;
  uint32_t level = 0;
  uint32_t anchor_stride = 0;
  uint64_t entry_count = 0;
  uint64_t first_position = 0;
  uint64_t end_position = 0;
  uint64_t last_offset = 0;
  // Of the record at last_offset: end_position - 1 in version 1, a header
  // field from version 2.
  uint64_t last_position = 0;
  uint32_t reserved = 0;  // version 1 writes 0
  uint64_t new_streams = 0;
  uint64_t fences_offset = 0;
  uint64_t anchors_offset = 0;
  uint64_t filters_offset = 0;  // 0 before version 3 (no block filters)
  // Bytes per block at filters_offset: its filter (version 3), then its
  // part directory (version 4); 0 before version 3.
  uint64_t summary_size = 0;
  uint64_t entries_offset = 0;
  uint64_t file_size_field = 0;
  bool header_checksum_ok = false;
  // The section fields fit the counts and the file size, so the fences,
  // anchors and blocks can be located (and are walked, even when the
  // header checksum failed).
  bool layout_ok = false;
  // A checksum seed was found (from the header, or from the store id of a
  // manifest or segment beside the file): checksums are checked.
  bool checksums_checked = false;
  bool fences_ok = false;
  bool anchors_ok = false;
  // The header names another number than the file name.
  bool number_mismatch = false;
  // The table belongs to another store than its directory's.
  std::optional<uint64_t> store_of_directory;
  uint64_t block_count = 0;
  uint64_t anchor_count = 0;
};

struct IndexEntryInfo {
  uint64_t file_offset = 0;  // of the entry in the table file
  uint64_t stream_hash = 0;
  uint64_t revision = 0;
  uint64_t position = 0;
  uint32_t segment_offset = 0;
  uint32_t id_tag = 0;
};

struct TableBlock {
  uint64_t index = 0;
  uint64_t offset = 0;  // in the file
  bool checksum_ok = false;
  // The fence (the block's first stream hash and revision in the fence
  // section) matches its first entry.
  bool fence_matches = false;
  bool padding_zero = false;
  // From format version 3: the block's filter (of its stream hashes), at
  // filter_offset in the file; whether its checksum verifies and whether
  // it holds exactly the bits of the block's hashes.
  bool has_filter = false;
  uint64_t filter_offset = 0;
  bool filter_checksum_ok = false;
  bool filter_matches = false;
  // From format version 4: the block's part directory (after the filter),
  // which checksums the block in 512-byte parts; whether it verifies and
  // matches the block's parts.
  bool has_parts = false;
  bool parts_ok = false;
  // Unverified if !checksum_ok; valid during the visitor's call only.
  std::span<const IndexEntryInfo> entries;
};

struct TableEnd {
  uint64_t blocks_ok = 0;
  uint64_t blocks_damaged = 0;
  // Header, section and block problems, a nonzero reserved field, fences
  // that do not match, filters that do not verify or match, part
  // directories that do not, and nonzero padding.
  uint64_t problems = 0;
};

class TableVisitor {
 public:
  virtual ~TableVisitor() = default;
  virtual void OnStart(const TableStart& start) = 0;
  virtual void OnAnchor(uint64_t position, uint32_t offset) = 0;
  virtual void OnBlock(const TableBlock& block) = 0;
  virtual void OnEnd(const TableEnd& end) = 0;
};

// Walks one index table file: header, anchors, every block. An error
// means the file could not be read at all.
CAIRN_EXPORT Status DumpTable(const std::string& path, TableVisitor* visitor);

// ---------------------------------------------------------------------------
// Index statistics

struct IndexTableStats {
  ManifestTableInfo table;
  uint64_t bytes = 0;
  uint64_t new_streams = 0;
  std::string problem;  // why the table could not be read; empty if fine
};

struct IndexStats {
  std::string index_dir;
  // OK, or why the manifest is unusable (then only the leftovers below are
  // filled in).
  Status manifest_status;
  uint64_t store_id = 0;
  uint64_t generation = 0;
  uint64_t checkpoint = 0;
  uint64_t next_table_number = 0;
  uint32_t anchor_stride = 0;
  uint32_t stream_hash_id = 0;
  uint64_t streams = 0;  // created below the checkpoint
  uint64_t table_bytes = 0;
  uint64_t damaged_tables = 0;
  uint64_t unlisted_tables = 0;
  uint64_t temporary_files = 0;
  std::vector<uint64_t> tables_per_level;
  std::vector<IndexTableStats> tables;
  // The log's durable end from the watermark file, when it belongs to the
  // same store: the events from the checkpoint to it are in the writer's
  // memory only (an open after a crash replays them from the log).
  std::optional<uint64_t> log_durable_end;
};

// The index's tables and manifest, from the files (each table's header is
// verified; the entries are not read). An error when the index directory
// can not be listed (NotFound when it, or the store, does not exist).
CAIRN_EXPORT Result<IndexStats> ReadIndexStats(const std::string& store_dir);

}  // namespace cairn::inspect

#endif  // CAIRN_INSPECT_H_
