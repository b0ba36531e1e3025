// Copyright (c) Cairn authors.
//
// The inspection API (cairn/inspect.h) on stores written through the
// public API, healthy and then damaged: verify's typed findings and its
// log/index split, and the segment and index dumps as structured results.
#include "cairn/inspect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/io/file_system.h"
#include "index/manifest.h"
#include "index/table.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::inspect {
namespace {

constexpr int kEvents = 300;
constexpr int kStreams = 5;

// Flips every bit of the byte at `offset` of `path`.
void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(~c));
  ASSERT_TRUE(f.good()) << path;
}

// Collects what DumpSegment hands out.
class RecordingSegmentVisitor : public SegmentVisitor {
 public:
  void OnStart(const SegmentStart& s) override { start = s; }
  void OnRecord(const RecordInfo& r) override {
    records.push_back(r);
    // The views are valid during the call only.
    if (r.body_valid) {
      ++per_stream[std::string(r.stream)];
      types.emplace_back(r.type);
    }
    records.back().stream = {};
    records.back().type = {};
  }
  void OnSkipped(const SkippedRange& r) override { skipped.push_back(r); }
  void OnEnd(const SegmentEnd& e) override {
    end = e;
    ended = true;
  }

  SegmentStart start;
  std::vector<RecordInfo> records;
  std::vector<SkippedRange> skipped;
  std::map<std::string, int> per_stream;
  std::vector<std::string> types;
  SegmentEnd end;
  bool ended = false;
};

class RecordingTableVisitor : public TableVisitor {
 public:
  void OnStart(const TableStart& s) override { start = s; }
  void OnAnchor(uint64_t, uint32_t) override { ++anchors; }
  void OnBlock(const TableBlock& b) override {
    ++blocks;
    entries += b.entries.size();
    if (!b.checksum_ok) ++damaged_blocks;
    if (b.has_filter) {
      ++filters;
      filter_offset = b.filter_offset;
      if (!b.filter_checksum_ok) ++damaged_filters;
      if (!b.filter_matches) ++mismatched_filters;
    }
    if (b.has_parts) {
      ++part_directories;
      if (!b.parts_ok) ++bad_part_directories;
    }
  }
  void OnEnd(const TableEnd& e) override { end = e; }

  TableStart start;
  uint64_t anchors = 0;
  uint64_t blocks = 0;
  uint64_t damaged_blocks = 0;
  uint64_t entries = 0;
  uint64_t filters = 0;
  uint64_t filter_offset = 0;  // the last block's
  uint64_t damaged_filters = 0;
  uint64_t mismatched_filters = 0;
  uint64_t part_directories = 0;
  uint64_t bad_part_directories = 0;
  TableEnd end;
};

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options = testing::SmallOptions();
    options.index_memtable_events = 64;
    auto store = Store::Open(store_dir(), options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 0; i < kEvents; ++i) {
      auto r = (*store)->Append("Order-" + std::to_string(i % kStreams),
                                ExpectedVersion::Any(),
                                {testing::Event("OrderPlaced")});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    ASSERT_TRUE((*store)->Close().ok());
  }

  std::string store_dir() const { return dir_.Sub("store"); }

  std::vector<std::string> Segments() const {
    auto segments = SegmentFilesOf(store_dir());
    EXPECT_TRUE(segments.ok()) << segments.status().ToString();
    return segments.ok() ? *segments : std::vector<std::string>();
  }

  // Rewrites the index's MANIFEST (checksum and all) as `change` edits it:
  // damage no checksum catches.
  void RewriteManifest(const std::function<void(index::Manifest*)>& change) {
    io::FileSystem* fs = io::PosixFileSystem();
    const std::string dir = IndexDirOf(store_dir());
    index::Manifest m;
    ASSERT_TRUE(index::ReadManifest(fs, dir, &m).ok());
    ASSERT_FALSE(m.tables.empty());
    change(&m);
    ASSERT_TRUE(index::WriteManifest(fs, dir, m).ok());
  }

  // The first table file of the index directory.
  std::string FirstTable() const {
    for (const std::string& path : IndexFilesOf(IndexDirOf(store_dir()))) {
      if (IndexFileKindOf(path) == IndexFileKind::kTable) return path;
    }
    return "";
  }

  testing::TempDir dir_;
};

