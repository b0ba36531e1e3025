// Copyright (c) Cairn authors.
//
// `cairn dump`, `cairn verify` and `cairn index stats` on index files. The
// index is built from the log by tests/tools/index_test_util.h, so these
// tests control its tables whatever the engine writes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "index/manifest.h"
#include "index/table.h"
#include "inspect/index_files.h"
#include "tests/tools/cli/cli_test_util.h"
#include "tests/tools/cli/index_test_util.h"
#include "tools/cli/cmd_index.h"

namespace cairn::tools::test {
namespace {

constexpr int kEvents = 1000;
constexpr int kStreams = 10;

class IndexFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CliOutput r =
        RunCairn({"import", store(), "-", "--segment-size", kSmallSegments},
                 ImportLines(kEvents, kStreams));
    ASSERT_EQ(r.code, 0) << r.err;
    BuildIndexFromLog(store(), /*memtable_entries=*/64, /*fan_in=*/4);
  }

  std::string store() const { return dir_.Sub("store"); }
  std::string index_dir() const { return IndexDirOf(store()); }
  std::string manifest() const { return index_dir() + "/MANIFEST"; }
  index::Manifest ReadManifest() const {
    index::Manifest m;
    Status s = index::ReadManifest(io::PosixFileSystem(), index_dir(), &m);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return m;
  }
  std::string table(uint64_t number) const {
    return index_dir() + "/" + index::TableFileName(number);
  }
  // The offset of entry block `block` in a table.
  uint64_t BlockOffset(uint64_t number, uint64_t block) const {
    auto t =
        index::Table::Open(io::PosixFileSystem(), table(number), 0, number, 0);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return (*t)->file_size() -
           ((*t)->info().block_count() - block) * index::kTableBlockSize;
  }

  TempDir dir_;
};

TEST_F(IndexFilesTest, StatsListsTablesCheckpointAndStreams) {
  const index::Manifest m = ReadManifest();
  ASSERT_GT(m.tables.size(), 1u);
  CliOutput r = RunCairn({"index", "stats", store(), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines;
  auto values = ParseLines(r.out, &lines);
  ASSERT_EQ(values.size(), 1u);
  const json::Value& v = values[0];
  EXPECT_EQ(U64(v, "checkpoint"), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(U64(v, "generation"), m.generation);
  EXPECT_EQ(U64(v, "streams"), static_cast<uint64_t>(kStreams));
  EXPECT_EQ(U64(v, "damaged_tables"), 0u);
  const json::Value* tables = v.Find("tables");
  ASSERT_NE(tables, nullptr);
  ASSERT_EQ(tables->items().size(), m.tables.size());
  uint64_t next = 0;
  for (const json::Value& t : tables->items()) {
    EXPECT_EQ(U64(t, "first_position"), next);
    next = U64(t, "end_position");
    EXPECT_EQ(U64(t, "entries"), next - U64(t, "first_position"));
    EXPECT_GT(U64(t, "bytes"), 4096u);
  }
  EXPECT_EQ(next, static_cast<uint64_t>(kEvents));

  r = RunCairn({"index", "stats", store()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "checkpoint:  1000")) << r.out;
  EXPECT_TRUE(Contains(r.out, "streams:     10")) << r.out;
  EXPECT_TRUE(Contains(r.out, "at level 1")) << r.out;
}

TEST_F(IndexFilesTest, StatsWithoutAnIndex) {
  std::filesystem::remove_all(index_dir());
  CliOutput r = RunCairn({"index", "stats", store()});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "no index in")) << r.err;
}

TEST_F(IndexFilesTest, VerifyChecksAHealthyIndex) {
  CliOutput r = RunCairn({"verify", store()});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "entries, checkpoint 1000")) << r.out;
  EXPECT_TRUE(Contains(r.out, std::to_string(kEvents) + " entries")) << r.out;
}

TEST_F(IndexFilesTest, VerifyFlagsADamagedBlockAsIndexDamage) {
  const index::Manifest m = ReadManifest();
  const uint64_t number = m.tables.back().number;
  FlipByte(table(number), BlockOffset(number, 0) + 40);
  CliOutput r = RunCairn({"verify", store()});
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_TRUE(Contains(r.out, table(number) + ":" +
                                  std::to_string(BlockOffset(number, 0)) +
                                  ": index: index block checksum mismatch"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "verify: index damaged")) << r.out;
  EXPECT_TRUE(Contains(r.out, "cairn index rebuild")) << r.out;
  EXPECT_TRUE(Contains(r.out, "the log is intact")) << r.out;
}

