// Copyright (c) Cairn authors.
//
// End-to-end tests of `cairn import` and `cairn export`.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tests/tools/cli/cli_test_util.h"

namespace cairn::tools::test {
namespace {

class ImportExportTest : public ::testing::Test {
 protected:
  CliOutput Import(const std::string& store, const std::string& input,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"import", store, "-", "--segment-size",
                                     kSmallSegments};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCairn(args, input);
  }

  std::vector<json::Value> ReadAll(const std::string& store) {
    CliOutput r = RunCairn({"read-all", store, "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return ParseLines(r.out, &lines_);
  }

  uint64_t EventCount(const std::string& store) {
    return ReadAll(store).size();
  }

  // export's output without the fields a re-import changes (created).
  static std::string WithoutCreated(const std::string& exported) {
    std::string out;
    size_t at = 0;
    while (true) {
      size_t begin = exported.find(",\"created\":\"", at);
      if (begin == std::string::npos) break;
      size_t end = exported.find(",\"created_us\":", begin);
      if (end == std::string::npos) break;
      end += std::string_view(",\"created_us\":").size();
      while (end < exported.size() &&
             (exported[end] == '-' ||
              (exported[end] >= '0' && exported[end] <= '9'))) {
        ++end;
      }
      out.append(exported, at, begin - at);
      at = end;
    }
    out.append(exported, at);
    return out;
  }

  TempDir dir_;
  std::vector<std::string> lines_;
};

TEST_F(ImportExportTest, ImportsEveryField) {
  const std::string input =
      R"({"stream":"a","type":"T1","data":{"x" : 1},"metadata":{"m":2}})"
      "\n"
      R"({"stream":"a","type":"T2","data":"AP8=","data_encoding":"base64",)"
      R"("id":"6f0c1a52-1d4e-4c3b-9a8f-0123456789ab"})"
      "\n"
      R"({"stream":"b","type":"T3","data":[1,2],"expected":"no-stream"})"
      "\n"
      R"({"stream":"b","type":"T4","data":"s","expected":0})"
      "\n";
  const std::string store = dir_.Sub("s");
  CliOutput r = Import(store, input);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("imported 4 events into 2 streams in ", 0), 0u)
      << r.out;
  EXPECT_TRUE(Contains(r.out, " events/s")) << r.out;
  std::vector<json::Value> events = ReadAll(store);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(Raw(events[0], "data"), R"({"x" : 1})");  // exactly as given
  EXPECT_EQ(Raw(events[0], "metadata"), R"({"m":2})");
  EXPECT_EQ(Str(events[1], "content_type"), "binary");
  EXPECT_EQ(Str(events[1], "data"), "AP8=");
  EXPECT_EQ(Str(events[1], "id"), "6f0c1a52-1d4e-4c3b-9a8f-0123456789ab");
  EXPECT_EQ(Str(events[2], "stream"), "b");
  EXPECT_EQ(U64(events[3], "revision"), 1u);
  EXPECT_EQ(Raw(events[3], "data"), R"("s")");
}

TEST_F(ImportExportTest, BadLineStopsTheImportAndNamesTheLine) {
  const std::string store = dir_.Sub("s");
  const std::string input =
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\n"
      "{\"stream\":\"b\",\"type\":\"T\",\"data\":2}\n"
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":3,}\n"
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":4}\n";
  CliOutput r = Import(store, input);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "cairn import: line 3: invalid JSON at byte 34"))
      << r.err;
  EXPECT_TRUE(Contains(r.err, "stopped at line 3; 2 events were imported"))
      << r.err;
  EXPECT_EQ(r.out, "");
  // Everything before the bad line is in, nothing from it on.
  std::vector<json::Value> events = ReadAll(store);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(Raw(events[1], "data"), "2");
}

