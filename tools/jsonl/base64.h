// Copyright (c) Cairn authors.
//
// Standard base64 (RFC 4648 section 4: alphabet A-Z a-z 0-9 + /, padded
// with '='), used to carry binary event payloads inside JSON Lines.
#ifndef CAIRN_TOOLS_JSONL_BASE64_H_
#define CAIRN_TOOLS_JSONL_BASE64_H_

#include <string>
#include <string_view>

namespace cairn::tools {

void Base64Encode(std::string_view bytes, std::string* out);  // appends
std::string Base64Encode(std::string_view bytes);

// Decodes canonical base64 and appends the bytes to *out. Rejects (returns
// false, *out unspecified) anything else: characters outside the alphabet
// (including whitespace), a length that is not a multiple of 4, '=' other
// than as one or two final padding characters, and nonzero unused bits in
// the last character, so every byte string has exactly one accepted
// encoding and a round trip can not hide damage.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_JSONL_BASE64_H_
