// Copyright (c) Cairn authors.
#include "segment/record.h"

#include <lz4.h>

#include <array>
#include <cassert>
#include <climits>
#include <cstring>

#include "segment/checksum.h"
#include "segment/little_endian.h"

namespace cairn::segment {
namespace {

// Byte offsets of the header fields (see the grammar in record.h).
constexpr size_t kHeaderChecksumAt = 0;
constexpr size_t kTypeAt = 4;
constexpr size_t kFlagsAt = 5;
constexpr size_t kHeaderReservedAt = 6;
constexpr size_t kBodyLengthAt = 8;
constexpr size_t kSyncedOffsetAt = 12;
constexpr size_t kPositionAt = 16;
constexpr size_t kBodyChecksumAt = 24;
// The header checksum covers everything after itself.
constexpr size_t kHeaderCoveredAt = 4;
constexpr size_t kHeaderCoveredSize = kRecordHeaderSize - kHeaderCoveredAt;

// Byte offsets of the fixed body fields, relative to the body.
constexpr size_t kRevisionAt = 0;
constexpr size_t kCreatedAt = 8;
constexpr size_t kEventIdAt = 16;
constexpr size_t kContentTypeAt = 32;
constexpr size_t kBodyReserved8At = 33;
constexpr size_t kStreamLengthAt = 34;
constexpr size_t kTypeLengthAt = 36;
constexpr size_t kBodyReserved16At = 38;
constexpr size_t kMetadataLengthAt = 40;
constexpr size_t kDataLengthAt = 44;
static_assert(kDataLengthAt + 4 == kEventBodyFixedSize);

// Byte offsets of a continuation's fixed fields, relative to the body; its
// three varints follow them.
constexpr size_t kContinuationIdAt = 0;
constexpr size_t kBackOffsetAt = 16;
constexpr size_t kContinuationContentTypeAt = 20;
constexpr size_t kContinuationVarintsAt = 21;
static_assert(kContinuationVarintsAt + 3 == kContinuationBodyMinSize);

// LEB128: 7 bits a byte, low first, at most 5 bytes for a u32.
constexpr size_t kMaxVarintSize = 5;

size_t VarintSize(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A continuation's header, fixed body fields and varints.
size_t ContinuationPrefixSize(uint32_t type_length, uint32_t metadata_length,
                              uint32_t data_length) {
  return kRecordHeaderSize + kContinuationVarintsAt + VarintSize(type_length) +
         VarintSize(metadata_length) + VarintSize(data_length);
}

uint8_t* PutVarint(uint8_t* p, uint32_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// Reads a varint from [*p, end): false if it runs past `end`, exceeds 32
// bits, or is not in its shortest form (one spelling per value, so a
// record's bytes follow from its fields).
bool GetVarint(const uint8_t** p, const uint8_t* end, uint32_t* out) {
  // Lengths below 128 (a type name, often metadata) take one byte.
  if (*p != end && **p < 0x80) {
    *out = *(*p)++;
    return true;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < kMaxVarintSize; ++i) {
    if (*p == end) return false;
    const uint8_t byte = *(*p)++;
    value |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      if (i > 0 && byte == 0) return false;  // overlong
      if (value > UINT32_MAX) return false;
      *out = static_cast<uint32_t>(value);
      return true;
    }
  }
  return false;
}

// An LZ4 block never expands its input more than this many times (each
// byte of a match-length extension adds at most 255 output bytes). Claimed
// sizes beyond it are rejected before anything is allocated, so a damaged
// or hostile record cannot make a reader allocate gigabytes.
constexpr uint64_t kMaxLz4Ratio = 255;

uint32_t HeaderChecksum(const uint8_t* header, uint64_t seed) {
  return static_cast<uint32_t>(
      Checksum64(header + kHeaderCoveredAt, kHeaderCoveredSize, seed));
}

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// The fixed part of an event body, checked for consistency with the
// record's body_length.
struct BodyLayout {
  size_t strings_at = 0;     // body offset of the stream (head) or type
  size_t stream_length = 0;  // 0 in a continuation
  size_t type_length = 0;
  uint32_t metadata_length = 0;
  uint32_t data_length = 0;
  size_t payload_size = 0;  // stored bytes (compressed or not)
  uint8_t content_type = 0;
};

// Whether the claimed uncompressed size suits the stored payload size.
bool PayloadSizesAgree(const RecordHeader& header, BodyLayout* layout) {
  const uint64_t raw = uint64_t{layout->metadata_length} + layout->data_length;
  if (!header.IsCompressed()) return raw == layout->payload_size;
  return layout->payload_size > 0 && raw > 0 &&
         layout->payload_size <= static_cast<size_t>(INT_MAX) &&
         raw <= static_cast<uint64_t>(LZ4_MAX_INPUT_SIZE) &&
         raw <= kMaxLz4Ratio * layout->payload_size;
}

bool ParseHeadLayout(const uint8_t* record, const RecordHeader& header,
                     BodyLayout* layout) {
  if (header.body_length < kEventBodyFixedSize) return false;
  const uint8_t* body = record + kRecordHeaderSize;
  layout->content_type = body[kContentTypeAt];
  if (layout->content_type > static_cast<uint8_t>(ContentType::kJson)) {
    return false;
  }
  if (body[kBodyReserved8At] != 0 ||
      LoadLE<uint16_t>(body + kBodyReserved16At) != 0) {
    return false;
  }
  layout->strings_at = kEventBodyFixedSize;
  layout->stream_length = LoadLE<uint16_t>(body + kStreamLengthAt);
  layout->type_length = LoadLE<uint16_t>(body + kTypeLengthAt);
  layout->metadata_length = LoadLE<uint32_t>(body + kMetadataLengthAt);
  layout->data_length = LoadLE<uint32_t>(body + kDataLengthAt);
  const size_t variable = header.body_length - kEventBodyFixedSize;
  // Both lengths are at most 65535, so the sum cannot overflow.
  if (layout->stream_length + layout->type_length > variable) return false;
  layout->payload_size = variable - layout->stream_length - layout->type_length;
  return PayloadSizesAgree(header, layout);
}

bool ParseContinuationLayout(const uint8_t* record, const RecordHeader& header,
                             BodyLayout* layout) {
  if (header.body_length < kContinuationBodyMinSize) return false;
  const uint8_t* body = record + kRecordHeaderSize;
  const uint8_t* end = body + header.body_length;
  layout->content_type = body[kContinuationContentTypeAt];
  if (layout->content_type > static_cast<uint8_t>(ContentType::kJson)) {
    return false;
  }
  // A head is a whole record before this one.
  if (LoadLE<uint32_t>(body + kBackOffsetAt) <
      kRecordHeaderSize + kEventBodyFixedSize) {
    return false;
  }
  const uint8_t* p = body + kContinuationVarintsAt;
  uint32_t type_length = 0;
  if (!GetVarint(&p, end, &type_length) || type_length > UINT16_MAX ||
      !GetVarint(&p, end, &layout->metadata_length) ||
      !GetVarint(&p, end, &layout->data_length)) {
    return false;
  }
  layout->strings_at = static_cast<size_t>(p - body);
  layout->stream_length = 0;
  layout->type_length = type_length;
  const size_t variable = header.body_length - layout->strings_at;
  if (layout->type_length > variable) return false;
  layout->payload_size = variable - layout->type_length;
  return PayloadSizesAgree(header, layout);
}

// The head fields of a head record whose layout `layout` holds.
void OwnHeadFields(const uint8_t* record, const RecordHeader& header,
                   const BodyLayout& layout, HeadFields* out) {
  const uint8_t* body = record + kRecordHeaderSize;
  out->stream =
      std::string_view(reinterpret_cast<const char*>(body + layout.strings_at),
                       layout.stream_length);
  out->position = header.position;
  out->revision = LoadLE<uint64_t>(body + kRevisionAt);
  out->created_us = LoadLE<int64_t>(body + kCreatedAt);
}

// Everything about a body that can be checked without decompressing and
// without its head. Reads only record[kRecordHeaderSize, kRecordHeaderSize
// + body_length).
bool ParseBodyLayout(const uint8_t* record, const RecordHeader& header,
                     BodyLayout* layout) {
  return header.type == RecordType::kEvent
             ? ParseHeadLayout(record, header, layout)
             : ParseContinuationLayout(record, header, layout);
}

// Appends the stored payload of `event` (compressed when that pays) to
// *out; returns the record flags it calls for.
uint8_t AppendPayload(const EventFields& event, uint32_t compression_threshold,
                      std::string* out) {
  const size_t raw = event.metadata.size() + event.data.size();
  const size_t fixed = out->size();
  const bool try_compress = compression_threshold > 0 &&
                            raw >= compression_threshold &&
                            raw <= static_cast<size_t>(LZ4_MAX_INPUT_SIZE);
  const size_t bound =
      try_compress
          ? static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw)))
          : 0;
  // One reservation covers the record and, when compressing, the scratch
  // space LZ4 writes into (just past the raw payload), so encoding never
  // reallocates halfway and needs no second buffer.
  out->reserve(fixed + raw + bound);
  out->append(event.metadata);
  out->append(event.data);
  if (!try_compress) return 0;
  out->resize(fixed + raw + bound);
  char* payload = out->data() + fixed;
  const int compressed = LZ4_compress_default(
      payload, payload + raw, static_cast<int>(raw), static_cast<int>(bound));
  if (compressed > 0 && static_cast<size_t>(compressed) < raw) {
    std::memmove(payload, payload + raw, static_cast<size_t>(compressed));
    out->resize(fixed + static_cast<size_t>(compressed));
    return kFlagCompressed;
  }
  out->resize(fixed + raw);
  return 0;
}

