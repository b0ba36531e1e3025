// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn backup`: a copy that `cairn verify` accepts
// and that reads back the same events, incremental runs, and errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

class BackupCommandTest : public ::testing::Test {
 protected:
  std::string store() const { return dir_.Sub("store"); }
  std::string dest() const { return dir_.Sub("backup"); }

  void AppendOk(int n) {
    for (int i = 0; i < n; ++i) {
      CliOutput r = RunCairn({"append", store(), "order-" + std::to_string(i),
                              "--type", "Placed", "--data",
                              R"({"pad":")" + std::string(2000, 'x') + R"("})",
                              "--segment-size", "65536"});
      ASSERT_EQ(r.code, 0) << r.err;
    }
  }

  TempDir dir_;
  std::vector<std::string> lines_;
};

TEST_F(BackupCommandTest, CopyVerifiesAndReadsTheSameEvents) {
  AppendOk(60);
  CliOutput r = RunCairn({"backup", store(), dest(), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto values = ParseLines(r.out, &lines_);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(U64(values[0], "end_position"), 60u);
  EXPECT_GT(U64(values[0], "files_copied"), 1u);
  EXPECT_EQ(U64(values[0], "files_reused"), 0u);

  CliOutput verify = RunCairn({"verify", dest()});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  CliOutput original = RunCairn({"read-all", store(), "--json"});
  CliOutput copy = RunCairn({"read-all", dest(), "--json"});
  ASSERT_EQ(original.code, 0) << original.err;
  ASSERT_EQ(copy.code, 0) << copy.err;
  EXPECT_EQ(copy.out, original.out);
}

TEST_F(BackupCommandTest, SecondRunIsIncremental) {
  AppendOk(60);
  ASSERT_EQ(RunCairn({"backup", store(), dest()}).code, 0);
  AppendOk(20);
  CliOutput r = RunCairn({"backup", store(), dest(), "--json", "--progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto values = ParseLines(r.out, &lines_);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(U64(values[0], "end_position"), 80u);
  EXPECT_GT(U64(values[0], "files_reused"), 0u);
  EXPECT_TRUE(Contains(r.err, "cairn backup: ")) << r.err;
  EXPECT_EQ(RunCairn({"verify", dest()}).code, 0);
}

TEST_F(BackupCommandTest, ForeignDestinationIsRefusedAndUntouched) {
  AppendOk(3);
  std::filesystem::create_directories(dest());
  WriteFile(dest() + "/keep.txt", "mine");
  CliOutput r = RunCairn({"backup", store(), dest()});
  EXPECT_EQ(r.code, 2);  // a bad argument
  EXPECT_TRUE(Contains(r.err, "not part of a Cairn backup")) << r.err;
  EXPECT_EQ(ReadFile(dest() + "/keep.txt"), "mine");

  CliOutput missing = RunCairn({"backup", dir_.Sub("nothing"), dest()});
  EXPECT_NE(missing.code, 0);
}

}  // namespace
}  // namespace cairn::tools::test
