// Copyright (c) Cairn authors.
//
// Index tables: immutable, sorted, checksummed files of index entries
// (docs/format.md, "Index tables"). A table covers a contiguous range of
// global positions and holds one entry per event in that range, sorted by
// (stream hash, revision, position), plus an "anchor" per position that is
// a multiple of the anchor stride: the segment offset of that record, so a
// position can be located without a per-event table in memory.
//
// Tables are read through a read-only mapping: lookups touch a few pages of
// the page cache and no anonymous memory. Each 4 KiB block of entries has
// its own checksum, verified every time a sequential reader (a merge, a
// verification) reads the block; the header, the fence section (first key
// and checksum of every block) and the anchors are verified when the table
// is opened. From format version 3 each block also has a filter of its
// stream hashes (block_filter.h), with its own checksum verified every time
// a lookup consults it: a lookup of a stream the table lacks reads one
// 128-byte filter instead of a block. From version 4 a block is also
// checksummed in 512-byte parts, whose first keys and checksums follow the
// filter: a lookup verifies that part directory and the parts it reads,
// about 700 bytes instead of the whole 4 KiB block.
//
// Thread-safety: a Table is immutable once opened; any number of threads
// may read it. A TableWriter belongs to one thread.
#ifndef CAIRN_INDEX_TABLE_H_
#define CAIRN_INDEX_TABLE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"
#include "engine/io/file_system.h"
#include "index/block_filter.h"
#include "index/format.h"

namespace cairn::index {

inline constexpr char kTableMagic[8] = {'C', 'A', 'I', 'R', 'N', 'I', 'X', 'T'};
// Version 1 tables hold every position of their range; version 2 tables
// (written for a range with removed positions, after a scavenge) hold the
// kept ones and name their last kept position. Version 3 tables, the only
// ones written, may have gaps or not, name their last position, and have a
// filter per entry block. Version 4 tables, the only ones written, add a
// directory of checksummed parts to each block. All four are read.
inline constexpr uint32_t kTableFormatVersion = 1;
inline constexpr uint32_t kTableGapsFormatVersion = 2;
inline constexpr uint32_t kTableFiltersFormatVersion = 3;
inline constexpr uint32_t kTablePartsFormatVersion = 4;
inline constexpr uint32_t kTableHeaderSize = 4096;
inline constexpr uint32_t kTableBlockSize = 4096;
inline constexpr uint32_t kEntriesPerBlock = kTableBlockSize / kEntrySize;
inline constexpr uint32_t kFenceSize = 24;
// Version 4: each block is checksummed in parts of 16 entries, and the
// block's summary is its filter (kBlockFilterSize bytes), then the part
// directory: the first key (hash, revision) of parts 1 to 7, the checksums
// of parts 0 to 7, the directory's own checksum, and 8 zero bytes.
inline constexpr uint32_t kTablePartSize = 512;
inline constexpr uint32_t kPartsPerBlock = kTableBlockSize / kTablePartSize;
inline constexpr uint32_t kEntriesPerPart = kTablePartSize / kEntrySize;
inline constexpr uint32_t kPartKeysAt = kBlockFilterSize;
inline constexpr uint32_t kPartChecksumsAt =
    kPartKeysAt + 16 * (kPartsPerBlock - 1);
inline constexpr uint32_t kPartDirectoryChecksumAt =
    kPartChecksumsAt + 8 * kPartsPerBlock;
inline constexpr uint32_t kBlockSummarySize = kPartDirectoryChecksumAt + 16;

// "000000000042.idx": the table's number, twelve digits, ".idx".
std::string TableFileName(uint64_t number);
std::optional<uint64_t> ParseTableFileName(std::string_view name);

// What a table's header says about it.
struct TableInfo {
  uint64_t store_id = 0;
  uint64_t number = 0;
  // 0 for a table written from memory; a merge of tables of level L makes
  // one of level L + 1.
  uint32_t level = 0;
  uint32_t anchor_stride = 0;
  uint64_t entry_count = 0;
  // The table holds every kept event with a position in [first_position,
  // end_position), and only those: all of them unless a scavenge removed
  // some (then entry_count < end_position - first_position).
  uint64_t first_position = 0;
  uint64_t end_position = 0;
  // Segment offset and position of the table's last event (where a replay
  // of the log after this table resumes from): end_position - 1 without
  // gaps. Both 0 in a table with no entries (every event removed).
  uint32_t last_offset = 0;
  uint64_t last_position = 0;
  // Entries with revision 0: the streams this table's range created (and
  // whose first event is kept).
  uint64_t new_streams = 0;
  // What the header says. TableWriter writes kTablePartsFormatVersion
  // unless this is kTableFiltersFormatVersion (for tests that read the
  // older layout).
  uint32_t format_version = kTablePartsFormatVersion;

