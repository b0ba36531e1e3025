// Copyright (c) Cairn authors.
//
// The in-memory part of the index: the entries of the newest positions, in
// position order, with a hash table from stream hash to that stream's
// newest entry and a chain from each entry to the previous one of the same
// hash. Each entry also has a jump pointer further down its chain (a
// skew-binary jump list over the revisions), so a scan of one stream's old
// revisions skips its newer entries in O(log n) steps instead of walking
// them one by one: reading a long stream forwards page by page stays
// linear. Once it holds enough entries it is frozen (no more adds) and
// written out as a table in the background; until that table is durable
// the frozen memtable keeps answering lookups.
//
// A second hash table, keyed by stream hash and event-id tag, chains the
// entries of each bucket, so that the retry check of an append finds the
// stream's events that may hold one of its ids in O(ids), not by reading
// the stream's last idempotency_window events. ScanTagged links the
// entries added since its last call before it looks; Add does not, so a
// store whose appends carry no caller-chosen ids never pays for it.
//
// Memory: about 40 bytes per entry plus 16 bytes per hash-table slot (at
// most two slots per distinct stream), and 5 bytes per entry more once
// ScanTagged has run. A writer's memtables are bounded by
// IndexOptions::memtable_entries, a follower's by what it may hold past the
// writer's tables (PersistentIndex::kFollowerMemTables).
//
// Thread-compatibility: Add needs exclusive access; the const methods may
// run concurrently with each other (ScanTagged extends the id-tag chains
// under a mutex of its own).
#ifndef CAIRN_INDEX_MEMTABLE_H_
#define CAIRN_INDEX_MEMTABLE_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "index/format.h"

namespace cairn::index {

class MemTable {
 public:
  // Entries will start at `first_position`; anchors are kept for the
  // multiples of `anchor_stride`.
  MemTable(uint64_t first_position, uint32_t anchor_stride);
  // The entries of `other` at positions from `from` on, which must be within
  // [other.first_position(), other.end_position()] (a read-only index keeps
  // only what the writer's tables do not cover).
  MemTable(const MemTable& other, uint64_t from);

  // Makes room for `entries` entries up front. A writer's memtable is filled
  // under the store's state lock, which readers and subscriptions wait for:
  // growing it by doubling copies up to half its size under that lock.
  // Untouched, the room costs address space only.
  void Reserve(uint64_t entries) { entries_.reserve(entries); }
  // The entry's position must be end_position() (the caller checks).
  void Add(const Entry& entry);
  // Positions [end_position(), end) were removed by a scavenge (a log
  // replayed across its holes): no entries, and `anchor` for the multiples
  // of the stride among them (the first kept record after them in their
  // segment, or the end of its records).
  void Skip(uint64_t end, uint32_t anchor);

  uint64_t first_position() const { return first_position_; }
  // Positions below it are indexed or skipped.
  uint64_t end_position() const { return end_position_; }
  uint64_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  uint64_t new_streams() const { return new_streams_; }
  // Offset and position of the last entry: end_position() - 1 unless
  // positions were skipped; 0 without entries (a table over skipped
  // positions only, whose file has no last event either).
  uint32_t last_offset() const {
    return entries_.empty() ? 0 : entries_.back().entry.offset;
  }
  uint64_t last_position() const {
    return entries_.empty() ? 0 : entries_.back().entry.position;
  }
  uint64_t memory_bytes() const;

  // Calls fn(entry) for the entries with `hash`, newest first, until fn
  // returns false.
  template <typename Fn>
  void ForEachNewest(uint64_t hash, Fn&& fn) const {
    for (uint32_t i = Head(hash); i != kNone; i = entries_[i].previous) {
      if (!fn(entries_[i].entry)) return;
    }
  }
  // Appends the entries with `hash` and revision in [lo, hi] to *out
  // (newest first).
  void Scan(uint64_t hash, uint64_t lo, uint64_t hi,
            std::vector<Entry>* out) const;
  // Appends the entries with `hash`, an id tag among `tags` (each once)
  // and revision in [lo, hi] to *out, newest first for each tag. Costs the
  // entries of each tag's bucket, four on average, plus linking the
  // entries added since the last call.
  void ScanTagged(uint64_t hash, std::span<const uint32_t> tags, uint64_t lo,
                  uint64_t hi, std::vector<Entry>* out) const;
  bool Contains(uint64_t hash) const { return Find(hash) != nullptr; }
  // The entry with the lowest revision among those with `hash` (by the
  // jumps, in O(log n) steps): if it is of stream S, every revision of S
  // from it on that the table's positions hold is here. nullopt when there
  // is none, or when the chain is known to hold more than one stream (a
  // revision not above the one before it). Colliding streams whose
  // revisions happen to rise along the chain are not detected here: the
  // caller checks the entry's stream name before it relies on it.
  std::optional<Entry> OldestEntry(uint64_t hash) const;

  std::optional<uint32_t> Anchor(uint64_t position) const;
  uint32_t anchor_stride() const { return anchor_stride_; }
  const std::vector<uint32_t>& anchors() const { return anchors_; }

  // The entries sorted by EntryLess, for writing a table.
  std::vector<Entry> Sorted() const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Item {
    Entry entry;
    uint32_t previous;  // index of the previous entry with the same hash
    // An older entry of the chain (kNone for the first): `previous`, or
    // previous's jump's jump when the two jumps below span as many
    // revisions, which gives jumps of 1, 3, 7, 15, ... revisions. Used only
    // while the chain's revisions strictly decrease (not `mixed`).
    uint32_t jump;
  };
  // The jump fits in what would be padding: 40 bytes per entry either way.
  static_assert(sizeof(Item) == kEntrySize + 8);
  struct Slot {
    uint64_t hash;
    uint32_t head;  // kNone: empty slot
    // The chain's revisions do not strictly decrease from the head: more
    // than one stream has this hash, so scans must walk the whole chain.
    uint32_t mixed;
  };

  const Slot* Find(uint64_t hash) const;
  uint32_t Head(uint64_t hash) const {
    const Slot* slot = Find(hash);
    return slot == nullptr ? kNone : slot->head;
  }
  void Grow();
  // Links the entries added since the last call into the id-tag chains,
  // resizing the buckets first when they would hold more than kTagLoad
  // entries each on average. Needs tag_mu_.
  void LinkTags() const;
  size_t TagBucket(uint64_t hash, uint32_t tag) const;

  // Links an entry into its hash chain, without its anchor.
  void Insert(const Entry& entry);

  uint64_t first_position_;
  uint64_t end_position_;
  uint32_t anchor_stride_;
  uint64_t new_streams_ = 0;
  std::vector<Item> entries_;
  std::vector<Slot> slots_;  // open addressing, linear probing, power of 2
  // The id-tag chains of the first tag_previous_.size() entries: each
  // bucket's newest entry + 1 (0: none), and each entry's previous one in
  // its bucket (kNone at the end). A power of 2 buckets.
  mutable std::mutex tag_mu_;
  mutable std::vector<uint32_t> tag_heads_;
  mutable std::vector<uint32_t> tag_previous_;
  uint64_t used_slots_ = 0;
  std::vector<uint32_t> anchors_;  // offsets of the multiples of the stride
};

}  // namespace cairn::index

#endif  // CAIRN_INDEX_MEMTABLE_H_
