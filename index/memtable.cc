// Copyright (c) Cairn authors.
#include "index/memtable.h"

#include <algorithm>
#include <bit>

namespace cairn::index {
namespace {

constexpr size_t kInitialSlots = 1024;
// Entries per id-tag bucket, on average at most: what a lookup walks.
constexpr size_t kTagLoad = 4;

// Stream hashes are already well mixed (XXH3), except in tests that force
// collisions with tiny hash values; one multiply spreads those too.
size_t SlotOf(uint64_t hash, size_t mask) {
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> 17) & mask;
}

}  // namespace

MemTable::MemTable(uint64_t first_position, uint32_t anchor_stride)
    : first_position_(first_position),
      end_position_(first_position),
      anchor_stride_(anchor_stride),
      slots_(kInitialSlots, Slot{0, kNone, 0}) {}

const MemTable::Slot* MemTable::Find(uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = SlotOf(hash, mask);; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.head == kNone) return nullptr;
    if (slot.hash == hash) return &slot;
  }
}

void MemTable::Grow() {
  std::vector<Slot> old(slots_.size() * 2, Slot{0, kNone, 0});
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.head == kNone) continue;
    size_t i = SlotOf(s.hash, mask);
    while (slots_[i].head != kNone) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void MemTable::Add(const Entry& entry) {
  Insert(entry);
  if (entry.position % anchor_stride_ == 0) anchors_.push_back(entry.offset);
  end_position_ = entry.position + 1;
}

void MemTable::Skip(uint64_t end, uint32_t anchor) {
  const uint64_t first_anchor =
      (end_position_ + anchor_stride_ - 1) / anchor_stride_ * anchor_stride_;
  for (uint64_t p = first_anchor; p < end; p += anchor_stride_) {
    anchors_.push_back(anchor);
  }
  end_position_ = std::max(end_position_, end);
}

void MemTable::Insert(const Entry& entry) {
  if ((used_slots_ + 1) * 2 > slots_.size()) Grow();
  const auto index = static_cast<uint32_t>(entries_.size());
  const size_t mask = slots_.size() - 1;
  size_t i = SlotOf(entry.hash, mask);
  while (slots_[i].head != kNone && slots_[i].hash != entry.hash) {
    i = (i + 1) & mask;
  }
  uint32_t previous = kNone;
  uint32_t jump = kNone;
  if (slots_[i].head == kNone) {
    slots_[i].hash = entry.hash;
    ++used_slots_;
  } else {
    previous = slots_[i].head;
    if (entries_[previous].entry.revision >= entry.revision) {
      slots_[i].mixed = 1;
    }
    jump = previous;
    const uint32_t p_jump = entries_[previous].jump;
    if (p_jump != kNone && entries_[p_jump].jump != kNone) {
      const uint64_t p_rev = entries_[previous].entry.revision;
      const uint64_t q_rev = entries_[p_jump].entry.revision;
      const uint64_t r_rev = entries_[entries_[p_jump].jump].entry.revision;
      if (p_rev - q_rev == q_rev - r_rev) jump = entries_[p_jump].jump;
    }
  }
  slots_[i].head = index;
  entries_.push_back(Item{entry, previous, jump});
  if (entry.revision == 0) ++new_streams_;
}

MemTable::MemTable(const MemTable& other, uint64_t from)
    : MemTable(from, other.anchor_stride_) {
  // Entries are in position order; skipped positions have none.
  auto it = std::lower_bound(
      other.entries_.begin(), other.entries_.end(), from,
      [](const Item& item, uint64_t p) { return item.entry.position < p; });
  for (; it != other.entries_.end(); ++it) Insert(it->entry);
  const uint32_t stride = anchor_stride_;
  auto first_multiple = [&](uint64_t p) {
    return (p + stride - 1) / stride * stride;
  };
  const uint64_t skipped =
      (first_multiple(from) - first_multiple(other.first_position_)) / stride;
  anchors_.assign(other.anchors_.begin() + static_cast<ptrdiff_t>(skipped),
                  other.anchors_.end());
  end_position_ = other.end_position_;
}

void MemTable::Scan(uint64_t hash, uint64_t lo, uint64_t hi,
                    std::vector<Entry>* out) const {
  const Slot* slot = Find(hash);
  if (slot == nullptr) return;
  const bool mixed = slot->mixed != 0;
  uint32_t i = slot->head;
  if (!mixed) {
    // Revisions strictly decrease down the chain: skip those above hi,
    // by jumps while the jump lands above hi too.
    while (i != kNone && entries_[i].entry.revision > hi) {
      const uint32_t jump = entries_[i].jump;
      i = jump != kNone && entries_[jump].entry.revision > hi
              ? jump
              : entries_[i].previous;
    }
  }
  for (; i != kNone; i = entries_[i].previous) {
    const Entry& e = entries_[i].entry;
    if (e.revision < lo) {
      // Revisions only go down along a chain of one stream; with several
      // streams on the chain a later entry may be higher again.
      if (!mixed) return;
      continue;
    }
    if (e.revision <= hi) out->push_back(e);
  }
}