  // Whether positions of the range have no entry (removed by a scavenge).
  bool has_gaps() const { return entry_count != end_position - first_position; }
  // Whether each entry block has a filter (format version 3 and later).
  bool has_filters() const {
    return format_version >= kTableFiltersFormatVersion;
  }
  // Whether each entry block has a part directory (format version 4).
  bool has_parts() const { return format_version >= kTablePartsFormatVersion; }
  // The bytes of one block's summary: its filter, from version 4 followed
  // by its part directory; 0 before version 3.
  uint32_t summary_size() const {
    if (has_parts()) return kBlockSummarySize;
    return has_filters() ? kBlockFilterSize : 0;
  }
  // Anchors cover the multiples of anchor_stride in the range.
  uint64_t anchor_count() const;
  uint64_t block_count() const {
    return (entry_count + kEntriesPerBlock - 1) / kEntriesPerBlock;
  }
};

// Writes one table in format version 4: entries in EntryLess order, anchors
// in position order, then Finish(). For a range without gaps
// `last_position` is end_position - 1 whatever `info` says. The file is written
// under a temporary name, synced, and renamed into place, and the directory
// synced: after Finish() the table is durable under its name; before, a crash
// leaves at most a temporary file (which the next open removes).
class TableWriter {
 public:
  static Result<std::unique_ptr<TableWriter>> Create(io::FileSystem* fs,
                                                     const std::string& dir,
                                                     const TableInfo& info);
  ~TableWriter();  // removes the temporary file unless finished
  TableWriter(const TableWriter&) = delete;
  TableWriter& operator=(const TableWriter&) = delete;

  Status Add(const Entry& entry);
  Status AddAnchor(uint32_t offset);
  // Checks the counts, writes the header, syncs and renames into place.
  Status Finish();

  const std::string& path() const { return path_; }

 private:
  TableWriter(io::FileSystem* fs, std::string dir, const TableInfo& info);
  Status FlushEntries();
  // Writes the fences and summaries of the complete blocks.
  Status FlushFencesAndSummaries();
  // Fills in the checksums and part directory of the last block, complete.
  void FinishBlock();
  Status FlushAnchors();

  io::FileSystem* fs_;
  std::string dir_;
  std::string path_;
  std::string temp_path_;
  TableInfo info_;
  std::unique_ptr<io::File> file_;
  uint64_t fences_offset_ = 0;
  uint64_t anchors_offset_ = 0;
  uint64_t filters_offset_ = 0;
  uint64_t entries_offset_ = 0;
  uint64_t file_size_ = 0;
  uint64_t seed_ = 0;
  struct Hashing;  // streaming checksums of the fence and anchor sections
  std::unique_ptr<Hashing> hashing_;

