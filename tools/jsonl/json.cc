// Copyright (c) Cairn authors.
#include "tools/jsonl/json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

namespace cairn::tools::json {

namespace {

// Length of the well-formed UTF-8 sequence starting at p (1..4), or 0 if
// the bytes there are not one. Follows the table of well-formed byte
// sequences in Unicode 15, section 3.9 (rejects overlongs and surrogates).
size_t Utf8SequenceLength(const unsigned char* p, size_t available) {
  unsigned char c0 = p[0];
  if (c0 < 0x80) return 1;
  auto cont = [](unsigned char c, unsigned char lo = 0x80,
                 unsigned char hi = 0xBF) { return c >= lo && c <= hi; };
  if (c0 < 0xC2) return 0;  // stray continuation byte or overlong 2-byte
  if (c0 < 0xE0) return available >= 2 && cont(p[1]) ? 2 : 0;
  if (c0 < 0xF0) {
    if (available < 3) return 0;
    unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = c0 == 0xED ? 0x9F : 0xBF;
    return cont(p[1], lo, hi) && cont(p[2]) ? 3 : 0;
  }
  if (c0 < 0xF5) {
    if (available < 4) return 0;
    unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c0 == 0xF4 ? 0x8F : 0xBF;
    return cont(p[1], lo, hi) && cont(p[2]) && cont(p[3]) ? 4 : 0;
  }
  return 0;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The length of the run of plain string characters at the start of
// [p, end): printable ASCII other than '"' and '\\', which a string copies as
// they are. Eight bytes at a time while whole words are plain (bit tricks
// on a 64-bit word: a byte below 0x20, with the high bit set, or equal to
// one of the two ends the run), then byte by byte.
size_t PlainRun(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const char* start = p;
  while (end - p >= 8) {
    uint64_t w = 0;
    std::memcpy(&w, p, sizeof(w));
    const uint64_t quote = w ^ (kOnes * '"');
    const uint64_t backslash = w ^ (kOnes * '\\');
    const uint64_t special =
        ((w - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes) | w) &
        kHigh;
    // A byte with the high bit set is either non-ASCII (w) or, in a
    // subtraction, one that was below the subtrahend; the subtractions
    // can borrow into the next byte only from a byte that is itself
    // flagged, so a word with no flag is all plain.
    if (special != 0) break;
    p += 8;
  }
  while (p < end) {
    auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    ++p;
  }
  return static_cast<size_t>(p - start);
}

// How a byte is shown in an error message: 'x' when printable, else hex.
std::string DescribeByte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
}

}  // namespace

// Recursive descent over `text_`. With a null output pointer it only
// validates, so IsJson allocates nothing. Recursion depth is bounded by
// options.max_depth, checked before descending.
class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options)
      : text_(text),
        max_depth_(options.max_depth),
        max_built_depth_(options.max_built_depth) {}

  bool Run(Value* out, ParseError* error) {
    SkipWhitespace();
    bool ok = ParseValue(out, 0);
    if (ok) {
      SkipWhitespace();
      if (pos_ < text_.size()) {
        ok = Fail(pos_, "unexpected " + DescribeByte(text_[pos_]) +
                            " after the JSON value");
      }
    }
    if (!ok && error != nullptr) *error = std::move(error_);
    return ok;
  }

 private:
  bool Fail(size_t offset, std::string message) {
    error_.offset = offset;
    error_.message = std::move(message);
    return false;
  }

  bool AtEnd() const { return pos_ >= text_.size(); }

  void SkipWhitespace() {
    while (pos_ < text_.size() && IsWhitespace(text_[pos_])) ++pos_;
  }

  bool ParseValue(Value* out, int depth) {
    if (AtEnd()) return Fail(pos_, "unexpected end of input, expected a value");
    size_t start = pos_;
    bool ok = false;
    switch (text_[pos_]) {
      case '{':
        ok = ParseObject(out, depth);
        break;
      case '[':
        ok = ParseArray(out, depth);
        break;
      case '"':
        if (out != nullptr) out->type_ = Type::kString;
        ok = ParseString(out != nullptr ? &out->string_ : nullptr);
        break;
      case 't':
        ok = ParseLiteral("true");
        if (out != nullptr) {
          out->type_ = Type::kBool;
          out->bool_ = true;
        }
        break;
      case 'f':
        ok = ParseLiteral("false");
        if (out != nullptr) out->type_ = Type::kBool;
        break;
      case 'n':
        ok = ParseLiteral("null");
        if (out != nullptr) out->type_ = Type::kNull;
        break;
      default:
        if (text_[pos_] == '-' || IsDigit(text_[pos_])) {
          ok = ParseNumber();
          if (out != nullptr) out->type_ = Type::kNumber;
        } else {
          return Fail(pos_, "unexpected " + DescribeByte(text_[pos_]) +
                                ", expected a value");
        }
    }
    if (ok && out != nullptr) out->raw_ = text_.substr(start, pos_ - start);
    return ok;
  }

  bool EnterContainer(int depth) {
    if (depth + 1 > max_depth_) {
      return Fail(pos_, "nesting deeper than " + std::to_string(max_depth_) +
                            " levels");
    }
    return true;
  }

  bool ParseObject(Value* out, int depth) {
    if (!EnterContainer(depth)) return false;
    if (out != nullptr) out->type_ = Type::kObject;
    ++pos_;  // '{'
    SkipWhitespace();
    if (!AtEnd() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      if (AtEnd()) return Fail(pos_, "unexpected end of input in an object");
      if (text_[pos_] != '"') {
        return Fail(pos_, "unexpected " + DescribeByte(text_[pos_]) +
                              ", expected a string key");
      }
      Member* member = nullptr;
      if (out != nullptr && depth < max_built_depth_) {
        member = &out->members_.emplace_back();
      }
      if (!ParseString(member != nullptr ? &member->key : nullptr)) {
        return false;
      }
      SkipWhitespace();
      if (AtEnd()) return Fail(pos_, "unexpected end of input in an object");
      if (text_[pos_] != ':') {
        return Fail(pos_, "unexpected " + DescribeByte(text_[pos_]) +
                              ", expected ':' after an object key");
      }
      ++pos_;
      SkipWhitespace();
      if (!ParseValue(member != nullptr ? &member->value : nullptr,
                      depth + 1)) {
        return false;
      }
      SkipWhitespace();
      if (AtEnd()) return Fail(pos_, "unexpected end of input in an object");
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (text_[pos_] != ',') {
        return Fail(pos_, "unexpected " + DescribeByte(text_[pos_]) +
                              ", expected ',' or '}' in an object");
      }
      ++pos_;
      SkipWhitespace();
    }
  }

  bool ParseArray(Value* out, int depth) {
    if (!EnterContainer(depth)) return false;
    if (out != nullptr) out->type_ = Type::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (!AtEnd() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      Value* item = nullptr;
      if (out != nullptr && depth < max_built_depth_) {
        item = &out->items_.emplace_back();
      }
      if (!ParseValue(item, depth + 1)) return false;
      SkipWhitespace();
      if (AtEnd()) return Fail(pos_, "unexpected end of input in an array");
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      if (text_[pos_] != ',') {
        return Fail(pos_, "unexpected " + DescribeByte(text_[pos_]) +
                              ", expected ',' or ']' in an array");
      }
      ++pos_;
      SkipWhitespace();
    }
  }

  // Reads four hex digits at pos_ (after "\u").
  bool ParseHex4(uint32_t* value) {
    if (text_.size() - pos_ < 4) {
      return Fail(pos_, "unexpected end of input in a \\u escape");
    }
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
      int d = HexDigit(text_[pos_ + i]);
      if (d < 0) {
        return Fail(pos_ + i, "unexpected " + DescribeByte(text_[pos_ + i]) +
                                  " in a \\u escape, expected a hex digit");
      }
      v = v << 4 | static_cast<uint32_t>(d);
    }
    pos_ += 4;
    *value = v;
    return true;
  }

  // pos_ is at a backslash.
  bool ParseEscape(std::string* out) {
    size_t escape_start = pos_;
    ++pos_;
    if (AtEnd()) return Fail(pos_, "unexpected end of input in an escape");
    char e = text_[pos_++];
    char decoded = 0;
    switch (e) {
      case '"':
        decoded = '"';
        break;
      case '\\':
        decoded = '\\';
        break;
      case '/':
        decoded = '/';
        break;
      case 'b':
        decoded = '\b';
        break;
      case 'f':
        decoded = '\f';
        break;
      case 'n':
        decoded = '\n';
        break;
      case 'r':
        decoded = '\r';
        break;
      case 't':
        decoded = '\t';
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!ParseHex4(&cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return Fail(escape_start, "unpaired low surrogate in a \\u escape");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (text_.size() - pos_ < 2 || text_[pos_] != '\\' ||
              text_[pos_ + 1] != 'u') {
            return Fail(escape_start,
                        "high surrogate \\u escape not followed by a low "
                        "surrogate escape");
          }
          size_t low_start = pos_;
          pos_ += 2;
          uint32_t low = 0;
          if (!ParseHex4(&low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) {
            return Fail(low_start,
                        "high surrogate \\u escape not followed by a low "
                        "surrogate escape");
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (out != nullptr) AppendUtf8(cp, out);
        return true;
      }
      default:
        return Fail(escape_start,
                    "invalid escape \\" + std::string(1, e) +
                        (static_cast<unsigned char>(e) < 0x20 ||
                                 static_cast<unsigned char>(e) >= 0x7F
                             ? " (" + DescribeByte(e) + ")"
                             : ""));
    }
    if (out != nullptr) out->push_back(decoded);
    return true;
  }

  // pos_ is at the opening quote. Copies runs of plain characters in one go.
  bool ParseString(std::string* out) {
    size_t open = pos_;
    ++pos_;
    size_t run = pos_;
    auto flush = [&] {
      if (out != nullptr) out->append(text_.data() + run, pos_ - run);
    };
    while (true) {
      pos_ += PlainRun(text_.data() + pos_, text_.data() + text_.size());
      if (AtEnd()) return Fail(open, "unterminated string");
      auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        flush();
        ++pos_;
        return true;
      }
      if (c == '\\') {
        flush();
        if (!ParseEscape(out)) return false;
        run = pos_;
        continue;
      }
      if (c < 0x20) {
        return Fail(pos_, "unescaped control character (" +
                              DescribeByte(text_[pos_]) + ") in a string");
      }
      if (c < 0x80) {
        ++pos_;
        continue;
      }
      size_t n = Utf8SequenceLength(
          reinterpret_cast<const unsigned char*>(text_.data()) + pos_,
          text_.size() - pos_);
      if (n == 0) {
        return Fail(pos_, "invalid UTF-8 (" + DescribeByte(text_[pos_]) +
                              ") in a string");
      }
      pos_ += n;
    }
  }

  bool ConsumeDigits() {
    if (AtEnd() || !IsDigit(text_[pos_])) {
      return Fail(pos_, AtEnd() ? std::string("unexpected end of input in a "
                                              "number, expected a digit")
                                : "unexpected " + DescribeByte(text_[pos_]) +
                                      " in a number, expected a digit");
    }
    while (!AtEnd() && IsDigit(text_[pos_])) ++pos_;
    return true;
  }

  bool ParseNumber() {
    if (text_[pos_] == '-') ++pos_;
    if (!AtEnd() && text_[pos_] == '0') {
      ++pos_;
      if (!AtEnd() && IsDigit(text_[pos_])) {
        return Fail(pos_ - 1, "leading zeros are not allowed in a number");
      }
    } else if (!ConsumeDigits()) {
      return false;
    }
    if (!AtEnd() && text_[pos_] == '.') {
      ++pos_;
      if (!ConsumeDigits()) return false;
    }
    if (!AtEnd() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!AtEnd() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!ConsumeDigits()) return false;
    }
    return true;
  }

  bool ParseLiteral(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) {
      return Fail(pos_,
                  "invalid literal, expected '" + std::string(word) + "'");
    }
    pos_ += word.size();
    return true;
  }

  std::string_view text_;
  int max_depth_;
  int max_built_depth_;
  size_t pos_ = 0;
  ParseError error_;
};

