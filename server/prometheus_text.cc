// Copyright (c) Cairn authors.
#include "server/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace cairn::server {

namespace {

// Backslash and line feed escaped, and the double quote too if `quote`.
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (quote && c == '"') {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void PrometheusText::Family(std::string_view name, std::string_view type,
                            std::string_view help) {
  text_.append("# HELP ").append(name).append(" ");
  text_.append(EscapeHelp(help)).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::Sample(std::string_view name, const Labels& labels,
                            uint64_t value) {
  Line(name, labels, std::to_string(value));
}

void PrometheusText::Sample(std::string_view name, const Labels& labels,
                            double value) {
  Line(name, labels, FormatDouble(value));
}

void PrometheusText::Histogram(std::string_view name, std::string_view help,
                               const HistogramSnapshot& histogram,
                               double per_unit) {
  Family(name, "histogram", help);
  const std::string base(name);
  for (size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
    Sample(base + "_bucket",
           {{"le", FormatDouble(static_cast<double>(histogram.upper_bounds[i]) /
                                per_unit)}},
           histogram.cumulative_counts[i]);
  }
  Sample(base + "_bucket", {{"le", "+Inf"}}, histogram.count);
  if (per_unit == 1.0) {
    Sample(base + "_sum", {}, histogram.sum);
  } else {
    Sample(base + "_sum", {}, static_cast<double>(histogram.sum) / per_unit);
  }
  Sample(base + "_count", {}, histogram.count);
}

void PrometheusText::Line(std::string_view name, const Labels& labels,
                          std::string_view value) {
  text_.append(name);
  if (!labels.empty()) {
    text_.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) text_.push_back(',');
      text_.append(labels[i].first).append("=\"");
      text_.append(EscapeLabelValue(labels[i].second)).push_back('"');
    }
    text_.push_back('}');
  }
  text_.push_back(' ');
  text_.append(value).push_back('\n');
}

std::string PrometheusText::EscapeLabelValue(std::string_view value) {
  return Escape(value, /*quote=*/true);
}

std::string PrometheusText::EscapeHelp(std::string_view help) {
  return Escape(help, /*quote=*/false);
}

std::string PrometheusText::FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : "NaN";
}

}  // namespace cairn::server
