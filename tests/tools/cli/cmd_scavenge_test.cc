// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn scavenge`: a tombstoned stream's events leave
// the store, what is kept reads the same and verifies, and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

class ScavengeCommandTest : public ::testing::Test {
 protected:
  std::string store() const { return dir_.Sub("store"); }

  void AppendOk(const std::string& stream, int n) {
    for (int i = 0; i < n; ++i) {
      CliOutput r = RunCairn({"append", store(), stream, "--type", "Placed",
                              "--data", R"({"i":)" + std::to_string(i) + "}"});
      ASSERT_EQ(r.code, 0) << r.err;
    }
  }

  TempDir dir_;
  std::vector<std::string> lines_;
};

TEST_F(ScavengeCommandTest, RemovesATombstonedStreamAndReportsIt) {
  AppendOk("gone", 4);
  AppendOk("kept", 3);
  CliOutput tomb = RunCairn({"tombstone", store(), "gone"});
  ASSERT_EQ(tomb.code, 0) << tomb.err;
  CliOutput kept_before = RunCairn({"read", store(), "kept", "--json"});
  ASSERT_EQ(kept_before.code, 0) << kept_before.err;

  CliOutput r = RunCairn({"scavenge", store(), "--json", "--progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto values = ParseLines(r.out, &lines_);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(U64(values[0], "events_removed"), 4u);
  EXPECT_GE(U64(values[0], "parts_rewritten"), 1u);
  EXPECT_GT(U64(values[0], "bytes_reclaimed"), 0u);
  EXPECT_TRUE(Contains(r.err, "cairn scavenge: ")) << r.err;

  EXPECT_EQ(RunCairn({"verify", store()}).code, 0);
  CliOutput kept_after = RunCairn({"read", store(), "kept", "--json"});
  EXPECT_EQ(kept_after.out, kept_before.out);
  CliOutput all = RunCairn({"read-all", store(), "--json"});
  ASSERT_EQ(all.code, 0) << all.err;
  // Only the tombstone of "gone" is left.
  size_t gone = 0;
  for (const auto& v : ParseLines(all.out, &lines_)) {
    if (v.Find("stream") != nullptr &&
        v.Find("stream")->string_value() == "gone") {
      ++gone;
    }
  }
  EXPECT_EQ(gone, 1u);

  CliOutput again = RunCairn({"scavenge", store()});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(Contains(again.out, "events:  0 removed")) << again.out;
}

TEST_F(ScavengeCommandTest, AThrottledRunRemovesTheSameAndReportsItsRests) {
  AppendOk("gone", 4);
  AppendOk("kept", 3);
  ASSERT_EQ(RunCairn({"tombstone", store(), "gone"}).code, 0);
  CliOutput r = RunCairn({"scavenge", store(), "--throttle-percent", "50",
                          "--bytes-per-sync", "512"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "events:  4 removed")) << r.out;
  EXPECT_TRUE(Contains(r.out, " resting)")) << r.out;
  EXPECT_EQ(RunCairn({"verify", store()}).code, 0);
}

TEST_F(ScavengeCommandTest, AThrottleOutsideOneToAHundredIsAUsageError) {
  AppendOk("gone", 1);
  for (const char* percent : {"0", "101", "x"}) {
    CliOutput r =
        RunCairn({"scavenge", store(), "--throttle-percent", percent});
    EXPECT_EQ(r.code, 2) << percent << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, "throttle-percent")) << r.err;
  }
}

TEST_F(ScavengeCommandTest, AMissingStoreIsAnErrorAndNotCreated) {
  CliOutput r = RunCairn({"scavenge", store()});
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(Contains(r.err, "cairn scavenge")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(store()));
}

}  // namespace
}  // namespace cairn::tools::test