const Value* Value::Find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

std::optional<uint64_t> Value::AsUint64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  uint64_t v = 0;
  const char* end = raw_.data() + raw_.size();
  auto [ptr, ec] = std::from_chars(raw_.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<int64_t> Value::AsInt64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  int64_t v = 0;
  const char* end = raw_.data() + raw_.size();
  auto [ptr, ec] = std::from_chars(raw_.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<double> Value::AsDouble() const {
  if (type_ != Type::kNumber) return std::nullopt;
  double v = 0;
  const char* end = raw_.data() + raw_.size();
  auto [ptr, ec] = std::from_chars(raw_.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::string ParseError::ToString() const {
  return "offset " + std::to_string(offset) + ": " + message;
}

bool Parse(std::string_view text, Value* out, ParseError* error,
           const ParseOptions& options) {
  *out = Value();
  return Parser(text, options).Run(out, error);
}

bool Validate(std::string_view text, ParseError* error,
              const ParseOptions& options) {
  return Parser(text, options).Run(nullptr, error);
}

bool IsJson(std::string_view bytes) { return Validate(bytes); }

std::string_view TrimWhitespace(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && IsWhitespace(text[begin])) ++begin;
  while (end > begin && IsWhitespace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

bool IsValidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  while (i < bytes.size()) {
    size_t n = Utf8SequenceLength(p + i, bytes.size() - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void AppendQuoted(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  out->push_back('"');
  size_t run = 0;
  size_t i = 0;
  while (i < s.size()) {
    i += PlainRun(s.data() + i, s.data() + s.size());
    if (i == s.size()) break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(p + i, s.size() - i);
      if (n != 0) {
        i += n;
        continue;
      }
    }
    out->append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->append("\xEF\xBF\xBD");  // U+FFFD for an invalid byte
        }
    }
    ++i;
    run = i;
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendQuoted(s, &out);
  return out;
}

void AppendSerialized(const Value& value, std::string* out) {
  switch (value.type()) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(value.bool_value() ? "true" : "false");
      break;
    case Type::kNumber:
      out->append(value.raw());
      break;
    case Type::kString:
      AppendQuoted(value.string_value(), out);
      break;
    case Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : value.items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendSerialized(item, out);
      }
      out->push_back(']');
      break;
    }
    case Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Member& m : value.members()) {
        if (!first) out->push_back(',');
        first = false;
        AppendQuoted(m.key, out);
        out->push_back(':');
        AppendSerialized(m.value, out);
      }
      out->push_back('}');
      break;
    }
  }
}

std::string Serialize(const Value& value) {
  std::string out;
  AppendSerialized(value, &out);
  return out;
}

std::string Minify(std::string_view valid_json) {
  std::string out;
  out.reserve(valid_json.size());
  size_t i = 0;
  while (i < valid_json.size()) {
    char c = valid_json[i];
    if (IsWhitespace(c)) {
      ++i;
      continue;
    }
    if (c != '"') {
      out.push_back(c);
      ++i;
      continue;
    }
    // Copy the string verbatim up to its unescaped closing quote.
    size_t start = i++;
    while (i < valid_json.size() && valid_json[i] != '"') {
      i += valid_json[i] == '\\' ? 2 : 1;
    }
    i = i < valid_json.size() ? i + 1 : valid_json.size();
    out.append(valid_json.substr(start, i - start));
  }
  return out;
}

}  // namespace cairn::tools::json
