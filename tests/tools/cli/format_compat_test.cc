// Copyright (c) Cairn authors.
//
// Old formats stay readable. tests/fixtures/segment-format-v1 holds a store
// written by a build of segment format 1 and that build's export of it
// (its README says how they were made). This build must verify the store,
// export exactly the same bytes, and append to it: new segments are of the
// current format, and the old ones stay readable beside them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "cairn/cairn.h"
#include "segment/segment_header.h"
#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

const std::string kFixture =
    std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/segment-format-v1";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A writable copy of the fixture store (the checked-in files never change).
std::string CopyFixture(const TempDir& dir) {
  std::string store = dir.Sub("store");
  std::filesystem::copy(kFixture + "/store", store,
                        std::filesystem::copy_options::recursive);
  return store;
}

uint32_t FormatVersion(const std::string& segment) {
  const std::string bytes = ReadFile(segment);
  segment::SegmentHeader header;
  EXPECT_TRUE(segment::DecodeSegmentHeader(
                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                  segment, &header)
                  .ok());
  return header.format_version;
}

TEST(FormatCompatTest, VersionOneStoreVerifiesAndExportsTheSameBytes) {
  TempDir dir;
  const std::string store = CopyFixture(dir);
  ASSERT_EQ(FormatVersion(store + "/000000000000.seg"), 1u);
  CliOutput verify = RunCairn({"verify", store});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  CliOutput exported = RunCairn({"export", store});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.out, ReadFile(kFixture + "/expected.jsonl"));
}

TEST(FormatCompatTest, VersionOneStoreTakesAppendsInTheCurrentFormat) {
  TempDir dir;
  const std::string store = CopyFixture(dir);
  {
    Options options;
    options.segment_size = uint64_t{64} << 10;
    auto opened = Store::Open(store, options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto revision = (*opened)->GetStreamRevision("Order-1");
    ASSERT_TRUE(revision.ok() && revision->has_value());
    // Enough to fill the old active segment and roll into new ones.
    const std::string data(2000, 'q');
    for (int i = 0; i < 100; ++i) {
      EventData e;
      e.type = "Appended";
      e.data = "\"" + data + std::to_string(i) + "\"";
      auto r = (*opened)->Append(
          "Order-1", ExpectedVersion::Exact((*revision)->value()), {e});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      *revision = r->last_revision;
    }
    ASSERT_TRUE((*opened)->Close().ok());
  }
  EXPECT_EQ(FormatVersion(store + "/000000000000.seg"), 1u);
  EXPECT_EQ(FormatVersion(store + "/000000000004.seg"),
            segment::kSegmentFormatVersion);
  CliOutput verify = RunCairn({"verify", store});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  // The old events come back exactly, followed by the new ones.
  CliOutput exported = RunCairn({"export", store});
  ASSERT_EQ(exported.code, 0) << exported.err;
  const std::string expected = ReadFile(kFixture + "/expected.jsonl");
  ASSERT_GE(exported.out.size(), expected.size());
  EXPECT_EQ(exported.out.substr(0, expected.size()), expected);
  EXPECT_EQ(exported.Lines().size(), 1000u);
}

}  // namespace
}  // namespace cairn::tools::test
