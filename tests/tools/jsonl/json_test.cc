// Copyright (c) Cairn authors.
#include "tools/jsonl/json.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace cairn::tools::json {
namespace {

TEST(JsonTest, AcceptsValidCorpus) {
  const char* valid[] = {
      "null",
      "true",
      "false",
      "0",
      "-0",
      "1",
      "-12",
      "3.25",
      "1e10",
      "1E+2",
      "-1.5e-3",
      "123456789012345678901234567890",
      "\"\"",
      "\"abc\"",
      "[]",
      "{}",
      "[1,2,3]",
      "[[],[[]],{}]",
      "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
      " \t\r\n{ \"a\" : [ 1 , 2 ] } \n",
      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
      "\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"",
      "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",
      "{\"a\":1,\"a\":2}",  // RFC 8259 permits duplicate names
  };
  for (const char* text : valid) {
    ParseError error;
    EXPECT_TRUE(Validate(text, &error)) << text << ": " << error.ToString();
    Value value;
    EXPECT_TRUE(Parse(text, &value, &error)) << text;
    EXPECT_TRUE(IsJson(text)) << text;
  }
}

TEST(JsonTest, RejectsInvalidCorpus) {
  const std::string_view invalid[] = {
      "",
      " ",
      "nul",
      "nulll",
      "True",
      "01",
      "-01",
      "1.",
      ".5",
      "1e",
      "1e+",
      "+1",
      "-",
      "0x10",
      "NaN",
      "Infinity",
      "\"abc",
      "\"\\x\"",
      "\"\\u12\"",
      "\"\\u12G4\"",
      "\"\\ud83d\"",         // unpaired high surrogate
      "\"\\ude00\"",         // unpaired low surrogate
      "\"\\ud83d\\u0041\"",  // high surrogate then a non-surrogate
      "\"a\tb\"",            // raw control character
      "\"a\nb\"",
      "\"\xC3\"",              // truncated UTF-8
      "\"\xC0\xAF\"",          // overlong
      "\"\xED\xA0\x80\"",      // encoded surrogate
      "\"\xF4\x90\x80\x80\"",  // above U+10FFFF
      "\"\xFF\"",
      "[1,]",
      "[1 2]",
      "[",
      "]",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{a:1}",
      "{'a':1}",
      "{\"a\":1",
      "1 2",
      "{} {}",
      "[1]x",
      "// comment\n1",
      "\xEF\xBB\xBF{}",  // byte order mark
      std::string_view("1\0", 2),
  };
  for (std::string_view text : invalid) {
    ParseError error;
    EXPECT_FALSE(Validate(text, &error)) << "accepted: " << text;
    EXPECT_FALSE(error.message.empty()) << text;
    EXPECT_LE(error.offset, text.size()) << text;
    Value value;
    EXPECT_FALSE(Parse(text, &value)) << text;
  }
}

TEST(JsonTest, ErrorsNameTheOffset) {
  ParseError error;
  ASSERT_FALSE(Validate("{\"a\" 1}", &error));
  EXPECT_EQ(error.offset, 5u);
  EXPECT_NE(error.message.find("expected ':'"), std::string::npos);
  EXPECT_EQ(error.ToString().rfind("offset 5: ", 0), 0u);

  ASSERT_FALSE(Validate("[1, 2, 03]", &error));
  EXPECT_EQ(error.offset, 7u);
  EXPECT_NE(error.message.find("leading zeros"), std::string::npos);

  ASSERT_FALSE(Validate("\"ab", &error));
  EXPECT_EQ(error.offset, 0u);
  EXPECT_NE(error.message.find("unterminated"), std::string::npos);

  ASSERT_FALSE(Validate("[1] x", &error));
  EXPECT_EQ(error.offset, 4u);
  EXPECT_NE(error.message.find("'x'"), std::string::npos);

  ASSERT_FALSE(Validate("\"a\x01\"", &error));
  EXPECT_NE(error.message.find("0x01"), std::string::npos);
}

TEST(JsonTest, DecodesEscapesToUtf8) {
  Value value;
  ASSERT_TRUE(
      Parse(R"("\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00")", &value));
  ASSERT_TRUE(value.is_string());
  EXPECT_EQ(value.string_value(),
            "\"\\/\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  ASSERT_TRUE(Parse(R"("\u0000")", &value));
  EXPECT_EQ(value.string_value(), std::string(1, '\0'));
}

TEST(JsonTest, BuildsTreeAndKeepsRawText) {
  std::string text = R"( {"a" : [1, 2.50, "x"], "b": {"c": null}, "d": true} )";
  Value value;
  ASSERT_TRUE(Parse(text, &value));
  ASSERT_TRUE(value.is_object());
  ASSERT_EQ(value.members().size(), 3u);
  EXPECT_EQ(value.raw(), TrimWhitespace(text));
  const Value* a = value.Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->is_array());
  EXPECT_EQ(a->raw(), R"([1, 2.50, "x"])");
  ASSERT_EQ(a->items().size(), 3u);
  EXPECT_EQ(a->items()[1].raw(), "2.50");
  EXPECT_EQ(a->items()[2].string_value(), "x");
  EXPECT_EQ(value.Find("b")->raw(), R"({"c": null})");
  EXPECT_TRUE(value.Find("b")->Find("c")->is_null());
  EXPECT_TRUE(value.Find("d")->bool_value());
  EXPECT_EQ(value.Find("missing"), nullptr);
}

TEST(JsonTest, MaxBuiltDepthKeepsRawTextAndStillValidates) {
  const std::string text =
      R"({"a": {"b": [1, {"c": "x"}]}, "s": "v", "n": [2, 3], "z": null})";
  ParseOptions options;
  options.max_built_depth = 1;
  Value value;
  ASSERT_TRUE(Parse(text, &value, nullptr, options));
  ASSERT_EQ(value.members().size(), 4u);
  const Value* a = value.Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->is_object());
  EXPECT_EQ(a->raw(), R"({"b": [1, {"c": "x"}]})");
  EXPECT_TRUE(a->members().empty());
  EXPECT_EQ(value.Find("s")->string_value(), "v");
  EXPECT_TRUE(value.Find("n")->is_array());
  EXPECT_EQ(value.Find("n")->raw(), "[2, 3]");
  EXPECT_TRUE(value.Find("n")->items().empty());
  EXPECT_TRUE(value.Find("z")->is_null());
  // What is not built is still checked, with the same error.
  for (const std::string bad :
       {R"({"a": {"b": [1, ]}})", R"({"a": {"b": "\q"}})",
        R"({"a": [{"x": 01}]})", "{\"a\": [\"\x01\"]}"}) {
    SCOPED_TRACE(bad);
    ParseError built_error;
    ParseError shallow_error;
    EXPECT_FALSE(Parse(bad, &value, &built_error));
    EXPECT_FALSE(Parse(bad, &value, &shallow_error, options));
    EXPECT_EQ(shallow_error.ToString(), built_error.ToString());
  }
}

