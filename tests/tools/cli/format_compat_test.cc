// Copyright (c) Cairn authors.
//
// Old formats stay readable. tests/fixtures/segment-format-v1 and
// store-format-v2 hold stores written by builds of segment formats 1 and 2
// (the second with scavenged segments of format 3) and those builds'
// exports of them (their READMEs say how they were made). This build must
// verify each store, export exactly the same bytes, and append to it: new
// segments are of the current format, and the old ones stay readable (and
// scavengeable) beside them.
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
const std::string kFixtureV2 =
    std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/store-format-v2";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A writable copy of a fixture store (the checked-in files never change).
std::string CopyFixture(const TempDir& dir,
                        const std::string& fixture = kFixture) {
  std::string store = dir.Sub("store");
  std::filesystem::copy(fixture + "/store", store,
                        std::filesystem::copy_options::recursive);
  return store;
}

uint32_t FormatVersion(const std::string& segment) {
  const std::string bytes = ReadFile(segment);
  segment::SegmentHeader header;
  segment::ScavengedFields fields;
  EXPECT_TRUE(segment::DecodeAnySegmentHeader(
                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                  segment, &header, &fields)
                  .ok());
  return header.format_version;
}

// `cairn verify` passes, and `cairn export` gives the old build's export
// followed by new events, `events` in all.
void ExpectOldEventsThenNew(const std::string& store,
                            const std::string& expected, size_t events) {
  CliOutput verify = RunCairn({"verify", store});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  CliOutput exported = RunCairn({"export", store});
  ASSERT_EQ(exported.code, 0) << exported.err;
  ASSERT_GE(exported.out.size(), expected.size());
  EXPECT_EQ(exported.out.substr(0, expected.size()), expected);
  EXPECT_EQ(exported.Lines().size(), events);
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
  // The old events come back exactly, followed by the new ones.
  ExpectOldEventsThenNew(store, ReadFile(kFixture + "/expected.jsonl"), 1000);
}

TEST(FormatCompatTest, VersionTwoStoreVerifiesAndExportsTheSameBytes) {
  TempDir dir;
  const std::string store = CopyFixture(dir, kFixtureV2);
  EXPECT_EQ(FormatVersion(store + "/000000000000.g0001.seg"), 3u);
  EXPECT_EQ(FormatVersion(store + "/000000000001.g0001.seg"), 3u);
  EXPECT_EQ(FormatVersion(store + "/000000000002.seg"), 2u);
  CliOutput verify = RunCairn({"verify", store});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  CliOutput exported = RunCairn({"export", store});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.out, ReadFile(kFixtureV2 + "/expected.jsonl"));
}

TEST(FormatCompatTest,
     VersionTwoStoreTakesAppendsWithContinuationsAndScavenges) {
  TempDir dir;
  const std::string store = CopyFixture(dir, kFixtureV2);
  const std::string expected = ReadFile(kFixtureV2 + "/expected.jsonl");
  {
    Options options;
    options.segment_size = uint64_t{64} << 10;
    auto opened = Store::Open(store, options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Store& s = **opened;
    // Keep the last 5 events of a stream the fixture holds: the scavenge
    // below removes some of its appends' heads.
    ASSERT_TRUE(s.SetStreamMetadataJson("Order-3", ExpectedVersion::Any(),
                                        R"({"$maxCount":5})")
                    .ok());
    // Multi-event appends, enough to roll the old active segment and fill
    // new ones.
    const std::string data(1500, 'q');
    for (int i = 0; i < 40; ++i) {
      std::vector<EventData> events(7);
      for (size_t k = 0; k < events.size(); ++k) {
        events[k].type = "Appended";
        events[k].data = "\"" + data + std::to_string(i * 7 + k) + "\"";
      }
      auto r = s.Append(i % 2 == 0 ? "Order-3" : "Fresh-1",
                        ExpectedVersion::Any(), events);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    ASSERT_TRUE(s.Close().ok());
  }
  EXPECT_EQ(FormatVersion(store + "/000000000002.seg"), 2u);
  EXPECT_EQ(FormatVersion(store + "/000000000004.seg"),
            segment::kSegmentFormatVersion);
  ExpectOldEventsThenNew(store, expected, 369 + 1 + 280);

  CliOutput scavenged = RunCairn({"scavenge", store});
  ASSERT_EQ(scavenged.code, 0) << scavenged.out << scavenged.err;
  CliOutput verify = RunCairn({"verify", store});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  // Order-3 reads as its last 5 events, whole.
  CliOutput read = RunCairn({"read", store, "Order-3", "--json"});
  ASSERT_EQ(read.code, 0) << read.err;
  EXPECT_EQ(read.Lines().size(), 5u) << read.out;
  CliOutput fresh = RunCairn({"read", store, "Fresh-1", "--json"});
  ASSERT_EQ(fresh.code, 0) << fresh.err;
  EXPECT_EQ(fresh.Lines().size(), 140u);
}

}  // namespace
}  // namespace cairn::tools::test