// Writes the header fields an encoder knows (type, flags, body_length) of
// the record at out[start, end).
void PutEncodedHeader(RecordType type, uint8_t flags, size_t start,
                      std::string* out) {
  const size_t body_length = out->size() - start - kRecordHeaderSize;
  assert(body_length <= UINT32_MAX);
  auto* record = reinterpret_cast<uint8_t*>(out->data() + start);
  // The checksums and sequencing fields stay zero until SealRecord.
  record[kTypeAt] = static_cast<uint8_t>(type);
  record[kFlagsAt] = flags;
  StoreLE<uint32_t>(record + kBodyLengthAt, static_cast<uint32_t>(body_length));
}

// Computes both checksums of a record whose other fields are final.
void PutChecksums(uint8_t* record, uint64_t seed) {
  const uint32_t body_length = LoadLE<uint32_t>(record + kBodyLengthAt);
  // Body first: the header checksum covers the body checksum.
  StoreLE<uint64_t>(record + kBodyChecksumAt,
                    Checksum64(record + kRecordHeaderSize, body_length, seed));
  StoreLE<uint32_t>(record + kHeaderChecksumAt, HeaderChecksum(record, seed));
}

}  // namespace

size_t EncodeEventRecord(const EventFields& event,
                         uint32_t compression_threshold, std::string* out) {
  // The engine validates sizes before encoding (validation.cc); these are
  // the format's hard limits.
  assert(event.stream.size() <= UINT16_MAX);
  assert(event.type.size() <= UINT16_MAX);
  assert(event.metadata.size() <= UINT32_MAX);
  assert(event.data.size() <= UINT32_MAX);
  const size_t start = out->size();
  out->reserve(start + kRecordHeaderSize + kEventBodyFixedSize +
               event.stream.size() + event.type.size() + event.metadata.size() +
               event.data.size());
  out->resize(start + kRecordHeaderSize + kEventBodyFixedSize);
  out->append(event.stream);
  out->append(event.type);
  const uint8_t flags = AppendPayload(event, compression_threshold, out);
  PutEncodedHeader(RecordType::kEvent, flags, start, out);
  auto* body =
      reinterpret_cast<uint8_t*>(out->data() + start) + kRecordHeaderSize;
  StoreLE<int64_t>(body + kCreatedAt, event.created_us);
  std::memcpy(body + kEventIdAt, event.id.bytes().data(), 16);
  body[kContentTypeAt] = static_cast<uint8_t>(event.content_type);
  StoreLE<uint16_t>(body + kStreamLengthAt,
                    static_cast<uint16_t>(event.stream.size()));
  StoreLE<uint16_t>(body + kTypeLengthAt,
                    static_cast<uint16_t>(event.type.size()));
  StoreLE<uint32_t>(body + kMetadataLengthAt,
                    static_cast<uint32_t>(event.metadata.size()));
  StoreLE<uint32_t>(body + kDataLengthAt,
                    static_cast<uint32_t>(event.data.size()));
  return out->size() - start;
}

