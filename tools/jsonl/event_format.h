// Copyright (c) Cairn authors.
//
// The JSON Lines form of events, shared by `read --json`, `read-all
// --json`, `export` (writing) and `import` (reading), plus the human form of
// `read` and `read-all`. docs/cli.md describes the format for users.
//
// One line per event:
//   {"stream":"orders-1","revision":0,"position":0,"id":"<uuid>",
//    "type":"OrderPlaced","content_type":"json","data":{"total":5},
//    "metadata":null,"created":"2026-01-02T03:04:05.123456Z",
//    "created_us":1767323045123456}
// Events read from a category or event-type stream (`$ce-...`, `$et-...`)
// add "link_revision": their revision in that stream (import ignores it).
//
// data and metadata appear as JSON values when the event's content type is
// JSON and the bytes are JSON; otherwise as base64 strings, flagged by
// "data_encoding":"base64" / "metadata_encoding":"base64". A JSON value can
// not be empty, so empty bytes appear as null; bytes that are literally the
// JSON text `null` therefore go out as base64, keeping the mapping exact.
#ifndef CAIRN_TOOLS_JSONL_EVENT_FORMAT_H_
#define CAIRN_TOOLS_JSONL_EVENT_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/event.h"
#include "cairn/types.h"

namespace cairn::tools {

// "2026-01-02T03:04:05.123456Z" (ISO 8601, UTC, microseconds). Outside the
// years 0001..9999 (only seen in damaged data) "invalid-time(<us>)".
std::string FormatTimestamp(int64_t us_since_epoch);
void AppendTimestamp(int64_t us_since_epoch, std::string* out);

// How data/metadata that are JSON appear in a JSON line.
enum class PayloadStyle : uint8_t {
  // Byte-exact, for export: the bytes go out as a JSON value only when
  // `import` will store exactly the same bytes back, i.e. one JSON value
  // without surrounding whitespace or line breaks; anything else is base64.
  kExact,
  // Readable, for `read --json`: JSON with line breaks or surrounding
  // whitespace is minified rather than base64-encoded.
  kDisplay,
};

// Appends `"<name>":<bytes>` as a data/metadata field of a JSON line is
// written (JSON or base64, as above), plus `"<name>_encoding":"base64"`
// when the bytes went out as base64.
void AppendPayloadField(std::string_view name, std::string_view bytes,
                        ContentType content_type, PayloadStyle style,
                        std::string* out);

// "json" or "binary".
std::string_view ContentTypeName(ContentType type);

// The text form of a payload for humans: JSON as is (minified), other bytes
// as base64 with their size.
void AppendPayloadText(std::string_view bytes, ContentType content_type,
                       std::string* out);

// Appends one JSON line, '\n' included, describing `event`.
void AppendEventJsonLine(const RecordedEventView& event, PayloadStyle style,
                         std::string* out);

// Appends the human-readable form of `event` (a heading line, then data
// and metadata lines).
void AppendEventText(const RecordedEventView& event, std::string* out);

// One line of `cairn import` input, decoded.
struct EventLine {
  std::string stream;
  // Present when the line has an "expected" field.
  std::optional<ExpectedVersion> expected;
  // The revision export wrote (present when the line has one): import
  // uses it to recognise events already in the store.
  std::optional<uint64_t> revision;
  EventData event;
};

// Parses one JSON line of `cairn import` input. Required: stream, type,
// data. Optional: metadata, id, expected, revision (a number),
// content_type, data_encoding, metadata_encoding. The other fields export
// writes for information (position, created, created_us) are accepted and
// ignored; any other field, or a repeated one, is an error (a typo must
// not silently drop data).
// On failure returns false with a message (without the line number).
bool ParseEventLine(std::string_view line, EventLine* out, std::string* error);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_JSONL_EVENT_FORMAT_H_
