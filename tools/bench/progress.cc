// Copyright (c) Cairn authors.
#include "tools/bench/progress.h"

#include <cstdio>
#include <ostream>

namespace cairn::tools::bench {

void Progress::Show(std::string_view text) {
  if (out_ == nullptr) return;
  std::string line = "\r";
  line.append(text);
  // Blank out what is left of a longer previous line.
  if (text.size() < shown_) line.append(shown_ - text.size(), ' ');
  shown_ = text.size();
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  out_->flush();
}

void Progress::Clear() {
  if (out_ == nullptr || shown_ == 0) return;
  std::string line = "\r";
  line.append(shown_, ' ');
  line.push_back('\r');
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  out_->flush();
  shown_ = 0;
  next_ns_ = 0;
}

std::string Short(double value) {
  char text[32];
  if (value >= 1e9) {
    (void)std::snprintf(text, sizeof(text), "%.2fG", value / 1e9);
  } else if (value >= 1e6) {
    (void)std::snprintf(text, sizeof(text), "%.2fM", value / 1e6);
  } else if (value >= 1e4) {
    (void)std::snprintf(text, sizeof(text), "%.1fk", value / 1e3);
  } else {
    (void)std::snprintf(text, sizeof(text), "%.0f", value);
  }
  return text;
}

}  // namespace cairn::tools::bench
