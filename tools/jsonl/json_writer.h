// Copyright (c) Cairn authors.
//
// The one JSON writer of the tools: builds JSON text member by member,
// inserting the commas, for the reports of `cairn bench`, the JSON Lines of
// `cairn dump` and the objects of `cairn index stats`. Empty keys are for
// array items.
#ifndef CAIRN_TOOLS_JSONL_JSON_WRITER_H_
#define CAIRN_TOOLS_JSONL_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "tools/jsonl/json.h"

namespace cairn::tools::json {

class Writer {
 public:
  void BeginObject(std::string_view key = {}) { Open(key, '{'); }
  void EndObject() { Close('}'); }
  void BeginArray(std::string_view key = {}) { Open(key, '['); }
  void EndArray() { Close(']'); }

  void String(std::string_view key, std::string_view value) {
    Key(key);
    json::AppendQuoted(value, &out_);
  }
  void Uint(std::string_view key, uint64_t value) {
    Key(key);
    out_ += std::to_string(value);
  }
  void Int(std::string_view key, int64_t value) {
    Key(key);
    out_ += std::to_string(value);
  }
  // Three decimals, or three significant digits below 0.1; null if not
  // finite.
  void Number(std::string_view key, double value);
  void Bool(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
  }
  void Null(std::string_view key) {
    Key(key);
    out_ += "null";
  }

  std::string Take() { return std::move(out_); }

 private:
  void Key(std::string_view key) {
    if (need_comma_) out_ += ',';
    need_comma_ = true;
    if (!key.empty()) {
      json::AppendQuoted(key, &out_);
      out_ += ':';
    }
  }
  void Open(std::string_view key, char bracket) {
    Key(key);
    out_ += bracket;
    need_comma_ = false;
  }
  void Close(char bracket) {
    out_ += bracket;
    need_comma_ = true;
  }

  std::string out_;
  bool need_comma_ = false;
};

// One object on a line of its own ("{...}\n"), appended to `out` when it
// goes out of scope; the setters chain.
class LineWriter {
 public:
  explicit LineWriter(std::string* out) : out_(out) { writer_.BeginObject(); }
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;
  ~LineWriter() {
    writer_.EndObject();
    out_->append(writer_.Take()).push_back('\n');
  }

  LineWriter& U(std::string_view key, uint64_t value) {
    writer_.Uint(key, value);
    return *this;
  }
  LineWriter& I(std::string_view key, int64_t value) {
    writer_.Int(key, value);
    return *this;
  }
  LineWriter& S(std::string_view key, std::string_view value) {
    writer_.String(key, value);
    return *this;
  }
  LineWriter& B(std::string_view key, bool value) {
    writer_.Bool(key, value);
    return *this;
  }

 private:
  std::string* out_;
  Writer writer_;
};

}  // namespace cairn::tools::json

#endif  // CAIRN_TOOLS_JSONL_JSON_WRITER_H_
