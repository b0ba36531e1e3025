// Copyright (c) Cairn authors.
//
// A small, strict JSON (RFC 8259) parser and writer for the command line
// tools. Strict means: exactly one value per text, no comments, no trailing
// commas, no leading zeros, no unescaped control characters in strings,
// valid UTF-8 only, and \u escapes must not leave a surrogate unpaired.
//
// The parser keeps the exact source text of every value (Value::raw()), so
// `cairn import` can store an event's `data` byte for byte as the input had
// it instead of a re-serialisation. Nesting is bounded (ParseOptions), so
// hostile input can not exhaust the stack; every read is bounds-checked.
#ifndef CAIRN_TOOLS_JSONL_JSON_H_
#define CAIRN_TOOLS_JSONL_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::tools::json {

// Deep enough for any realistic event payload, shallow enough that the
// recursive parser (and Value's recursive destructor) stay far from the
// stack limit.
inline constexpr int kDefaultMaxDepth = 256;

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

struct Member;

// A parsed JSON value. raw() points into the text given to Parse, so a Value
// must not outlive that text.
class Value {
 public:
  Value() = default;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // kBool only.
  bool bool_value() const { return bool_; }
  // kString only: the decoded string (escapes resolved, UTF-8).
  const std::string& string_value() const { return string_; }
  // kArray only.
  const std::vector<Value>& items() const { return items_; }
  // kObject only, in input order (duplicate keys are kept).
  const std::vector<Member>& members() const { return members_; }
  // kObject only: the first member named `key`, or nullptr.
  const Value* Find(std::string_view key) const;

  // kNumber only. AsUint64/AsInt64 accept only integers written without a
  // fraction or exponent that fit the type; AsDouble accepts any finite
  // number.
  std::optional<uint64_t> AsUint64() const;
  std::optional<int64_t> AsInt64() const;
  std::optional<double> AsDouble() const;

  // The exact source text of this value, without surrounding whitespace.
  std::string_view raw() const { return raw_; }

 private:
  friend class Parser;

  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string string_;
  std::vector<Value> items_;
  std::vector<Member> members_;
  std::string_view raw_;
};

struct Member {
  std::string key;
  Value value;
};

struct ParseOptions {
  // Arrays and objects may nest at most this deep (a scalar is depth 0,
  // `[1]` depth 1).
  int max_depth = kDefaultMaxDepth;
  // Values nested deeper than this are validated but not built: an array
  // or object at this depth has its type and raw() text and no items or
  // members. 1 builds the members of the top-level object only, all that a
  // reader of raw() texts needs (`cairn import` stores `data` as its raw
  // text), without allocating a tree for every payload.
  int max_built_depth = kDefaultMaxDepth;
};

struct ParseError {
  size_t offset = 0;  // byte offset in the text where the problem is
  std::string message;

  // "offset 12: expected ':' after an object key".
  std::string ToString() const;
};

// Parses `text`, which must hold exactly one JSON value, optionally
// surrounded by whitespace. On failure returns false and fills *error (if
// not null); *out is then unspecified.
bool Parse(std::string_view text, Value* out, ParseError* error = nullptr,
           const ParseOptions& options = {});

// Like Parse but builds nothing: only decides whether `text` is valid.
bool Validate(std::string_view text, ParseError* error = nullptr,
              const ParseOptions& options = {});

// Whether `bytes` are one valid JSON value (whitespace around it allowed).
bool IsJson(std::string_view bytes);

// The four whitespace characters of RFC 8259.
constexpr bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
std::string_view TrimWhitespace(std::string_view text);

// Whether `bytes` are well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// Appends `s` as a quoted JSON string. Control characters are escaped;
// other valid UTF-8 is copied as is; each byte of invalid UTF-8 becomes
// U+FFFD, because JSON text can not carry arbitrary bytes (callers that must
// preserve bytes use base64).
void AppendQuoted(std::string_view s, std::string* out);
std::string Quote(std::string_view s);

// Compact serialisation of a parsed value (numbers keep their source text).
void AppendSerialized(const Value& value, std::string* out);
std::string Serialize(const Value& value);

// Removes the whitespace between the tokens of `valid_json` (which must
// have passed Validate), keeping strings untouched.
std::string Minify(std::string_view valid_json);

}  // namespace cairn::tools::json

#endif  // CAIRN_TOOLS_JSONL_JSON_H_
