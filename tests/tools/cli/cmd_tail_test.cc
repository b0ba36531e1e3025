// Copyright (c) Cairn authors.
//
// `cairn tail` follows a live writer from another process.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools {
namespace {

TEST(CmdTailTest, FollowsWriterInAnotherProcess) {
  test::TempDir dir;
  const std::string store_dir = dir.Sub("store");
  Options options;
  options.segment_size = 256 * 1024;  // the tail crosses segment rolls
  auto writer = Store::Open(store_dir, options);
  ASSERT_TRUE(writer.ok());
  auto event = [](int i) {
    EventData e;
    e.type = "Tick";
    e.data = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" +
             std::string(2000, 'p') + "\"}";
    return e;
  };
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        (*writer)->Append("clock", ExpectedVersion::Any(), {event(i)}).ok());
  }
  const std::string command = std::string(CAIRN_BINARY_DIR) +
                              "/tools/cairn tail " + store_dir +
                              " --json --limit 300";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  for (int i = 10; i < 300; ++i) {
    ASSERT_TRUE(
        (*writer)->Append("clock", ExpectedVersion::Any(), {event(i)}).ok());
  }
  std::string out;
  char buffer[65536];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    out.append(buffer, n);
  }
  int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::vector<std::string> storage;
  std::vector<json::Value> lines = test::ParseLines(out, &storage);
  ASSERT_EQ(lines.size(), 300u);
  for (size_t i = 0; i < lines.size(); ++i) {
    const json::Value* position = lines[i].Find("position");
    ASSERT_NE(position, nullptr);
    EXPECT_EQ(position->AsUint64(), std::optional<uint64_t>(i));
  }
}

TEST(CmdTailTest, BadArguments) {
  test::TempDir dir;
  auto r = test::RunCairn({"tail", dir.Sub("none"), "--from", "later"});
  EXPECT_EQ(r.code, 2);
  // Not 2^64 - 5, nor a number after spaces.
  for (const char* bad : {"-5", " 5", "+5"}) {
    r = test::RunCairn({"tail", dir.Sub("none"), "--from", bad});
    EXPECT_EQ(r.code, 2) << bad;
  }
  r = test::RunCairn(
      {"tail", dir.Sub("none"), "--stream", "x", "--stream-prefix", "y"});
  EXPECT_EQ(r.code, 2);
  r = test::RunCairn({"tail", dir.Sub("none")});
  EXPECT_NE(r.code, 0);  // no store there
}

TEST(CmdTailTest, LimitAndFilterInProcess) {
  test::TempDir dir;
  const std::string store_dir = dir.Sub("store");
  {
    auto writer = Store::Open(store_dir, Options());
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 20; ++i) {
      EventData e;
      e.type = i % 2 == 0 ? "Even" : "Odd";
      e.data = "{}";
      ASSERT_TRUE((*writer)
                      ->Append(i % 2 == 0 ? "even-1" : "odd-1",
                               ExpectedVersion::Any(), {e})
                      .ok());
    }
  }
  auto r = test::RunCairn(
      {"tail", store_dir, "--stream-prefix", "odd-", "--limit", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> storage;
  auto lines = test::ParseLines(r.out, &storage);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].Find("position")->AsUint64(), std::optional<uint64_t>(5));
  r = test::RunCairn({"tail", store_dir, "--stream", "even-1", "--from", "8",
                      "--limit", "2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  lines = test::ParseLines(r.out, &storage);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].Find("revision")->AsUint64(), std::optional<uint64_t>(8));
  // An event-type stream: its own revisions, the original events.
  r = test::RunCairn({"tail", store_dir, "--stream", "$et-Odd", "--from", "2",
                      "--limit", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  lines = test::ParseLines(r.out, &storage);
  ASSERT_EQ(lines.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i].Find("link_revision")->AsUint64(),
              std::optional<uint64_t>(2 + i));
    EXPECT_EQ(lines[i].Find("stream")->string_value(), "odd-1");
    EXPECT_EQ(lines[i].Find("position")->AsUint64(),
              std::optional<uint64_t>(5 + 2 * i));
  }
}

}  // namespace
}  // namespace cairn::tools
