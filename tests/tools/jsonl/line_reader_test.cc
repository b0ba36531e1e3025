// Copyright (c) Cairn authors.
#include "tools/jsonl/line_reader.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace cairn::tools {
namespace {

std::vector<std::string> ReadAll(const std::string& text) {
  std::istringstream in(text);
  LineReader reader(in.rdbuf());
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.Next(&line)) lines.emplace_back(line);
  return lines;
}

TEST(LineReaderTest, SplitsLines) {
  using V = std::vector<std::string>;
  EXPECT_EQ(ReadAll(""), V{});
  EXPECT_EQ(ReadAll("a"), V{"a"});
  EXPECT_EQ(ReadAll("a\n"), V{"a"});
  EXPECT_EQ(ReadAll("a\nb"), (V{"a", "b"}));
  EXPECT_EQ(ReadAll("\n\na\n"), (V{"", "", "a"}));
  EXPECT_EQ(ReadAll("a\r\nb\r\n"), (V{"a", "b"}));
  EXPECT_EQ(ReadAll("a\rb\n"), V{"a\rb"});  // only a final \r is dropped
  EXPECT_EQ(ReadAll(std::string("a\0b\n", 4)), V{std::string("a\0b", 3)});
}

TEST(LineReaderTest, LinesLongerThanTheReadChunk) {
  std::string long_line(300000, 'x');
  std::string text;
  for (int i = 0; i < 3; ++i) text += long_line + std::to_string(i) + "\n";
  std::vector<std::string> lines = ReadAll(text);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], long_line + "2");
}

TEST(LineReaderTest, ManyShortLinesAcrossChunks) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += std::to_string(i) + "\n";
  std::vector<std::string> lines = ReadAll(text);
  ASSERT_EQ(lines.size(), 50000u);
  for (int i = 0; i < 50000; ++i) ASSERT_EQ(lines[i], std::to_string(i));
}

}  // namespace
}  // namespace cairn::tools