TEST_F(InspectTest, VerifyOfAHealthyStoreCountsEverythingAndFindsNothing) {
  std::vector<Finding> seen;
  VerifyOptions options;
  options.on_finding = [&](const Finding& f) { seen.push_back(f); };
  auto report = VerifyStore(store_dir(), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->healthy());
  EXPECT_FALSE(report->only_derived_damaged());
  EXPECT_EQ(report->segments, Segments().size());
  EXPECT_EQ(report->events, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(report->streams, static_cast<uint64_t>(kStreams));
  EXPECT_TRUE(report->findings.empty());
  EXPECT_TRUE(seen.empty());
  EXPECT_TRUE(report->index_present);
  EXPECT_TRUE(report->index_checked_against_log);
  EXPECT_EQ(report->index_entries, report->index_checkpoint);
}

// A checksum-valid MANIFEST whose last table record ends before the
// table's own header says (an index directory put together from two
// states): verify reports the mismatch and the entries past the
// manifest's checkpoint, and reads nothing out of its bounds.
TEST_F(InspectTest, VerifyReportsEntriesPastTheManifestCheckpoint) {
  RewriteManifest([](index::Manifest* m) {
    index::ManifestTable& last = m->tables.back();
    ASSERT_GT(last.end_position, last.first_position + 2);
    last.end_position -= 2;
    last.entry_count =
        std::min(last.entry_count, last.end_position - last.first_position);
  });
  auto report = VerifyStore(store_dir());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->healthy());
  int past = 0;
  for (const Finding& f : report->findings) {
    if (f.message.find("past the manifest's checkpoint") != std::string::npos) {
      ++past;
    }
  }
  EXPECT_EQ(past, 2);
}

TEST_F(InspectTest, VerifyOfADirectoryWithoutSegmentsChecksNothing) {
  auto report = VerifyStore(dir_.path());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->segments, 0u);
  EXPECT_TRUE(report->findings.empty());
}

TEST_F(InspectTest, VerifyOfAMissingDirectoryIsAnError) {
  EXPECT_FALSE(VerifyStore(dir_.Sub("nothing-here")).ok());
}

TEST_F(InspectTest, DamagedRecordIsALogFindingAtItsFileAndOffset) {
  const std::string segment = Segments().front();
  RecordingSegmentVisitor before;
  ASSERT_TRUE(DumpSegment(segment, &before).ok());
  ASSERT_GT(before.records.size(), 2u);
  const RecordInfo victim = before.records[1];
  FlipByte(segment, victim.offset + victim.length - 1);  // in the body

  auto report = VerifyStore(store_dir());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->log_problems, 0u);
  EXPECT_FALSE(report->only_derived_damaged());
  ASSERT_FALSE(report->findings.empty());
  const Finding& f = report->findings.front();
  EXPECT_EQ(f.area, Area::kLog);
  EXPECT_EQ(f.severity, Severity::kProblem);
  EXPECT_EQ(f.file, segment);
  EXPECT_EQ(f.offset, victim.offset);

  RecordingSegmentVisitor after;
  ASSERT_TRUE(DumpSegment(segment, &after).ok());
  ASSERT_EQ(after.records.size(), before.records.size());
  EXPECT_EQ(after.records[1].status, RecordStatus::kBadBody);
  EXPECT_TRUE(after.records[1].header_valid);
  EXPECT_FALSE(after.records[1].body_valid);
  EXPECT_EQ(after.end.problems, 1u);
}

TEST_F(InspectTest, DamagedIndexTableIsOnlyDerivedDamage) {
  const std::string table = FirstTable();
  ASSERT_FALSE(table.empty());
  RecordingTableVisitor healthy;
  ASSERT_TRUE(DumpTable(table, &healthy).ok());
  ASSERT_GT(healthy.blocks, 0u);
  // The last byte of the last block is inside its entries or padding,
  // both covered by the block checksum.
  FlipByte(table, healthy.start.file_size - 1);

  auto report = VerifyStore(store_dir());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->log_problems, 0u);
  EXPECT_GT(report->index_problems, 0u);
  EXPECT_TRUE(report->only_derived_damaged());
  ASSERT_FALSE(report->findings.empty());
  for (const Finding& f : report->findings) EXPECT_EQ(f.area, Area::kIndex);

  RecordingTableVisitor damaged;
  ASSERT_TRUE(DumpTable(table, &damaged).ok());
  EXPECT_EQ(damaged.blocks, healthy.blocks);
  EXPECT_EQ(damaged.damaged_blocks, 1u);
  EXPECT_GT(damaged.end.problems, 0u);
}

// A damaged filter is index damage that verify names at the filter.
TEST_F(InspectTest, DamagedIndexFilterIsOnlyDerivedDamage) {
  const std::string table = FirstTable();
  ASSERT_FALSE(table.empty());
  RecordingTableVisitor healthy;
  ASSERT_TRUE(DumpTable(table, &healthy).ok());
  ASSERT_GT(healthy.filters, 0u);
  FlipByte(table, healthy.filter_offset + 7);

  auto report = VerifyStore(store_dir());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->log_problems, 0u);
  EXPECT_EQ(report->index_problems, 1u);
  EXPECT_TRUE(report->only_derived_damaged());
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings[0].area, Area::kIndex);
  EXPECT_EQ(report->findings[0].offset, healthy.filter_offset);
  EXPECT_NE(report->findings[0].message.find("filter"), std::string::npos)
      << report->findings[0].message;
}

