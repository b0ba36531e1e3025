// Copyright (c) Cairn authors.
//
// The record frame of segment files (docs/format.md is the specification).
//
// record := header(32) body(body_length)
// header := header_checksum:u32 type:u8 flags:u8 reserved:u16(0)
//           body_length:u32 synced_offset:u32 position:u64 body_checksum:u64
// body of a head (type 1), the first record of an append:
//           revision:u64 created_us:i64 event_id:16 content_type:u8
//           reserved:u8(0) stream_length:u16 type_length:u16 reserved:u16(0)
//           metadata_length:u32 data_length:u32
//           stream type payload
// body of a continuation (type 2), every later record of an append (segment
//   format 4 on; stream, revision and creation time come from the head):
//           event_id:16 back_offset:u32 content_type:u8
//           type_length:varint metadata_length:varint data_length:varint
//           type payload
// payload:= metadata data                  (flags & kFlagCompressed == 0)
//         | LZ4_block(metadata data)       (flags & kFlagCompressed != 0)
//
// All integers little-endian; a varint is LEB128 (7 bits a byte, low
// first), at most 5 bytes, in its shortest form. header_checksum = low 32
// bits of XXH3-64 of header bytes [4, 32) seeded with the segment seed;
// body_checksum = XXH3-64 of the body seeded with the segment seed. Type 0
// is invalid, so zeroed (preallocated) space never parses as a record.
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
// The fixed part of a head's body.
inline constexpr size_t kEventBodyFixedSize = 48;
// The smallest continuation body: its fixed fields and three one-byte
// varints.
inline constexpr size_t kContinuationBodyMinSize = 24;

enum class RecordType : uint8_t {
  kInvalid = 0,  // never written: zeroed space
  // An event with its stream name, revision and creation time: the first
  // record of an append (every record of an append before format 4).
  kEvent = 1,
  // An event of the same append as the head `back_offset` bytes before it
  // in the same segment: the append's stream, its creation time and the
  // revision head.revision + (position - head.position) are the head's.
  kContinuation = 2,
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

// Appends a complete head record for `event` to `out` (header then body)
// and returns its size. The sequencing fields (position, revision,
// synced_offset, commit flag) and both checksums are left for SealRecord,
// so the expensive part (copying, compressing) can run on the caller's
// thread before the commit order is known. The payload is compressed when
// compression_threshold > 0, metadata+data is at least that many bytes and
// LZ4 makes it smaller. event.revision is ignored.
size_t EncodeEventRecord(const EventFields& event,
                         uint32_t compression_threshold, std::string* out);

// Appends a continuation record for `event` to `out`, whose head (of the
// same append, so of the same stream and creation time) starts at
// out->data() + head_at; returns its size. event.stream, event.revision
// and event.created_us are ignored. Sealed like a head.
size_t EncodeContinuationRecord(const EventFields& event,
                                uint32_t compression_threshold, size_t head_at,
                                std::string* out);

// The sizes of uncompressed records: a head's, and a continuation's.
size_t EventRecordSize(size_t stream_length, size_t type_length,
                       size_t metadata_length, size_t data_length);
size_t ContinuationRecordSize(size_t type_length, size_t metadata_length,
                              size_t data_length);

// Fills in the sequencing fields of a record produced by EncodeEventRecord
// or EncodeContinuationRecord (at `record`, RecordSize() bytes) and
// computes its checksums. A continuation stores no revision: `revision` is
// ignored for it.
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

// Whether the body of a record whose header decoded kOk is well formed on
// its own: its lengths account for it exactly and its fields are valid
// (no decompression, and a continuation's head is not looked at).
bool CheckEventBody(const uint8_t* record, const RecordHeader& header);

// Where a continuation's head starts: this many bytes before the record.
// For a record whose header decoded kOk with type kContinuation.
uint32_t ContinuationBackOffset(const uint8_t* record);

// The event id of a verified event record, without decoding the rest:
// idempotency checks and index rebuilds need only this.
inline EventId PeekEventId(const uint8_t* record) {
  // A head's id follows its revision and creation time; a continuation's
  // opens its body.
  const size_t at = record[4] == static_cast<uint8_t>(RecordType::kEvent)
                        ? kRecordHeaderSize + 16
                        : kRecordHeaderSize;
  std::array<uint8_t, 16> bytes;
  std::memcpy(bytes.data(), record + at, bytes.size());
  return EventId(bytes);
}

// What an event takes from the head of its append: the stream and the
// creation time, and its revision through the head's.
struct HeadFields {
  std::string_view stream;
  uint64_t position = 0;  // the event's
  uint64_t revision = 0;  // the event's
  int64_t created_us = 0;
};

// Where the parts of an event lie in its record, with its head's fields:
// what EventDecoder::Parse finds without decompressing anything.
struct EventParts {
  HeadFields head;
  const char* type = nullptr;
  const char* payload = nullptr;  // metadata then data, as stored
  uint32_t type_length = 0;
  uint32_t payload_size = 0;  // stored bytes (compressed or not)
  uint32_t metadata_length = 0;
  uint32_t data_length = 0;
  bool compressed = false;
  uint8_t content_type = 0;
};

// Decompresses the payload of `parts` into *scratch (resized; it keeps its
// capacity) and points *metadata_and_data at it. False if LZ4 fails or
// yields another size than the record claims.
bool DecompressPayload(const EventParts& parts, std::string* scratch,
                       std::string_view* metadata_and_data);

// Decodes the event records of one segment, or of one buffer of whole
// appends. A continuation takes its stream, revision and creation time
// from its head, which lies earlier in the same bytes: the decoder finds
// the head, checks it (header and, unless told not to, body checksum;
// type; no commit flag; a lower position) and remembers the last head it
// checked, so a reader going forward checks each head once. One decoder
// serves one thread, and lives no longer than the bytes it reads.
class EventDecoder {
 public:
  // `begin` is the first byte a head may lie at (a segment's first record,
  // or the start of a buffer of whole appends); `seed` is the segment
  // seed. `verify_heads` false skips heads' body checksums, for readers
  // that skip body checksums altogether.
  EventDecoder(const uint8_t* begin, uint64_t seed, bool verify_heads = true)
      : begin_(begin), seed_(seed), verify_heads_(verify_heads) {}

