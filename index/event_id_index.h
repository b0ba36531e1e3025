// Copyright (c) Cairn authors.
//
// Event id -> global position, for recognising retried appends. Not
// thread-safe: the engine serialises access like the StreamIndex.
#ifndef CAIRN_INDEX_EVENT_ID_INDEX_H_
#define CAIRN_INDEX_EVENT_ID_INDEX_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "cairn/types.h"

namespace cairn::index {

class EventIdIndex {
 public:
  // Remembers the newest position of `id` (ids are expected to be unique
  // across a store; if one repeats, the later event wins).
  void Insert(const EventId& id, uint64_t position) { map_[id] = position; }

  std::optional<uint64_t> Find(const EventId& id) const {
    auto it = map_.find(id);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }

  uint64_t size() const { return map_.size(); }

 private:
  struct IdHash {
    // Ids are random UUIDs in practice: eight of their bytes are a good
    // hash already. A non-random id still works, it only hashes worse.
    size_t operator()(const EventId& id) const {
      uint64_t a = 0;
      uint64_t b = 0;
      std::memcpy(&a, id.bytes().data(), 8);
      std::memcpy(&b, id.bytes().data() + 8, 8);
      return static_cast<size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
    }
  };
  std::unordered_map<EventId, uint64_t, IdHash> map_;
};

}  // namespace cairn::index

#endif  // CAIRN_INDEX_EVENT_ID_INDEX_H_
