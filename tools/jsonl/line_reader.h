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
  explicit LineReader(std::streambuf* source) : source_(source) {}

  // Sets *line to the next line, without its "\n" or "\r\n", and returns
  // true; false at the end of the input. A last line without a newline is
  // still a line. *line stays valid until the next call.
  bool Next(std::string_view* line);

 private:
  static constexpr size_t kChunk = 1 << 16;

  std::streambuf* source_;
  std::string buffer_;
  size_t begin_ = 0;    // start of the unread part of buffer_
  size_t scanned_ = 0;  // buffer_[begin_, scanned_) holds no '\n'
  bool eof_ = false;
};

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_JSONL_LINE_READER_H_