TEST_F(IndexFilesTest, VerifyFlagsMissingTablesManifestsAndLeftovers) {
  const index::Manifest m = ReadManifest();
  {
    // A stray temporary file is a crash's leftover: a warning only.
    WriteFile(index_dir() + "/MANIFEST.tmp", "partial");
    CliOutput r = RunCairn({"verify", store()});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(Contains(r.out, "MANIFEST.tmp:0: warning: index: leftover"))
        << r.out;
  }
  const std::string moved = dir_.Sub("table");
  std::filesystem::rename(table(m.tables[0].number), moved);
  {
    CliOutput r = RunCairn({"verify", store()});
    EXPECT_EQ(r.code, 5) << r.out;
    EXPECT_TRUE(Contains(r.out, "listed in the manifest is missing")) << r.out;
    EXPECT_TRUE(Contains(r.out, "no index entries for positions 0..")) << r.out;
  }
  std::filesystem::rename(moved, table(m.tables[0].number));
  std::filesystem::remove(manifest());
  {
    CliOutput r = RunCairn({"verify", store()});
    EXPECT_EQ(r.code, 5) << r.out;
    EXPECT_TRUE(Contains(r.out, "but no MANIFEST")) << r.out;
  }
}

TEST_F(IndexFilesTest, VerifyFlagsAnIndexOfAnotherStore) {
  // Another store with the same events: its index files verify on their
  // own but belong to another store id.
  const std::string other = dir_.Sub("other");
  CliOutput r =
      RunCairn({"import", other, "-", "--segment-size", kSmallSegments},
               ImportLines(kEvents, kStreams));
  ASSERT_EQ(r.code, 0) << r.err;
  BuildIndexFromLog(other);
  std::filesystem::remove_all(index_dir());
  std::filesystem::copy(IndexDirOf(other), index_dir());
  r = RunCairn({"verify", store()});
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_TRUE(Contains(r.out,
                       "MANIFEST:16: index: the index belongs to "
                       "another store"))
      << r.out;
}

TEST_F(IndexFilesTest, VerifyCrossChecksEntriesAgainstTheLog) {
  // An index that is internally consistent (checksums, order, counts) but
  // says stream s3's events belong to "t3" and puts position 5 one byte
  // off: only the log can tell.
  BuildIndexFromLog(
      store(), 64, 4,
      [](std::string* stream, uint32_t* offset, uint64_t position) {
        if (*stream == "s3") *stream = "t3";
        if (position == 5) ++*offset;
      });
  CliOutput r = RunCairn({"verify", store()});
  EXPECT_EQ(r.code, 5) << r.out;
  EXPECT_TRUE(Contains(r.out, "but the record's stream 's3' hashes to"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "index entry (position 5, offset")) << r.out;
  EXPECT_TRUE(Contains(r.out, "more index entry problems")) << r.out;
}

