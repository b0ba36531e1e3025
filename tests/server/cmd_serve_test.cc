// Copyright (c) Cairn authors.
//
// `cairn serve`'s refusals, which happen before it opens anything, and
// --dev-certs (the running server is covered by the handler tests and by
// tests/interop).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

TEST(CmdServeTest, RefusesToServeWithoutTlsOrInsecure) {
  TempDir dir;
  const std::string store = dir.path() + "/store";
  CliOutput result = RunCairn(
      {"serve", store, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"});
  EXPECT_EQ(result.code, 2);
  for (const char* hint : {"--tls-cert", "--tls-key", "--insecure"}) {
    EXPECT_TRUE(Contains(result.err, hint)) << result.err;
  }
  result = RunCairn({"serve", store, "--listen", "127.0.0.1:0", "--insecure",
                     "--tls-cert", "x.crt", "--tls-key", "x.key"});
  EXPECT_EQ(result.code, 2);
  EXPECT_TRUE(Contains(result.err, "cannot be combined")) << result.err;
  result = RunCairn({"serve", store, "--tls-cert", "x.crt"});
  EXPECT_EQ(result.code, 2);
  EXPECT_TRUE(Contains(result.err, "--tls-key")) << result.err;
  EXPECT_FALSE(std::filesystem::exists(store));
}

TEST(CmdServeTest, DevCertsWritesACaAndANodePairOnce) {
  TempDir dir;
  const std::string certs = dir.path() + "/certs";
  CliOutput result = RunCairn({"serve", "--dev-certs", certs});
  ASSERT_EQ(result.code, 0) << result.err;
  for (const char* name : {"ca.crt", "ca.key", "node.crt", "node.key"}) {
    EXPECT_TRUE(std::filesystem::exists(certs + "/" + name)) << name;
    EXPECT_TRUE(Contains(result.out, certs + "/" + name)) << result.out;
  }
  result = RunCairn({"serve", "--dev-certs", certs});
  EXPECT_NE(result.code, 0);
  EXPECT_TRUE(Contains(result.err, "refusing to overwrite")) << result.err;
  result = RunCairn(
      {"serve", dir.path() + "/store", "--dev-certs", dir.path() + "/other"});
  EXPECT_EQ(result.code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/other"));
}

TEST(CmdServeTest, BadTlsFilesAreNamedBeforeAnythingOpens) {
  TempDir dir;
  const std::string certs = dir.path() + "/certs";
  ASSERT_EQ(RunCairn({"serve", "--dev-certs", certs}).code, 0);
  const std::string store = dir.path() + "/store";
  const std::string missing = dir.path() + "/missing.crt";
  CliOutput result = RunCairn({"serve", store, "--listen", "127.0.0.1:0",
                               "--http", "127.0.0.1:0", "--tls-cert", missing,
                               "--tls-key", certs + "/node.key"});
  EXPECT_NE(result.code, 0);
  EXPECT_TRUE(Contains(result.err, "TLS certificate " + missing)) << result.err;
  result = RunCairn({"serve", store, "--listen", "127.0.0.1:0", "--http",
                     "127.0.0.1:0", "--tls-cert", certs + "/node.crt",
                     "--tls-key", certs + "/ca.key"});
  EXPECT_NE(result.code, 0);
  EXPECT_TRUE(Contains(result.err, "does not match")) << result.err;
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

TEST(CmdServeTest, RefusesAScavengeThrottleOutsideOneToAHundred) {
  TempDir dir;
  const std::string store = dir.path() + "/store";
  for (const char* percent : {"0", "101"}) {
    CliOutput result = RunCairn({"serve", store, "--insecure", "--listen",
                                 "127.0.0.1:0", "--http", "127.0.0.1:0",
                                 "--scavenge-throttle-percent", percent});
    EXPECT_EQ(result.code, 2) << percent;
    EXPECT_TRUE(Contains(result.err, "--scavenge-throttle-percent"))
        << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(store));
}

}  // namespace
}  // namespace cairn::tools::test
