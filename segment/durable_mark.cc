// Copyright (c) Cairn authors.
#include "segment/durable_mark.h"

#include <cstring>

#include "segment/checksum.h"
#include "segment/little_endian.h"

namespace cairn::segment {
namespace {

// Field offsets within a slot (see the grammar in durable_mark.h).
constexpr size_t kSequenceAt = 0;
constexpr size_t kEndOffsetAt = 8;
constexpr size_t kFlagsAt = 12;
constexpr size_t kNextPositionAt = 16;
constexpr size_t kChecksumAt = 24;
static_assert(kChecksumAt + 8 == kDurableMarkSize);

std::optional<DurableMark> DecodeSlot(const uint8_t* slot, size_t index,
                                      uint64_t seed) {
  const uint64_t stored = LoadLE<uint64_t>(slot + kChecksumAt);
  if (stored != Checksum64(slot, kChecksumAt, seed)) return std::nullopt;
  DurableMark mark;
  mark.sequence = LoadLE<uint64_t>(slot + kSequenceAt);
  mark.end_offset = LoadLE<uint32_t>(slot + kEndOffsetAt);
  mark.flags = LoadLE<uint32_t>(slot + kFlagsAt);
  mark.next_position = LoadLE<uint64_t>(slot + kNextPositionAt);
  if (mark.sequence == 0 ||
      mark.sequence % kDurableMarkOffsets.size() != index ||
      (mark.flags & ~kMarkFlagClosed) != 0 ||
      mark.end_offset < kSegmentHeaderSize) {
    return std::nullopt;
  }
  return mark;
}

}  // namespace

void EncodeDurableMark(const DurableMark& mark, uint64_t seed, uint8_t* out) {
  StoreLE<uint64_t>(out + kSequenceAt, mark.sequence);
  StoreLE<uint32_t>(out + kEndOffsetAt, mark.end_offset);
  StoreLE<uint32_t>(out + kFlagsAt, mark.flags);
  StoreLE<uint64_t>(out + kNextPositionAt, mark.next_position);
  StoreLE<uint64_t>(out + kChecksumAt, Checksum64(out, kChecksumAt, seed));
}

std::optional<DurableMark> NewestDurableMark(const uint8_t* data, size_t size,
                                             const SegmentHeader& header) {
  if (!HasDurableMarks(header) || size < kSegmentHeaderSize) {
    return std::nullopt;
  }
  const uint64_t seed = header.Seed();
  std::optional<DurableMark> newest;
  for (size_t i = 0; i < kDurableMarkOffsets.size(); ++i) {
    // Copied first: a writer may be storing into the slot right now (a
    // reader beside it), and the checksum must be computed over the same
    // bytes that are decoded.
    uint8_t slot[kDurableMarkSize];
    std::memcpy(slot, data + kDurableMarkOffsets[i], sizeof(slot));
    auto mark = DecodeSlot(slot, i, seed);
    if (mark && (!newest || mark->sequence > newest->sequence)) newest = mark;
  }
  return newest;
}

}  // namespace cairn::segment