// A line longer than any event's (here a 23 MiB line without a newline,
// as a file that is not JSON Lines has) stops the import at that line,
// without reading the input further into memory.
TEST_F(ImportExportTest, AnOverlongLineStopsTheImport) {
  const std::string store = dir_.Sub("s");
  const std::string input = "{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\n" +
                            std::string(23 << 20, 'x');
  CliOutput r = Import(store, input);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "line 2: the line is longer than")) << r.err;
  EXPECT_TRUE(Contains(r.err, "stopped at line 2; 1 events were imported"))
      << r.err;
  EXPECT_EQ(EventCount(store), 1u);
  CliOutput dry = Import(store, input, {"--dry-run"});
  EXPECT_EQ(dry.code, 1);
  EXPECT_TRUE(Contains(dry.err, "line 2: the line is longer than")) << dry.err;
}

// A refusal the store reports for an append (a tombstoned stream) comes
// after later appends were sent: the summary names exactly the lines that
// are not in the store, and every other line it covers is.
TEST_F(ImportExportTest, AStoreRefusalNamesTheLinesNotImported) {
  const std::string store = dir_.Sub("s");
  ASSERT_EQ(RunCairn({"tombstone", store, "b"}).code, 0);
  std::string input;
  for (const char* stream : {"a", "b", "c", "d"}) {
    input += std::string("{\"stream\":\"") + stream +
             "\",\"type\":\"T\",\"data\":1}\n";
  }
  CliOutput r = Import(store, input);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "line 2: ")) << r.err;
  EXPECT_TRUE(Contains(r.err, "stopped at line 2;")) << r.err;
  // Lines 3 and 4 went in if they were sent before the refusal was known.
  uint64_t sent = 2;
  if (Contains(r.err, "from every line up to 3 but line 2")) sent = 3;
  if (Contains(r.err, "from every line up to 4 but line 2")) sent = 4;
  std::vector<std::string> streams;
  for (const json::Value& event : ReadAll(store)) {
    const std::string stream = Str(event, "stream");
    if (stream != "b") streams.push_back(stream);
  }
  std::vector<std::string> expected = {"a"};
  if (sent >= 3) expected.emplace_back("c");
  if (sent >= 4) expected.emplace_back("d");
  EXPECT_EQ(streams, expected) << r.err;
}

TEST_F(ImportExportTest, LinesTheStoreWouldRejectAreReportedByNumber) {
  struct Case {
    std::string line;
    std::string error;
  };
  const Case cases[] = {
      {R"({"stream":"$all","type":"T","data":1})", "reserved for system"},
      {R"({"stream":"","type":"T","data":1})", "stream name must be 1 to"},
      {R"({"stream":"a\u0001","type":"T","data":1})", "control characters"},
      {R"({"stream":"a","type":"","data":1})", "event type must be 1 to"},
      {R"({"stream":"a","type":"T\u0085","data":1})", "control characters"},
      {R"({"stream":"a","type":"T","dta":1})", "unknown field \"dta\""},
      {R"({"stream":"a","type":"T"})", "missing field \"data\""},
      {R"(["stream"])", "expected a JSON object"},
  };
  int n = 0;
  for (const Case& c : cases) {
    // Appended, not `"s" + std::to_string(...)`: g++ 12 -O2 reports a
    // false -Wrestrict overlap in that (GCC bug 105651).
    std::string name = "s";
    name += std::to_string(n++);
    const std::string store = dir_.Sub(name);
    CliOutput r =
        Import(store, "{\"stream\":\"ok\",\"type\":\"T\",\"data\":0}\n\n" +
                          c.line + "\n");
    EXPECT_EQ(r.code, 1) << c.line;
    EXPECT_TRUE(Contains(r.err, "line 3: ")) << c.line << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, c.error)) << c.line << ": " << r.err;
    EXPECT_EQ(EventCount(store), 1u) << c.line;
  }
}

TEST_F(ImportExportTest, WrongExpectedVersionStopsWithExitThree) {
  const std::string store = dir_.Sub("s");
  const std::string input =
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\n"
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":2,\"expected\":5}\n"
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":3}\n";
  CliOutput r = Import(store, input);
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Contains(r.err,
                       "line 2: wrong expected version: expected version 5, "
                       "but the stream is at revision 0"))
      << r.err;
  EXPECT_EQ(EventCount(store), 1u);
}

