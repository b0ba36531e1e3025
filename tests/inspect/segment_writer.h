// Copyright (c) Cairn authors.
//
// Builds segment files record by record with the segment codec, for tests
// that break invariants checksums can not catch (revision gaps, positions
// that do not continue, segments of two stores, incomplete appends).
#ifndef CAIRN_TESTS_INSPECT_SEGMENT_WRITER_H_
#define CAIRN_TESTS_INSPECT_SEGMENT_WRITER_H_

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cairn/types.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::inspect::test {

// Writes segment files record by record, with correct checksums.
class SegmentWriter {
 public:
  SegmentWriter(std::string dir, uint64_t store_id)
      : dir_(std::move(dir)), store_id_(store_id) {
    std::filesystem::create_directories(dir_);
  }

  // Starts segment `number` at global position `first_position`.
  void StartSegment(uint64_t number, uint64_t first_position) {
    Finish();
    header_ = segment::SegmentHeader();
    header_.store_id = store_id_;
    header_.segment_number = number;
    header_.first_position = first_position;
    header_.capacity = kSize;
    bytes_.assign(kSize, 0);
    segment::EncodeSegmentHeader(header_, bytes_.data());
    offset_ = segment::kSegmentHeaderSize;
  }

  void Add(const std::string& stream, uint64_t position, uint64_t revision,
           bool commit = true) {
    segment::EventFields fields;
    fields.stream = stream;
    fields.type = "T";
    fields.data = "{}";
    fields.id = EventId::Generate();
    fields.content_type = ContentType::kJson;
    std::string record;
    size_t size = segment::EncodeEventRecord(fields, 0, &record);
    segment::SealRecord(reinterpret_cast<uint8_t*>(record.data()), position,
                        revision, static_cast<uint32_t>(offset_), commit,
                        header_.Seed());
    std::memcpy(bytes_.data() + offset_, record.data(), size);
    offset_ += size;
  }

  // Writes the current segment out.
  void Finish() {
    if (bytes_.empty()) return;
    std::ofstream out(
        dir_ + "/" + segment::SegmentFileName(header_.segment_number),
        std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes_.data()),
              static_cast<std::streamsize>(bytes_.size()));
    bytes_.clear();
  }

 private:
  static constexpr size_t kSize = 65536;
  std::string dir_;
  uint64_t store_id_;
  segment::SegmentHeader header_;
  std::vector<uint8_t> bytes_;
  uint64_t offset_ = 0;
};

}  // namespace cairn::inspect::test

#endif  // CAIRN_TESTS_INSPECT_SEGMENT_WRITER_H_
