// Copyright (c) Cairn authors.
//
// inspect::VerifyStore on stores built record by record with the segment
// codec, to break invariants of the log that checksums can not catch: each
// must be a log problem found at the right file and offset.
#include <gtest/gtest.h>

#include <string>

#include "cairn/inspect.h"
#include "segment/segment_header.h"
#include "tests/inspect/segment_writer.h"
#include "tests/support/temp_dir.h"

namespace cairn::inspect {
namespace {

using test::SegmentWriter;

class StoreVerifyTest : public ::testing::Test {
 protected:
  std::string store() const { return dir_.Sub("store"); }
  std::string segment(int n) const {
    return store() + "/" + segment::SegmentFileName(n);
  }

  VerifyReport Verify() {
    auto report = VerifyStore(store());
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport();
  }

  // The one finding of `report`, which must be a log problem.
  static Finding OnlyProblem(const VerifyReport& report) {
    EXPECT_EQ(report.log_problems, 1u);
    EXPECT_EQ(report.index_problems, 0u);
    EXPECT_FALSE(report.only_derived_damaged());
    EXPECT_EQ(report.findings.size(), 1u);
    if (report.findings.empty()) return Finding();
    const Finding& f = report.findings.front();
    EXPECT_EQ(f.area, Area::kLog);
    EXPECT_EQ(f.severity, Severity::kProblem);
    return f;
  }

  testing::TempDir dir_;
};

TEST_F(StoreVerifyTest, AHandBuiltHealthyLogVerifies) {
  SegmentWriter w(store(), 77);
  w.StartSegment(0, 0);
  w.Add("a", 0, 0);
  w.Add("b", 1, 0);
  w.StartSegment(1, 2);
  w.Add("a", 2, 1);
  w.Finish();
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.healthy());
  EXPECT_EQ(r.segments, 2u);
  EXPECT_EQ(r.events, 3u);
  EXPECT_EQ(r.streams, 2u);
  EXPECT_FALSE(r.index_present);
}

TEST_F(StoreVerifyTest, RevisionGapWithValidChecksums) {
  SegmentWriter w(store(), 77);
  w.StartSegment(0, 0);
  w.Add("a", 0, 0);
  w.Add("b", 1, 0);
  w.Add("a", 2, 2);  // revision 1 is missing
  w.Add("b", 3, 1);
  w.Finish();
  const Finding f = OnlyProblem(Verify());
  EXPECT_EQ(f.file, segment(0));
  EXPECT_GT(f.offset, 0u);
  EXPECT_EQ(f.message,
            "stream 'a' has revision 2 at position 2, expected revision 1");
}

TEST_F(StoreVerifyTest, StreamsMustStartAtRevisionZero) {
  SegmentWriter w(store(), 77);
  w.StartSegment(0, 0);
  w.Add("a", 0, 1);
  w.Finish();
  const Finding f = OnlyProblem(Verify());
  EXPECT_EQ(f.file, segment(0));
  EXPECT_EQ(f.offset, segment::kSegmentHeaderSize);
  EXPECT_NE(f.message.find("expected revision 0"), std::string::npos)
      << f.message;
}

TEST_F(StoreVerifyTest, PositionsMustContinueAcrossSegments) {
  SegmentWriter w(store(), 77);
  w.StartSegment(0, 0);
  w.Add("a", 0, 0);
  w.Add("a", 1, 1);
  w.StartSegment(1, 3);  // position 2 is missing
  w.Add("a", 3, 2);
  w.Finish();
  const Finding f = OnlyProblem(Verify());
  EXPECT_EQ(f.file, segment(1));
  EXPECT_EQ(f.offset, 0u);
  EXPECT_EQ(f.message,
            "segment starts at position 3 but the previous segment ends at "
            "position 2");
}

TEST_F(StoreVerifyTest, SegmentsMustBelongToOneStore) {
  SegmentWriter w(store(), 77);
  w.StartSegment(0, 0);
  w.Add("a", 0, 0);
  w.Finish();
  SegmentWriter other(store(), 78);
  other.StartSegment(1, 1);
  other.Add("a", 1, 1);
  other.Finish();
  const VerifyReport r = Verify();
  ASSERT_FALSE(r.findings.empty());
  EXPECT_GT(r.log_problems, 0u);
  EXPECT_EQ(r.findings.front().file, segment(1));
  EXPECT_EQ(r.findings.front().offset, 0u);
  EXPECT_EQ(
      r.findings.front().message.rfind("segment belongs to another store", 0),
      0u)
      << r.findings.front().message;
}

TEST_F(StoreVerifyTest, IncompleteAppendInASealedSegment) {
  SegmentWriter w(store(), 77);
  w.StartSegment(0, 0);
  w.Add("a", 0, 0);
  w.Add("a", 1, 1, /*commit=*/false);  // the append never got its commit
  w.StartSegment(1, 2);
  w.Add("a", 2, 2);
  w.Finish();
  const VerifyReport r = Verify();
  EXPECT_GT(r.log_problems, 0u);
  bool found = false;
  for (const Finding& f : r.findings) {
    if (f.file == segment(0) &&
        f.message.find("incomplete append") != std::string::npos) {
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace cairn::inspect
