// Copyright (c) Cairn authors.
//
// The segment-list rules shared by the engine's open and `cairn verify`.
#include "segment/segment_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Whether `s` is Corruption naming `file` with a message containing `text`.
testing::AssertionResult CorruptionOf(const Status& s, const std::string& file,
                                      const std::string& text) {
  if (!s.IsCorruption() || s.corruption() == nullptr) {
    return testing::AssertionFailure() << "not corruption: " << s.ToString();
  }
  if (s.corruption()->file != file) {
    return testing::AssertionFailure()
           << "names " << s.corruption()->file << ", not " << file;
  }
  if (s.message().find(text) == std::string::npos) {
    return testing::AssertionFailure()
           << "\"" << text << "\" not in: " << s.ToString();
  }
  return testing::AssertionSuccess();
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
  EXPECT_TRUE(CorruptionOf(list.CheckNumber(1), "/d/000000000000.seg",
                           "segment file is missing"));

  SegmentListChecker three("/d/");
  EXPECT_TRUE(CorruptionOf(three.CheckNumber(3), "/d/000000000000.seg",
                           "segment files 0 to 2 are missing"));
}

TEST(SegmentListTest, GapInTheMiddleIsCorruptionNamingTheFirstMissingFile) {
  SegmentListChecker list("/d");
  EXPECT_TRUE(list.CheckNumber(0).ok());
  EXPECT_TRUE(list.CheckNumber(1).ok());
  EXPECT_TRUE(CorruptionOf(list.CheckNumber(4), "/d/000000000002.seg",
                           "segment files 2 to 3 are missing"));
  // Checking goes on after the gap.
  EXPECT_TRUE(list.CheckNumber(5).ok());
}

TEST(SegmentListTest, FirstSegmentMustStartAtPositionZero) {
  SegmentListChecker list("/d");
  EXPECT_TRUE(CorruptionOf(list.CheckHeader(0, Header(0, 5)),
                           "/d/000000000000.seg",
                           "first segment starts at position 5, not 0"));
}

TEST(SegmentListTest, HeaderMustCarryItsFileNumberAndTheStore) {
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckHeader(0, Header(0, 0)).ok());
  EXPECT_TRUE(CorruptionOf(list.CheckHeader(1, Header(2, 4)),
                           "/d/000000000001.seg",
                           "says number 2 but the file name says 1"));
  EXPECT_TRUE(CorruptionOf(list.CheckHeader(1, Header(1, 4, /*store_id=*/8)),
                           "/d/000000000001.seg", "another store"));
}

TEST(SegmentListTest, StartsNeverGoBackwards) {
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckHeader(0, Header(0, 0)).ok());
  ASSERT_TRUE(list.CheckHeader(1, Header(1, 10)).ok());
  EXPECT_TRUE(CorruptionOf(list.CheckHeader(2, Header(2, 9)),
                           "/d/000000000002.seg",
                           "before the start of the segment before it"));
}

TEST(SegmentListTest, SameStartAsThePredecessorIsLeftToTheRecordScan) {
  // A sealed segment without records starts where the next one does; the
  // scan confirms it holds nothing.
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckHeader(0, Header(0, 0)).ok());
  EXPECT_TRUE(list.CheckHeader(1, Header(1, 0)).ok());
  EXPECT_TRUE(list.CheckHeader(2, Header(2, 3)).ok());
}

TEST(SegmentListTest, ListingTakesTheHighestGenerationPerNumber) {
  const SegmentFileListing listing = ListSegmentFiles(
      {"000000000001.g0001.seg", "000000000000.seg", "000000000001.seg",
       "000000000001.g0002.seg", "000000000002.seg", "000000000002.seg.spare",
       "000000000001.g0003.seg.scv", "LOCK", "000000000000.g0001.seg"});
  EXPECT_EQ(listing.current,
            (std::vector<SegmentFileId>{{0, 1}, {1, 2}, {2, 0}}));
  EXPECT_EQ(
      listing.superseded,
      (std::vector<std::string>{"000000000000.seg", "000000000001.g0001.seg",
                                "000000000001.seg"}));
}

TEST(SegmentListTest, ScavengedSegmentEndsWhereTheNextStarts) {
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckNumber(0).ok());
  ASSERT_TRUE(list.CheckNumber(1, /*generation=*/2).ok());
  ASSERT_TRUE(list.CheckNumber(2).ok());
  EXPECT_EQ(list.PathOf(1), "/d/000000000001.g0002.seg");
  ASSERT_TRUE(list.CheckHeader(0, Header(0, 0)).ok());
  ScavengedFields fields;
  fields.end_position = 20;
  fields.generation = 2;
  ASSERT_TRUE(list.CheckHeader(1, Header(1, 10), &fields).ok());
  EXPECT_TRUE(CorruptionOf(list.CheckHeader(2, Header(2, 19)),
                           "/d/000000000002.seg",
                           "scavenged segment before it ends at position 20"));

  SegmentListChecker exact("/d");
  ASSERT_TRUE(exact.CheckNumber(0, 1).ok());
  ASSERT_TRUE(exact.CheckNumber(1).ok());
  fields.generation = 1;
  ASSERT_TRUE(exact.CheckHeader(0, Header(0, 0), &fields).ok());
  EXPECT_TRUE(exact.CheckHeader(1, Header(1, 20)).ok());
}

TEST(SegmentListTest, GenerationMustMatchTheFileName) {
  SegmentListChecker list("/d");
  ASSERT_TRUE(list.CheckNumber(0, 3).ok());
  ASSERT_TRUE(list.CheckNumber(1).ok());
  ScavengedFields fields;
  fields.end_position = 5;
  fields.generation = 2;
  EXPECT_TRUE(CorruptionOf(list.CheckHeader(0, Header(0, 0), &fields),
                           "/d/000000000000.g0003.seg",
                           "header says generation 2"));
  // A version-3 header under an original segment's name.
  EXPECT_TRUE(CorruptionOf(list.CheckHeader(1, Header(1, 5), &fields),
                           "/d/000000000001.seg", "header says generation 2"));
}

}  // namespace
}  // namespace cairn::segment
