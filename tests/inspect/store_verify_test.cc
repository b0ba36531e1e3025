// Copyright (c) Cairn authors.
//
// inspect::VerifyStore on stores built record by record with the segment
// codec, to break invariants of the log that checksums can not catch: each
// must be a log problem found at the right file and offset.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cairn/inspect.h"
#include "segment/scavenged_segment.h"
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

// Segment 0 of a hand-built log rewritten without positions 1 and 2 (one
// event of each stream): what a scavenge commits as 000000000000.g0001.seg.
class ScavengedVerifyTest : public StoreVerifyTest {
 protected:
  void SetUp() override {
    SegmentWriter w(store(), 77);
    w.StartSegment(0, 0);
    w.Add("a", 0, 0);
    w.Add("b", 1, 0);
    w.Add("a", 2, 1);
    w.Add("b", 3, 1);
    w.StartSegment(1, 4);
    w.Add("a", 4, 2);
    w.Finish();
    std::ifstream in(segment(0), std::ios::binary);
    const std::string original((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    const auto* data = reinterpret_cast<const uint8_t*>(original.data());
    segment::SegmentHeader header;
    ASSERT_TRUE(
        segment::DecodeSegmentHeader(data, original.size(), segment(0), &header)
            .ok());
    segment::ScavengedFields fields;
    fields.end_position = 4;
    fields.generation = 1;
    std::string copy;
    segment::ScavengeCopyStats stats;
    ASSERT_TRUE(segment::BuildScavengedSegment(
                    data, original.size(), header, segment(0), fields,
                    [](const segment::ScannedRecord& r, const uint8_t*) {
                      return r.header.position == 0 || r.header.position == 3;
                    },
                    &copy, &stats)
                    .ok());
    ASSERT_EQ(stats.kept_records, 2u);
    copy_ = copy;
    Write(copy_);
  }
  std::string rewritten() const {
    return store() + "/" + segment::ScavengedSegmentFileName(0, 1);
  }
  void Write(const std::string& bytes) {
    std::ofstream out(rewritten(), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  std::string copy_;
};

TEST_F(ScavengedVerifyTest, KeptRecordsWithGapsVerify) {
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.healthy());
  EXPECT_EQ(r.log_problems, 0u);
  EXPECT_EQ(r.segments, 2u);
  EXPECT_EQ(r.events, 3u);  // positions 0, 3 and 4
  // The original file is an older generation: garbage, a warning.
  ASSERT_FALSE(r.findings.empty());
  EXPECT_EQ(r.findings.front().severity, Severity::kWarning);
  EXPECT_EQ(r.findings.front().file, segment(0));
}

TEST_F(ScavengedVerifyTest, DamageInAKeptRecordIsAProblem) {
  std::string damaged = copy_;
  damaged[segment::kSegmentHeaderSize + 40] ^= 0x01;
  Write(damaged);
  const VerifyReport r = Verify();
  EXPECT_FALSE(r.healthy());
  EXPECT_GE(r.log_problems, 1u);
}

TEST_F(ScavengedVerifyTest, BytesAfterTheLastRecordAreAProblem) {
  // A scavenged segment ends at its last record: nothing may follow, not
  // even zeros (its capacity is the file size).
  Write(copy_ + std::string(16, '\0'));
  EXPECT_GE(Verify().log_problems, 1u);
}

TEST_F(ScavengedVerifyTest, TheNextSegmentMustStartAtTheEnd) {
  SegmentWriter w(store(), 77);
  w.StartSegment(1, 5);
  w.Add("a", 5, 2);
  w.Finish();
  const VerifyReport r = Verify();
  EXPECT_GE(r.log_problems, 1u);
}

TEST_F(ScavengedVerifyTest, DumpShowsTheGenerationAndEnd) {
  struct Visitor : SegmentVisitor {
    void OnStart(const SegmentStart& s) override { start = s; }
    void OnRecord(const RecordInfo& record) override {
      positions.push_back(record.position);
    }
    void OnSkipped(const SkippedRange&) override {}
    void OnEnd(const SegmentEnd&) override {}
    SegmentStart start;
    std::vector<uint64_t> positions;
  } visitor;
  ASSERT_TRUE(DumpSegment(rewritten(), &visitor).ok());
  ASSERT_TRUE(visitor.start.header_status.ok());
  EXPECT_EQ(visitor.start.header.format_version, 5u);
  EXPECT_EQ(visitor.start.header.generation, 1u);
  EXPECT_EQ(visitor.start.header.end_position, 4u);
  EXPECT_EQ(visitor.positions, (std::vector<uint64_t>{0, 3}));
}

}  // namespace
}  // namespace cairn::inspect
