// Copyright (c) Cairn authors. Public API.
//
// The text rule of names: stream names, event types and snapshot schemas
// must be well-formed UTF-8 without control characters. Servers and
// bindings check the names their requests carry with the same function the
// store applies.
#ifndef CAIRN_TEXT_H_
#define CAIRN_TEXT_H_

#include <string_view>

#include "cairn/export.h"

namespace cairn {

// Whether `text` is well-formed UTF-8: no stray continuation bytes, no
// truncated sequence, no overlong form, no surrogate and no code point
// above U+10FFFF. Unless `controls`, it must also be free of control
// characters (U+0000..U+001F, U+007F and U+0080..U+009F). The empty text
// passes.
CAIRN_EXPORT bool IsUtf8Text(std::string_view text, bool controls = false);

}  // namespace cairn

#endif  // CAIRN_TEXT_H_
