// Copyright (c) Cairn authors.
//
// Splits an input stream into lines, reading it in large chunks straight
// from its streambuf. std::getline on std::cin goes through the C stdio
// sync layer a character at a time, which made `cairn import DIR -` twice
// as slow as reading the same file; chunked sgetn calls avoid that.
#ifndef CAIRN_TOOLS_JSONL_LINE_READER_H_
#define CAIRN_TOOLS_JSONL_LINE_READER_H_

#include <cstddef>
#include <streambuf>
#include <string>
#include <string_view>

namespace cairn::tools {

class LineReader {
 public:
  // Lines of more than `max_line` bytes (newline excluded) end the input
  // with too_long(): memory stays bounded whatever the input holds (a file
  // without a newline, /dev/zero).
  explicit LineReader(std::streambuf* source,
                      size_t max_line = static_cast<size_t>(-1))
      : source_(source), max_line_(max_line) {}

  // Sets *line to the next line, without its "\n" or "\r\n", and returns
  // true; false at the end of the input, or at a line longer than
  // max_line. A last line without a newline is still a line. *line stays
  // valid until the next call.
  bool Next(std::string_view* line);
  // Next returned false at a line longer than max_line.
  bool too_long() const { return too_long_; }

 private:
  static constexpr size_t kChunk = 1 << 16;

  std::streambuf* source_;
  const size_t max_line_;
  bool too_long_ = false;
  std::string buffer_;
  size_t begin_ = 0;    // start of the unread part of buffer_
  size_t scanned_ = 0;  // buffer_[begin_, scanned_) holds no '\n'
  bool eof_ = false;
};

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_JSONL_LINE_READER_H_