  // Where the parts of a record whose header decoded kOk (and whose body
  // the caller has verified) lie, and its head's fields. False if the body
  // is malformed (lengths inconsistent with each other or with the claimed
  // uncompressed size) or a continuation's head does not check out.
  bool Parse(const uint8_t* record, const RecordHeader& header,
             EventParts* out);

  // The event of such a record. For a compressed payload the metadata and
  // data are decompressed into *scratch and the views point into it. False
  // as for Parse, or if decompression fails. Inline: the scan loops call
  // it once per event, and their callers' views are filled in place.
  bool Decode(const uint8_t* record, const RecordHeader& header,
              std::string* scratch, EventFields* out) {
    EventParts parts;
    if (!Parse(record, header, &parts)) return false;
    std::string_view metadata_and_data(parts.payload, parts.payload_size);
    if (parts.compressed &&
        !DecompressPayload(parts, scratch, &metadata_and_data)) {
      return false;
    }
    out->stream = parts.head.stream;
    out->type = std::string_view(parts.type, parts.type_length);
    out->metadata = metadata_and_data.substr(0, parts.metadata_length);
    out->data = metadata_and_data.substr(parts.metadata_length);
    out->id = PeekEventId(record);
    out->revision = parts.head.revision;
    out->created_us = parts.head.created_us;
    out->content_type = static_cast<ContentType>(parts.content_type);
    return true;
  }

  // The stream name, type and revision without touching the payload
  // (cheap filtering; no decompression). False as for Parse.
  bool PeekKey(const uint8_t* record, const RecordHeader& header,
               std::string_view* stream, std::string_view* type,
               uint64_t* revision) {
    EventParts parts;
    if (!Parse(record, header, &parts)) return false;
    *stream = parts.head.stream;
    *type = std::string_view(parts.type, parts.type_length);
    *revision = parts.head.revision;
    return true;
  }

  // The head fields of a record: its own for a head; for a continuation
  // its head's, with its own position and revision (the head checked as
  // described above). False if they are not to be had.
  bool Head(const uint8_t* record, const RecordHeader& header, HeadFields* out);

 private:
  // Head() for a continuation.
  bool ContinuationHead(const uint8_t* record, const RecordHeader& header,
                        HeadFields* out);

  const uint8_t* begin_;
  uint64_t seed_;
  bool verify_heads_;
  // The head checked last, and its fields.
  const uint8_t* memo_ = nullptr;
  HeadFields memo_fields_;
};

// Appends to *out a copy of continuation `record` (verified) whose head
// lies `back_offset` bytes before the copy, resealed with `seed`; the
// other fields are kept. A scavenge that removes records between a head
// and its continuations links them up again with it.
void AppendRelinkedContinuation(const uint8_t* record,
                                const RecordHeader& header,
                                uint32_t back_offset, uint64_t seed,
                                std::string* out);

// Appends to *out the event of continuation `record` (verified) as a head
// record, with the stream and creation time of `head` and the revision
// the continuation has through it, sealed with `seed` (position, synced
// offset and flags kept; the payload is copied as stored). A scavenge that
// removes an append's head keeps its later events this way.
void AppendPromotedContinuation(const uint8_t* record,
                                const RecordHeader& header,
                                const HeadFields& head, uint64_t seed,
                                std::string* out);

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_RECORD_H_
