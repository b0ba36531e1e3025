// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn metadata get|set` through RunCli.
#include <gtest/gtest.h>

#include <string>

#include "tests/tools/cli/cli_test_util.h"
#include "tools/cli/command.h"

namespace cairn::tools::test {
namespace {

class MetadataCommandTest : public ::testing::Test {
 protected:
  std::string store() const { return dir_.Sub("store"); }
  TempDir dir_;
};

TEST_F(MetadataCommandTest, SetThenGet) {
  CliOutput set = RunCairn({"metadata", "set", store(), "s",
                            R"({"$maxCount":2, "team":"a"})", "--expected",
                            "no-stream", "--json"});
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_EQ(set.out,
            "{\"stream\":\"s\",\"metastream_revision\":0,\"position\":0}\n");
  CliOutput get = RunCairn({"metadata", "get", store(), "s", "--json"});
  ASSERT_EQ(get.code, 0) << get.err;
  EXPECT_EQ(get.out,
            "{\"stream\":\"s\",\"metastream_revision\":0,\"metadata\":"
            "{\"$maxCount\":2, \"team\":\"a\"}}\n");
  CliOutput human = RunCairn({"metadata", "get", store(), "s"});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_EQ(human.out,
            "{\"$maxCount\":2, \"team\":\"a\"}\n(metadata revision 0)\n");
}

TEST_F(MetadataCommandTest, GetWithoutMetadata) {
  ASSERT_EQ(
      RunCairn({"append", store(), "s", "--type", "E", "--data", "{}"}).code,
      0);
  CliOutput get = RunCairn({"metadata", "get", store(), "s", "--json"});
  ASSERT_EQ(get.code, 0) << get.err;
  EXPECT_EQ(get.out,
            "{\"stream\":\"s\",\"metastream_revision\":null,\"metadata\":{}}"
            "\n");
}

TEST_F(MetadataCommandTest, InvalidMetadataIsAUsageError) {
  CliOutput r =
      RunCairn({"metadata", "set", store(), "s", R"({"$maxAge":"1d"})"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(Contains(r.err, "$maxAge must be an integer")) << r.err;
  CliOutput stale =
      RunCairn({"metadata", "set", store(), "s", "{}", "--expected", "3"});
  EXPECT_EQ(stale.code, kExitWrongExpectedVersion);
}

}  // namespace
}  // namespace cairn::tools::test
