// Copyright (c) Cairn authors.
#include "tools/jsonl/json_writer.h"

#include <cmath>
#include <cstdio>

namespace cairn::tools::json {

void Writer::Number(std::string_view key, double value) {
  Key(key);
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  char text[64];
  // Three decimals keep small ratios and latencies readable without
  // exponents; large rates simply carry a harmless fraction.
  (void)std::snprintf(text, sizeof(text), "%.3f", value);
  out_ += text;
}

}  // namespace cairn::tools::json
