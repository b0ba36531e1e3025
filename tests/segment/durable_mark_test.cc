// Copyright (c) Cairn authors.
#include "segment/durable_mark.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/segment/segment_test_util.h"

namespace cairn::segment {
namespace {

using testing::PutDurableMark;
using testing::SegmentImage;

DurableMark Mark(uint64_t sequence, uint32_t end, uint64_t next,
                 bool closed = false) {
  DurableMark m;
  m.sequence = sequence;
  m.end_offset = end;
  m.next_position = next;
  m.flags = closed ? kMarkFlagClosed : 0;
  return m;
}

TEST(DurableMarkTest, NewSegmentHasNone) {
  SegmentImage image;
  EXPECT_FALSE(NewestDurableMark(image.data(), image.size(), image.header()));
}

TEST(DurableMarkTest, RoundTripsAndTheHigherSequenceWins) {
  SegmentImage image;
  PutDurableMark(&image, Mark(1, 5000, 103));
  auto one = NewestDurableMark(image.data(), image.size(), image.header());
  ASSERT_TRUE(one);
  EXPECT_EQ(one->sequence, 1u);
  EXPECT_EQ(one->end_offset, 5000u);
  EXPECT_EQ(one->next_position, 103u);
  EXPECT_FALSE(one->closed());
  PutDurableMark(&image, Mark(2, 6000, 110, /*closed=*/true));
  auto two = NewestDurableMark(image.data(), image.size(), image.header());
  ASSERT_TRUE(two);
  EXPECT_EQ(two->sequence, 2u);
  EXPECT_EQ(two->end_offset, 6000u);
  EXPECT_TRUE(two->closed());
  // Mark 3 goes to mark 1's slot; mark 2 is never overwritten by it.
  EXPECT_EQ(DurableMarkOffset(3), DurableMarkOffset(1));
  EXPECT_NE(DurableMarkOffset(3), DurableMarkOffset(2));
}

TEST(DurableMarkTest, ATornOrDamagedSlotIsNotAMark) {
  SegmentImage image;
  PutDurableMark(&image, Mark(1, 5000, 103));
  PutDurableMark(&image, Mark(2, 6000, 110));
  for (size_t i = 0; i < kDurableMarkSize; ++i) {
    SegmentImage damaged = image;
    damaged.bytes()[DurableMarkOffset(2) + i] ^= 0x04;
    auto mark =
        NewestDurableMark(damaged.data(), damaged.size(), damaged.header());
    ASSERT_TRUE(mark) << i;
    EXPECT_EQ(mark->sequence, 1u) << i;  // the older one still stands
  }
}

TEST(DurableMarkTest, AMarkInTheWrongSlotOrOfAnotherSegmentIsNotAMark) {
  SegmentImage image;
  DurableMark m = Mark(2, 5000, 103);
  EncodeDurableMark(
      m, image.seed(),
      reinterpret_cast<uint8_t*>(image.bytes().data()) + DurableMarkOffset(1));
  EXPECT_FALSE(NewestDurableMark(image.data(), image.size(), image.header()));
  SegmentImage other(100, 64 * 1024, 0x5eed5eed12345678ull, 8);
  PutDurableMark(&image, m);
  std::memcpy(other.bytes().data() + DurableMarkOffset(2),
              image.bytes().data() + DurableMarkOffset(2), kDurableMarkSize);
  EXPECT_FALSE(NewestDurableMark(other.data(), other.size(), other.header()));
}

TEST(DurableMarkTest, VersionOneSegmentsHaveNoSlots) {
  SegmentImage image;
  PutDurableMark(&image, Mark(1, 5000, 103));
  SegmentHeader v1 = image.header();
  v1.format_version = 1;
  EXPECT_FALSE(NewestDurableMark(image.data(), image.size(), v1));
}

TEST(DurableMarkTest, SlotsLieInTheirOwnSectorsOfTheHeaderPadding) {
  for (const uint32_t offset : kDurableMarkOffsets) {
    EXPECT_GE(offset, 512u);
    EXPECT_EQ(offset / 512, (offset + kDurableMarkSize - 1) / 512);
    EXPECT_LE(offset + kDurableMarkSize, kSegmentHeaderSize);
  }
  EXPECT_NE(kDurableMarkOffsets[0] / 512, kDurableMarkOffsets[1] / 512);
}

}  // namespace
}  // namespace cairn::segment
