// Copyright (c) Cairn authors.
#include "index/stream_cache.h"

namespace cairn::index {
namespace {

// Rough heap cost of one cached stream besides its name: a list node
// (two pointers, a std::string, a u64) and a hash node (key, iterator,
// next pointer, cached hash) plus its bucket.
constexpr uint64_t kNodeOverhead = 112;

uint64_t NodeBytes(const std::string& name) {
  return kNodeOverhead + (name.size() > 15 ? name.capacity() + 1 : 0);
}

}  // namespace

std::optional<uint64_t> StreamCache::Get(std::string_view stream) {
  auto it = map_.find(stream);
  if (it == map_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->last_revision;
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
  auto it = map_.find(stream);
  if (it != map_.end()) {
    Node& node = *it->second;
    // The same revision again (a lookup refilling it) keeps what is known.
    if (node.last_revision != last_revision ||
        state != TombstoneState::kUnknown) {
      node.tombstone = state;
    }
    node.last_revision = last_revision;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  if (map_.size() >= capacity_) {
    Node& victim = lru_.back();
    bytes_ -= NodeBytes(victim.name);
    map_.erase(victim.name);
    lru_.pop_back();
  }
  lru_.push_front(Node{std::string(stream), last_revision, state});
  bytes_ += NodeBytes(lru_.front().name);
  map_.emplace(lru_.front().name, lru_.begin());
}

std::optional<bool> StreamCache::Tombstone(std::string_view stream,
                                           uint64_t last_revision) const {
  auto it = map_.find(stream);
  if (it == map_.end() || it->second->last_revision != last_revision ||
      it->second->tombstone == TombstoneState::kUnknown) {
    return std::nullopt;
  }
  return it->second->tombstone == TombstoneState::kYes;
}

void StreamCache::NoteTombstone(std::string_view stream, uint64_t last_revision,
                                bool tombstone) {
  auto it = map_.find(stream);
  if (it == map_.end() || it->second->last_revision != last_revision) return;
  it->second->tombstone =
      tombstone ? TombstoneState::kYes : TombstoneState::kNo;
}

void StreamCache::Clear() {
  map_.clear();
  lru_.clear();
  bytes_ = 0;
}

}  // namespace cairn::index
