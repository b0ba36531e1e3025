// Copyright (c) Cairn authors.
#include "tools/jsonl/json_writer.h"

#include <cmath>
#include <cstdio>

namespace cairn::tools::json {
namespace {

// Beyond this, a value prints as 0 (or -0): far below any figure a tool
// reports.
constexpr int kMaxDecimals = 20;

}  // namespace

void Writer::Number(std::string_view key, double value) {
  Key(key);
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  // Three decimals keep ratios and latencies readable without exponents;
  // large rates simply carry a harmless fraction. A value below 0.1 keeps
  // three significant digits instead, so that a small ratio (a debug build
  // against a fast disk) never reads as zero.
  int decimals = 3;
  const double magnitude = std::fabs(value);
  if (magnitude != 0 && magnitude < 0.1) {
    decimals = 2 + static_cast<int>(std::ceil(-std::log10(magnitude)));
    if (decimals > kMaxDecimals) decimals = kMaxDecimals;
  }
  char text[kMaxDecimals + 32];
  (void)std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  out_ += text;
}

}  // namespace cairn::tools::json
