// Copyright (c) Cairn authors.
//
// Fuzzes the strict JSON parser of `cairn import` (tools/jsonl/json.h): no
// input may crash it or make it read out of bounds, and its answers must agree
// with each other:
//  - Validate and Parse accept exactly the same texts;
//  - a parsed value's raw text is the input without surrounding whitespace;
//  - Serialize gives valid JSON that parses back to the same serialisation;
//  - Minify of valid JSON is valid JSON with no whitespace between tokens
//    (so the same serialisation once parsed).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_util.h"
#include "tools/jsonl/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace json = cairn::tools::json;
  // A heap copy of exactly `size` bytes: ASan catches a read past its end.
  const std::string text(reinterpret_cast<const char*>(data), size);
  json::ParseOptions options;
  options.max_depth = 64;
  json::Value value;
  json::ParseError parse_error;
  json::ParseError validate_error;
  const bool parsed = json::Parse(text, &value, &parse_error, options);
  const bool valid = json::Validate(text, &validate_error, options);
  FUZZ_CHECK(parsed == valid);
  if (!parsed) {
    FUZZ_CHECK(parse_error.offset <= text.size());
    FUZZ_CHECK(parse_error.offset == validate_error.offset);
    (void)parse_error.ToString();
    return 0;
  }
  FUZZ_CHECK(value.raw() == json::TrimWhitespace(text));
  const std::string serialized = json::Serialize(value);
  json::Value again;
  FUZZ_CHECK(json::Parse(serialized, &again, nullptr, options));
  FUZZ_CHECK(json::Serialize(again) == serialized);
  const std::string minified = json::Minify(text);
  json::Value from_minified;
  FUZZ_CHECK(json::Parse(minified, &from_minified, nullptr, options));
  FUZZ_CHECK(json::Serialize(from_minified) == serialized);
  return 0;
}
