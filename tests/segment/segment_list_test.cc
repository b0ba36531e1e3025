// Copyright (c) Cairn authors.
//
// The segment-list rules shared by the engine's open and `cairn verify`.
#include "segment/segment_list.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::segment {
namespace {

SegmentHeader Header(uint64_t number, uint64_t first_position,
                     uint64_t store_id = 7) {
  SegmentHeader h;
  h.store_id = store_id;
  h.segment_number = number;
  h.first_position = first_position;
  h.capacity = 65536;
  return h;
}

std::string FileOf(const Status& s) {
  return s.corruption() != nullptr ? s.corruption()->file : "";
}

TEST(SegmentListTest, ContiguousSegmentsFromZeroPass) {
  SegmentListChecker list("/d");
  const uint64_t starts[] = {0, 10, 25};
  for (uint64_t n = 0; n < 3; ++n) {
    EXPECT_TRUE(list.CheckNumber(n).ok());
    EXPECT_TRUE(list.CheckHeader(n, Header(n, starts[n])).ok());
  }
}

TEST(SegmentListTest, MissingOldestSegmentIsCorruptionNamingIt) {
  SegmentListChecker list("/d");
  Status s = list.CheckNumber(1);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(FileOf(s), "/d/000000000000.seg");
  EXPECT_NE(s.message().find("segment file is missing"), std::string::npos)
      << s.ToString();

  SegmentListChecker three("/d/");
  s = three.CheckNumber(3);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_EQ(FileOf(s), "/d/000000000000.seg");
  EXPECT_NE(s.message().find("segment files 0 to 2 are missing"),
            std::string::npos)
      << s.ToString();
}

TEST(SegmentListTest, GapInTheMiddleIsCorruptionNamingTheFirstMissingFile) {
  SegmentListChecker list("/d");
  EXPECT_TRUE(list.CheckNumber(0).ok());
  EXPECT_TRUE(list.CheckNumber(1).ok());
  Status s = list.CheckNumber(4);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_EQ(FileOf(s), "/d/000000000002.seg");
  EXPECT_NE(s.message().find("segment files 2 to 3 are missing"),
            std::string::npos)
      << s.ToString();
  // Checking goes on after the gap.
  EXPECT_TRUE(list.CheckNumber(5).ok());
}

TEST(SegmentListTest, FirstSegmentMustStartAtPositionZero) {
  SegmentListChecker list("/d");
  Status s = list.CheckHeader(0, Header(0, 5));
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_EQ(FileOf(s), "/d/000000000000.seg");
  EXPECT_NE(s.message().find("first segment starts at position 5, not 0"),
            std::string::npos);
}

TEST(SegmentListTest, HeaderMustCarryItsFileNumberAndTheStore) {
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckHeader(0, Header(0, 0)).ok());
  Status s = list.CheckHeader(1, Header(2, 4));
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("says number 2 but the file name says 1"),
            std::string::npos);
  s = list.CheckHeader(1, Header(1, 4, /*store_id=*/8));
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("another store"), std::string::npos);
}

TEST(SegmentListTest, StartsNeverGoBackwards) {
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckHeader(0, Header(0, 0)).ok());
  ASSERT_TRUE(list.CheckHeader(1, Header(1, 10)).ok());
  Status s = list.CheckHeader(2, Header(2, 9));
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_EQ(FileOf(s), "/d/000000000002.seg");
  EXPECT_NE(s.message().find("before the start of the segment before it"),
            std::string::npos);
}

TEST(SegmentListTest, SameStartAsThePredecessorIsLeftToTheRecordScan) {
  // A sealed segment without records starts where the next one does; the
  // scan confirms it holds nothing.
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckHeader(0, Header(0, 0)).ok());
  EXPECT_TRUE(list.CheckHeader(1, Header(1, 0)).ok());
  EXPECT_TRUE(list.CheckHeader(2, Header(2, 3)).ok());
}

}  // namespace
}  // namespace cairn::segment
