// Copyright (c) Cairn authors.
//
// Fuzzes the base64 codec that carries binary payloads through JSON Lines
// (tools/jsonl/base64.h): decoding accepts only canonical text, so whatever
// decodes encodes back to the very same text, and any bytes round-trip.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "tools/jsonl/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string decoded;
  if (cairn::tools::Base64Decode(input, &decoded)) {
    FUZZ_CHECK(cairn::tools::Base64Encode(decoded) == input);
  }
  const std::string encoded = cairn::tools::Base64Encode(input);
  std::string back;
  FUZZ_CHECK(cairn::tools::Base64Decode(encoded, &back));
  FUZZ_CHECK(back == input);
  return 0;
}
