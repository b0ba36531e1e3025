// Copyright (c) Cairn authors.
//
// The sealed segments a store keeps mapped: at most `capacity` of them
// (Options::max_open_segments), the least recently used evicted first, so
// the mappings a store holds do not grow with its log. A reader holds the
// mapping it got (a shared_ptr) for as long as it reads from it: an evicted
// segment stays mapped until its last reader lets go, so mappings are
// bounded by the capacity plus the reads in progress. No file descriptor is
// kept: a mapping stays valid after the descriptor it was made from is
// closed. Thread-safe.
#ifndef CAIRN_ENGINE_SRC_SEGMENT_CACHE_H_
#define CAIRN_ENGINE_SRC_SEGMENT_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "cairn/result.h"
#include "engine/io/file_system.h"
#include "segment/segment_header.h"

namespace cairn::engine {

class SegmentCache {
 public:
  using Mapping = std::shared_ptr<const io::MappedRegion>;

  SegmentCache(io::FileSystem* fs, size_t capacity)
      : fs_(fs), capacity_(capacity) {}
  SegmentCache(const SegmentCache&) = delete;
  SegmentCache& operator=(const SegmentCache&) = delete;

  // The mapping of the segment file at `path` whose header, as verified
  // when the store opened it, is `header`: from the cache, or opened,
  // mapped whole and added. A reopened segment's header is verified again
  // (a scavenged segment's as version 3) and must equal `header` (else the
  // file was replaced: Corruption). Entries are keyed by path, so the
  // files of two generations of one segment number never mix.
  Result<Mapping> Get(const std::string& path,
                      const segment::SegmentHeader& header);
  // Adds a mapping the caller made (a segment just sealed) as the most
  // recently used.
  void Put(const std::string& path, Mapping mapping);
  // Forgets the file at `path` (it was replaced). Returns its mapping, if
  // cached, for the caller to drop when it holds no lock.
  Mapping Take(const std::string& path);

  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<std::string, Mapping>;

  Result<Mapping> Open(const std::string& path,
                       const segment::SegmentHeader& header) const;
  // Adds or refreshes `path` (mu_ held); evicted mappings go to
  // `evicted`, to be unmapped after mu_ is released.
  Mapping Insert(const std::string& path, Mapping mapping,
                 std::list<Entry>* evicted);

  io::FileSystem* const fs_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> entries_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SEGMENT_CACHE_H_
