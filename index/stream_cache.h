// Copyright (c) Cairn authors.
//
// The last revision of recently used streams, by name: what optimistic
// concurrency asks on every append, and every read of a stream, answered
// without touching the index files or the log. With it, when known, whether
// the event at that revision is a tombstone, which every append must also
// rule out; and streams known to have no events (kNoEvents), which is the
// answer for the metadata stream of most streams.
//
// Beyond the capacity a stream not used since the eviction hand last passed
// it is evicted (CLOCK, an approximation of least recently used that does
// not reorder a list on every hit), so memory is bounded by capacity x
// (name + a 56-byte node + 32 to 64 bytes of slots). A lookup touches one slot
// of an open-addressing table and the stream's node; a miss allocates nothing
// once the cache is full (an evicted node's name buffer is reused). Not
// thread-safe: the index guards it with a mutex.
#ifndef CAIRN_INDEX_STREAM_CACHE_H_
#define CAIRN_INDEX_STREAM_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::index {

class StreamCache {
 public:
  // The "last revision" of a stream known to have no events.
  static constexpr uint64_t kNoEvents = UINT64_MAX;

  // Holds at most `capacity` streams (and never more than 2^31).
  explicit StreamCache(uint64_t capacity) : capacity_(capacity) {}

  // The stream's last revision, kNoEvents if it has none, nullopt if not
  // cached.
  std::optional<uint64_t> Get(std::string_view stream);
  // Records the stream's last revision, or kNoEvents (a revision only ever
  // grows, from kNoEvents to the first one). A new revision forgets what
  // was known of the tombstone.
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

  // Every node holds a cached stream: a full cache reuses evicted ones.
  uint64_t size() const { return nodes_.size(); }
  uint64_t capacity() const { return capacity_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t memory_bytes() const;

 private:
  // What is known of the event at last_revision.
  enum class TombstoneState : uint8_t { kUnknown, kNo, kYes };
  struct Node {
    std::string name;
    uint64_t hash = 0;
    uint64_t last_revision = 0;
    TombstoneState tombstone = TombstoneState::kUnknown;
    bool used = false;  // looked up since the hand last passed
  };
  // Open addressing with linear probing; node 0 marks an empty slot, so a
  // slot holds its node's index + 1. The hash sits in the slot, so a probe
  // reads a node only when the hashes match.
  struct Slot {
    uint64_t hash;
    uint32_t node;
  };
  static constexpr uint32_t kEmpty = 0;

  // The slot of `stream` (hash `hash`), or of the empty slot where it
  // would go.
  size_t FindSlot(std::string_view stream, uint64_t hash) const;
  // The node of `stream` (hash `hash`), or null.
  Node* Find(std::string_view stream, uint64_t hash);
  const Node* Find(std::string_view stream, uint64_t hash) const;
  // Removes the slot at `i`, moving later slots of its probe run back so
  // that every lookup still finds its stream.
  void EraseSlot(size_t i);
  void Grow();
  // A node for a new stream: a fresh one below the capacity, else the
  // one the hand evicts.
  uint32_t TakeNode();

  uint64_t capacity_;
  std::vector<Node> nodes_;
  std::vector<Slot> slots_;  // empty, or a power of two at least 2 x size()
  uint32_t hand_ = 0;        // the next node the eviction hand looks at
  uint64_t name_bytes_ = 0;  // heap bytes of the nodes' names
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace cairn::index

#endif  // CAIRN_INDEX_STREAM_CACHE_H_
