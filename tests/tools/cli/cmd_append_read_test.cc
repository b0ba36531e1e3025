// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn append`, `read`, `read-all`, `stats`,
// `version` and usage errors, through RunCli on scratch stores.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

class AppendReadTest : public ::testing::Test {
 protected:
  std::string store() const { return dir_.Sub("store"); }

  CliOutput Append(const std::string& stream, const std::string& type,
                   const std::string& data,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "append", store(), stream,           "--type",      type,
        "--data", data,    "--segment-size", kSmallSegments};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCairn(args);
  }

  void AppendOk(const std::string& stream, const std::string& type,
                const std::string& data, std::vector<std::string> extra = {}) {
    CliOutput r = Append(stream, type, data, std::move(extra));
    ASSERT_EQ(r.code, 0) << r.err;
  }

  // Events printed by `read`/`read-all --json`.
  std::vector<json::Value> ReadJson(std::vector<std::string> args) {
    args.emplace_back("--json");
    CliOutput r = RunCairn(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return ParseLines(r.out, &lines_);
  }

  std::vector<uint64_t> Revisions(std::vector<std::string> args) {
    std::vector<uint64_t> out;
    for (const json::Value& e : ReadJson(std::move(args))) {
      out.push_back(U64(e, "revision"));
    }
    return out;
  }

  TempDir dir_;
  std::vector<std::string> lines_;
};

