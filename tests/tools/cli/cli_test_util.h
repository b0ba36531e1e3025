// Copyright (c) Cairn authors.
//
// Helpers for the end-to-end tests of `cairn`: run RunCli in-process with
// string streams, scratch directories, and byte-level damage to files.
#ifndef CAIRN_TESTS_TOOLS_CLI_CLI_TEST_UTIL_H_
#define CAIRN_TESTS_TOOLS_CLI_CLI_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tools/cli/cli.h"
#include "tools/jsonl/json.h"

namespace cairn::tools::test {

// A fresh directory, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "cairn_cli_XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (not created).
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CliOutput {
  int code = -1;
  std::string out;
  std::string err;

  // stdout split into lines (without the newlines).
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

// Runs `cairn args...` with `input` as standard input.
inline CliOutput RunCairn(const std::vector<std::string>& args,
                          const std::string& input = "") {
  std::vector<const char*> argv = {"cairn"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  CliOutput result;
  result.code =
      RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Overwrites bytes of a file in place (the file keeps its size).
inline void PatchFile(const std::string& path, uint64_t offset,
                      const std::string& bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

// Inverts the bits of one byte.
inline void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(~c));
  ASSERT_TRUE(f.good()) << path;
}

// Parses every line of `text` as a JSON object.
inline std::vector<json::Value> ParseLines(const std::string& text,
                                           std::vector<std::string>* storage) {
  // Values point into their text, so the lines must outlive them.
  storage->clear();
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) storage->push_back(line);
  std::vector<json::Value> values(storage->size());
  for (size_t i = 0; i < storage->size(); ++i) {
    json::ParseError error;
    EXPECT_TRUE(json::Parse((*storage)[i], &values[i], &error))
        << (*storage)[i] << ": " << error.ToString();
  }
  return values;
}

inline uint64_t U64(const json::Value& object, const char* key) {
  const json::Value* v = object.Find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? v->AsUint64().value_or(~0ull) : ~0ull;
}

inline std::string Str(const json::Value& object, const char* key) {
  const json::Value* v = object.Find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? v->string_value() : "";
}

inline std::string Raw(const json::Value& object, const char* key) {
  const json::Value* v = object.Find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? std::string(v->raw()) : "";
}

// A record as `cairn dump --json` lists it.
struct DumpedRecord {
  std::string file;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string status;
};

// The records of a store (or segment file) according to `cairn dump`.
inline std::vector<DumpedRecord> DumpRecords(const std::string& path) {
  CliOutput r = RunCairn({"dump", path, "--json"});
  std::vector<std::string> lines;
  std::vector<DumpedRecord> records;
  for (const json::Value& v : ParseLines(r.out, &lines)) {
    if (Str(v, "kind") != "record") continue;
    records.push_back(
        {Str(v, "file"), U64(v, "offset"), U64(v, "length"), Str(v, "status")});
  }
  return records;
}

// `count` tiny events over `streams` streams, as import input.
inline std::string ImportLines(int count, int streams) {
  std::string input;
  for (int i = 0; i < count; ++i) {
    input += "{\"stream\":\"s" + std::to_string(i % streams) +
             "\",\"type\":\"T\",\"data\":{\"i\":" + std::to_string(i) + "}}\n";
  }
  return input;
}

// Small segments keep test stores small and make multi-segment stores
// cheap (64 KiB is the smallest segment size the store accepts).
inline constexpr char kSmallSegments[] = "65536";

}  // namespace cairn::tools::test

#endif  // CAIRN_TESTS_TOOLS_CLI_CLI_TEST_UTIL_H_