  uint64_t entries_added_ = 0;
  uint64_t anchors_added_ = 0;
  Entry last_;
  std::string entry_buffer_;  // whole blocks not yet written
  uint64_t entry_write_at_ = 0;
  std::string fence_buffer_;
  uint64_t fence_write_at_ = 0;
  std::string summary_buffer_;
  uint64_t summary_write_at_ = 0;
  std::string anchor_buffer_;
  uint64_t anchor_write_at_ = 0;
  bool finished_ = false;
};

class Table;

// A key as the fences record it: a block's first (hash, revision).
struct EntryKey {
  uint64_t hash = 0;
  uint64_t revision = 0;
};

// Where a lookup rebuilds a damaged entry block from: appends to *out the
// entries of `table`'s position range whose key lies in [lo, hi] (both
// inclusive), in any order, or fails. PersistentIndex reads them from the
// log, which is the truth the index is derived from; it runs on the
// lookup's thread, with what the lookup holds.
using BlockSource = std::function<Status(const Table& table, EntryKey lo,
                                         EntryKey hi, std::vector<Entry>* out)>;

// Damaged blocks of one table lookups take up at most (rebuilt, or found
// not to be reproducible): a table damaged beyond that answers Corruption
// for the others, at once, until `cairn index rebuild` or the next open
// (which drops a table a lookup found damaged).
inline constexpr size_t kMaxRepairedBlocks = 64;

class Table {
 public:
  // Opens and verifies the header, the fences and the anchors. `store_id`
  // and `number` must match the header (0 skips the store check, for
  // tools); `anchor_stride` too unless 0. Corruption for damage,
  // NotSupported for an unknown version.
  static Result<std::shared_ptr<Table>> Open(io::FileSystem* fs,
                                             const std::string& path,
                                             uint64_t store_id, uint64_t number,
                                             uint32_t anchor_stride);

  const TableInfo& info() const { return info_; }
  const std::string& path() const { return path_; }

  // Damaged entry blocks: a lookup that finds a block (its entries, or
  // its filter or part directory) failing its checksum rebuilds it. When
  // the stored entries still match the checksum in the block's fence
  // (verified when the table opened), only the summary is made again;
  // otherwise `source` gives the entries of the block's key range, and
  // the block they make is kept if it matches that checksum: exactly the
  // bytes the writer wrote, never a guess. The copy stays in memory (at
  // most kMaxRepairedBlocks per table) for the table's lifetime; merges
  // and rewrites read it too, so the next table written from this one is
  // whole. Without a source, or when the source's entries do not
  // reproduce the block (remembered: later lookups fail at once), the
  // lookup fails with Corruption; a failure of the source itself is
  // returned as it is. Set before the table is shared.
  void set_block_source(BlockSource source) { source_ = std::move(source); }
  // Told about each damaged block a lookup meets, once per block, before
  // any rebuild (PersistentIndex records the table for the next open).
  // Set before the table is shared.
  void set_damage_note(std::function<void(const Status&)> note) {
    damage_note_ = std::move(note);
  }
  // Blocks rebuilt so far.
  uint64_t repaired_blocks() const {
    return repaired_count_.load(std::memory_order_relaxed);
  }
  uint64_t file_size() const { return file_size_; }
  // Where the sections start in the file (filters, that is the block
  // summaries: 0 before version 3).
  uint64_t anchors_offset() const { return anchors_ - map_->data(); }
  uint64_t filters_offset() const {
    return filters_ == nullptr ? 0 : filters_ - map_->data();
  }
  uint64_t entries_offset() const { return entries_ - map_->data(); }

  // The entries of block `i`, after verifying its checksum.
  Result<const uint8_t*> Block(uint64_t i) const;
  // Block(i), or when it fails the copy a lookup rebuilt, if there is one.
  Result<const uint8_t*> BlockOrRepaired(uint64_t i) const;
  // Whether block `i` may hold entries of `hash`: false only if its filter
  // (verified first) rules the hash out; true in a table without filters.
  Result<bool> MayContain(uint64_t i, uint64_t hash) const;
  // Block `i`'s stored summary, unverified (info().summary_size() bytes:
  // the filter bits, their checksum, from version 4 the part directory);
  // version 3 and later only.
  const uint8_t* Filter(uint64_t i) const {
    return filters_ + i * info_.summary_size();
  }
  uint64_t EntriesIn(uint64_t block) const;
  // Checks block `i`'s summary against the block's entries `block` (already
  // verified): the filter's checksum and that its bits are exactly those
  // of the block's hashes; from version 4 the part directory's checksum,
  // that its keys are the parts' first keys (zero for parts past the last
  // entry), every part's checksum, and the zero bytes. Corruption naming
  // the summary's offset; Ok before version 3. For VerifyAll and `cairn
  // verify`.
  Status VerifySummary(uint64_t i, const uint8_t* block) const;

