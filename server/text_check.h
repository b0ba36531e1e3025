// Copyright (c) Cairn authors.
//
// Checks of the names and texts requests carry.
#ifndef CAIRN_SERVER_TEXT_CHECK_H_
#define CAIRN_SERVER_TEXT_CHECK_H_

#include <string_view>

namespace cairn::server {

// Whether `text` is UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF) and, unless `controls`, free of control characters.
bool IsText(std::string_view text, bool controls);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_TEXT_CHECK_H_
