// Copyright (c) Cairn authors.
//
// The last revision of recently used streams, by name: what optimistic
// concurrency asks on every append, answered without touching the index
// files or the log. With it, when known, whether the event at that
// revision is a tombstone, which every append must also rule out. Least
// recently used streams are evicted beyond the capacity, so memory is bounded
// by capacity x (name + ~100 bytes). Not thread-safe: the index guards it with
// a mutex.
#ifndef CAIRN_INDEX_STREAM_CACHE_H_
#define CAIRN_INDEX_STREAM_CACHE_H_

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cairn::index {

class StreamCache {
 public:
  explicit StreamCache(uint64_t capacity) : capacity_(capacity) {}

  std::optional<uint64_t> Get(std::string_view stream);
  // Records the stream's last revision (it only ever grows). A new
  // revision forgets what was known of the tombstone.
  void Put(std::string_view stream, uint64_t last_revision);
  // Records the stream's last revision and whether that event is a
  // tombstone (nullopt: not known).
  void PutTail(std::string_view stream, uint64_t last_revision,
               std::optional<bool> tombstone);
  // Whether the event at `last_revision` is a tombstone, if the stream is
  // cached at that revision with the answer known. Counts no hit or miss.
  std::optional<bool> Tombstone(std::string_view stream,
                                uint64_t last_revision) const;
  // Records the answer for a stream cached at `last_revision` (nothing
  // otherwise).
  void NoteTombstone(std::string_view stream, uint64_t last_revision,
                     bool tombstone);
  void Clear();

  uint64_t size() const { return map_.size(); }
  uint64_t capacity() const { return capacity_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t memory_bytes() const { return bytes_; }

 private:
  // What is known of the event at last_revision.
  enum class TombstoneState : uint8_t { kUnknown, kNo, kYes };
  struct Node {
    std::string name;
    uint64_t last_revision;
    TombstoneState tombstone = TombstoneState::kUnknown;
  };
  using List = std::list<Node>;

  uint64_t capacity_;
  List lru_;  // most recently used first
  // Keys view the names in the list nodes, which never move.
  std::unordered_map<std::string_view, List::iterator> map_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace cairn::index

#endif  // CAIRN_INDEX_STREAM_CACHE_H_