size_t EncodeContinuationRecord(const EventFields& event,
                                uint32_t compression_threshold, size_t head_at,
                                std::string* out) {
  assert(event.type.size() <= UINT16_MAX);
  assert(event.metadata.size() <= UINT32_MAX);
  assert(event.data.size() <= UINT32_MAX);
  const size_t start = out->size();
  assert(head_at < start && start - head_at <= UINT32_MAX);
  const auto type_length = static_cast<uint32_t>(event.type.size());
  const auto metadata_length = static_cast<uint32_t>(event.metadata.size());
  const auto data_length = static_cast<uint32_t>(event.data.size());
  const size_t fixed =
      ContinuationPrefixSize(type_length, metadata_length, data_length);
  out->reserve(start + fixed + event.type.size() + event.metadata.size() +
               event.data.size());
  out->resize(start + fixed);
  auto* body =
      reinterpret_cast<uint8_t*>(out->data() + start) + kRecordHeaderSize;
  std::memcpy(body + kContinuationIdAt, event.id.bytes().data(), 16);
  StoreLE<uint32_t>(body + kBackOffsetAt,
                    static_cast<uint32_t>(start - head_at));
  body[kContinuationContentTypeAt] = static_cast<uint8_t>(event.content_type);
  uint8_t* p = body + kContinuationVarintsAt;
  p = PutVarint(p, type_length);
  p = PutVarint(p, metadata_length);
  PutVarint(p, data_length);
  out->append(event.type);
  const uint8_t flags = AppendPayload(event, compression_threshold, out);
  PutEncodedHeader(RecordType::kContinuation, flags, start, out);
  return out->size() - start;
}