  // Calls fn(entry) for the entries with `hash`, highest revision first,
  // until fn returns false.
  template <typename Fn>
  Status ForEachNewest(uint64_t hash, Fn&& fn) const;
  // Appends the entries with `hash` and revision in [lo, hi] to *out, in
  // ascending order.
  Status Scan(uint64_t hash, uint64_t lo, uint64_t hi,
              std::vector<Entry>* out) const;
  // Offset of the record at `position`, a multiple of the anchor stride in
  // [first_position, end_position); in a table with gaps, of the first kept
  // record at or after it (or the end of its segment's records).
  std::optional<uint32_t> Anchor(uint64_t position) const;

  // Reads every block: checksums, sort order, positions inside the range,
  // each position at most once (exactly once, checked by the sum of
  // positions, in a table without gaps), the last position, entry and
  // new-stream counts, and each block's summary (VerifySummary). For
  // `cairn verify`; O(entries).
  Status VerifyAll() const;

  // Sequential reader of all entries (merges, verification, dumps).
  // `use_repairs`: a damaged block a lookup rebuilt reads as its rebuilt
  // copy (merges and rewrites); false reads the stored bytes only
  // (verification).
  class Cursor {
   public:
    explicit Cursor(const Table* table, bool use_repairs = true)
        : table_(table), use_repairs_(use_repairs) {}
    // Sets *entry to the next entry; false at the end or on error
    // (status() tells which).
    bool Next(Entry* entry);
    const Status& status() const { return status_; }

   private:
    const Table* table_;
    bool use_repairs_;
    uint64_t block_ = 0;
    uint64_t in_block_ = 0;
    const uint8_t* data_ = nullptr;
    Status status_;
  };

 private:
  class BlockReader;
  Table() = default;
  // The last block whose first key is <= (hash, revision), or UINT64_MAX
  // if there is none.
  uint64_t LastBlockStartingAtOrBefore(uint64_t hash, uint64_t revision) const;
  // The last block whose first key is < (hash, revision), or 0: where
  // the entries >= (hash, revision) start (equal keys can straddle a block
  // boundary when streams collide).
  uint64_t LastBlockStartingBefore(uint64_t hash, uint64_t revision) const;
  uint64_t FenceHash(uint64_t i) const {
    return Get64(fences_ + i * kFenceSize);
  }
  uint64_t FenceRevision(uint64_t i) const {
    return Get64(fences_ + i * kFenceSize + 8);
  }
  Status BlockCorruption(uint64_t i, const std::string& why) const;
  Status SummaryCorruption(uint64_t i, uint64_t at,
                           const std::string& why) const;
  // VerifySummary of `summary` rather than the stored one.
  Status VerifySummaryOf(uint64_t i, const uint8_t* block,
                         const uint8_t* summary) const;

  // A damaged block rebuilt from the block source: its entries, and its
  // summary as the writer makes it.
  struct RepairedBlock {
    alignas(64) std::array<uint8_t, kTableBlockSize> entries;
    alignas(64) std::array<uint8_t, kBlockSummarySize> summary;
  };
  // The rebuilt copy of block `i` (made now if need be), or `damage` (or
  // the block source's error).
  Result<const RepairedBlock*> Repair(uint64_t i, const Status& damage) const;
  // Fills in `block`'s summary from its entries (n of them), as the
  // writer does, and checks it.
  Status BuildSummary(uint64_t i, uint64_t n, RepairedBlock* block) const;
  // Whether `entries` (zero-padded) are block `i`: its fence's checksum.
  bool MatchesFence(uint64_t i, const uint8_t* entries) const;

  std::string path_;
  TableInfo info_;
  uint64_t file_size_ = 0;
  uint64_t seed_ = 0;
  std::unique_ptr<io::File> file_;
  std::unique_ptr<io::MappedRegion> map_;
  const uint8_t* fences_ = nullptr;
  const uint8_t* anchors_ = nullptr;
  const uint8_t* filters_ = nullptr;  // summaries; null before version 3
  const uint8_t* entries_ = nullptr;

