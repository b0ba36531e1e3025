// Copyright (c) Cairn authors.
//
// Writes the Prometheus text exposition format 0.0.4: per metric family a
// `# HELP` and a `# TYPE` line, then its samples, label values escaped.
// The caller names each family once and writes its samples right after.
#ifndef CAIRN_SERVER_PROMETHEUS_TEXT_H_
#define CAIRN_SERVER_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/store_metrics.h"

namespace cairn::server {

inline constexpr char kPrometheusContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string>>;

  // Starts a family: `type` is counter, gauge or histogram.
  void Family(std::string_view name, std::string_view type,
              std::string_view help);
  // A sample of the current family; `name` is the family's name (plus
  // _bucket, _sum or _count for a histogram).
  void Sample(std::string_view name, const Labels& labels, uint64_t value);
  void Sample(std::string_view name, const Labels& labels, double value);
  // A whole histogram family. Bounds and the sum are divided by
  // `per_unit`, the recorded units per base unit (1e6 turns microseconds
  // into seconds); dividing keeps 33861 µs "0.033861".
  void Histogram(std::string_view name, std::string_view help,
                 const HistogramSnapshot& histogram, double per_unit = 1.0);

  const std::string& text() const { return text_; }

  // Backslash, double quote and line feed escaped, as label values need.
  static std::string EscapeLabelValue(std::string_view value);
  // Backslash and line feed escaped, as HELP text needs.
  static std::string EscapeHelp(std::string_view help);
  // The shortest text that reads back as `value` ("+Inf" for infinity).
  static std::string FormatDouble(double value);

 private:
  void Line(std::string_view name, const Labels& labels,
            std::string_view value);

  std::string text_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PROMETHEUS_TEXT_H_
