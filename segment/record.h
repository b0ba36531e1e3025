// Copyright (c) Cairn authors.
//
// The record frame of segment files (docs/format.md is the specification).
//
// record := header(32) body(body_length)
// header := header_checksum:u32 type:u8 flags:u8 reserved:u16(0)
//           body_length:u32 synced_offset:u32 position:u64 body_checksum:u64
// body   := revision:u64 created_us:i64 event_id:16 content_type:u8
//           reserved:u8(0) stream_length:u16 type_length:u16 reserved:u16(0)
//           metadata_length:u32 data_length:u32
//           stream type payload
// payload:= metadata data                  (flags & kFlagCompressed == 0)
//         | LZ4_block(metadata data)       (flags & kFlagCompressed != 0)
//
// All integers little-endian. header_checksum = low 32 bits of XXH3-64 of
// header bytes [4, 32) seeded with the segment seed; body_checksum = XXH3-64
// of the body seeded with the segment seed. Type 0 is invalid, so zeroed
// (preallocated) space never parses as a record.
#ifndef CAIRN_SEGMENT_RECORD_H_
#define CAIRN_SEGMENT_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "cairn/types.h"

namespace cairn::segment {

inline constexpr size_t kRecordHeaderSize = 32;
inline constexpr size_t kEventBodyFixedSize = 48;

enum class RecordType : uint8_t {
  kInvalid = 0,  // never written: zeroed space
  kEvent = 1,
};

// The record's payload is LZ4-compressed.
inline constexpr uint8_t kFlagCompressed = 0x01;
// The record is the last of its append: an append is the run of records up
// to and including one with this flag. Recovery keeps whole appends only.
inline constexpr uint8_t kFlagCommit = 0x02;
inline constexpr uint8_t kKnownFlags = kFlagCompressed | kFlagCommit;

struct RecordHeader {
  uint32_t header_checksum = 0;
  RecordType type = RecordType::kInvalid;
  uint8_t flags = 0;
  uint32_t body_length = 0;
  // Offset in this segment below which every byte was already durable
  // (fdatasynced) when this record was written. Recovery uses it to tell a
  // torn tail (damage above the durable point of every later record) from
  // corruption of durable data (a later record vouches for it).
  uint32_t synced_offset = 0;
  uint64_t position = 0;
  uint64_t body_checksum = 0;

  size_t RecordSize() const { return kRecordHeaderSize + body_length; }
  bool IsCommit() const { return (flags & kFlagCommit) != 0; }
  bool IsCompressed() const { return (flags & kFlagCompressed) != 0; }
};

// The fields of an event record, as views.
struct EventFields {
  std::string_view stream;
  std::string_view type;
  std::string_view data;
  std::string_view metadata;
  EventId id;
  uint64_t revision = 0;
  int64_t created_us = 0;
  ContentType content_type = ContentType::kBinary;
};

// Appends a complete record for `event` to `out` (header then body) and
// returns its size. The sequencing fields (position, revision,
// synced_offset, commit flag) and both checksums are left for SealRecord,
// so the expensive part (copying, compressing) can run on the caller's
// thread before the commit order is known. The payload is compressed when
// compression_threshold > 0, metadata+data is at least that many bytes and
// LZ4 makes it smaller. event.revision is ignored.
size_t EncodeEventRecord(const EventFields& event,
                         uint32_t compression_threshold, std::string* out);

// Fills in the sequencing fields of a record produced by EncodeEventRecord
// (at `record`, RecordSize() bytes) and computes its checksums.
void SealRecord(uint8_t* record, uint64_t position, uint64_t revision,
                uint32_t synced_offset, bool commit, uint64_t seed);

enum class HeaderCheck : uint8_t {
  kOk,
  kZero,       // the 32 bytes are all zero: preallocated space, end of data
  kTruncated,  // fewer than kRecordHeaderSize bytes, or the body runs past
               // `available`
  kBad,        // checksum mismatch, unknown type or flags, nonzero reserved
};

// Parses and verifies a header at `data` with `available` bytes from there
// to the end of the segment's data; kOk also promises the body fits.
HeaderCheck DecodeRecordHeader(const uint8_t* data, size_t available,
                               uint64_t seed, RecordHeader* out);

// Verifies the body checksum of a record whose header decoded kOk.
bool VerifyRecordBody(const uint8_t* record, const RecordHeader& header,
                      uint64_t seed);

// Decodes the body of a verified event record. For a compressed payload the
// metadata and data are decompressed into *scratch and the views point into
// it. Returns false if the body is malformed (lengths inconsistent,
// decompression fails).
bool DecodeEventBody(const uint8_t* record, const RecordHeader& header,
                     std::string* scratch, EventFields* out);

// The stream name and type of an event record without touching the payload
// (cheap filtering; no decompression). False if malformed.
bool PeekEventKey(const uint8_t* record, const RecordHeader& header,
                  std::string_view* stream, std::string_view* type,
                  uint64_t* revision);

// The event id of a verified event record (body bytes [16, 32)), without
// decoding the rest: idempotency checks and index rebuilds need only this.
inline EventId PeekEventId(const uint8_t* record) {
  std::array<uint8_t, 16> bytes;
  std::memcpy(bytes.data(), record + kRecordHeaderSize + 16, bytes.size());
  return EventId(bytes);
}

// When the store accepted the event of a verified event record (body bytes
// [8, 16)), without decoding the rest: what $maxAge judges.
inline int64_t PeekCreatedUs(const uint8_t* record) {
  uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) {
    bits = (bits << 8) | record[kRecordHeaderSize + 8 + i];
  }
  return static_cast<int64_t>(bits);
}

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_RECORD_H_
