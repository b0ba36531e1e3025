// Copyright (c) Cairn authors.
#include "tools/jsonl/event_format.h"

#include <gtest/gtest.h>

#include <string>

#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

RecordedEvent SampleEvent() {
  RecordedEvent e;
  e.stream = "orders-1";
  e.revision = StreamRevision(3);
  e.position = GlobalPosition(42);
  e.id = *EventId::Parse("0123abcd-0000-4000-8000-00000000beef");
  e.type = "OrderPlaced";
  e.data = R"({"total":5})";
  e.metadata = R"({"user":"ann"})";
  e.content_type = ContentType::kJson;
  e.created_us = 1767323045123456;  // 2026-01-02T03:04:05.123456Z
  return e;
}

std::string JsonLine(const RecordedEvent& e,
                     PayloadStyle style = PayloadStyle::kExact) {
  std::string out;
  AppendEventJsonLine(e.View(), style, &out);
  return out;
}

TEST(EventFormatTest, FormatTimestamp) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(1767323045123456), "2026-01-02T03:04:05.123456Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(951782400000000), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(253402300799999999), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(INT64_MAX).rfind("invalid-time", 0), 0u);
  EXPECT_EQ(FormatTimestamp(INT64_MIN).rfind("invalid-time", 0), 0u);
}

TEST(EventFormatTest, JsonLineWithJsonPayload) {
  EXPECT_EQ(JsonLine(SampleEvent()),
            R"({"stream":"orders-1","revision":3,"position":42,)"
            R"("id":"0123abcd-0000-4000-8000-00000000beef",)"
            R"("type":"OrderPlaced","content_type":"json",)"
            R"("data":{"total":5},"metadata":{"user":"ann"},)"
            R"("created":"2026-01-02T03:04:05.123456Z",)"
            R"("created_us":1767323045123456})"
            "\n");
}

TEST(EventFormatTest, EmptyPayloadIsNull) {
  RecordedEvent e = SampleEvent();
  e.metadata.clear();
  std::string line = JsonLine(e);
  EXPECT_NE(line.find(R"("metadata":null,"created")"), std::string::npos);
  EXPECT_EQ(line.find("metadata_encoding"), std::string::npos);
}

TEST(EventFormatTest, BinaryAndNonJsonPayloadsAreBase64) {
  RecordedEvent e = SampleEvent();
  e.content_type = ContentType::kBinary;
  e.data = std::string("\x00\xFF", 2);
  e.metadata = "{}";  // JSON bytes, but the content type says binary
  std::string line = JsonLine(e);
  EXPECT_NE(line.find(R"("content_type":"binary")"), std::string::npos);
  EXPECT_NE(line.find(R"("data":"AP8=","data_encoding":"base64")"),
            std::string::npos);
  EXPECT_NE(line.find(R"("metadata":"e30=","metadata_encoding":"base64")"),
            std::string::npos);

  e.content_type = ContentType::kJson;
  e.data = "{not json";
  line = JsonLine(e);
  EXPECT_NE(line.find(R"("data":"e25vdCBqc29u","data_encoding":"base64")"),
            std::string::npos);
  EXPECT_NE(line.find(R"("metadata":{})"), std::string::npos);
}

TEST(EventFormatTest, ExactStyleKeepsBytesDisplayStyleMinifies) {
  RecordedEvent e = SampleEvent();
  e.data = "{\n  \"a\": 1\n}\n";
  std::string exact = JsonLine(e, PayloadStyle::kExact);
  EXPECT_NE(exact.find("\"data_encoding\":\"base64\""), std::string::npos);
  std::string display = JsonLine(e, PayloadStyle::kDisplay);
  EXPECT_NE(display.find(R"("data":{"a":1},)"), std::string::npos);
  EXPECT_EQ(display.find("data_encoding"), std::string::npos);
  // The literal JSON text null can not be shown as null (that means empty).
  e.data = "null";
  EXPECT_NE(JsonLine(e).find(R"("data":"bnVsbA==","data_encoding":"base64")"),
            std::string::npos);
}

TEST(EventFormatTest, EveryLineIsOneJsonObject) {
  RecordedEvent e = SampleEvent();
  e.stream = "weird \"stream\"\n\x01\xFF";
  e.type = "T\t";
  e.data = "[1,\n2]";
  std::string line = JsonLine(e, PayloadStyle::kDisplay);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  json::Value value;
  ASSERT_TRUE(json::Parse(line, &value));
  EXPECT_EQ(value.Find("type")->string_value(), "T\t");
}

TEST(EventFormatTest, TextForm) {
  std::string out;
  AppendEventText(SampleEvent().View(), &out);
  EXPECT_EQ(out,
            "orders-1@3  position 42  OrderPlaced  "
            "2026-01-02T03:04:05.123456Z  id "
            "0123abcd-0000-4000-8000-00000000beef\n"
            "  data: {\"total\":5}\n"
            "  metadata: {\"user\":\"ann\"}\n");
  RecordedEvent e = SampleEvent();
  e.content_type = ContentType::kBinary;
  e.data = "hi";
  e.metadata.clear();
  out.clear();
  AppendEventText(e.View(), &out);
  EXPECT_NE(out.find("  data: (2 bytes, binary) base64:aGk=\n"),
            std::string::npos);
  EXPECT_EQ(out.find("metadata"), std::string::npos);
}

