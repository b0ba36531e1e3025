// Copyright (c) Cairn authors.
//
// The persistent stream index's building blocks shared by its files: the
// 32-byte index entry, its sort order, the stream-name hash and the event-id
// tag, and little-endian coding. docs/format.md ("Index files") is the
// specification; when it and this code disagree, one of them has a bug.
#ifndef CAIRN_INDEX_FORMAT_H_
#define CAIRN_INDEX_FORMAT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>

#include "cairn/types.h"

namespace cairn::index {

// One event as the index knows it. Streams are identified by a 64-bit hash
// of their name, so two streams can share `hash`; the log record at
// (position, offset) is what says which stream an entry belongs to.
struct Entry {
  uint64_t hash = 0;      // StreamHash of the stream name
  uint64_t revision = 0;  // the event's revision in its stream
  uint64_t position = 0;  // the event's global position
  uint32_t offset = 0;    // of the record in the segment holding `position`
  uint32_t id_tag = 0;    // IdTag of the event id (idempotency checks)

  friend bool operator==(const Entry&, const Entry&) = default;
};

inline constexpr size_t kEntrySize = 32;

// Index files sort entries by (hash, revision, position): a stream's
// entries are contiguous and in revision order, and colliding streams'
// entries interleave by revision (position breaks the tie).
inline bool EntryLess(const Entry& a, const Entry& b) {
  return std::tie(a.hash, a.revision, a.position) <
         std::tie(b.hash, b.revision, b.position);
}

// The hash of a stream name the index files are keyed by: XXH3-64 with the
// seed below. Changing it changes every file; kStreamHashId names it in the
// manifest so a different function is never mixed in.
uint64_t DefaultStreamHash(std::string_view stream);
inline constexpr uint32_t kStreamHashId = 1;

// A 32-bit fingerprint of an event id, kept in each entry so an idempotency
// check compares ids without reading the log; a match is then confirmed
// against the record.
uint32_t IdTag(const EventId& id);

// --- little-endian coding (the on-disk byte order) ---
inline void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Entry layout: hash u64 | revision u64 | position u64 | offset u32 |
// id_tag u32.
inline void EncodeEntry(const Entry& e, uint8_t* out) {
  Put64(out, e.hash);
  Put64(out + 8, e.revision);
  Put64(out + 16, e.position);
  Put32(out + 24, e.offset);
  Put32(out + 28, e.id_tag);
}
inline Entry DecodeEntry(const uint8_t* in) {
  Entry e;
  e.hash = Get64(in);
  e.revision = Get64(in + 8);
  e.position = Get64(in + 16);
  e.offset = Get32(in + 24);
  e.id_tag = Get32(in + 28);
  return e;
}

// Checksums of index files: XXH3-64 (the segment layer's function) with
// seeds of their own, so a block of one file never verifies as another's.
uint64_t IndexChecksum(const void* data, size_t size, uint64_t seed);

}  // namespace cairn::index

#endif  // CAIRN_INDEX_FORMAT_H_
