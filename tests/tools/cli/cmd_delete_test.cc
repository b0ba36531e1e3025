// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn delete` and `cairn tombstone` through RunCli.
#include <gtest/gtest.h>

#include <string>

#include "tests/tools/cli/cli_test_util.h"
#include "tools/cli/command.h"

namespace cairn::tools::test {
namespace {

class DeleteCommandTest : public ::testing::Test {
 protected:
  std::string store() const { return dir_.Sub("store"); }
  void AppendOk(const std::string& stream) {
    CliOutput r =
        RunCairn({"append", store(), stream, "--type", "E", "--data", "{}"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  TempDir dir_;
};

TEST_F(DeleteCommandTest, DeleteMakesTheStreamReadAsNotFound) {
  AppendOk("s");
  AppendOk("s");
  CliOutput deleted = RunCairn({"delete", store(), "s", "--expected", "1"});
  ASSERT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted: stream s, position 2\n");
  CliOutput read = RunCairn({"read", store(), "s"});
  EXPECT_NE(read.code, 0);
  EXPECT_TRUE(Contains(read.err, "was deleted")) << read.err;
  AppendOk("s");  // continues at revision 2
  CliOutput again = RunCairn({"read", store(), "s", "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  ASSERT_EQ(again.Lines().size(), 1u);
  EXPECT_TRUE(Contains(again.out, "\"revision\":2")) << again.out;
}

TEST_F(DeleteCommandTest, WrongExpectedVersionHasItsExitCode) {
  AppendOk("s");
  CliOutput r = RunCairn({"delete", store(), "s", "--expected", "5"});
  EXPECT_EQ(r.code, kExitWrongExpectedVersion);
  EXPECT_TRUE(Contains(r.err, "wrong expected version")) << r.err;
  CliOutput bad = RunCairn({"tombstone", store(), "s", "--expected", "x"});
  EXPECT_EQ(bad.code, kExitUsage);
}

TEST_F(DeleteCommandTest, TombstoneRefusesLaterAppends) {
  AppendOk("s");
  CliOutput t = RunCairn({"tombstone", store(), "s", "--json"});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.out, "{\"stream\":\"s\",\"position\":1}\n");
  CliOutput append =
      RunCairn({"append", store(), "s", "--type", "E", "--data", "{}"});
  EXPECT_EQ(append.code, kExitError);
  EXPECT_TRUE(Contains(append.err, "StreamDeleted")) << append.err;
}

}  // namespace
}  // namespace cairn::tools::test
