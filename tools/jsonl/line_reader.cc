// Copyright (c) Cairn authors.
#include "tools/jsonl/line_reader.h"

namespace cairn::tools {

bool LineReader::Next(std::string_view* line) {
  while (true) {
    size_t newline = buffer_.find('\n', scanned_);
    if (newline != std::string::npos || (eof_ && begin_ < buffer_.size())) {
      size_t end = newline != std::string::npos ? newline : buffer_.size();
      std::string_view text(buffer_.data() + begin_, end - begin_);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (text.size() > max_line_) {
        too_long_ = true;
        return false;
      }
      *line = text;
      begin_ = newline != std::string::npos ? newline + 1 : buffer_.size();
      scanned_ = begin_;
      return true;
    }
    if (eof_ || too_long_) return false;
    // One byte more than the limit may be the "\r" of a "\r\n".
    const size_t partial = buffer_.size() - begin_;
    if (partial > max_line_ && partial - max_line_ > 1) {
      too_long_ = true;
      return false;
    }
    // Drop what was consumed, then read more behind the partial line.
    buffer_.erase(0, begin_);
    scanned_ = buffer_.size();
    begin_ = 0;
    const size_t old_size = buffer_.size();
    buffer_.resize(old_size + kChunk);
    const std::streamsize got = source_->sgetn(
        buffer_.data() + old_size, static_cast<std::streamsize>(kChunk));
    buffer_.resize(old_size + static_cast<size_t>(got > 0 ? got : 0));
    if (got <= 0) eof_ = true;
  }
}

}  // namespace cairn::tools