size_t MemTable::TagBucket(uint64_t hash, uint32_t tag) const {
  // Keyed by stream as well as tag: one id appended to many streams spreads
  // over the buckets instead of making one long chain.
  const uint64_t key =
      (hash ^ (uint64_t{tag} * 0x9E3779B97F4A7C15ull)) * 0xC2B2AE3D27D4EB4Full;
  return static_cast<size_t>(key >> 32) & (tag_heads_.size() - 1);
}

void MemTable::LinkTags() const {
  size_t from = tag_previous_.size();
  if (from == entries_.size()) return;
  if (entries_.size() > tag_heads_.size() * kTagLoad) {
    // Sized for the room reserved (a writer's whole memtable), so that a
    // writer's table is linked without relinking; others double.
    const uint64_t want = std::max<uint64_t>(
        entries_.capacity(), 2 * static_cast<uint64_t>(entries_.size()));
    tag_heads_.assign(std::bit_ceil(std::max<uint64_t>(want / kTagLoad, 1)), 0);
    tag_previous_.clear();
    tag_previous_.reserve(entries_.capacity());
    from = 0;
  }
  // Oldest first, so that every chain is newest first.
  for (size_t i = from; i < entries_.size(); ++i) {
    const Entry& e = entries_[i].entry;
    uint32_t& head = tag_heads_[TagBucket(e.hash, e.id_tag)];
    tag_previous_.push_back(head == 0 ? kNone : head - 1);
    head = static_cast<uint32_t>(i) + 1;
  }
}

void MemTable::ScanTagged(uint64_t hash, std::span<const uint32_t> tags,
                          uint64_t lo, uint64_t hi,
                          std::vector<Entry>* out) const {
  const Slot* slot = Find(hash);
  if (slot == nullptr) return;
  const bool mixed = slot->mixed != 0;
  std::lock_guard<std::mutex> lock(tag_mu_);
  LinkTags();
  if (tag_heads_.empty()) return;
  for (const uint32_t tag : tags) {
    const uint32_t head = tag_heads_[TagBucket(hash, tag)];
    for (uint32_t i = head == 0 ? kNone : head - 1; i != kNone;
         i = tag_previous_[i]) {
      const Entry& e = entries_[i].entry;
      if (e.hash != hash || e.id_tag != tag) continue;
      if (e.revision < lo) {
        // A stream's entries with one tag come newest first too.
        if (!mixed) break;
        continue;
      }
      if (e.revision <= hi) out->push_back(e);
    }
  }
}

std::optional<Entry> MemTable::OldestEntry(uint64_t hash) const {
  const Slot* slot = Find(hash);
  if (slot == nullptr || slot->mixed != 0) return std::nullopt;
  // Jumps span ever longer runs of revisions, so taking them whenever
  // there is one reaches the chain's first entry in O(log n) steps.
  uint32_t i = slot->head;
  while (entries_[i].previous != kNone) {
    i = entries_[i].jump != kNone ? entries_[i].jump : entries_[i].previous;
  }
  return entries_[i].entry;
}

std::optional<uint32_t> MemTable::Anchor(uint64_t position) const {
  if (position % anchor_stride_ != 0 || position < first_position_ ||
      position >= end_position()) {
    return std::nullopt;
  }
  uint64_t first_anchor =
      (first_position_ + anchor_stride_ - 1) / anchor_stride_ * anchor_stride_;
  return anchors_[(position - first_anchor) / anchor_stride_];
}

std::vector<Entry> MemTable::Sorted() const {
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (const Item& item : entries_) out.push_back(item.entry);
  // A lambda, not the function's address, so that the comparison inlines.
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return EntryLess(a, b); });
  return out;
}

uint64_t MemTable::memory_bytes() const {
  // Entries by size, not capacity: reserved room (Reserve) is address space
  // until entries fill it.
  std::lock_guard<std::mutex> lock(tag_mu_);
  return entries_.size() * sizeof(Item) + slots_.capacity() * sizeof(Slot) +
         anchors_.capacity() * sizeof(uint32_t) +
         (tag_heads_.capacity() + tag_previous_.size()) * sizeof(uint32_t);
}

}  // namespace cairn::index
