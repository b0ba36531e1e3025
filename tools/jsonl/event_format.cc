// Copyright (c) Cairn authors.
#include "tools/jsonl/event_format.h"

#include <charconv>
#include <chrono>
#include <utility>

#include "tools/jsonl/base64.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {

namespace {

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, ptr);
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, ptr);
}

// EventId::ToString without the temporary string.
void AppendId(const EventId& id, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto& bytes = id.bytes();
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out->push_back('-');
    out->push_back(kHex[bytes[i] >> 4]);
    out->push_back(kHex[bytes[i] & 0x0F]);
  }
}

bool HasLineBreak(std::string_view bytes) {
  return bytes.find_first_of("\r\n") != std::string_view::npos;
}

// Appends `bytes` as the value of a data/metadata field and returns whether
// it went out as base64.
bool AppendPayload(std::string_view bytes, ContentType content_type,
                   PayloadStyle style, std::string* out) {
  if (bytes.empty()) {
    out->append("null");
    return false;
  }
  if (content_type == ContentType::kJson && json::IsJson(bytes)) {
    bool exact = bytes != "null" && !HasLineBreak(bytes) &&
                 !json::IsWhitespace(bytes.front()) &&
                 !json::IsWhitespace(bytes.back());
    if (exact) {
      out->append(bytes);
      return false;
    }
    if (style == PayloadStyle::kDisplay) {
      std::string minified = json::Minify(bytes);
      if (minified != "null") {
        out->append(minified);
        return false;
      }
    }
  }
  out->push_back('"');
  Base64Encode(bytes, out);
  out->push_back('"');
  return true;
}

// Decodes a data/metadata field of an import line into bytes.
bool DecodePayloadField(const json::Value& value, const json::Value* encoding,
                        std::string_view name, std::string* out,
                        std::string* error) {
  bool base64 = false;
  if (encoding != nullptr) {
    if (!encoding->is_string() || (encoding->string_value() != "base64" &&
                                   encoding->string_value() != "json")) {
      *error = std::string(name) + "_encoding must be \"base64\" or \"json\"";
      return false;
    }
    base64 = encoding->string_value() == "base64";
  }
  if (base64) {
    if (!value.is_string()) {
      *error =
          std::string(name) + " must be a string when its encoding is base64";
      return false;
    }
    if (!Base64Decode(value.string_value(), out)) {
      *error = std::string(name) + " is not valid base64";
      return false;
    }
    return true;
  }
  // null stands for empty bytes (see the file comment in the header);
  // any other value is stored as its exact source text.
  if (!value.is_null()) out->assign(value.raw());
  return true;
}

}  // namespace

std::string_view ContentTypeName(ContentType type) {
  return type == ContentType::kJson ? "json" : "binary";
}

void AppendPayloadText(std::string_view bytes, ContentType content_type,
                       std::string* out) {
  if (bytes.empty()) {
    out->append("(empty)");
    return;
  }
  if (content_type == ContentType::kJson && json::IsJson(bytes)) {
    out->append(json::Minify(bytes));
    return;
  }
  out->append("(");
  AppendUint(bytes.size(), out);
  out->append(content_type == ContentType::kJson
                  ? " bytes, not valid JSON) base64:"
                  : " bytes, binary) base64:");
  Base64Encode(bytes, out);
}

void AppendPayloadField(std::string_view name, std::string_view bytes,
                        ContentType content_type, PayloadStyle style,
                        std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":");
  if (AppendPayload(bytes, content_type, style, out)) {
    out->append(",\"");
    out->append(name);
    out->append("_encoding\":\"base64\"");
  }
}