TEST_F(IndexFilesTest, DumpShowsManifestAndTables) {
  const index::Manifest m = ReadManifest();
  CliOutput r = RunCairn({"dump", manifest()});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "index manifest " + manifest())) << r.out;
  EXPECT_TRUE(Contains(r.out, "checkpoint 1000")) << r.out;
  EXPECT_TRUE(Contains(
      r.out, "  table " + std::to_string(m.tables[0].number) + "  level "))
      << r.out;

  r = RunCairn({"dump", table(m.tables[0].number)});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "header ok: format 4")) << r.out;
  EXPECT_TRUE(Contains(r.out, "; filters and part directories at ")) << r.out;
  EXPECT_TRUE(Contains(r.out, " x 320 B)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "anchor  position 0  offset 4096")) << r.out;
  EXPECT_TRUE(Contains(r.out, "0 damaged; 0 problems")) << r.out;

  // The whole index directory, as JSON Lines: every event once.
  r = RunCairn({"dump", index_dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::vector<std::string> lines;
  std::vector<bool> seen(kEvents, false);
  uint64_t blocks = 0;
  for (const json::Value& v : ParseLines(r.out, &lines)) {
    if (Str(v, "kind") == "index_block") {
      ++blocks;
      EXPECT_TRUE(v.Find("filter_checksum_ok")->bool_value());
      EXPECT_TRUE(v.Find("filter_matches")->bool_value());
      EXPECT_TRUE(v.Find("parts_ok")->bool_value());
    }
    if (Str(v, "kind") != "index_entry") continue;
    EXPECT_TRUE(v.Find("verified")->bool_value());
    const uint64_t p = U64(v, "position");
    ASSERT_LT(p, seen.size());
    EXPECT_FALSE(seen[p]) << p;
    seen[p] = true;
  }
  for (int p = 0; p < kEvents; ++p) EXPECT_TRUE(seen[p]) << p;
  EXPECT_GT(blocks, 0u);
}

TEST_F(IndexFilesTest, DumpShowsDamage) {
  const index::Manifest m = ReadManifest();
  const uint64_t number = m.tables[0].number;
  // A damaged block: reported, the walk goes on.
  FlipByte(table(number), BlockOffset(number, 0) + 3);
  CliOutput r = RunCairn({"dump", table(number)});
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_TRUE(Contains(r.out, "DAMAGED (checksum mismatch")) << r.out;
  FlipByte(table(number), BlockOffset(number, 0) + 3);

  // A damaged header (its store id): the blocks are still located and
  // checked with the store id of the manifest beside it.
  FlipByte(table(number), 20);
  r = RunCairn({"dump", table(number)});
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_TRUE(Contains(r.out, "BAD TABLE HEADER")) << r.out;
  EXPECT_TRUE(Contains(r.out, "walking them (header unverified)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "checksum ok; anchors")) << r.out;
  EXPECT_TRUE(Contains(r.out, "blocks: ")) << r.out;
  EXPECT_TRUE(Contains(r.out, " 0 damaged; 1 problem")) << r.out;

  // A damaged manifest: its fields as the bytes hold them.
  FlipByte(manifest(), 30);
  r = RunCairn({"dump", manifest(), "--json"});
  EXPECT_EQ(r.code, 4) << r.out;
  std::vector<std::string> lines;
  auto values = ParseLines(r.out, &lines);
  ASSERT_FALSE(values.empty());
  EXPECT_EQ(Str(values[0], "status"), "damaged");
  EXPECT_FALSE(values[0].Find("checksum_ok")->bool_value());
  EXPECT_EQ(values.size(), 1 + m.tables.size());
}

TEST_F(IndexFilesTest, DumpOfATruncatedTable) {
  const index::Manifest m = ReadManifest();
  const std::string path = table(m.tables[0].number);
  std::filesystem::resize_file(path, 5000);
  CliOutput r = RunCairn({"dump", path});
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_TRUE(Contains(r.out, "the blocks cannot be located")) << r.out;
  std::filesystem::resize_file(path, 100);
  r = RunCairn({"dump", path});
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_TRUE(Contains(r.out, "shorter than its header")) << r.out;
}

TEST_F(IndexFilesTest, RebuildRecreatesAMissingOrDamagedIndex) {
  std::filesystem::remove_all(index_dir());
  CliOutput r = RunCairn({"index", "rebuild", store()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "rebuilt the index of " + store() +
                                  ": 1000 events replayed, 1000 events in 10 "
                                  "streams"))
      << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;  // no progress bar off a terminal
  EXPECT_EQ(ReadManifest().end_position(), static_cast<uint64_t>(kEvents));
  r = RunCairn({"verify", store()});
  EXPECT_EQ(r.code, 0) << r.out;

  const index::Manifest m = ReadManifest();
  const uint64_t number = m.tables.back().number;
  FlipByte(table(number), BlockOffset(number, 0) + 40);
  EXPECT_EQ(RunCairn({"verify", store()}).code, 5);
  r = RunCairn({"index", "rebuild", store(), "--progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "rebuilding index [")) << r.err;
  EXPECT_TRUE(Contains(r.err, "] 100%")) << r.err;
  r = RunCairn({"verify", store()});
  EXPECT_EQ(r.code, 0) << r.out;
  r = RunCairn({"read", store(), "s3", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.Lines().size(), static_cast<size_t>(kEvents / kStreams));
}

TEST_F(IndexFilesTest, RebuildNeedsAStoreAndTheWriterLock) {
  CliOutput r = RunCairn({"index", "rebuild", dir_.Sub("nothing")});
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("nothing")));
  auto writer = Store::Open(store(), Options());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  r = RunCairn({"index", "rebuild", store()});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "in use by another process")) << r.err;
  // Stats read the files, beside the writer.
  r = RunCairn({"index", "stats", store()});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
}

TEST(RebuildProgressLineTest, ShowsBarPercentEventsAndBytes) {
  OpenProgress p;
  p.events = 1500;
  p.scanned_bytes = 1 << 20;
  p.total_bytes = 4 << 20;
  std::string line = RebuildProgressLine(p);
  EXPECT_TRUE(Contains(line, "[#######.......................] 25%")) << line;
  EXPECT_TRUE(Contains(line, "1.0 MiB of 4.0 MiB")) << line;
  p.done = true;
  line = RebuildProgressLine(p);
  EXPECT_TRUE(Contains(line, "[##############################] 100%")) << line;
  p = OpenProgress();
  EXPECT_TRUE(Contains(RebuildProgressLine(p), "100%"));
}

}  // namespace
}  // namespace cairn::tools::test
