// Copyright (c) Cairn authors.
#include "index/stream_cache.h"

#include <xxhash.h>

#include <algorithm>
#include <utility>

namespace cairn::index {
namespace {

constexpr size_t kMinSlots = 16;
// Node indexes are 32-bit (slots hold index + 1).
constexpr uint64_t kMaxNodes = uint64_t{1} << 31;

uint64_t HashOf(std::string_view stream) {
  return XXH3_64bits(stream.data(), stream.size());
}

// Heap bytes of a name beyond the node (short names live inside it).
uint64_t NameHeapBytes(const std::string& name) {
  return name.capacity() > 15 ? name.capacity() + 1 : 0;
}

}  // namespace

size_t StreamCache::FindSlot(std::string_view stream, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.node == kEmpty) return i;
    if (slot.hash == hash && nodes_[slot.node - 1].name == stream) return i;
  }
}

const StreamCache::Node* StreamCache::Find(std::string_view stream,
                                           uint64_t hash) const {
  if (slots_.empty()) return nullptr;
  const Slot& slot = slots_[FindSlot(stream, hash)];
  return slot.node == kEmpty ? nullptr : &nodes_[slot.node - 1];
}

StreamCache::Node* StreamCache::Find(std::string_view stream, uint64_t hash) {
  return const_cast<Node*>(std::as_const(*this).Find(stream, hash));
}

void StreamCache::EraseSlot(size_t i) {
  const size_t mask = slots_.size() - 1;
  size_t hole = i;
  for (size_t j = (i + 1) & mask; slots_[j].node != kEmpty;
       j = (j + 1) & mask) {
    // The slot at j may move back into the hole unless its home slot lies
    // cyclically in (hole, j]: then a lookup would stop at the hole first.
    const size_t home = slots_[j].hash & mask;
    const bool stays =
        hole <= j ? home > hole && home <= j : home > hole || home <= j;
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole].node = kEmpty;
}

void StreamCache::Grow() {
  std::vector<Slot> old(std::max(kMinSlots, slots_.size() * 2),
                        Slot{0, kEmpty});
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.node == kEmpty) continue;
    size_t i = s.hash & mask;
    while (slots_[i].node != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

uint32_t StreamCache::TakeNode() {
  if (nodes_.size() < std::min(capacity_, kMaxNodes)) {
    nodes_.emplace_back();
    return static_cast<uint32_t>(nodes_.size() - 1);
  }
  // Second chance: a node used since the hand last passed is spared once.
  for (;;) {
    const uint32_t n = hand_;
    hand_ = static_cast<uint32_t>((hand_ + 1) % nodes_.size());
    Node& node = nodes_[n];
    if (node.used) {
      node.used = false;
      continue;
    }
    EraseSlot(FindSlot(node.name, node.hash));
    return n;
  }
}

std::optional<uint64_t> StreamCache::Get(std::string_view stream) {
  Node* node = Find(stream, HashOf(stream));
  if (node == nullptr) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  node->used = true;
  return node->last_revision;
}

void StreamCache::Put(std::string_view stream, uint64_t last_revision) {
  PutTail(stream, last_revision, std::nullopt);
}

void StreamCache::PutTail(std::string_view stream, uint64_t last_revision,
                          std::optional<bool> tombstone) {
  if (capacity_ == 0) return;
  TombstoneState state = TombstoneState::kUnknown;
  if (tombstone) {
    state = *tombstone ? TombstoneState::kYes : TombstoneState::kNo;
  }
  const uint64_t hash = HashOf(stream);
  if (Node* node = Find(stream, hash)) {
    // The same revision again (a lookup refilling it) keeps what is known.
    if (node->last_revision != last_revision ||
        state != TombstoneState::kUnknown) {
      node->tombstone = state;
    }
    node->last_revision = last_revision;
    node->used = true;
    return;
  }
  if ((nodes_.size() + 1) * 2 > slots_.size()) Grow();
  const uint32_t n = TakeNode();
  Node& node = nodes_[n];
  name_bytes_ -= NameHeapBytes(node.name);
  node.name.assign(stream);
  name_bytes_ += NameHeapBytes(node.name);
  node.hash = hash;
  node.last_revision = last_revision;
  node.tombstone = state;
  node.used = false;
  slots_[FindSlot(stream, node.hash)] = Slot{node.hash, n + 1};
}

std::optional<bool> StreamCache::Tombstone(std::string_view stream,
                                           uint64_t last_revision) const {
  const Node* node = Find(stream, HashOf(stream));
  if (node == nullptr || node->last_revision != last_revision ||
      node->tombstone == TombstoneState::kUnknown) {
    return std::nullopt;
  }
  return node->tombstone == TombstoneState::kYes;
}

void StreamCache::NoteTombstone(std::string_view stream, uint64_t last_revision,
                                bool tombstone) {
  Node* node = Find(stream, HashOf(stream));
  if (node == nullptr || node->last_revision != last_revision) return;
  node->tombstone = tombstone ? TombstoneState::kYes : TombstoneState::kNo;
}

void StreamCache::Clear() {
  std::vector<Node>().swap(nodes_);
  std::vector<Slot>().swap(slots_);
  hand_ = 0;
  name_bytes_ = 0;
}

uint64_t StreamCache::memory_bytes() const {
  return nodes_.capacity() * sizeof(Node) + slots_.capacity() * sizeof(Slot) +
         name_bytes_;
}

}  // namespace cairn::index