size_t EventRecordSize(size_t stream_length, size_t type_length,
                       size_t metadata_length, size_t data_length) {
  return kRecordHeaderSize + kEventBodyFixedSize + stream_length + type_length +
         metadata_length + data_length;
}

size_t ContinuationRecordSize(size_t type_length, size_t metadata_length,
                              size_t data_length) {
  return ContinuationPrefixSize(static_cast<uint32_t>(type_length),
                                static_cast<uint32_t>(metadata_length),
                                static_cast<uint32_t>(data_length)) +
         type_length + metadata_length + data_length;
}

void SealRecord(uint8_t* record, uint64_t position, uint64_t revision,
                uint32_t synced_offset, bool commit, uint64_t seed) {
  StoreLE<uint64_t>(record + kPositionAt, position);
  if (record[kTypeAt] == static_cast<uint8_t>(RecordType::kEvent)) {
    StoreLE<uint64_t>(record + kRecordHeaderSize + kRevisionAt, revision);
  }
  StoreLE<uint32_t>(record + kSyncedOffsetAt, synced_offset);
  if (commit) {
    record[kFlagsAt] |= kFlagCommit;
  } else {
    record[kFlagsAt] &= static_cast<uint8_t>(~kFlagCommit);
  }
  PutChecksums(record, seed);
}

