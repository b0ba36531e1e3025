// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn dump` on healthy and damaged segment files
// written through the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

class DumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* data : {R"({"n":1})", R"({"n":2})", R"({"n":3})"}) {
      CliOutput r =
          RunCairn({"append", store(), "s", "--type", "T", "--data", data,
                    "--metadata", "{}", "--segment-size", kSmallSegments});
      ASSERT_EQ(r.code, 0) << r.err;
    }
    records_ = DumpRecords(store());
    ASSERT_EQ(records_.size(), 3u);
  }

  std::string store() const { return dir_.Sub("store"); }
  std::string segment0() const { return store() + "/000000000000.seg"; }

  std::vector<json::Value> DumpJson(const std::string& path, int expect_code) {
    CliOutput r = RunCairn({"dump", path, "--json"});
    EXPECT_EQ(r.code, expect_code) << r.err;
    return ParseLines(r.out, &lines_);
  }

  TempDir dir_;
  std::vector<DumpedRecord> records_;
  std::vector<std::string> lines_;
};

TEST_F(DumpTest, HealthyStoreJson) {
  std::vector<json::Value> items = DumpJson(store(), 0);
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(Str(items[0], "kind"), "segment");
  EXPECT_EQ(Str(items[0], "status"), "ok");
  EXPECT_EQ(U64(items[0], "segment_number"), 0u);
  EXPECT_EQ(U64(items[0], "first_position"), 0u);
  EXPECT_EQ(U64(items[0], "capacity"), 65536u);
  EXPECT_EQ(U64(items[0], "format_version"), 4u);
  uint64_t offset = 4096;
  for (uint64_t i = 0; i < 3; ++i) {
    const json::Value& r = items[1 + i];
    EXPECT_EQ(Str(r, "kind"), "record");
    EXPECT_EQ(Str(r, "file"), segment0());
    EXPECT_EQ(U64(r, "offset"), offset);
    EXPECT_EQ(Str(r, "status"), "ok");
    EXPECT_EQ(U64(r, "position"), i);
    EXPECT_EQ(Str(r, "stream"), "s");
    EXPECT_EQ(U64(r, "revision"), i);
    EXPECT_EQ(Str(r, "type"), "T");
    EXPECT_EQ(U64(r, "data_size"), 7u);
    EXPECT_EQ(U64(r, "metadata_size"), 2u);
    EXPECT_EQ(Raw(r, "compressed"), "false");
    EXPECT_EQ(Raw(r, "commit"), "true");
    EXPECT_EQ(Raw(r, "continuation"), "false");  // one event per append
    offset += U64(r, "length");
  }
  EXPECT_EQ(Str(items[4], "kind"), "end");
  EXPECT_EQ(U64(items[4], "end_of_records"), offset);
  EXPECT_EQ(U64(items[4], "records_ok"), 3u);
  EXPECT_EQ(U64(items[4], "problems"), 0u);
}

