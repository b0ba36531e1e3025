// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn snapshot save|load` through RunCli.
#include <gtest/gtest.h>

#include <string>

#include "tests/tools/cli/cli_test_util.h"
#include "tools/cli/command.h"

namespace cairn::tools::test {
namespace {

class SnapshotCommandTest : public ::testing::Test {
 protected:
  std::string store() const { return dir_.Sub("store"); }
  void AppendOk(int n) {
    for (int i = 0; i < n; ++i) {
      CliOutput r =
          RunCairn({"append", store(), "s", "--type", "E", "--data", "{}"});
      ASSERT_EQ(r.code, 0) << r.err;
    }
  }
  TempDir dir_;
};

TEST_F(SnapshotCommandTest, SaveThenLoad) {
  AppendOk(4);
  CliOutput saved =
      RunCairn({"snapshot", "save", store(), "s", "--revision", "1", "--data",
                R"({"n":2})", "--schema", "S/v1", "--json"});
  ASSERT_EQ(saved.code, 0) << saved.err;
  EXPECT_EQ(saved.out,
            "{\"stream\":\"s\",\"revision\":1,\"snapshot_revision\":0,"
            "\"position\":5}\n");

  CliOutput loaded = RunCairn({"snapshot", "load", store(), "s", "--json"});
  ASSERT_EQ(loaded.code, 0) << loaded.err;
  auto lines = loaded.Lines();
  ASSERT_EQ(lines.size(), 3u) << loaded.out;
  EXPECT_TRUE(Contains(lines[0],
                       "\"snapshot\":{\"revision\":1,"
                       "\"schema\":\"S/v1\",\"position\":5,"))
      << lines[0];
  EXPECT_TRUE(
      Contains(lines[0], "\"content_type\":\"json\",\"data\":{\"n\":2}"))
      << lines[0];
  EXPECT_TRUE(Contains(lines[0],
                       "\"events\":2,\"last_revision\":3,"
                       "\"end_of_stream\":true,\"next_revision\":4}"))
      << lines[0];
  EXPECT_TRUE(Contains(lines[1], "\"revision\":2")) << lines[1];
  EXPECT_TRUE(Contains(lines[2], "\"revision\":3")) << lines[2];

  CliOutput part =
      RunCairn({"snapshot", "load", store(), "s", "--max-count", "1"});
  ASSERT_EQ(part.code, 0) << part.err;
  EXPECT_TRUE(Contains(part.out, "snapshot of s at revision 1  schema S/v1"))
      << part.out;
  EXPECT_TRUE(Contains(part.out, "data: {\"n\":2}")) << part.out;
  EXPECT_TRUE(Contains(part.out,
                       "(1 events after the snapshot; last revision "
                       "3; more from revision 3)"))
      << part.out;
}

TEST_F(SnapshotCommandTest, LoadWithoutSnapshotAndBinaryData) {
  AppendOk(1);
  CliOutput none = RunCairn({"snapshot", "load", store(), "s", "--json"});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_TRUE(Contains(none.out, "\"snapshot\":null,\"events\":1")) << none.out;
  CliOutput saved = RunCairn({"snapshot", "save", store(), "s", "-r", "0",
                              "--data", "raw", "--binary"});
  ASSERT_EQ(saved.code, 0) << saved.err;
  CliOutput loaded = RunCairn({"snapshot", "load", store(), "s", "--json"});
  ASSERT_EQ(loaded.code, 0) << loaded.err;
  EXPECT_TRUE(Contains(loaded.out,
                       "\"data\":\"cmF3\",\"data_encoding\":"
                       "\"base64\"}"))
      << loaded.out;
}

TEST_F(SnapshotCommandTest, BadInputIsAUsageError) {
  AppendOk(1);
  CliOutput beyond = RunCairn(
      {"snapshot", "save", store(), "s", "--revision", "5", "--data", "{}"});
  EXPECT_EQ(beyond.code, kExitUsage);
  EXPECT_TRUE(Contains(beyond.err, "beyond the last revision")) << beyond.err;
  CliOutput not_json = RunCairn(
      {"snapshot", "save", store(), "s", "--revision", "0", "--data", "{"});
  EXPECT_EQ(not_json.code, kExitUsage);
  CliOutput missing = RunCairn({"snapshot", "load", store(), "nope"});
  EXPECT_NE(missing.code, 0);
  EXPECT_TRUE(Contains(missing.err, "nope")) << missing.err;
}

}  // namespace
}  // namespace cairn::tools::test
