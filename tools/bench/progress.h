// Copyright (c) Cairn authors.
//
// The progress line of `cairn bench`: one line on standard error, rewritten
// in place with '\r', at most a few times per second so that printing never
// shows up in the figures it reports.
#ifndef CAIRN_TOOLS_BENCH_PROGRESS_H_
#define CAIRN_TOOLS_BENCH_PROGRESS_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace cairn::tools::bench {

class Progress {
 public:
  // Writes to `out`; null turns progress off (Due() is then always false).
  explicit Progress(std::ostream* out) : out_(out) {}
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { Clear(); }

  // Whether a new line is due at `now_ns` (a NowNanos() value). Cheap
  // enough for every iteration of a hot loop; callers format a line only
  // when it returns true.
  bool Due(int64_t now_ns) {
    if (out_ == nullptr || now_ns < next_ns_) return false;
    next_ns_ = now_ns + kIntervalNs;
    return true;
  }
  // Replaces the line with `text`.
  void Show(std::string_view text);
  // Erases the line (before the summary is printed).
  void Clear();

  bool enabled() const { return out_ != nullptr; }

 private:
  static constexpr int64_t kIntervalNs = 250'000'000;
  std::ostream* out_;
  int64_t next_ns_ = 0;
  size_t shown_ = 0;  // length of the line on screen
};

// "12.3k", "4.56M": short rates and counts for the progress line.
std::string Short(double value);

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_PROGRESS_H_