TEST_F(AppendReadTest, AppendPrintsRevisionAndPosition) {
  CliOutput r = Append("orders-1", "OrderPlaced", R"({"total":5})");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "appended: stream orders-1, revision 0, position 0\n");
  EXPECT_EQ(r.err, "");
  r = Append("orders-1", "OrderPaid", "{}", {"--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, R"({"stream":"orders-1","revision":1,"position":1,)"
                   R"("idempotent_replay":false})"
                   "\n");
}

TEST_F(AppendReadTest, WrongExpectedVersionSaysWhatAndExitsThree) {
  AppendOk("s", "T", "1", {"--expected", "no-stream"});
  CliOutput r = Append("s", "T", "2", {"--expected", "no-stream"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(Contains(r.err,
                       "wrong expected version: expected version "
                       "no-stream, but the stream is at revision 0"))
      << r.err;
  r = Append("other", "T", "2", {"--expected", "exists"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Contains(r.err, "the stream does not exist")) << r.err;
  r = Append("s", "T", "2", {"--expected", "7"});
  EXPECT_EQ(r.code, 3);
  AppendOk("s", "T", "2", {"--expected", "0"});
  AppendOk("s", "T", "3", {"--expected", "exists"});
  EXPECT_EQ(Revisions({"read", store(), "s"}),
            (std::vector<uint64_t>{0, 1, 2}));
}

TEST_F(AppendReadTest, UsageErrorsExitTwo) {
  CliOutput r = Append("s", "T", "{not json");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Contains(r.err, "--data is not valid JSON (offset 1:")) << r.err;
  EXPECT_TRUE(Contains(r.err, "--binary")) << r.err;
  EXPECT_EQ(Append("s", "T", "1", {"--expected", "soon"}).code, 2);
  EXPECT_EQ(Append("s", "T", "1", {"--id", "not-a-uuid"}).code, 2);
  EXPECT_EQ(Append("s", "T", "1", {"--metadata", "[1,"}).code, 2);
  r = Append("$$s", "T", "1");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Contains(r.err, "is a metadata stream")) << r.err;
  // Nothing above created an event.
  EXPECT_EQ(RunCairn({"read", store(), "s"}).code, 1);
  EXPECT_EQ(RunCairn({"append", store(), "s", "--data", "1"}).code, 2);
  EXPECT_EQ(RunCairn({"read", store()}).code, 2);
  EXPECT_EQ(RunCairn({"no-such-command"}).code, 2);
  EXPECT_EQ(RunCairn({}).code, 2);
  EXPECT_EQ(RunCairn({"read-all", store(), "--limit", "x"}).code, 2);
  // Unsigned options take decimal digits only: CLI11 would read -1 as
  // 2^64 - 1 and 0x10 as 16.
  EXPECT_EQ(RunCairn({"read-all", store(), "--limit", "-1"}).code, 2);
  EXPECT_EQ(RunCairn({"read-all", store(), "--from", "0x10"}).code, 2);
  EXPECT_EQ(RunCairn({"read", store(), "s", "--from", "-1"}).code, 2);
  EXPECT_EQ(Append("s", "T", "1", {"--segment-size", "-1"}).code, 2);
  EXPECT_EQ(RunCairn({"scavenge", store(), "--bytes-per-sync", "-1"}).code, 2);
  // Beyond a year, or negative, a stall timeout is refused.
  EXPECT_EQ(RunCairn({"serve", store(), "--insecure",
                      "--subscriber-stall-timeout", "-1"})
                .code,
            2);
  EXPECT_EQ(RunCairn({"serve", store(), "--insecure",
                      "--subscriber-stall-timeout", "31536001"})
                .code,
            2);
}

TEST_F(AppendReadTest, HelpAndVersion) {
  CliOutput r = RunCairn({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* command : {"append", "read", "read-all", "import", "export",
                              "dump", "verify", "stats", "version"}) {
    EXPECT_TRUE(Contains(r.out, command)) << command;
  }
  r = RunCairn({"append", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(Contains(r.out, "--expected"));
  r = RunCairn({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(Contains(r.out, "cairn " CAIRN_VERSION_STRING)) << r.out;
  EXPECT_EQ(RunCairn({"--version"}).out, r.out);
}

TEST_F(AppendReadTest, DataFromFilesAndStandardInput) {
  std::string file = dir_.Sub("event.json");
  WriteFile(file, "{\n  \"a\": [1, 2]\n}\n");
  AppendOk("s", "T", "@" + file, {"--metadata", R"({"m":true})"});
  CliOutput r =
      RunCairn({"append", store(), "s", "--type", "T", "--data", "@-"},
               R"(  {"from":"stdin"} )");
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<json::Value> events = ReadJson({"read", store(), "s"});
  ASSERT_EQ(events.size(), 2u);
  // Surrounding whitespace is dropped, inner line breaks kept; read --json
  // shows the value without them.
  EXPECT_EQ(Raw(events[0], "data"), R"({"a":[1,2]})");
  EXPECT_EQ(Raw(events[0], "metadata"), R"({"m":true})");
  EXPECT_EQ(Raw(events[1], "data"), R"({"from":"stdin"})");
  EXPECT_EQ(Raw(events[1], "metadata"), "null");
  EXPECT_EQ(Str(events[1], "content_type"), "json");

  r = Append("s", "T", "@" + dir_.Sub("missing.json"));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "missing.json")) << r.err;
  // A directory is not read as empty data.
  r = Append("s", "T", "@" + dir_.path(), {"--binary"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Contains(r.err, "is a directory")) << r.err;
  // Nor is more than any event can hold read whole.
  const std::string big = dir_.Sub("big.bin");
  WriteFile(big, std::string((16 << 20) + 1, 'x'));
  r = Append("s", "T", "@" + big, {"--binary"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Contains(r.err, "holds more than 16777216 bytes")) << r.err;
  EXPECT_EQ(ReadJson({"read", store(), "s"}).size(), 2u);
}

TEST_F(AppendReadTest, BinaryDataIsBase64InJsonOutput) {
  AppendOk("bin", "Blob", "hello", {"--binary"});
  std::vector<json::Value> events = ReadJson({"read", store(), "bin"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Str(events[0], "data"), "aGVsbG8=");
  EXPECT_EQ(Str(events[0], "data_encoding"), "base64");
  EXPECT_EQ(Str(events[0], "content_type"), "binary");
  CliOutput r = RunCairn({"read", store(), "bin"});
  EXPECT_TRUE(Contains(r.out, "data: (5 bytes, binary) base64:aGVsbG8="))
      << r.out;
}

TEST_F(AppendReadTest, RetryWithTheSameIdIsIdempotent) {
  const std::string id = "6f0c1a52-1d4e-4c3b-9a8f-0123456789ab";
  AppendOk("s", "T", "1", {"--id", id});
  AppendOk("s", "T", "2");
  CliOutput r = Append("s", "T", "1", {"--id", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "already appended (idempotent retry): stream s, revision 0, "
            "position 0\n");
  std::vector<json::Value> events = ReadJson({"read", store(), "s"});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(Str(events[0], "id"), id);
}

TEST_F(AppendReadTest, ReadTextForm) {
  AppendOk("orders-1", "OrderPlaced", R"({"total": 5})",
           {"--metadata", R"({"user":"ann"})"});
  CliOutput r = RunCairn({"read", store(), "orders-1"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0].rfind("orders-1@0  position 0  OrderPlaced  ", 0), 0u);
  EXPECT_EQ(lines[1], R"(  data: {"total":5})");
  EXPECT_EQ(lines[2], R"(  metadata: {"user":"ann"})");
}

TEST_F(AppendReadTest, ReadJsonHasEveryField) {
  AppendOk("s", "T", "[1]");
  std::vector<json::Value> events = ReadJson({"read", store(), "s"});
  ASSERT_EQ(events.size(), 1u);
  const json::Value& e = events[0];
  EXPECT_EQ(Str(e, "stream"), "s");
  EXPECT_EQ(U64(e, "revision"), 0u);
  EXPECT_EQ(U64(e, "position"), 0u);
  EXPECT_TRUE(EventId::Parse(Str(e, "id")).has_value());
  EXPECT_EQ(Str(e, "type"), "T");
  EXPECT_EQ(Raw(e, "data"), "[1]");
  EXPECT_EQ(Raw(e, "metadata"), "null");
  const std::string created = Str(e, "created");
  ASSERT_EQ(created.size(), 27u) << created;  // 2026-01-02T03:04:05.123456Z
  EXPECT_EQ(created[10], 'T');
  EXPECT_EQ(created.back(), 'Z');
  EXPECT_GT(U64(e, "created_us"), 0u);
}

TEST_F(AppendReadTest, ReadDirectionFromAndLimit) {
  for (int i = 0; i < 5; ++i) AppendOk("s", "T", std::to_string(i));
  AppendOk("other", "T", "0");
  using V = std::vector<uint64_t>;
  EXPECT_EQ(Revisions({"read", store(), "s"}), (V{0, 1, 2, 3, 4}));
  EXPECT_EQ(Revisions({"read", store(), "s", "--from", "1", "--limit", "2"}),
            (V{1, 2}));
  EXPECT_EQ(Revisions({"read", store(), "s", "--backward"}),
            (V{4, 3, 2, 1, 0}));
  EXPECT_EQ(Revisions({"read", store(), "s", "--backward", "--from", "3",
                       "--limit", "2"}),
            (V{3, 2}));
  EXPECT_EQ(Revisions({"read", store(), "s", "--from", "9"}), V{});
  EXPECT_EQ(Revisions({"read", store(), "s", "--limit", "0"}), V{});
  // A leading zero is decimal, not octal.
  EXPECT_EQ(Revisions({"read", store(), "s", "--from", "003"}), (V{3, 4}));
}

TEST_F(AppendReadTest, ReadPagesThroughLongStreams) {
  // More events than one page of the read loop (1024), across segments.
  std::string lines;
  for (int i = 0; i < 2500; ++i) {
    lines += R"({"stream":"s","type":"T","data":)" + std::to_string(i) + "}\n";
  }
  ASSERT_EQ(RunCairn({"import", store(), "-", "--segment-size", kSmallSegments},
                     lines)
                .code,
            0);
  std::vector<uint64_t> revisions = Revisions({"read", store(), "s"});
  ASSERT_EQ(revisions.size(), 2500u);
  for (uint64_t i = 0; i < revisions.size(); ++i) ASSERT_EQ(revisions[i], i);
  revisions =
      Revisions({"read", store(), "s", "--backward", "--limit", "2000"});
  ASSERT_EQ(revisions.size(), 2000u);
  EXPECT_EQ(revisions.front(), 2499u);
  EXPECT_EQ(revisions.back(), 500u);
  std::vector<json::Value> all =
      ReadJson({"read-all", store(), "--from", "100", "--limit", "1500"});
  ASSERT_EQ(all.size(), 1500u);
  EXPECT_EQ(U64(all.front(), "position"), 100u);
  EXPECT_EQ(U64(all.back(), "position"), 1599u);
  EXPECT_EQ(ReadJson({"read-all", store(), "--backward"}).size(), 2500u);
}

TEST_F(AppendReadTest, ReadsCategoryAndTypeStreamsAcrossPages) {
  // Three streams of one category interleaved, more than one page (1024)
  // of the read loop, which must page by the category's own revisions.
  std::string lines;
  for (int i = 0; i < 2100; ++i) {
    lines += R"({"stream":"Order-)" + std::to_string(i % 3) + R"(","type":")" +
             (i % 2 == 0 ? "Even" : "Odd") + R"(","data":)" +
             std::to_string(i) + "}\n";
  }
  ASSERT_EQ(RunCairn({"import", store(), "-", "--segment-size", kSmallSegments},
                     lines)
                .code,
            0);
  std::vector<json::Value> events = ReadJson({"read", store(), "$ce-Order"});
  ASSERT_EQ(events.size(), 2100u);
  for (uint64_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(U64(events[i], "link_revision"), i);
    ASSERT_EQ(U64(events[i], "position"), i);
    ASSERT_EQ(U64(events[i], "revision"), i / 3);
  }
  events = ReadJson({"read", store(), "$et-Odd", "--backward"});
  ASSERT_EQ(events.size(), 1050u);
  EXPECT_EQ(U64(events.front(), "link_revision"), 1049u);
  EXPECT_EQ(U64(events.front(), "position"), 2099u);
  CliOutput text = RunCairn({"read", store(), "$et-Even", "--limit", "1"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.rfind("0 -> Order-0@0", 0), 0u) << text.out;
  CliOutput refused = Append("$ce-Order", "Even", "{}");
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("category or event-type"), std::string::npos)
      << refused.err;
}

TEST_F(AppendReadTest, ReadMissingStreamOrStore) {
  AppendOk("s", "T", "1");
  CliOutput r = RunCairn({"read", store(), "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "stream 'nope' has no events")) << r.err;
  const std::string missing = dir_.Sub("missing");
  for (const char* command : {"read", "read-all", "stats", "export"}) {
    std::vector<std::string> args = {command, missing};
    if (std::string(command) == "read") args.emplace_back("s");
    r = RunCairn(args);
    EXPECT_EQ(r.code, 1) << command;
    EXPECT_TRUE(Contains(r.err, "no store at")) << command << ": " << r.err;
  }
  // Read-only commands never create a store.
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(AppendReadTest, ReadAllFilters) {
  AppendOk("order-1", "OrderPlaced", "1");
  AppendOk("user-1", "UserRegistered", "2");
  AppendOk("order-2", "OrderPlaced", "3");
  AppendOk("order-1", "OrderShipped", "4");
  auto positions = [&](std::vector<std::string> args) {
    std::vector<uint64_t> out;
    for (const json::Value& e : ReadJson(std::move(args))) {
      out.push_back(U64(e, "position"));
    }
    return out;
  };
  using V = std::vector<uint64_t>;
  EXPECT_EQ(positions({"read-all", store()}), (V{0, 1, 2, 3}));
  EXPECT_EQ(positions({"read-all", store(), "--stream-prefix", "order-"}),
            (V{0, 2, 3}));
  EXPECT_EQ(positions({"read-all", store(), "--type-prefix", "OrderP"}),
            (V{0, 2}));
  EXPECT_EQ(positions({"read-all", store(), "--stream-prefix", "order-1",
                       "--type-prefix", "OrderS"}),
            (V{3}));
  EXPECT_EQ(positions({"read-all", store(), "--stream-prefix", "order-",
                       "--backward", "--limit", "2"}),
            (V{3, 2}));
  EXPECT_EQ(positions({"read-all", store(), "--from", "2"}), (V{2, 3}));
  EXPECT_EQ(positions({"read-all", store(), "--from", "2", "--backward"}),
            (V{2, 1, 0}));
  EXPECT_EQ(positions({"read-all", store(), "--stream-prefix", "none"}), V{});
  CliOutput r = RunCairn({"read-all", store(), "--type-prefix", "User"});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("user-1@0  position 1  UserRegistered", 0), 0u)
      << r.out;
}

TEST_F(AppendReadTest, ReadOnlyCommandsWorkBesideAWriter) {
  AppendOk("s", "T", "1");
  Options options;
  auto writer = Store::Open(store(), options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EventData event;
  event.type = "T";
  event.data = "2";
  ASSERT_TRUE((*writer)->Append("s", ExpectedVersion::Any(), {&event, 1}).ok());
  EXPECT_EQ(Revisions({"read", store(), "s"}), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(ReadJson({"read-all", store()}).size(), 2u);
  EXPECT_EQ(RunCairn({"stats", store()}).code, 0);
  // A second writer is refused, with a hint.
  CliOutput r = Append("s", "T", "3");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "in use by another process")) << r.err;
  ASSERT_TRUE((*writer)->Close().ok());
}

TEST_F(AppendReadTest, Stats) {
  AppendOk("a", "T", "1");
  AppendOk("b", "T", "2");
  AppendOk("a", "T", "3");
  CliOutput r = RunCairn({"stats", store(), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<json::Value> v = ParseLines(r.out, &lines_);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(U64(v[0], "events"), 3u);
  EXPECT_EQ(U64(v[0], "streams"), 2u);
  EXPECT_EQ(U64(v[0], "segments"), 1u);
  EXPECT_GT(U64(v[0], "bytes"), 0u);
  EXPECT_EQ(U64(v[0], "durable_position_end"), 3u);
  // The stream index: each append's clean close wrote its entry out.
  const json::Value* index = v[0].Find("index");
  ASSERT_NE(index, nullptr) << r.out;
  EXPECT_EQ(U64(*index, "checkpoint"), 3u);
  EXPECT_GE(U64(*index, "tables"), 1u);
  EXPECT_GT(U64(*index, "table_bytes"), 0u);
  EXPECT_EQ(U64(*index, "memory_entries"), 0u);
  EXPECT_EQ(Str(*index, "background_error"), "");
  for (const char* key : {"flushes", "merges", "cache_hits", "cache_misses"}) {
    EXPECT_NE(index->Find(key), nullptr) << key;
  }
  r = RunCairn({"stats", store()});
  ASSERT_EQ(r.code, 0);
  EXPECT_TRUE(Contains(r.out, "events:           3\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "streams:          2\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "index checkpoint: 3\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "index error:      none\n")) << r.out;
}

}  // namespace
}  // namespace cairn::tools::test