TEST(EventFormatTest, ParseEventLineMinimal) {
  EventLine line;
  std::string error;
  ASSERT_TRUE(ParseEventLine(
      R"({"stream":"s","type":"T","data": {"a" : [1, 2]} })", &line, &error))
      << error;
  EXPECT_EQ(line.stream, "s");
  EXPECT_EQ(line.event.type, "T");
  EXPECT_EQ(line.event.data, R"({"a" : [1, 2]})");  // exact source text
  EXPECT_EQ(line.event.metadata, "");
  EXPECT_EQ(line.event.content_type, ContentType::kJson);
  EXPECT_TRUE(line.event.id.IsNil());
  EXPECT_FALSE(line.expected.has_value());
}

TEST(EventFormatTest, ParseEventLineAllFields) {
  EventLine line;
  std::string error;
  ASSERT_TRUE(ParseEventLine(
      R"({"stream":"s","type":"T","data":"AP8=","data_encoding":"base64",)"
      R"("metadata":"x","id":"0123abcd-0000-4000-8000-00000000beef",)"
      R"("expected":"no-stream","revision":0,"position":7,)"
      R"("created":"...","created_us":1})",
      &line, &error))
      << error;
  EXPECT_EQ(line.event.data, std::string("\x00\xFF", 2));
  EXPECT_EQ(line.event.metadata, "\"x\"");
  EXPECT_EQ(line.event.content_type, ContentType::kBinary);
  EXPECT_EQ(line.event.id.ToString(), "0123abcd-0000-4000-8000-00000000beef");
  EXPECT_EQ(line.expected, ExpectedVersion::NoStream());
  EXPECT_EQ(line.revision, std::optional<uint64_t>(0));

  ASSERT_TRUE(ParseEventLine(
      R"({"stream":"s","type":"T","data":null,"expected":5})", &line, &error));
  EXPECT_EQ(line.event.data, "");
  EXPECT_EQ(line.expected, ExpectedVersion::Exact(5));
  EXPECT_FALSE(line.revision.has_value());
  ASSERT_TRUE(ParseEventLine(
      R"({"stream":"s","type":"T","data":"e30=","data_encoding":"base64",)"
      R"("content_type":"json"})",
      &line, &error));
  EXPECT_EQ(line.event.data, "{}");
  EXPECT_EQ(line.event.content_type, ContentType::kJson);
}

TEST(EventFormatTest, ParseEventLineErrors) {
  struct Case {
    const char* line;
    const char* error;
  };
  const Case cases[] = {
      {R"({"stream":"s","type":"T"})", "missing field \"data\""},
      {R"({"type":"T","data":1})", "missing field \"stream\""},
      {R"({"stream":"s","data":1})", "missing field \"type\""},
      {R"({"stream":1,"type":"T","data":1})", "\"stream\" must be a string"},
      {R"({"stream":"s","type":"T","data":1,"dta":2})",
       "unknown field \"dta\""},
      {R"({"stream":"s","stream":"t","type":"T","data":1})", "appears twice"},
      {R"({"stream":"s","type":"T","data":"%%","data_encoding":"base64"})",
       "data is not valid base64"},
      {R"({"stream":"s","type":"T","data":1,"data_encoding":"hex"})",
       "data_encoding must be"},
      {R"({"stream":"s","type":"T","data":1,"id":"nope"})", "\"id\" must be"},
      {R"({"stream":"s","type":"T","data":1,"expected":-1})",
       "\"expected\" must be"},
      {R"({"stream":"s","type":"T","data":1,"expected":"maybe"})",
       "\"expected\" must be"},
      {R"({"stream":"s","type":"T","data":1,"revision":"3"})",
       "\"revision\" must be a revision number"},
      {R"({"stream":"s","type":"T","data":1,"revision":-1})",
       "\"revision\" must be a revision number"},
      {R"({"stream":"s","type":"T","data":1,"content_type":"xml"})",
       "content_type must be"},
      {R"([1])", "expected a JSON object"},
      {R"({"stream":"s",)", "invalid JSON at byte 14"},
  };
  for (const Case& c : cases) {
    EventLine line;
    std::string error;
    EXPECT_FALSE(ParseEventLine(c.line, &line, &error)) << c.line;
    EXPECT_NE(error.find(c.error), std::string::npos)
        << c.line << " gave: " << error;
  }
}

TEST(EventFormatTest, ExactLineParsesBackToTheSameEvent) {
  const std::string payloads[] = {
      R"({"a":1})", "",    "null", " 1", "[1,\n2]", std::string("\0\x01", 2),
      "\"s\"",      "{bad"};
  for (ContentType type : {ContentType::kJson, ContentType::kBinary}) {
    for (const std::string& data : payloads) {
      RecordedEvent e = SampleEvent();
      e.content_type = type;
      e.data = data;
      e.metadata = data;
      std::string line = JsonLine(e);
      EventLine parsed;
      std::string error;
      ASSERT_TRUE(ParseEventLine(line, &parsed, &error)) << line << error;
      EXPECT_EQ(parsed.stream, e.stream);
      EXPECT_EQ(parsed.event.type, e.type);
      EXPECT_EQ(parsed.event.id, e.id);
      EXPECT_EQ(parsed.event.data, e.data) << line;
      EXPECT_EQ(parsed.event.metadata, e.metadata) << line;
      EXPECT_EQ(parsed.event.content_type, e.content_type) << line;
    }
  }
}

}  // namespace
}  // namespace cairn::tools