  BlockSource source_;
  std::function<void(const Status&)> damage_note_;
  // The rebuilt blocks, and the blocks a rebuild failed for (which fail
  // at once from then on rather than scanning the log again). Entries are
  // never removed: lookups keep pointers into them. Held briefly.
  mutable std::mutex repaired_mu_;
  mutable std::map<uint64_t, std::unique_ptr<RepairedBlock>> repaired_;
  mutable std::set<uint64_t> unrepairable_;  // guarded by repaired_mu_
  mutable std::atomic<uint64_t> repaired_count_{0};
  // Serialises rebuilds of this table (a second lookup of the same damaged
  // block waits for the first rebuild rather than repeating it). Lookups
  // of blocks rebuilt already do not take it. Order: rebuild_mu_, then
  // repaired_mu_.
  mutable std::mutex rebuild_mu_;
  // The rebuilt copy of block `i`, or null (requires repaired_mu_ not
  // held).
  const RepairedBlock* FindRepaired(uint64_t i) const;
};

// Decodes a table header (the first kTableHeaderSize bytes) without opening
// the rest; for tools that inspect damaged files.
Status DecodeTableHeader(const uint8_t* data, size_t size,
                         const std::string& path, TableInfo* info);

// One entry block as a lookup reads it. Before version 4 the whole block is
// verified when it is loaded; from version 4 its part directory is, and
// each part before the first of its entries is read, so a lookup reads and
// hashes the parts it needs, not the block.
class Table::BlockReader {
 public:
  explicit BlockReader(const Table* table) : table_(table) {}

  Status Load(uint64_t block);
  // Loads `block` and sets *at to its first entry whose key (hash,
  // revision) is after the target, or with `inclusive` false at or after
  // it: the end of the run of entries up to the target. From version 4 it
  // searches the one part the directory names, after verifying it.
  Status Seek(uint64_t block, uint64_t hash, uint64_t revision, bool inclusive,
              uint64_t* at);
  uint64_t size() const { return size_; }
  const uint8_t* data() const { return data_; }
  // Verifies the part holding entry `k` unless done already.
  Status Need(uint64_t k) {
    const uint32_t bit = 1u << (k / kEntriesPerPart);
    if ((verified_ & bit) != 0) return Status::Ok();
    return VerifyPart(k / kEntriesPerPart);
  }

 private:
  Status VerifyPart(uint64_t part);
  // After `damage` to the loaded block: reads the block's rebuilt copy
  // instead (Table::Repair), or fails with `damage`.
  Status UseRepaired(const Status& damage);

  const Table* table_;
  uint64_t block_ = 0;
  uint64_t size_ = 0;
  const uint8_t* data_ = nullptr;
  const uint8_t* directory_ = nullptr;  // the verified summary (version 4)
  uint32_t verified_ = 0;               // one bit per verified part
};

template <typename Fn>
Status Table::ForEachNewest(uint64_t hash, Fn&& fn) const {
  if (info_.entry_count == 0) return Status::Ok();
  uint64_t block = LastBlockStartingAtOrBefore(hash, UINT64_MAX);
  if (block == UINT64_MAX) return Status::Ok();
  // The hash's newest entry, if the table has one, is in this block: the
  // next block starts after (hash, max). So the block's filter answers
  // for the whole table.
  auto may_contain = MayContain(block, hash);
  if (!may_contain.ok()) return may_contain.status();
  if (!*may_contain) return Status::Ok();
  // Entries of `hash` are a run ending before the first entry after
  // (hash, max).
  BlockReader reader(this);
  uint64_t lo = 0;
  Status s = reader.Seek(block, hash, UINT64_MAX, true, &lo);
  if (!s.ok()) return s;
  for (;;) {
    for (uint64_t i = lo; i-- > 0;) {
      s = reader.Need(i);
      if (!s.ok()) return s;
      Entry e = DecodeEntry(reader.data() + i * kEntrySize);
      if (e.hash != hash) return Status::Ok();
      if (!fn(e)) return Status::Ok();
    }
    if (block == 0) return Status::Ok();
    --block;
    s = reader.Load(block);
    if (!s.ok()) return s;
    lo = reader.size();
  }
}

}  // namespace cairn::index

#endif  // CAIRN_INDEX_TABLE_H_
