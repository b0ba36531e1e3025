// Copyright (c) Cairn authors.
#include "segment/segment_header.h"

#include <cstdio>
#include <cstring>

#include "segment/checksum.h"
#include "segment/durable_mark.h"
#include "segment/little_endian.h"

namespace cairn::segment {
namespace {

// Field offsets (docs/format.md, "Segment header").
constexpr size_t kMagicOffset = 0;
constexpr size_t kVersionOffset = 8;
constexpr size_t kHeaderSizeOffset = 12;
constexpr size_t kStoreIdOffset = 16;
constexpr size_t kSegmentNumberOffset = 24;
constexpr size_t kFirstPositionOffset = 32;
constexpr size_t kCapacityOffset = 40;
constexpr size_t kCreatedOffset = 48;
constexpr size_t kChecksumOffset = 56;
// Everything from here to kSegmentHeaderSize is zero in version 1; in
// version 2 too, except the durable-end mark slots.
constexpr size_t kPaddingOffset = 64;
// Versions 3 and 5 (a scavenged segment) add two fields there, covered by
// the header checksum together with bytes [0, kChecksumOffset).
constexpr size_t kEndPositionOffset = 64;
constexpr size_t kGenerationOffset = 72;
constexpr size_t kScavengedFieldsEnd = 80;

bool InScavengedFields(uint32_t version, size_t offset) {
  return IsScavengedFormat(version) && offset >= kEndPositionOffset &&
         offset < kScavengedFieldsEnd;
}

bool InMarkSlot(uint32_t version, size_t offset) {
  if (version < kFirstMarkedSegmentVersion) return false;
  for (const uint32_t slot : kDurableMarkOffsets) {
    if (offset >= slot && offset < slot + kDurableMarkSize) return true;
  }
  return false;
}

// The header is not tied to a segment's identity (it *carries* that
// identity), so it uses a fixed seed: "CAIR" as a little-endian u32.
constexpr uint64_t kHeaderChecksumSeed = 0x43414952ull;

// The header checksum of `version`: bytes [0, 56), and in a scavenged
// segment also its fields [64, 80).
uint64_t HeaderChecksum(const uint8_t* data, uint32_t version) {
  if (!IsScavengedFormat(version)) {
    return Checksum64(data, kChecksumOffset, kHeaderChecksumSeed);
  }
  uint8_t covered[kChecksumOffset + kScavengedFieldsEnd - kEndPositionOffset];
  std::memcpy(covered, data, kChecksumOffset);
  std::memcpy(covered + kChecksumOffset, data + kEndPositionOffset,
              kScavengedFieldsEnd - kEndPositionOffset);
  return Checksum64(covered, sizeof(covered), kHeaderChecksumSeed);
}

// Decodes a header of a version this build reads: a scavenged segment's
// if `scavenged`, else any other.
Status DecodeHeader(const uint8_t* data, size_t size, const std::string& file,
                    bool scavenged, SegmentHeader* out);

// Segment numbers are written as exactly this many decimal digits, so that
// file names sort in segment order.
constexpr size_t kFileNameDigits = 12;
constexpr std::string_view kFileNameSuffix = ".seg";
constexpr size_t kGenerationDigits = 4;

// Decimal digits only (no sign, no space), as file names spell numbers.
bool ParseDigits(std::string_view digits, uint64_t* out) {
  uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

}  // namespace

uint64_t SegmentHeader::Seed() const {
  return SegmentSeed(store_id, segment_number);
}

void EncodeSegmentHeader(const SegmentHeader& header, uint8_t* out) {
  std::memset(out, 0, kSegmentHeaderSize);
  std::memcpy(out + kMagicOffset, kSegmentMagic, sizeof(kSegmentMagic));
  StoreLE<uint32_t>(out + kVersionOffset, header.format_version);
  StoreLE<uint32_t>(out + kHeaderSizeOffset, kSegmentHeaderSize);
  StoreLE<uint64_t>(out + kStoreIdOffset, header.store_id);
  StoreLE<uint64_t>(out + kSegmentNumberOffset, header.segment_number);
  StoreLE<uint64_t>(out + kFirstPositionOffset, header.first_position);
  StoreLE<uint64_t>(out + kCapacityOffset, header.capacity);
  StoreLE<int64_t>(out + kCreatedOffset, header.created_us);
  StoreLE<uint64_t>(out + kChecksumOffset,
                    HeaderChecksum(out, header.format_version));
}

void EncodeScavengedSegmentHeader(const SegmentHeader& header,
                                  const ScavengedFields& fields, uint8_t* out) {
  SegmentHeader v3 = header;
  v3.format_version = kScavengedSegmentFormatVersion;
  EncodeSegmentHeader(v3, out);
  StoreLE<uint64_t>(out + kEndPositionOffset, fields.end_position);
  StoreLE<uint32_t>(out + kGenerationOffset, fields.generation);
  StoreLE<uint64_t>(out + kChecksumOffset,
                    HeaderChecksum(out, kScavengedSegmentFormatVersion));
}

Status DecodeSegmentHeader(const uint8_t* data, size_t size,
                           const std::string& file, SegmentHeader* out) {
  return DecodeHeader(data, size, file, /*scavenged=*/false, out);
}

Status DecodeAnySegmentHeader(const uint8_t* data, size_t size,
                              const std::string& file, SegmentHeader* out,
                              ScavengedFields* fields) {
  if (size >= kVersionOffset + sizeof(uint32_t) &&
      IsScavengedFormat(LoadLE<uint32_t>(data + kVersionOffset))) {
    return DecodeScavengedSegmentHeader(data, size, file, out, fields);
  }
  *fields = ScavengedFields{};
  fields->generation = 0;
  return DecodeSegmentHeader(data, size, file, out);
}

Status DecodeScavengedSegmentHeader(const uint8_t* data, size_t size,
                                    const std::string& file, SegmentHeader* out,
                                    ScavengedFields* fields) {
  Status s = DecodeHeader(data, size, file, /*scavenged=*/true, out);
  if (!s.ok()) return s;
  fields->end_position = LoadLE<uint64_t>(data + kEndPositionOffset);
  fields->generation = LoadLE<uint32_t>(data + kGenerationOffset);
  if (fields->generation == 0) {
    return Status::Corruption(file, kGenerationOffset,
                              "scavenged segment generation is 0");
  }
  if (fields->end_position < out->first_position) {
    return Status::Corruption(file, kEndPositionOffset,
                              "scavenged segment ends before it starts");
  }
  for (size_t i = kScavengedFieldsEnd - 4; i < kScavengedFieldsEnd; ++i) {
    if (data[i] != 0) {
      return Status::Corruption(file, i,
                                "nonzero reserved byte in the scavenged "
                                "segment header");
    }
  }
  return Status::Ok();
}

namespace {

Status DecodeHeader(const uint8_t* data, size_t size, const std::string& file,
                    bool scavenged, SegmentHeader* out) {
  if (size < kSegmentHeaderSize) {
    return Status::Corruption(file, 0,
                              "segment header truncated: the file has " +
                                  std::to_string(size) + " bytes, the header " +
                                  std::to_string(kSegmentHeaderSize));
  }
  if (std::memcmp(data + kMagicOffset, kSegmentMagic, sizeof(kSegmentMagic)) !=
      0) {
    return Status::Corruption(file, 0,
                              "bad segment magic (not a Cairn segment file)");
  }
  // The version is checked before the checksum: magic and version sit at
  // the same offsets in every version, but a later version may lay out or
  // checksum the rest of its header differently, and must be refused as
  // unsupported rather than reported as damaged.
  const uint32_t version = LoadLE<uint32_t>(data + kVersionOffset);
  const bool known = version >= kOldestSegmentFormatVersion &&
                     version <= kScavengedSegmentFormatVersion;
  if (!known || IsScavengedFormat(version) != scavenged) {
    return Status::NotSupported("segment " + file + " has format version " +
                                std::to_string(version) + "; expected " +
                                (scavenged
                                     ? "a scavenged segment's version, 3 or 5"
                                     : "version 1, 2 or 4") +
                                (known ? "" : " (a newer build wrote it)"));
  }
  const uint64_t stored = LoadLE<uint64_t>(data + kChecksumOffset);
  if (stored != HeaderChecksum(data, version)) {
    return Status::Corruption(file, 0, "bad segment header checksum");
  }
  const uint32_t header_size = LoadLE<uint32_t>(data + kHeaderSizeOffset);
  if (header_size != kSegmentHeaderSize) {
    return Status::Corruption(
        file, 0,
        "segment header size is " + std::to_string(header_size) +
            ", every version requires " + std::to_string(kSegmentHeaderSize));
  }
  // The padding is outside the checksum; requiring zeros there means damage
  // anywhere in the header page is noticed. The mark slots carry their own
  // checksums (a damaged mark is ignored, never trusted), and are not read
  // here at all: a writer beside a reader rewrites them in place.
  for (size_t i = kPaddingOffset; i < kSegmentHeaderSize; ++i) {
    if (InMarkSlot(version, i) || InScavengedFields(version, i)) continue;
    if (data[i] != 0) {
      return Status::Corruption(file, 0,
                                "nonzero byte in the segment header padding "
                                "at offset " +
                                    std::to_string(i));
    }
  }
  out->format_version = version;
  out->store_id = LoadLE<uint64_t>(data + kStoreIdOffset);
  out->segment_number = LoadLE<uint64_t>(data + kSegmentNumberOffset);
  out->first_position = LoadLE<uint64_t>(data + kFirstPositionOffset);
  out->capacity = LoadLE<uint64_t>(data + kCapacityOffset);
  out->created_us = LoadLE<int64_t>(data + kCreatedOffset);
  return Status::Ok();
}

}  // namespace

std::string SegmentFileName(uint64_t segment_number) {
  // 20 digits hold any u64; numbers past 12 digits give names that
  // ParseSegmentFileName refuses (10^12 segments is out of reach).
  char buf[32];
  (void)std::snprintf(buf, sizeof(buf), "%012llu.seg",
                      static_cast<unsigned long long>(segment_number));
  return buf;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  uint64_t number = 0;
  if (name.size() != kFileNameDigits + kFileNameSuffix.size() ||
      name.substr(kFileNameDigits) != kFileNameSuffix ||
      !ParseDigits(name.substr(0, kFileNameDigits), &number)) {
    return std::nullopt;
  }
  return number;
}

std::string ScavengedSegmentFileName(uint64_t number, uint32_t generation) {
  char buf[48];
  (void)std::snprintf(buf, sizeof(buf), "%012llu.g%04u.seg",
                      static_cast<unsigned long long>(number),
                      static_cast<unsigned>(generation));
  return buf;
}

std::optional<SegmentFileId> ParseScavengedSegmentFileName(
    std::string_view name) {
  // "NNNNNNNNNNNN.gGGGG.seg": at least four generation digits (the
  // 10 000th rewrite of a segment has five), no more than a u32 needs.
  constexpr size_t kMinSize =
      kFileNameDigits + 2 + kGenerationDigits + kFileNameSuffix.size();
  constexpr size_t kMaxGenerationDigits = 10;
  if (name.size() < kMinSize ||
      name.size() > kMinSize + (kMaxGenerationDigits - kGenerationDigits) ||
      name.substr(kFileNameDigits, 2) != ".g" ||
      name.substr(name.size() - kFileNameSuffix.size()) != kFileNameSuffix) {
    return std::nullopt;
  }
  const std::string_view digits =
      name.substr(kFileNameDigits + 2,
                  name.size() - kFileNameDigits - 2 - kFileNameSuffix.size());
  uint64_t number = 0;
  uint64_t generation = 0;
  if (!ParseDigits(name.substr(0, kFileNameDigits), &number) ||
      !ParseDigits(digits, &generation) || generation == 0 ||
      generation > UINT32_MAX ||
      // One spelling per generation: "0001", "10000", never "00010000".
      (digits.size() > kGenerationDigits && digits[0] == '0')) {
    return std::nullopt;
  }
  return SegmentFileId{number, static_cast<uint32_t>(generation)};
}

std::string SegmentFileName(const SegmentFileId& id) {
  return id.generation == 0
             ? SegmentFileName(id.number)
             : ScavengedSegmentFileName(id.number, id.generation);
}

std::optional<SegmentFileId> ParseAnySegmentFileName(std::string_view name) {
  if (auto number = ParseSegmentFileName(name)) {
    return SegmentFileId{*number, 0};
  }
  return ParseScavengedSegmentFileName(name);
}

}  // namespace cairn::segment