void AppendTimestamp(int64_t us, std::string* out) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
  constexpr int64_t kMin = -62135596800LL * 1000000;
  constexpr int64_t kMax = 253402300800LL * 1000000 - 1;
  if (us < kMin || us > kMax) {
    out->append("invalid-time(");
    AppendInt(us, out);
    out->push_back(')');
    return;
  }
  using std::chrono::days;
  using std::chrono::microseconds;
  std::chrono::sys_time<microseconds> tp{microseconds{us}};
  auto day = std::chrono::floor<days>(tp);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss<microseconds> hms{tp - day};
  // Digits by hand: export formats a timestamp per event, and snprintf
  // showed up in its profile.
  auto digits = [out](uint64_t v, int width) {
    char buf[8];
    for (int i = width - 1; i >= 0; --i) {
      buf[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    out->append(buf, static_cast<size_t>(width));
  };
  digits(static_cast<uint64_t>(static_cast<int>(ymd.year())), 4);
  out->push_back('-');
  digits(static_cast<unsigned>(ymd.month()), 2);
  out->push_back('-');
  digits(static_cast<unsigned>(ymd.day()), 2);
  out->push_back('T');
  digits(static_cast<uint64_t>(hms.hours().count()), 2);
  out->push_back(':');
  digits(static_cast<uint64_t>(hms.minutes().count()), 2);
  out->push_back(':');
  digits(static_cast<uint64_t>(hms.seconds().count()), 2);
  out->push_back('.');
  digits(static_cast<uint64_t>(hms.subseconds().count()), 6);
  out->push_back('Z');
}

std::string FormatTimestamp(int64_t us) {
  std::string out;
  AppendTimestamp(us, &out);
  return out;
}

void AppendEventJsonLine(const RecordedEventView& event, PayloadStyle style,
                         std::string* out) {
  out->append("{\"stream\":");
  json::AppendQuoted(event.stream, out);
  out->append(",\"revision\":");
  AppendUint(event.revision.value(), out);
  out->append(",\"position\":");
  AppendUint(event.position.value(), out);
  out->append(",\"id\":\"");
  AppendId(event.id, out);
  out->append("\",\"type\":");
  json::AppendQuoted(event.type, out);
  out->append(",\"content_type\":\"");
  out->append(ContentTypeName(event.content_type));
  out->append("\",");
  AppendPayloadField("data", event.data, event.content_type, style, out);
  out->push_back(',');
  AppendPayloadField("metadata", event.metadata, event.content_type, style,
                     out);
  out->append(",\"created\":\"");
  AppendTimestamp(event.created_us, out);
  out->append("\",\"created_us\":");
  AppendInt(event.created_us, out);
  if (event.link_revision) {
    out->append(",\"link_revision\":");
    AppendUint(event.link_revision->value(), out);
  }
  out->append("}\n");
}

void AppendEventText(const RecordedEventView& event, std::string* out) {
  if (event.link_revision) {
    // An event of a category or type stream: its place there, then the
    // original event.
    AppendUint(event.link_revision->value(), out);
    out->append(" -> ");
  }
  out->append(event.stream);
  out->push_back('@');
  AppendUint(event.revision.value(), out);
  out->append("  position ");
  AppendUint(event.position.value(), out);
  out->append("  ");
  out->append(event.type);
  out->append("  ");
  out->append(FormatTimestamp(event.created_us));
  out->append("  id ");
  out->append(event.id.ToString());
  out->append("\n  data: ");
  AppendPayloadText(event.data, event.content_type, out);
  out->push_back('\n');
  if (!event.metadata.empty()) {
    out->append("  metadata: ");
    AppendPayloadText(event.metadata, event.content_type, out);
    out->push_back('\n');
  }
}

bool ParseEventLine(std::string_view line, EventLine* out, std::string* error) {
  json::Value root;
  json::ParseError parse_error;
  // Only the line's own fields are needed as values; data and metadata are
  // stored as their raw text, so their insides are only validated.
  json::ParseOptions options;
  options.max_built_depth = 1;
  if (!json::Parse(line, &root, &parse_error, options)) {
    *error = "invalid JSON at byte " + std::to_string(parse_error.offset) +
             ": " + parse_error.message;
    return false;
  }
  if (!root.is_object()) {
    *error = "expected a JSON object";
    return false;
  }
  const json::Value* stream = nullptr;
  const json::Value* type = nullptr;
  const json::Value* data = nullptr;
  const json::Value* metadata = nullptr;
  const json::Value* id = nullptr;
  const json::Value* expected = nullptr;
  const json::Value* revision = nullptr;
  const json::Value* content_type = nullptr;
  const json::Value* data_encoding = nullptr;
  const json::Value* metadata_encoding = nullptr;
  for (const json::Member& m : root.members()) {
    const json::Value** slot = nullptr;
    if (m.key == "stream") {
      slot = &stream;
    } else if (m.key == "type") {
      slot = &type;
    } else if (m.key == "data") {
      slot = &data;
    } else if (m.key == "metadata") {
      slot = &metadata;
    } else if (m.key == "id") {
      slot = &id;
    } else if (m.key == "expected") {
      slot = &expected;
    } else if (m.key == "content_type") {
      slot = &content_type;
    } else if (m.key == "data_encoding") {
      slot = &data_encoding;
    } else if (m.key == "metadata_encoding") {
      slot = &metadata_encoding;
    } else if (m.key == "revision") {
      slot = &revision;
    } else if (m.key == "position" || m.key == "created" ||
               m.key == "created_us") {
      continue;  // informational fields written by export
    } else {
      *error = "unknown field " + json::Quote(m.key);
      return false;
    }
    if (*slot != nullptr) {
      *error = "field " + json::Quote(m.key) + " appears twice";
      return false;
    }
    *slot = &m.value;
  }
  if (stream == nullptr || !stream->is_string()) {
    *error = stream == nullptr ? "missing field \"stream\""
                               : "\"stream\" must be a string";
    return false;
  }
  if (type == nullptr || !type->is_string()) {
    *error = type == nullptr ? "missing field \"type\""
                             : "\"type\" must be a string";
    return false;
  }
  if (data == nullptr) {
    *error = "missing field \"data\"";
    return false;
  }
  EventLine line_out;
  line_out.stream = stream->string_value();
  line_out.event.type = type->string_value();
  if (!DecodePayloadField(*data, data_encoding, "data", &line_out.event.data,
                          error)) {
    return false;
  }
  if (metadata != nullptr) {
    if (!DecodePayloadField(*metadata, metadata_encoding, "metadata",
                            &line_out.event.metadata, error)) {
      return false;
    }
  } else if (metadata_encoding != nullptr) {
    *error = "metadata_encoding without metadata";
    return false;
  }
  if (content_type != nullptr) {
    if (!content_type->is_string() ||
        (content_type->string_value() != "json" &&
         content_type->string_value() != "binary")) {
      *error = "content_type must be \"json\" or \"binary\"";
      return false;
    }
    line_out.event.content_type = content_type->string_value() == "json"
                                      ? ContentType::kJson
                                      : ContentType::kBinary;
  } else {
    bool base64 = data_encoding != nullptr && data_encoding->is_string() &&
                  data_encoding->string_value() == "base64";
    line_out.event.content_type =
        base64 ? ContentType::kBinary : ContentType::kJson;
  }
  if (id != nullptr) {
    std::optional<EventId> parsed;
    if (id->is_string()) parsed = EventId::Parse(id->string_value());
    if (!parsed) {
      *error = "\"id\" must be a UUID string (8-4-4-4-12 hex digits)";
      return false;
    }
    line_out.event.id = *parsed;
  }
  if (expected != nullptr) {
    std::optional<ExpectedVersion> parsed;
    if (expected->is_string()) {
      parsed = ExpectedVersion::Parse(expected->string_value());
    } else if (auto revision = expected->AsUint64()) {
      parsed = ExpectedVersion::Exact(*revision);
    }
    if (!parsed) {
      *error =
          "\"expected\" must be \"any\", \"no-stream\", \"exists\" or a "
          "revision number";
      return false;
    }
    line_out.expected = parsed;
  }
  if (revision != nullptr) {
    line_out.revision = revision->AsUint64();
    if (!line_out.revision) {
      *error = "\"revision\" must be a revision number";
      return false;
    }
  }
  *out = std::move(line_out);
  return true;
}

}  // namespace cairn::tools
