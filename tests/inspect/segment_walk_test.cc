// Copyright (c) Cairn authors.
//
// The damage-tolerant record walk behind `cairn dump` and `cairn verify`,
// on segments built in memory with the segment codec.
#include "inspect/segment_walk.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::inspect {
namespace {

constexpr size_t kCapacity = 16384;

struct TestSegment {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> offsets;  // of each record
  uint64_t end = 0;               // just past the last record
  uint64_t seed = 0;
};

// A segment of `count` single-event appends; event i has data {"i":i} (or
// a larger, compressible payload when `big`).
TestSegment BuildSegment(int count, bool big = false) {
  TestSegment seg;
  segment::SegmentHeader header;
  header.store_id = 0x1234;
  header.segment_number = 3;
  header.first_position = 100;
  header.capacity = kCapacity;
  header.created_us = 1;
  seg.seed = header.Seed();
  seg.bytes.assign(kCapacity, 0);
  segment::EncodeSegmentHeader(header, seg.bytes.data());
  uint64_t offset = segment::kSegmentHeaderSize;
  for (int i = 0; i < count; ++i) {
    std::string data = "{\"i\":" + std::to_string(i) + "}";
    if (big) data = "[\"" + std::string(500, 'a' + i % 26) + "\"]";
    segment::EventFields fields;
    fields.stream = "stream";
    fields.type = "Type";
    fields.data = data;
    fields.metadata = "{}";
    fields.id = EventId::Generate();
    fields.created_us = 7;
    fields.content_type = ContentType::kJson;
    std::string record;
    size_t size = segment::EncodeEventRecord(fields, big ? 64 : 0, &record);
    segment::SealRecord(reinterpret_cast<uint8_t*>(record.data()), 100 + i, i,
                        segment::kSegmentHeaderSize, /*commit=*/true, seg.seed);
    std::memcpy(seg.bytes.data() + offset, record.data(), size);
    seg.offsets.push_back(offset);
    offset += size;
  }
  seg.end = offset;
  return seg;
}

struct Walked {
  std::vector<WalkedRecord> records;  // fields' views are not kept valid
  std::vector<std::string> data;      // data of each ok record
  std::vector<SkippedBytes> skipped;
  WalkResult result;
};

Walked Walk(const std::vector<uint8_t>& bytes, uint64_t seed,
            size_t size = SIZE_MAX) {
  Walked w;
  w.result = WalkSegment(
      bytes.data(), std::min(size, bytes.size()), seed,
      [&](const WalkedRecord& r) {
        w.records.push_back(r);
        w.data.push_back(r.body_valid ? std::string(r.fields.data) : "");
      },
      [&](const SkippedBytes& b) { w.skipped.push_back(b); });
  return w;
}

TEST(SegmentWalkTest, HealthySegment) {
  TestSegment seg = BuildSegment(5);
  Walked w = Walk(seg.bytes, seg.seed);
  ASSERT_EQ(w.records.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(w.records[i].status, RecordStatus::kOk);
    EXPECT_EQ(w.records[i].offset, seg.offsets[i]);
    EXPECT_EQ(w.records[i].header.position, 100 + i);
    EXPECT_TRUE(w.records[i].header.IsCommit());
    EXPECT_EQ(w.data[i], "{\"i\":" + std::to_string(i) + "}");
  }
  EXPECT_TRUE(w.skipped.empty());
  EXPECT_EQ(w.result.records_ok, 5u);
  EXPECT_EQ(w.result.problems, 0u);
  EXPECT_EQ(w.result.end_of_records, seg.end);
}

TEST(SegmentWalkTest, EmptyAndHeaderOnlySegments) {
  TestSegment seg = BuildSegment(0);
  Walked w = Walk(seg.bytes, seg.seed);
  EXPECT_TRUE(w.records.empty());
  EXPECT_EQ(w.result.problems, 0u);
  EXPECT_EQ(w.result.end_of_records, segment::kSegmentHeaderSize);
  w = Walk(seg.bytes, seg.seed, segment::kSegmentHeaderSize);
  EXPECT_TRUE(w.records.empty());
  w = Walk(seg.bytes, seg.seed, 10);
  EXPECT_TRUE(w.records.empty());
  EXPECT_EQ(w.result.end_of_records, 10u);
}

TEST(SegmentWalkTest, CompressedRecordsDecode) {
  TestSegment seg = BuildSegment(3, /*big=*/true);
  Walked w = Walk(seg.bytes, seg.seed);
  ASSERT_EQ(w.records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(w.records[i].status, RecordStatus::kOk);
    EXPECT_TRUE(w.records[i].header.IsCompressed());
    EXPECT_EQ(w.data[i].size(), 504u);
  }
}

TEST(SegmentWalkTest, BadBodyIsSkippedByItsVerifiedLength) {
  TestSegment seg = BuildSegment(4);
  seg.bytes[seg.offsets[1] + segment::kRecordHeaderSize + 10] ^= 0xFF;
  Walked w = Walk(seg.bytes, seg.seed);
  ASSERT_EQ(w.records.size(), 4u);
  EXPECT_EQ(w.records[1].status, RecordStatus::kBadBody);
  EXPECT_TRUE(w.records[1].header_valid);
  EXPECT_EQ(w.records[1].header.position, 101u);
  EXPECT_EQ(w.records[1].length, seg.offsets[2] - seg.offsets[1]);
  EXPECT_EQ(w.records[2].status, RecordStatus::kOk);
  EXPECT_EQ(w.records[3].status, RecordStatus::kOk);
  EXPECT_TRUE(w.skipped.empty());
  EXPECT_EQ(w.result.problems, 1u);
  EXPECT_EQ(w.result.records_ok, 3u);
}

TEST(SegmentWalkTest, BadHeaderResynchronisesAtTheNextRecord) {
  TestSegment seg = BuildSegment(4);
  seg.bytes[seg.offsets[1] + 9] ^= 0x40;  // body_length
  Walked w = Walk(seg.bytes, seg.seed);
  ASSERT_EQ(w.records.size(), 4u);
  EXPECT_EQ(w.records[1].status, RecordStatus::kBadHeader);
  EXPECT_FALSE(w.records[1].header_valid);
  ASSERT_EQ(w.skipped.size(), 1u);
  EXPECT_EQ(w.skipped[0].begin, seg.offsets[1]);
  EXPECT_EQ(w.skipped[0].end, seg.offsets[2]);
  EXPECT_FALSE(w.skipped[0].all_zero);
  EXPECT_EQ(w.records[2].offset, seg.offsets[2]);
  EXPECT_EQ(w.records[2].status, RecordStatus::kOk);
  EXPECT_EQ(w.result.problems, 1u);
  EXPECT_EQ(w.result.end_of_records, seg.end);
}

TEST(SegmentWalkTest, TruncatedRecordAtTheEndOfTheFile) {
  TestSegment seg = BuildSegment(3);
  // Cut inside the last record's body: its header still verifies.
  Walked w = Walk(seg.bytes, seg.seed, seg.offsets[2] + 40);
  ASSERT_EQ(w.records.size(), 3u);
  EXPECT_EQ(w.records[2].status, RecordStatus::kTruncated);
  EXPECT_TRUE(w.records[2].header_valid);
  EXPECT_EQ(w.records[2].length, seg.end - seg.offsets[2]);
  ASSERT_EQ(w.skipped.size(), 1u);
  EXPECT_EQ(w.skipped[0].end, seg.offsets[2] + 40);
  // Cut inside its header.
  w = Walk(seg.bytes, seg.seed, seg.offsets[2] + 10);
  ASSERT_EQ(w.records.size(), 3u);
  EXPECT_EQ(w.records[2].status, RecordStatus::kTruncated);
  EXPECT_FALSE(w.records[2].header_valid);
  EXPECT_EQ(w.records[2].length, 10u);
  EXPECT_EQ(w.result.problems, 1u);
}

TEST(SegmentWalkTest, BytesAfterTheZeroedEndAreReported) {
  TestSegment seg = BuildSegment(2);
  seg.bytes[seg.end + 100] = 0x55;
  Walked w = Walk(seg.bytes, seg.seed);
  EXPECT_EQ(w.records.size(), 2u);
  ASSERT_EQ(w.skipped.size(), 1u);
  EXPECT_EQ(w.skipped[0].begin, seg.end);
  EXPECT_EQ(w.skipped[0].end, kCapacity);
  EXPECT_FALSE(w.skipped[0].all_zero);
  EXPECT_EQ(w.result.problems, 1u);
  EXPECT_EQ(w.result.end_of_records, seg.end);
}

TEST(SegmentWalkTest, RecordsAfterAZeroedHoleAreFound) {
  TestSegment seg = BuildSegment(3);
  // Zero the middle record: a hole, with a valid record behind it.
  std::memset(seg.bytes.data() + seg.offsets[1], 0,
              seg.offsets[2] - seg.offsets[1]);
  Walked w = Walk(seg.bytes, seg.seed);
  ASSERT_EQ(w.records.size(), 2u);
  EXPECT_EQ(w.records[1].offset, seg.offsets[2]);
  EXPECT_EQ(w.records[1].status, RecordStatus::kOk);
  ASSERT_EQ(w.skipped.size(), 1u);
  EXPECT_EQ(w.skipped[0].begin, seg.offsets[1]);
  EXPECT_EQ(w.skipped[0].end, seg.offsets[2]);
  EXPECT_TRUE(w.skipped[0].all_zero);
  EXPECT_EQ(w.result.problems, 1u);
}

TEST(SegmentWalkTest, WrongSeedVerifiesNothing) {
  TestSegment seg = BuildSegment(3);
  Walked w = Walk(seg.bytes, seg.seed + 1);
  ASSERT_EQ(w.records.size(), 1u);
  EXPECT_EQ(w.records[0].status, RecordStatus::kBadHeader);
  ASSERT_EQ(w.skipped.size(), 1u);
  EXPECT_EQ(w.skipped[0].end, kCapacity);
}

// Every single-byte corruption of the records, and of the bytes after
// them, is walked to the end of the buffer without a crash, with records
// and skipped ranges in increasing, in-bounds order. Under ASan this is
// also the proof that no read leaves the buffer.
TEST(SegmentWalkTest, EveryByteFlipIsSurvived) {
  TestSegment clean = BuildSegment(3, /*big=*/true);
  for (uint64_t at = segment::kSegmentHeaderSize; at < clean.end + 64; ++at) {
    for (uint8_t mask : {0x01, 0xFF}) {
      std::vector<uint8_t> bytes = clean.bytes;
      bytes[at] ^= mask;
      uint64_t last = 0;
      WalkResult result = WalkSegment(
          bytes.data(), bytes.size(), clean.seed,
          [&](const WalkedRecord& r) {
            ASSERT_GE(r.offset, last);
            ASSERT_LE(r.offset + r.length, bytes.size());
            last = r.offset;
          },
          [&](const SkippedBytes& b) {
            ASSERT_GE(b.begin, last);
            ASSERT_LE(b.end, bytes.size());
            ASSERT_LT(b.begin, b.end);
          });
      ASSERT_GE(result.problems, 1u) << "flip at " << at;
    }
  }
}

TEST(SegmentWalkTest, RandomGarbageIsSurvived) {
  std::mt19937 rng(7);
  TestSegment seg = BuildSegment(0);
  for (int round = 0; round < 20; ++round) {
    for (size_t i = segment::kSegmentHeaderSize; i < seg.bytes.size(); ++i) {
      // Sparse garbage with many 0x01 bytes (the record type) to exercise
      // the resynchronisation candidates.
      uint32_t r = rng();
      seg.bytes[i] = static_cast<uint8_t>(r % 4 == 0 ? 1 : (r >> 8) % 3);
    }
    Walked w = Walk(seg.bytes, seg.seed);
    EXPECT_GE(w.result.problems, 1u);
  }
}

}  // namespace
}  // namespace cairn::inspect