TEST_F(InspectTest, MaxFindingsBoundsTheReportButNotTheCounts) {
  const std::string segment = Segments().front();
  RecordingSegmentVisitor dump;
  ASSERT_TRUE(DumpSegment(segment, &dump).ok());
  ASSERT_GT(dump.records.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    FlipByte(segment, dump.records[i].offset + dump.records[i].length - 1);
  }
  VerifyOptions options;
  options.max_findings = 1;
  uint64_t called = 0;
  options.on_finding = [&](const Finding&) { ++called; };
  auto report = VerifyStore(store_dir(), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GE(report->log_problems, 3u);
  EXPECT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(report->findings.size() + report->findings_dropped, called);
}

TEST_F(InspectTest, SegmentDumpGivesEveryEventWithItsFields) {
  uint64_t records = 0;
  uint64_t next_position = 0;
  std::map<std::string, int> per_stream;
  for (const std::string& segment : Segments()) {
    RecordingSegmentVisitor v;
    ASSERT_TRUE(DumpSegment(segment, &v).ok());
    ASSERT_TRUE(v.start.header_status.ok());
    ASSERT_TRUE(v.ended);
    EXPECT_EQ(v.start.header.first_position, next_position);
    EXPECT_EQ(v.end.problems, 0u);
    for (const RecordInfo& r : v.records) {
      EXPECT_EQ(r.status, RecordStatus::kOk);
      EXPECT_EQ(r.position, next_position++);
      EXPECT_TRUE(r.commit);
    }
    for (const std::string& type : v.types) EXPECT_EQ(type, "OrderPlaced");
    records += v.records.size();
    for (const auto& [stream, n] : v.per_stream) per_stream[stream] += n;
  }
  EXPECT_EQ(records, static_cast<uint64_t>(kEvents));
  ASSERT_EQ(per_stream.size(), static_cast<size_t>(kStreams));
  for (const auto& [stream, n] : per_stream) {
    EXPECT_EQ(n, kEvents / kStreams) << stream;
  }
}

TEST_F(InspectTest, DumpOfAMissingSegmentIsAnErrorAndVisitsNothing) {
  RecordingSegmentVisitor v;
  EXPECT_FALSE(DumpSegment(dir_.Sub("missing.seg"), &v).ok());
  EXPECT_FALSE(v.ended);
}

TEST_F(InspectTest, ManifestDumpAndStatsAgreeWithTheTables) {
  const std::string manifest = IndexDirOf(store_dir()) + "/MANIFEST";
  EXPECT_EQ(IndexFileKindOf(manifest), IndexFileKind::kManifest);
  auto m = DumpManifest(manifest);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(m->status.ok()) << m->status.ToString();
  EXPECT_TRUE(m->checksum_ok);
  ASSERT_FALSE(m->tables.empty());

  auto stats = ReadIndexStats(store_dir());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_TRUE(stats->manifest_status.ok());
  EXPECT_EQ(stats->checkpoint, m->checkpoint);
  EXPECT_EQ(stats->generation, m->generation);
  EXPECT_EQ(stats->damaged_tables, 0u);
  ASSERT_EQ(stats->tables.size(), m->tables.size());
  uint64_t entries = 0;
  for (const ManifestTableInfo& t : m->tables) {
    RecordingTableVisitor v;
    ASSERT_TRUE(
        DumpTable(IndexDirOf(store_dir()) + "/" + t.file_name, &v).ok());
    EXPECT_TRUE(v.start.header_status.ok());
    EXPECT_EQ(v.entries, t.entry_count);
    EXPECT_EQ(v.end.problems, 0u);
    entries += v.entries;
  }
  EXPECT_EQ(entries, m->checkpoint);
}

// A table with gaps (format version 2, written after a scavenge): the dump
// checks its header checksum, computed from the specification, and shows
// its last position; a damaged last_position is a problem.
TEST_F(InspectTest, TableWithGapsDumpsItsLastPosition) {
  const std::string dir = dir_.Sub("gaps");
  io::FileSystem* fs = io::PosixFileSystem();
  ASSERT_TRUE(fs->CreateDir(dir).ok());
  index::TableInfo info;
  info.store_id = 0x77;
  info.number = 3;
  info.anchor_stride = 4;
  info.first_position = 10;
  info.end_position = 30;
  info.entry_count = 10;  // the even positions are kept
  info.last_position = 28;
  info.last_offset = 4096 + 28 * 5;
  info.new_streams = 1;
  {
    auto w = index::TableWriter::Create(fs, dir, info);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (uint64_t p = 10; p < 30; p += 2) {
      index::Entry e;
      e.hash = 9;
      e.revision = (p - 10) / 2;
      e.position = p;
      e.offset = static_cast<uint32_t>(4096 + p * 5);
      ASSERT_TRUE((*w)->Add(e).ok());
    }
    for (uint64_t p = 12; p < 30; p += 4) {
      ASSERT_TRUE((*w)->AddAnchor(static_cast<uint32_t>(4096 + p * 5)).ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  const std::string path = dir + "/" + index::TableFileName(3);
  RecordingTableVisitor v;
  ASSERT_TRUE(DumpTable(path, &v).ok());
  EXPECT_TRUE(v.start.header_status.ok()) << v.start.header_status.ToString();
  EXPECT_EQ(v.start.format_version, 4u);
  EXPECT_EQ(v.start.summary_size, 320u);
  EXPECT_EQ(v.start.last_position, 28u);
  EXPECT_EQ(v.filters, 1u);
  EXPECT_EQ(v.part_directories, 1u);
  EXPECT_EQ(v.bad_part_directories, 0u);
  EXPECT_EQ(v.damaged_filters, 0u);
  EXPECT_EQ(v.mismatched_filters, 0u);
  EXPECT_TRUE(v.start.header_checksum_ok);
  EXPECT_TRUE(v.start.layout_ok);
  EXPECT_TRUE(v.start.fences_ok);
  EXPECT_TRUE(v.start.anchors_ok);
  EXPECT_EQ(v.entries, 10u);
  EXPECT_EQ(v.end.problems, 0u);

  FlipByte(path, 136);  // last_position, inside the header checksum
  RecordingTableVisitor damaged;
  ASSERT_TRUE(DumpTable(path, &damaged).ok());
  EXPECT_FALSE(damaged.start.header_checksum_ok);
  EXPECT_GT(damaged.end.problems, 0u);
  FlipByte(path, 136);  // undone

  // A filter's bits: its checksum fails, the block's entries do not.
  FlipByte(path, v.filter_offset + 3);
  RecordingTableVisitor bad_filter;
  ASSERT_TRUE(DumpTable(path, &bad_filter).ok());
  EXPECT_TRUE(bad_filter.start.header_checksum_ok);
  EXPECT_EQ(bad_filter.damaged_blocks, 0u);
  EXPECT_EQ(bad_filter.damaged_filters, 1u);
  EXPECT_EQ(bad_filter.bad_part_directories, 0u);
  EXPECT_EQ(bad_filter.end.problems, 1u);
  FlipByte(path, v.filter_offset + 3);  // undone

  // A part directory's key, a part checksum, the directory's checksum
  // or its zero bytes: one problem each, the filter unharmed.
  for (uint64_t at : {v.filter_offset + 128, v.filter_offset + 250,
                      v.filter_offset + 306, v.filter_offset + 315}) {
    FlipByte(path, at);
    RecordingTableVisitor bad_parts;
    ASSERT_TRUE(DumpTable(path, &bad_parts).ok());
    EXPECT_EQ(bad_parts.damaged_filters, 0u) << at;
    EXPECT_EQ(bad_parts.bad_part_directories, 1u) << at;
    EXPECT_EQ(bad_parts.end.problems, 1u) << at;
    FlipByte(path, at);  // undone
  }
  RecordingTableVisitor intact;
  ASSERT_TRUE(DumpTable(path, &intact).ok());
  EXPECT_EQ(intact.end.problems, 0u);
}

// A table level no merge makes (a crafted, checksum-valid MANIFEST) is
// that table's problem, not a per-level count to allocate.
TEST_F(InspectTest, StatsReportAnImpossibleTableLevel) {
  RewriteManifest(
      [](index::Manifest* m) { m->tables.front().level = UINT32_MAX; });
  auto stats = ReadIndexStats(store_dir());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_FALSE(stats->tables.empty());
  EXPECT_NE(stats->tables.front().problem.find("out of range"),
            std::string::npos)
      << stats->tables.front().problem;
  EXPECT_LE(stats->tables_per_level.size(), 65u);
}

TEST_F(InspectTest, StatsOfAStoreWithoutIndexIsAnError) {
  EXPECT_FALSE(ReadIndexStats(dir_.Sub("nothing-here")).ok());
}

}  // namespace
}  // namespace cairn::inspect