TEST_F(ImportExportTest, DryRunListsEveryBadLineAndWritesNothing) {
  const std::string store = dir_.Sub("s");
  const std::string input =
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\n"
      "not json\n"
      "{\"stream\":\"a\",\"type\":\"T\",\"data\":3}\n"
      "{\"stream\":\"a\",\"data\":4}\n";
  CliOutput r = Import(store, input, {"--dry-run"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "line 2: invalid JSON")) << r.err;
  EXPECT_TRUE(Contains(r.err, "line 4: missing field \"type\"")) << r.err;
  EXPECT_TRUE(Contains(r.err, "checked 4 lines: 2 bad")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(store));
  r = Import(store, "{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\n",
             {"--dry-run"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "checked 1 events for 1 streams: no errors\n");
  EXPECT_FALSE(std::filesystem::exists(store));
}

TEST_F(ImportExportTest, AcceptsCrLfBlankLinesAndNoFinalNewline) {
  const std::string store = dir_.Sub("s");
  CliOutput r = Import(store,
                       "\r\n{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\r\n"
                       "   \n"
                       "{\"stream\":\"a\",\"type\":\"T\",\"data\":2}");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(EventCount(store), 2u);
}

TEST_F(ImportExportTest, ImportFromFileAndMissingFile) {
  const std::string file = dir_.Sub("in.jsonl");
  WriteFile(file, "{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\n");
  const std::string store = dir_.Sub("s");
  CliOutput r = RunCairn({"import", store, file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(EventCount(store), 1u);
  r = RunCairn({"import", store, dir_.Sub("missing.jsonl")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.err, "cannot open")) << r.err;
}

TEST_F(ImportExportTest, ExportImportRoundTrip) {
  const std::string a = dir_.Sub("a");
  auto append = [&](std::vector<std::string> args) {
    std::vector<std::string> full = {"append", a};
    full.insert(full.end(), args.begin(), args.end());
    CliOutput r = RunCairn(full);
    ASSERT_EQ(r.code, 0) << r.err;
  };
  const std::string pretty = dir_.Sub("pretty.json");
  WriteFile(pretty, "{\n  \"multi\": \"line\"\n}");
  const std::string bytes = dir_.Sub("bytes.bin");
  WriteFile(bytes, std::string("\0\x01\xFF\n", 4));
  append({"s1", "-t", "Plain", "-d", R"({"a": 1, "b": [true, null]})"});
  append({"s1", "-t", "WithMeta", "-d", "2", "-m", R"({"corr":"x"})"});
  append({"s2", "-t", "Pretty", "-d", "@" + pretty});
  append({"s2", "-t", "Binary", "-d", "@" + bytes, "-m", "meta", "--binary"});
  append({"s1", "-t", "LiteralNull", "-d", "null"});
  append({"s3", "-t", "Unicode\xC3\xA9", "-d", R"("caf\u00e9 \ud83d\ude00")"});

  CliOutput exported = RunCairn({"export", a});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.Lines().size(), 6u);
  const std::string b = dir_.Sub("b");
  CliOutput imported = Import(b, exported.out);
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_EQ(imported.out.rfind("imported 6 events into 3 streams", 0), 0u);
  CliOutput again = RunCairn({"export", b});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(WithoutCreated(again.out), WithoutCreated(exported.out));

  // The bytes themselves survived, whitespace and all.
  std::vector<json::Value> events = ParseLines(again.out, &lines_);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(Raw(events[0], "data"), R"({"a": 1, "b": [true, null]})");
  EXPECT_EQ(Str(events[2], "data_encoding"), "base64");  // has line breaks
  EXPECT_EQ(Str(events[3], "content_type"), "binary");
  EXPECT_EQ(Str(events[4], "data_encoding"), "base64");  // literal null
  CliOutput read = RunCairn({"read", b, "s2", "--json"});
  EXPECT_TRUE(Contains(read.out, R"("data":{"multi":"line"})")) << read.out;
}

TEST_F(ImportExportTest, ReimportIsIdempotent) {
  const std::string store = dir_.Sub("s");
  ASSERT_EQ(Import(store,
                   "{\"stream\":\"a\",\"type\":\"T\",\"data\":1}\n"
                   "{\"stream\":\"a\",\"type\":\"T\",\"data\":2}\n"
                   "{\"stream\":\"b\",\"type\":\"T\",\"data\":3}\n")
                .code,
            0);
  CliOutput exported = RunCairn({"export", store});
  ASSERT_EQ(exported.code, 0);
  // The exported lines carry the event ids, so importing them again into
  // the same store is recognised as a retry and writes nothing.
  CliOutput r = Import(store, exported.out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "imported 0 events")) << r.out;
  EXPECT_TRUE(Contains(r.out, "3 events were already in the store")) << r.out;
  EXPECT_EQ(EventCount(store), 3u);
}

// Beyond the store's idempotency window (the last 1024 events of a
// stream), a re-import is recognised by the revisions export wrote: a
// stream of 3000 events and one of 2 go in once, whether they are imported
// again whole or from a line in the middle on; an export imported into an
// empty store or merged into another stream still appends.
TEST_F(ImportExportTest, ReimportOfALongStreamIsIdempotent) {
  const std::string store = dir_.Sub("s");
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    input +=
        "{\"stream\":\"long\",\"type\":\"T\",\"data\":" + std::to_string(i) +
        "}\n";
  }
  input += "{\"stream\":\"short\",\"type\":\"T\",\"data\":1}\n";
  input += "{\"stream\":\"short\",\"type\":\"T\",\"data\":2}\n";
  ASSERT_EQ(RunCairn({"import", store, "-"}, input).code, 0);
  CliOutput exported = RunCairn({"export", store});
  ASSERT_EQ(exported.code, 0);

  CliOutput r = RunCairn({"import", store, "-"}, exported.out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "imported 0 events")) << r.out;
  EXPECT_TRUE(Contains(r.out, "3002 events were already in the store"))
      << r.out;
  // From line 1001 on (a resumed import), grouped differently.
  const size_t from = [&] {
    size_t at = 0;
    for (int i = 0; i < 1000; ++i) at = exported.out.find('\n', at) + 1;
    return at;
  }();
  r = RunCairn({"import", store, "-"}, exported.out.substr(from));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "imported 0 events")) << r.out;
  EXPECT_EQ(EventCount(store), 3002u);

  // Into an empty store, the same lines are a copy.
  const std::string copy = dir_.Sub("copy");
  r = RunCairn({"import", copy, "-"}, exported.out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "imported 3002 events")) << r.out;
}