TEST_F(DumpTest, HealthyStoreText) {
  CliOutput r = RunCairn({"dump", store()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_EQ(lines[0], "segment " + segment0());
  EXPECT_TRUE(Contains(lines[1], "format 4, store 0x")) << lines[1];
  EXPECT_TRUE(Contains(lines[1], "number 0, first position 0, capacity 65536"))
      << lines[1];
  EXPECT_EQ(lines[2].rfind("  offset 4096  length ", 0), 0u) << lines[2];
  EXPECT_TRUE(Contains(lines[2],
                       "  ok  position 0  s@0  T  data 7 B  metadata 2 B  "
                       "commit"))
      << lines[2];
  EXPECT_TRUE(Contains(lines[5],
                       "(zeros from there on): 3 records ok, 0 "
                       "problems"))
      << lines[5];
}

TEST_F(DumpTest, OneSegmentFile) {
  std::vector<json::Value> items = DumpJson(segment0(), 0);
  EXPECT_EQ(items.size(), 5u);
}

TEST_F(DumpTest, DamagedBodyIsReportedAndTheRestStillRead) {
  FlipByte(segment0(), records_[1].offset + records_[1].length - 3);
  std::vector<json::Value> items = DumpJson(store(), 4);
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(Str(items[1], "status"), "ok");
  EXPECT_EQ(Str(items[2], "status"), "bad body");
  EXPECT_EQ(U64(items[2], "position"), 1u);  // the header is still good
  EXPECT_EQ(items[2].Find("stream"), nullptr);
  EXPECT_EQ(Str(items[3], "status"), "ok");
  EXPECT_EQ(U64(items[3], "revision"), 2u);
  EXPECT_EQ(U64(items[4], "problems"), 1u);
  CliOutput r = RunCairn({"dump", store()});
  EXPECT_EQ(r.code, 4);
  EXPECT_TRUE(Contains(r.out, "DAMAGED (bad body)  position 1")) << r.out;
}

TEST_F(DumpTest, DamagedHeaderIsSkippedToTheNextRecord) {
  PatchFile(segment0(), records_[1].offset + 8, "\x7F\x7F");  // body_length
  std::vector<json::Value> items = DumpJson(store(), 4);
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(Str(items[2], "kind"), "record");
  EXPECT_EQ(Str(items[2], "status"), "bad header");
  EXPECT_EQ(U64(items[2], "offset"), records_[1].offset);
  EXPECT_EQ(Str(items[3], "kind"), "skipped");
  EXPECT_EQ(U64(items[3], "from"), records_[1].offset);
  EXPECT_EQ(U64(items[3], "to"), records_[2].offset);
  EXPECT_EQ(Raw(items[3], "all_zero"), "false");
  EXPECT_EQ(Str(items[4], "status"), "ok");
  EXPECT_EQ(U64(items[4], "position"), 2u);
}

TEST_F(DumpTest, TruncatedFile) {
  std::filesystem::resize_file(segment0(), records_[2].offset + 40);
  std::vector<json::Value> items = DumpJson(store(), 4);
  ASSERT_GE(items.size(), 4u);
  EXPECT_EQ(Str(items[3], "status"), "truncated");
  EXPECT_EQ(U64(items[3], "position"), 2u);
  EXPECT_EQ(U64(items[3], "length"), records_[2].length);
  std::filesystem::resize_file(segment0(), 100);  // not even a header
  CliOutput r = RunCairn({"dump", store()});
  EXPECT_EQ(r.code, 4);
  EXPECT_TRUE(Contains(r.out, "BAD SEGMENT HEADER")) << r.out;
  EXPECT_TRUE(Contains(r.out, "truncated")) << r.out;
}

TEST_F(DumpTest, BytesAfterTheRecordsAreReported) {
  PatchFile(segment0(), 60000, "junk");
  std::vector<json::Value> items = DumpJson(store(), 4);
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(Str(items[4], "kind"), "skipped");
  EXPECT_EQ(U64(items[4], "from"), records_[2].offset + records_[2].length);
  EXPECT_EQ(U64(items[4], "to"), 65536u);
}

TEST_F(DumpTest, BadSegmentHeaderBorrowsTheStoreIdOfAnotherSegment) {
  const std::string big = dir_.Sub("big");
  CliOutput r = RunCairn({"import", big, "-", "--segment-size", kSmallSegments},
                         ImportLines(2000, 5));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string segment1 = big + "/000000000001.seg";
  ASSERT_TRUE(std::filesystem::exists(segment1));
  FlipByte(segment1, 20);  // inside store_id
  std::vector<json::Value> items = DumpJson(big, 4);
  uint64_t ok = 0;
  bool saw_bad_header = false;
  for (const json::Value& item : items) {
    if (Str(item, "kind") == "segment" && Str(item, "status") == "bad header") {
      saw_bad_header = true;
      EXPECT_EQ(Str(item, "file"), segment1);
      EXPECT_NE(item.Find("store_id_from_sibling"), nullptr);
    }
    if (Str(item, "kind") == "record" && Str(item, "status") == "ok") ++ok;
  }
  EXPECT_TRUE(saw_bad_header);
  EXPECT_EQ(ok, 2000u);  // every record still verified
}

TEST_F(DumpTest, GarbageFilesNeverStopTheDump) {
  const std::string junk = dir_.Sub("junk");
  std::filesystem::create_directory(junk);
  std::mt19937 rng(3);
  std::string bytes(20000, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  WriteFile(junk + "/000000000000.seg", bytes);
  WriteFile(junk + "/000000000001.seg", "");
  CliOutput r = RunCairn({"dump", junk});
  EXPECT_EQ(r.code, 4);
  EXPECT_TRUE(Contains(r.out, "records can not be checked")) << r.out;
  EXPECT_TRUE(Contains(r.out, "000000000001.seg")) << r.out;
  r = RunCairn({"dump", dir_.Sub("missing")});
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(r.err.empty());
  r = RunCairn({"dump", dir_.path()});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "no segment files")) << r.err;
}

}  // namespace
}  // namespace cairn::tools::test
