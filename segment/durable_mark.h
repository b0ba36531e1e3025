// Copyright (c) Cairn authors.
//
// Durable-end marks (docs/format.md, "Durable-end marks"): two 32-byte
// slots in the padding of a version-2 segment header where the writer
// records, after an fdatasync has returned, how far the segment's records
// are durable. Recovery then tells damage to the newest acknowledged append
// (which no later record vouches for) from a torn write, without the
// watermark file, and knows whether the previous writer closed cleanly.
//
// mark := sequence:u64 end_offset:u32 flags:u32 next_position:u64
//         checksum:u64
// checksum = XXH3-64 of bytes [0, 24) seeded with the segment seed. A mark
// with sequence s lives in slot s % 2, so writing a new mark never
// overwrites the newest one: a torn mark write costs only that mark.
#ifndef CAIRN_SEGMENT_DURABLE_MARK_H_
#define CAIRN_SEGMENT_DURABLE_MARK_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "segment/segment_header.h"

namespace cairn::segment {

inline constexpr size_t kDurableMarkSize = 32;
// Segment header offsets of the two slots: each in its own 512-byte
// sector, away from the header fields in sector 0, so a torn slot write
// damages nothing else.
inline constexpr std::array<uint32_t, 2> kDurableMarkOffsets = {1024, 2048};
// Segments of older versions have no slots (their padding must be zero).
inline constexpr uint32_t kFirstMarkedSegmentVersion = 2;

// The previous writer closed cleanly: its last fdatasync succeeded and
// nothing was written to the segment after this mark.
inline constexpr uint32_t kMarkFlagClosed = 0x01;

struct DurableMark {
  uint64_t sequence = 0;  // 1, 2, 3, ...: the highest valid one is newest
  // Every record in [kSegmentHeaderSize, end_offset) was durable when the
  // mark was written; end_offset is the end of a whole append.
  uint32_t end_offset = kSegmentHeaderSize;
  uint32_t flags = 0;
  // The position after the last record below end_offset.
  uint64_t next_position = 0;

  bool closed() const { return (flags & kMarkFlagClosed) != 0; }
};

inline bool HasDurableMarks(const SegmentHeader& header) {
  return header.format_version >= kFirstMarkedSegmentVersion;
}

// Where the mark with `sequence` goes, as an offset in the segment file.
inline uint32_t DurableMarkOffset(uint64_t sequence) {
  return kDurableMarkOffsets[sequence % kDurableMarkOffsets.size()];
}

// Writes the 32 bytes of `mark` to `out`.
void EncodeDurableMark(const DurableMark& mark, uint64_t seed, uint8_t* out);

// The newest valid mark of the segment whose first `size` bytes (header
// page included) are at `data`; nullopt when the version has no slots or
// no slot holds a valid mark. A slot that is zero, fails its checksum (a
// torn write), sits in the wrong slot for its sequence or has unknown
// flags is not a mark.
std::optional<DurableMark> NewestDurableMark(const uint8_t* data, size_t size,
                                             const SegmentHeader& header);

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_DURABLE_MARK_H_