TEST_F(ImportExportTest, GroupedAppendsFitSmallSegments) {
  // One stream's consecutive lines become grouped appends; with 64 KiB
  // segments a group must stay far below the segment size.
  const std::string store = dir_.Sub("s");
  const std::string payload(1000, 'x');
  std::string input;
  for (int i = 0; i < 300; ++i) {
    input +=
        "{\"stream\":\"one\",\"type\":\"T\",\"data\":\"" + payload + "\"}\n";
  }
  CliOutput r = Import(store, input);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(EventCount(store), 300u);
  EXPECT_EQ(RunCairn({"verify", store}).code, 0);
}

TEST_F(ImportExportTest, ExportToFileAcrossSegments) {
  const std::string store = dir_.Sub("s");
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    input += "{\"stream\":\"s" + std::to_string(i % 7) +
             "\",\"type\":\"T\",\"data\":{\"i\":" + std::to_string(i) + "}}\n";
  }
  ASSERT_EQ(Import(store, input).code, 0);
  CliOutput stats = RunCairn({"stats", store, "--json"});
  std::vector<json::Value> s = ParseLines(stats.out, &lines_);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_GT(U64(s[0], "segments"), 2u);
  const std::string file = dir_.Sub("out.jsonl");
  CliOutput r = RunCairn({"export", store, "--output", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "exported 3000 events to " + file + "\n");
  std::vector<json::Value> events = ParseLines(ReadFile(file), &lines_);
  ASSERT_EQ(events.size(), 3000u);
  for (uint64_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(U64(events[i], "position"), i);
    ASSERT_EQ(Raw(events[i], "data"), "{\"i\":" + std::to_string(i) + "}");
  }
}

}  // namespace
}  // namespace cairn::tools::test