// `out` is filled whenever the header checksum matches (kOk, kTruncated
// for a body running past `available`, and kBad for invalid fields), so a
// caller can report what was wrong.
HeaderCheck DecodeRecordHeader(const uint8_t* data, size_t available,
                               uint64_t seed, RecordHeader* out) {
  if (available < kRecordHeaderSize) {
    // Preallocated space that ends less than a header from the segment's
    // end is still just zeros, not a torn record.
    return AllZero(data, available) ? HeaderCheck::kZero
                                    : HeaderCheck::kTruncated;
  }
  if (AllZero(data, kRecordHeaderSize)) return HeaderCheck::kZero;
  // The checksum comes first: no field, least of all body_length, is
  // trusted before it matches.
  const uint32_t stored = LoadLE<uint32_t>(data + kHeaderChecksumAt);
  if (stored != HeaderChecksum(data, seed)) return HeaderCheck::kBad;

  out->header_checksum = stored;
  out->type = static_cast<RecordType>(data[kTypeAt]);
  out->flags = data[kFlagsAt];
  out->body_length = LoadLE<uint32_t>(data + kBodyLengthAt);
  out->synced_offset = LoadLE<uint32_t>(data + kSyncedOffsetAt);
  out->position = LoadLE<uint64_t>(data + kPositionAt);
  out->body_checksum = LoadLE<uint64_t>(data + kBodyChecksumAt);
  size_t min_body = 0;
  if (out->type == RecordType::kEvent) {
    min_body = kEventBodyFixedSize;
  } else if (out->type == RecordType::kContinuation) {
    min_body = kContinuationBodyMinSize;
  } else {
    return HeaderCheck::kBad;
  }
  if ((out->flags & ~kKnownFlags) != 0 ||
      LoadLE<uint16_t>(data + kHeaderReservedAt) != 0 ||
      out->body_length < min_body) {
    return HeaderCheck::kBad;
  }
  if (out->body_length > available - kRecordHeaderSize) {
    return HeaderCheck::kTruncated;
  }
  return HeaderCheck::kOk;
}

bool VerifyRecordBody(const uint8_t* record, const RecordHeader& header,
                      uint64_t seed) {
  return Checksum64(record + kRecordHeaderSize, header.body_length, seed) ==
         header.body_checksum;
}

bool CheckEventBody(const uint8_t* record, const RecordHeader& header) {
  BodyLayout layout;
  return ParseBodyLayout(record, header, &layout);
}

uint32_t ContinuationBackOffset(const uint8_t* record) {
  return LoadLE<uint32_t>(record + kRecordHeaderSize + kBackOffsetAt);
}

bool EventDecoder::Head(const uint8_t* record, const RecordHeader& header,
                        HeadFields* out) {
  if (header.type != RecordType::kEvent) {
    return ContinuationHead(record, header, out);
  }
  BodyLayout layout;
  if (!ParseHeadLayout(record, header, &layout)) return false;
  OwnHeadFields(record, header, layout, out);
  return true;
}

bool EventDecoder::ContinuationHead(const uint8_t* record,
                                    const RecordHeader& header,
                                    HeadFields* out) {
  const uint32_t back = ContinuationBackOffset(record);
  // The head must be a whole record in [begin_, record).
  if (record < begin_ || static_cast<size_t>(record - begin_) < back ||
      back < kRecordHeaderSize) {
    return false;
  }
  const uint8_t* head = record - back;
  if (head != memo_) {
    RecordHeader h;
    if (DecodeRecordHeader(head, back, seed_, &h) != HeaderCheck::kOk ||
        h.type != RecordType::kEvent || h.IsCommit() ||
        (verify_heads_ && !VerifyRecordBody(head, h, seed_)) ||
        !Head(head, h, &memo_fields_)) {
      memo_ = nullptr;
      return false;
    }
    memo_ = head;
  }
  if (memo_fields_.position >= header.position) return false;
  *out = memo_fields_;
  out->position = header.position;
  out->revision =
      memo_fields_.revision + (header.position - memo_fields_.position);
  return true;
}

