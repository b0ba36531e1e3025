// Copyright (c) Cairn authors.
#include "cairn/text.h"

#include <cstddef>
#include <cstdint>

namespace cairn {

bool IsUtf8Text(std::string_view text, bool controls) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (!controls && (byte < 0x20 || byte == 0x7f)) return false;
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code = 0;
    if ((byte & 0xe0) == 0xc0) {
      length = 2;
      code = byte & 0x1fu;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      code = byte & 0x0fu;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      code = byte & 0x07u;
    } else {
      return false;  // a continuation byte or 0xf8..0xff
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3fu);
    }
    // The smallest code point each length may carry: below it the form is
    // overlong (another spelling of a shorter sequence).
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10ffff ||
        (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    if (!controls && code <= 0x9f) return false;  // C1 controls
    i += length;
  }
  return true;
}

}  // namespace cairn
