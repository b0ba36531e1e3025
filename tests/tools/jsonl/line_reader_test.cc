// Copyright (c) Cairn authors.
#include "tools/jsonl/line_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// A source that never ends and holds no newline, like /dev/zero.
class Endless : public std::streambuf {
 protected:
  std::streamsize xsgetn(char* out, std::streamsize n) override {
    std::fill(out, out + n, 'x');
    served_ += n;
    return n;
  }

 public:
  std::streamsize served_ = 0;
};

TEST(LineReaderTest, ALineBeyondTheLimitEndsTheInput) {
  std::string text = std::string(100, 'a') + "\n" + std::string(100, 'b') +
                     "\r\n" + std::string(101, 'c') + "\nd\n";
  std::istringstream in(text);
  LineReader reader(in.rdbuf(), 100);
  std::string_view line;
  ASSERT_TRUE(reader.Next(&line));
  EXPECT_EQ(line, std::string(100, 'a'));
  ASSERT_TRUE(reader.Next(&line));  // the \r is not the line's
  EXPECT_EQ(line, std::string(100, 'b'));
  EXPECT_FALSE(reader.Next(&line));
  EXPECT_TRUE(reader.too_long());
  EXPECT_FALSE(reader.Next(&line));  // and stays ended

  Endless endless;
  LineReader unbounded_input(&endless, 1 << 20);
  EXPECT_FALSE(unbounded_input.Next(&line));
  EXPECT_TRUE(unbounded_input.too_long());
  EXPECT_LE(endless.served_, (1 << 20) + (2 << 16));  // read no further
}

}  // namespace
}  // namespace cairn::tools