// Strings are scanned eight bytes at a time: whatever ends a run of plain
// characters (a quote, a backslash, a control character, a non-ASCII
// byte) is found at every offset from a word boundary.
TEST(JsonTest, StringScanFindsEverySpecialByteAtEveryOffset) {
  for (size_t at = 0; at < 24; ++at) {
    SCOPED_TRACE(at);
    // `at` plain bytes, then `middle`, then 17 more plain bytes.
    auto text = [at](std::string_view open, std::string_view middle,
                     std::string_view close) {
      std::string out(open);
      out.append(at, 'a');
      out += middle;
      out.append(17, 'b');
      out += close;
      return out;
    };
    Value value;
    ASSERT_TRUE(Parse(text("\"", "\\n", "\""), &value));
    EXPECT_EQ(value.string_value(), text("", "\n", ""));
    ASSERT_TRUE(Parse(text("\"", "\xc3\xa9", "\""), &value));
    EXPECT_EQ(value.string_value(), text("", "\xc3\xa9", ""));
    ASSERT_TRUE(Parse(text("[\"", "\", \"", "\"]"), &value));
    EXPECT_EQ(value.items()[0].string_value(), std::string(at, 'a'));
    ParseError error;
    EXPECT_FALSE(Parse(text("\"", "\x1f", "\""), &value, &error));
    EXPECT_EQ(error.offset, at + 1);
    // DEL (0x7f) is plain in JSON; only the invalid byte after it is not.
    EXPECT_FALSE(Parse(text("\"", "\x7f\xff", "\""), &value, &error));
    EXPECT_EQ(error.offset, at + 2) << error.message;
  }
}

