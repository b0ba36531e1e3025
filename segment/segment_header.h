// Copyright (c) Cairn authors.
//
// The fixed header at the start of every segment file (docs/format.md).
#ifndef CAIRN_SEGMENT_SEGMENT_HEADER_H_
#define CAIRN_SEGMENT_SEGMENT_HEADER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::segment {

// Records start after this many bytes (one page: keeps record writes off the
// header's page).
inline constexpr uint32_t kSegmentHeaderSize = 4096;
// The version this build writes. It reads versions 1, 2 and 4 (3 and 5 are
// scavenged segments, below): version 2 adds the durable-end mark slots in
// the header padding (segment/durable_mark.h), which version 1 lacks;
// version 4 adds continuation records (segment/record.h), which store an
// append's stream name once.
inline constexpr uint32_t kSegmentFormatVersion = 4;
inline constexpr uint32_t kOldestSegmentFormatVersion = 1;
// "CAIRNSEG" read as little-endian bytes.
inline constexpr char kSegmentMagic[8] = {'C', 'A', 'I', 'R',
                                          'N', 'S', 'E', 'G'};

struct SegmentHeader {
  uint32_t format_version = kSegmentFormatVersion;
  uint64_t store_id = 0;        // random identity shared by a store's segments
  uint64_t segment_number = 0;  // 0, 1, 2, ... matches the file name
  uint64_t first_position = 0;  // global position of the first record
  uint64_t capacity = 0;        // preallocated file size in bytes
  int64_t created_us = 0;       // creation time, µs since the Unix epoch

  // Seed of the record checksums in this segment.
  uint64_t Seed() const;

  friend bool operator==(const SegmentHeader&, const SegmentHeader&) = default;
};

// Writes the header into out[0, kSegmentHeaderSize) (zero-padded).
void EncodeSegmentHeader(const SegmentHeader& header, uint8_t* out);

// Parses and verifies a header. Errors: Corruption (bad magic or checksum,
// naming `file` and offset 0), NotSupported (unknown format version).
Status DecodeSegmentHeader(const uint8_t* data, size_t size,
                           const std::string& file, SegmentHeader* out);

// Format versions 3 and 5: a scavenged segment, the kept records of a
// sealed segment with gaps in their positions (docs/format.md, "Scavenged
// segments"); version 5 may hold continuation records, as version 4 does.
// DecodeSegmentHeader refuses them (NotSupported): only code that handles
// the gaps decodes them, with DecodeScavengedSegmentHeader. This build
// writes version 5 and reads both.
inline constexpr uint32_t kScavengedSegmentFormatVersion = 5;
inline constexpr uint32_t kOldestScavengedSegmentFormatVersion = 3;

// Whether `version` is that of a scavenged segment (3 or 5).
inline bool IsScavengedFormat(uint32_t version) {
  return version == kOldestScavengedSegmentFormatVersion ||
         version == kScavengedSegmentFormatVersion;
}

// Whether segments of `version` may hold continuation records (4 and 5).
inline bool HasContinuationRecords(uint32_t version) { return version >= 4; }

// The header fields version 3 adds.
struct ScavengedFields {
  // The position after the last position the original segment covered.
  uint64_t end_position = 0;
  // 1 for the first rewrite of a segment number, then 2, 3, ...
  uint32_t generation = 1;
};

// Writes a version-5 header (header.format_version is ignored).
void EncodeScavengedSegmentHeader(const SegmentHeader& header,
                                  const ScavengedFields& fields, uint8_t* out);
// Parses and verifies a version-3 or version-5 header: the checks of
// DecodeSegmentHeader, a generation above 0 and end_position not before
// first_position. Other versions are NotSupported.
Status DecodeScavengedSegmentHeader(const uint8_t* data, size_t size,
                                    const std::string& file, SegmentHeader* out,
                                    ScavengedFields* fields);

// A header of any version this build reads: versions 1, 2 and 4 as
// DecodeSegmentHeader (fields->generation 0), versions 3 and 5 as
// DecodeScavengedSegmentHeader. For code that reads a scavenged segment's
// gaps correctly (the engine's log, verify, dump).
Status DecodeAnySegmentHeader(const uint8_t* data, size_t size,
                              const std::string& file, SegmentHeader* out,
                              ScavengedFields* fields);

// "000000000042.seg" for segment 42.
std::string SegmentFileName(uint64_t segment_number);
// The segment number of a segment file name, nullopt for other names.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

// Which file of a segment a name is: generation 0 for the original
// `NNN.seg`, G >= 1 for a scavenge's rewrite `NNN.gGGGG.seg`.
struct SegmentFileId {
  uint64_t number = 0;
  uint32_t generation = 0;

  friend bool operator==(const SegmentFileId&, const SegmentFileId&) = default;
};
// "000000000003.g0001.seg" for segment 3, generation 1 (>= 1).
std::string ScavengedSegmentFileName(uint64_t number, uint32_t generation);
// The number and generation of a scavenged segment's file name (final, not
// `.scv`), nullopt for other names.
std::optional<SegmentFileId> ParseScavengedSegmentFileName(
    std::string_view name);
// The file name of `id`: SegmentFileName for generation 0, else
// ScavengedSegmentFileName.
std::string SegmentFileName(const SegmentFileId& id);
// Either kind of segment file name, nullopt for other names.
std::optional<SegmentFileId> ParseAnySegmentFileName(std::string_view name);

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_SEGMENT_HEADER_H_
