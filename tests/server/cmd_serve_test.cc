// Copyright (c) Cairn authors.
//
// `cairn serve`'s refusals, which happen before it opens anything (the
// running server is covered by the handler tests and by tests/interop).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

TEST(CmdServeTest, RefusesNonLoopbackAddressesWithoutInsecure) {
  TempDir dir;
  const std::string store = dir.path() + "/store";
  CliOutput result = RunCairn(
      {"serve", store, "--listen", "0.0.0.0:0", "--http", "127.0.0.1:0"});
  EXPECT_EQ(result.code, 2);
  EXPECT_TRUE(Contains(result.err, "--insecure")) << result.err;
  result = RunCairn(
      {"serve", store, "--listen", "127.0.0.1:0", "--http", "192.0.2.1:0"});
  EXPECT_EQ(result.code, 2);
  EXPECT_TRUE(Contains(result.err, "192.0.2.1:0")) << result.err;
  EXPECT_FALSE(std::filesystem::exists(store));
}

TEST(CmdServeTest, RefusesMalformedAddresses) {
  TempDir dir;
  CliOutput result =
      RunCairn({"serve", dir.path() + "/store", "--listen", "localhost"});
  EXPECT_EQ(result.code, 2);
  EXPECT_TRUE(Contains(result.err, "HOST:PORT")) << result.err;
}

TEST(CmdServeTest, RefusesAConnectionLimitOfZero) {
  TempDir dir;
  const std::string store = dir.path() + "/store";
  CliOutput result =
      RunCairn({"serve", store, "--listen", "127.0.0.1:0", "--http",
                "127.0.0.1:0", "--max-connections", "0"});
  EXPECT_EQ(result.code, 2);
  EXPECT_TRUE(Contains(result.err, "--max-connections")) << result.err;
  EXPECT_FALSE(std::filesystem::exists(store));
}

}  // namespace
}  // namespace cairn::tools::test