TEST(JsonTest, Numbers) {
  Value v;
  ASSERT_TRUE(Parse("18446744073709551615", &v));
  EXPECT_EQ(v.AsUint64(), 18446744073709551615ull);
  EXPECT_FALSE(v.AsInt64().has_value());
  ASSERT_TRUE(Parse("18446744073709551616", &v));
  EXPECT_FALSE(v.AsUint64().has_value());
  ASSERT_TRUE(Parse("-5", &v));
  EXPECT_FALSE(v.AsUint64().has_value());
  EXPECT_EQ(v.AsInt64(), -5);
  ASSERT_TRUE(Parse("5.0", &v));
  EXPECT_FALSE(v.AsUint64().has_value());
  EXPECT_EQ(v.AsDouble(), 5.0);
  ASSERT_TRUE(Parse("-1.5e-3", &v));
  EXPECT_DOUBLE_EQ(*v.AsDouble(), -0.0015);
  ASSERT_TRUE(Parse("1e999", &v));  // valid JSON, not a finite double
  EXPECT_FALSE(v.AsDouble().has_value());
  EXPECT_EQ(v.raw(), "1e999");
  ASSERT_TRUE(Parse("\"5\"", &v));
  EXPECT_FALSE(v.AsUint64().has_value());
}

TEST(JsonTest, DepthLimit) {
  auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']');
  };
  EXPECT_TRUE(IsJson(nested(kDefaultMaxDepth)));
  ParseError error;
  EXPECT_FALSE(Validate(nested(kDefaultMaxDepth + 1), &error));
  EXPECT_NE(error.message.find("nesting"), std::string::npos);
  // Far deeper input fails cleanly instead of overflowing the stack.
  std::string deep(1 << 20, '[');
  EXPECT_FALSE(IsJson(deep));
  Value value;
  EXPECT_FALSE(Parse(deep, &value));
  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += "{\"a\":";
  EXPECT_FALSE(IsJson(deep_objects));

  ParseOptions shallow;
  shallow.max_depth = 2;
  EXPECT_TRUE(Validate("[[1]]", nullptr, shallow));
  EXPECT_FALSE(Validate("[[[1]]]", nullptr, shallow));
  EXPECT_FALSE(Validate("{\"a\":{\"b\":{}}}", nullptr, shallow));
}

TEST(JsonTest, TruncatedInputNeverReadsPastTheEnd) {
  // Every prefix of a valid text is either valid or rejected; run under
  // ASan this also proves no read goes past the end.
  std::string text =
      R"({"a":[1,-2.5e+3,"\u00e9\ud83d\ude00\n",true,false,null],"b":{}})";
  for (size_t n = 0; n < text.size(); ++n) {
    std::string prefix = text.substr(0, n);
    EXPECT_FALSE(IsJson(prefix)) << prefix;
  }
  EXPECT_TRUE(IsJson(text));
}

TEST(JsonTest, QuoteEscapes) {
  EXPECT_EQ(Quote("plain"), "\"plain\"");
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(Quote(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Quote(std::string(1, '\0')), R"("\u0000")");
  EXPECT_EQ(Quote("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  // Invalid UTF-8 is replaced, so the output is always valid JSON.
  EXPECT_EQ(Quote("a\xFF"), "\"a\xEF\xBF\xBD\"");
  EXPECT_TRUE(IsJson(Quote("\xC3(\xED\xA0\x80")));
}

TEST(JsonTest, QuoteRoundTripsThroughParse) {
  std::string all;
  for (int c = 0; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "\xE2\x82\xAC\xF0\x9F\x98\x80";
  Value value;
  ASSERT_TRUE(Parse(Quote(all), &value));
  EXPECT_EQ(value.string_value(), all);
}

TEST(JsonTest, SerializeIsCompact) {
  Value value;
  ASSERT_TRUE(Parse(R"( { "a" : [ 1 , 2.0 ] , "b" : "\u0041\n" } )", &value));
  EXPECT_EQ(Serialize(value), R"({"a":[1,2.0],"b":"A\n"})");
}

TEST(JsonTest, MinifyKeepsStrings) {
  EXPECT_EQ(Minify("{\n  \"a b\" : [ 1, \"x \\\" y\" ]\n}\n"),
            R"({"a b":[1,"x \" y"]})");
  EXPECT_EQ(Minify(R"(" \\" )"), R"(" \\")");
}

TEST(JsonTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("abc\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xED\xB0\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
}

TEST(JsonTest, TrimWhitespace) {
  EXPECT_EQ(TrimWhitespace(" \t{}\r\n"), "{}");
  EXPECT_EQ(TrimWhitespace("   "), "");
  EXPECT_EQ(TrimWhitespace("x"), "x");
}

}  // namespace
}  // namespace cairn::tools::json
