// Copyright (c) Cairn authors.
//
// In-memory segment images for the segment tests: records are encoded and
// sealed exactly as the writer does, with the synced_offset chosen by the
// test, so every crash shape can be built without touching a disk.
#ifndef CAIRN_TESTS_SEGMENT_SEGMENT_TEST_UTIL_H_
#define CAIRN_TESTS_SEGMENT_SEGMENT_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "segment/durable_mark.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::segment::testing {

inline EventFields MakeEvent(std::string_view stream, std::string_view type,
                             std::string_view data,
                             std::string_view metadata = {}) {
  EventFields e;
  e.stream = stream;
  e.type = type;
  e.data = data;
  e.metadata = metadata;
  e.created_us = 1'700'000'000'000'000;
  e.content_type = ContentType::kJson;
  return e;
}

// Encodes and seals one record into a fresh string.
inline std::string SealedRecord(const EventFields& event, uint64_t position,
                                uint64_t revision, uint32_t synced_offset,
                                bool commit, uint64_t seed,
                                uint32_t compression_threshold = 0) {
  std::string out;
  EncodeEventRecord(event, compression_threshold, &out);
  SealRecord(reinterpret_cast<uint8_t*>(out.data()), position, revision,
             synced_offset, commit, seed);
  return out;
}

// A segment file image: the header, then appends written at the end, then
// zeros up to the capacity.
class SegmentImage {
 public:
  explicit SegmentImage(uint64_t first_position = 100,
                        size_t capacity = 64 * 1024,
                        uint64_t store_id = 0x5eed5eed12345678ull,
                        uint64_t segment_number = 7) {
    header_.store_id = store_id;
    header_.segment_number = segment_number;
    header_.first_position = first_position;
    header_.capacity = capacity;
    header_.created_us = 1'700'000'000'000'000;
    bytes_.assign(capacity, '\0');
    EncodeSegmentHeader(header_, reinterpret_cast<uint8_t*>(bytes_.data()));
    next_position_ = first_position;
  }

  const SegmentHeader& header() const { return header_; }
  uint64_t seed() const { return header_.Seed(); }
  uint64_t end() const { return end_; }
  uint64_t synced() const { return synced_; }
  uint64_t next_position() const { return next_position_; }
  std::string& bytes() { return bytes_; }
  const uint8_t* data() const {
    return reinterpret_cast<const uint8_t*>(bytes_.data());
  }
  size_t size() const { return bytes_.size(); }

  // Marks everything written so far as fdatasynced: later records carry
  // this offset as their synced_offset.
  void Sync() { synced_ = end_; }

  // Writes one append of `count` events (the last one with the commit flag
  // unless `commit` is false) and returns the offset it starts at.
  uint64_t Append(int count, bool commit = true, size_t data_size = 20) {
    const uint64_t start = end_;
    for (int i = 0; i < count; ++i) {
      const std::string data =
          "{\"n\":" + std::to_string(next_position_) + ",\"pad\":\"" +
          std::string(data_size, 'a' + static_cast<char>(next_position_ % 26)) +
          "\"}";
      WriteRecord(MakeEvent("Order-" + std::to_string(next_position_ % 3),
                            "Placed", data),
                  next_position_, commit && i == count - 1);
      ++next_position_;
    }
    return start;
  }

  // Writes one append of `count` events of stream `stream` as the writer
  // does: a head, then continuations naming it. Returns its offset.
  uint64_t AppendToStream(const std::string& stream, int count) {
    const uint64_t start = end_;
    std::string records;
    std::vector<size_t> offsets;
    for (int i = 0; i < count; ++i) {
      const std::string data =
          "{\"n\":" + std::to_string(next_position_ + i) + "}";
      EventFields event = MakeEvent(stream, "Placed", data);
      event.created_us += static_cast<int64_t>(start);
      offsets.push_back(records.size());
      if (i == 0) {
        EncodeEventRecord(event, 0, &records);
      } else {
        EncodeContinuationRecord(event, 0, 0, &records);
      }
    }
    for (int i = 0; i < count; ++i) {
      SealRecord(reinterpret_cast<uint8_t*>(records.data()) + offsets[i],
                 next_position_, revision_++, static_cast<uint32_t>(synced_),
                 i == count - 1, seed());
      ++next_position_;
    }
    bytes_.replace(end_, records.size(), records);
    end_ += records.size();
    return start;
  }

  // Writes one record with an arbitrary position (for gap tests).
  uint64_t WriteRecord(const EventFields& event, uint64_t position,
                       bool commit) {
    const std::string rec =
        SealedRecord(event, position, revision_++,
                     static_cast<uint32_t>(synced_), commit, seed());
    const uint64_t at = end_;
    bytes_.replace(at, rec.size(), rec);
    end_ += rec.size();
    return at;
  }

 private:
  SegmentHeader header_;
  std::string bytes_;
  uint64_t end_ = kSegmentHeaderSize;
  uint64_t synced_ = kSegmentHeaderSize;
  uint64_t next_position_ = 0;
  uint64_t revision_ = 0;
};

// Writes `mark` into its slot of the image's header page, as the writer
// does after a sync.
inline void PutDurableMark(SegmentImage* image, const DurableMark& mark) {
  EncodeDurableMark(mark, image->seed(),
                    reinterpret_cast<uint8_t*>(image->bytes().data()) +
                        DurableMarkOffset(mark.sequence));
}

}  // namespace cairn::segment::testing

#endif  // CAIRN_TESTS_SEGMENT_SEGMENT_TEST_UTIL_H_