bool EventDecoder::Parse(const uint8_t* record, const RecordHeader& header,
                         EventParts* out) {
  BodyLayout layout;
  if (!ParseBodyLayout(record, header, &layout)) return false;
  const uint8_t* body = record + kRecordHeaderSize;
  if (header.type == RecordType::kEvent) {
    // A head is its own head: no second parse of its layout.
    OwnHeadFields(record, header, layout, &out->head);
  } else if (!ContinuationHead(record, header, &out->head)) {
    return false;
  }
  out->type = reinterpret_cast<const char*>(body + layout.strings_at +
                                            layout.stream_length);
  out->payload = out->type + layout.type_length;
  out->type_length = static_cast<uint32_t>(layout.type_length);
  out->payload_size = static_cast<uint32_t>(layout.payload_size);
  out->metadata_length = layout.metadata_length;
  out->data_length = layout.data_length;
  out->compressed = header.IsCompressed();
  out->content_type = layout.content_type;
  return true;
}

bool DecompressPayload(const EventParts& parts, std::string* scratch,
                       std::string_view* metadata_and_data) {
  // ParseBodyLayout bounded both sizes (PayloadSizesAgree).
  const size_t raw = size_t{parts.metadata_length} + parts.data_length;
  // resize() keeps the capacity, so a reused scratch stops allocating once
  // it has seen the largest event.
  scratch->resize(raw);
  const int n = LZ4_decompress_safe(parts.payload, scratch->data(),
                                    static_cast<int>(parts.payload_size),
                                    static_cast<int>(raw));
  if (n < 0 || static_cast<size_t>(n) != raw) return false;
  *metadata_and_data = *scratch;
  return true;
}

void AppendRelinkedContinuation(const uint8_t* record,
                                const RecordHeader& header,
                                uint32_t back_offset, uint64_t seed,
                                std::string* out) {
  const size_t start = out->size();
  out->append(reinterpret_cast<const char*>(record), header.RecordSize());
  auto* copy = reinterpret_cast<uint8_t*>(out->data() + start);
  if (ContinuationBackOffset(copy) == back_offset) return;  // as it was
  StoreLE<uint32_t>(copy + kRecordHeaderSize + kBackOffsetAt, back_offset);
  PutChecksums(copy, seed);
}

void AppendPromotedContinuation(const uint8_t* record,
                                const RecordHeader& header,
                                const HeadFields& head, uint64_t seed,
                                std::string* out) {
  BodyLayout layout;
  const bool parsed = ParseContinuationLayout(record, header, &layout);
  assert(parsed);
  (void)parsed;
  const uint8_t* body = record + kRecordHeaderSize;
  const size_t start = out->size();
  out->resize(start + kRecordHeaderSize + kEventBodyFixedSize);
  out->append(head.stream);
  // The type and the payload as stored, compressed or not.
  out->append(reinterpret_cast<const char*>(body + layout.strings_at),
              layout.type_length + layout.payload_size);
  PutEncodedHeader(RecordType::kEvent, header.flags, start, out);
  auto* copy = reinterpret_cast<uint8_t*>(out->data() + start);
  StoreLE<uint32_t>(copy + kSyncedOffsetAt, header.synced_offset);
  StoreLE<uint64_t>(copy + kPositionAt, header.position);
  uint8_t* head_body = copy + kRecordHeaderSize;
  StoreLE<uint64_t>(head_body + kRevisionAt, head.revision);
  StoreLE<int64_t>(head_body + kCreatedAt, head.created_us);
  std::memcpy(head_body + kEventIdAt, body + kContinuationIdAt, 16);
  head_body[kContentTypeAt] = layout.content_type;
  StoreLE<uint16_t>(head_body + kStreamLengthAt,
                    static_cast<uint16_t>(head.stream.size()));
  StoreLE<uint16_t>(head_body + kTypeLengthAt,
                    static_cast<uint16_t>(layout.type_length));
  StoreLE<uint32_t>(head_body + kMetadataLengthAt, layout.metadata_length);
  StoreLE<uint32_t>(head_body + kDataLengthAt, layout.data_length);
  PutChecksums(copy, seed);
}

}  // namespace cairn::segment
