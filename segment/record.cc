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
  size_t stream_length = 0;
  size_t type_length = 0;
  uint32_t metadata_length = 0;
  uint32_t data_length = 0;
  size_t payload_size = 0;  // stored bytes (compressed or not)
  uint8_t content_type = 0;
};

// Everything about a body that can be checked without decompressing. Reads
// only record[kRecordHeaderSize, kRecordHeaderSize + body_length).
bool ParseBodyLayout(const uint8_t* record, const RecordHeader& header,
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
  layout->stream_length = LoadLE<uint16_t>(body + kStreamLengthAt);
  layout->type_length = LoadLE<uint16_t>(body + kTypeLengthAt);
  layout->metadata_length = LoadLE<uint32_t>(body + kMetadataLengthAt);
  layout->data_length = LoadLE<uint32_t>(body + kDataLengthAt);
  const size_t variable = header.body_length - kEventBodyFixedSize;
  // Both lengths are at most 65535, so the sum cannot overflow.
  if (layout->stream_length + layout->type_length > variable) return false;
  layout->payload_size = variable - layout->stream_length - layout->type_length;
  const uint64_t raw = uint64_t{layout->metadata_length} + layout->data_length;
  if (!header.IsCompressed()) return raw == layout->payload_size;
  return layout->payload_size > 0 && raw > 0 &&
         layout->payload_size <= static_cast<size_t>(INT_MAX) &&
         raw <= static_cast<uint64_t>(LZ4_MAX_INPUT_SIZE) &&
         raw <= kMaxLz4Ratio * layout->payload_size;
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
  const size_t raw = event.metadata.size() + event.data.size();
  const size_t fixed = kRecordHeaderSize + kEventBodyFixedSize +
                       event.stream.size() + event.type.size();
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
  const size_t start = out->size();
  out->reserve(start + fixed + raw + bound);
  out->resize(start + kRecordHeaderSize + kEventBodyFixedSize);
  out->append(event.stream);
  out->append(event.type);
  out->append(event.metadata);
  out->append(event.data);

  size_t payload_size = raw;
  uint8_t flags = 0;
  if (try_compress) {
    out->resize(start + fixed + raw + bound);
    char* payload = out->data() + start + fixed;
    const int compressed = LZ4_compress_default(
        payload, payload + raw, static_cast<int>(raw), static_cast<int>(bound));
    if (compressed > 0 && static_cast<size_t>(compressed) < raw) {
      std::memmove(payload, payload + raw, static_cast<size_t>(compressed));
      payload_size = static_cast<size_t>(compressed);
      flags = kFlagCompressed;
    }
    out->resize(start + fixed + payload_size);
  }

  const size_t body_length = fixed - kRecordHeaderSize + payload_size;
  assert(body_length <= UINT32_MAX);
  uint8_t* record = reinterpret_cast<uint8_t*>(out->data() + start);
  // The header's checksums and sequencing fields stay zero until
  // SealRecord; resize() zero-filled them.
  record[kTypeAt] = static_cast<uint8_t>(RecordType::kEvent);
  record[kFlagsAt] = flags;
  StoreLE<uint32_t>(record + kBodyLengthAt, static_cast<uint32_t>(body_length));

  uint8_t* body = record + kRecordHeaderSize;
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
  return kRecordHeaderSize + body_length;
}

void SealRecord(uint8_t* record, uint64_t position, uint64_t revision,
                uint32_t synced_offset, bool commit, uint64_t seed) {
  const uint32_t body_length = LoadLE<uint32_t>(record + kBodyLengthAt);
  uint8_t* body = record + kRecordHeaderSize;
  StoreLE<uint64_t>(record + kPositionAt, position);
  StoreLE<uint64_t>(body + kRevisionAt, revision);
  StoreLE<uint32_t>(record + kSyncedOffsetAt, synced_offset);
  if (commit) {
    record[kFlagsAt] |= kFlagCommit;
  } else {
    record[kFlagsAt] &= static_cast<uint8_t>(~kFlagCommit);
  }
  // Body first: the header checksum covers the body checksum.
  StoreLE<uint64_t>(record + kBodyChecksumAt,
                    Checksum64(body, body_length, seed));
  StoreLE<uint32_t>(record + kHeaderChecksumAt, HeaderChecksum(record, seed));
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
  if (out->type != RecordType::kEvent || (out->flags & ~kKnownFlags) != 0 ||
      LoadLE<uint16_t>(data + kHeaderReservedAt) != 0 ||
      out->body_length < kEventBodyFixedSize) {
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

bool DecodeEventBody(const uint8_t* record, const RecordHeader& header,
                     std::string* scratch, EventFields* out) {
  BodyLayout layout;
  if (!ParseBodyLayout(record, header, &layout)) return false;
  const uint8_t* body = record + kRecordHeaderSize;
  const char* strings =
      reinterpret_cast<const char*>(body + kEventBodyFixedSize);
  const char* payload = strings + layout.stream_length + layout.type_length;
  std::string_view metadata_and_data;
  if (header.IsCompressed()) {
    const size_t raw = size_t{layout.metadata_length} + layout.data_length;
    // resize() keeps the capacity, so a reused scratch stops allocating
    // once it has seen the largest event.
    scratch->resize(raw);
    const int n = LZ4_decompress_safe(payload, scratch->data(),
                                      static_cast<int>(layout.payload_size),
                                      static_cast<int>(raw));
    if (n < 0 || static_cast<size_t>(n) != raw) return false;
    metadata_and_data = *scratch;
  } else {
    metadata_and_data = std::string_view(payload, layout.payload_size);
  }

  out->stream = std::string_view(strings, layout.stream_length);
  out->type =
      std::string_view(strings + layout.stream_length, layout.type_length);
  out->metadata = metadata_and_data.substr(0, layout.metadata_length);
  out->data = metadata_and_data.substr(layout.metadata_length);
  std::array<uint8_t, 16> id;
  std::memcpy(id.data(), body + kEventIdAt, id.size());
  out->id = EventId(id);
  out->revision = LoadLE<uint64_t>(body + kRevisionAt);
  out->created_us = LoadLE<int64_t>(body + kCreatedAt);
  out->content_type = static_cast<ContentType>(layout.content_type);
  return true;
}

bool PeekEventKey(const uint8_t* record, const RecordHeader& header,
                  std::string_view* stream, std::string_view* type,
                  uint64_t* revision) {
  BodyLayout layout;
  if (!ParseBodyLayout(record, header, &layout)) return false;
  const uint8_t* body = record + kRecordHeaderSize;
  const char* strings =
      reinterpret_cast<const char*>(body + kEventBodyFixedSize);
  *stream = std::string_view(strings, layout.stream_length);
  *type = std::string_view(strings + layout.stream_length, layout.type_length);
  *revision = LoadLE<uint64_t>(body + kRevisionAt);
  return true;
}

}  // namespace cairn::segment
