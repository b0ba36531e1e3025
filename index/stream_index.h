// Copyright (c) Cairn authors.
//
// The per-stream index: stream + revision -> global position, plus what
// optimistic concurrency needs (does the stream exist, its last revision).
// An interface so the in-memory index of v0.1 can give way to a persistent
// one without touching the engine. Not thread-safe: the engine serialises
// access (readers share a lock, the commit thread takes it exclusively).
#ifndef CAIRN_INDEX_STREAM_INDEX_H_
#define CAIRN_INDEX_STREAM_INDEX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "cairn/types.h"

namespace cairn::index {

class StreamIndex {
 public:
  virtual ~StreamIndex() = default;

  // Records revision `revision` of `stream` at global position `position`.
  // Revisions of one stream must arrive in order without gaps, starting at
  // 0 (checked: returns false and changes nothing otherwise).
  virtual bool Add(std::string_view stream, uint64_t revision,
                   uint64_t position) = 0;

  // The stream's last revision; nullopt if it has no events.
  virtual std::optional<uint64_t> LastRevision(
      std::string_view stream) const = 0;

  // Global position of one revision; nullopt if absent.
  virtual std::optional<uint64_t> PositionOf(std::string_view stream,
                                             uint64_t revision) const = 0;

  // Appends to *out the positions of up to `max_count` revisions starting
  // at `from` and moving in `direction`. Nothing if `from` is past the end.
  virtual void Positions(std::string_view stream, uint64_t from,
                         Direction direction, uint64_t max_count,
                         std::vector<uint64_t>* out) const = 0;

  virtual uint64_t StreamCount() const = 0;
};

// Everything in RAM, rebuilt from the log at open: ~8 bytes per event plus
// a small constant per stream.
std::unique_ptr<StreamIndex> NewMemoryStreamIndex();

}  // namespace cairn::index

#endif  // CAIRN_INDEX_STREAM_INDEX_H_
