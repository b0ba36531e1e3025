// Copyright (c) Cairn authors.
#include "cairn/text.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

TEST(TextTest, AcceptsUtf8Names) {
  EXPECT_TRUE(IsUtf8Text(""));
  EXPECT_TRUE(IsUtf8Text("Order-5f1c"));
  EXPECT_TRUE(IsUtf8Text("Bestellung-\xc3\xa4\xe2\x82\xac"));
  EXPECT_TRUE(IsUtf8Text("\xf0\x9f\x98\x80"));          // U+1F600
  EXPECT_TRUE(IsUtf8Text("\xc2\xa0"));                  // U+00A0, after C1
  EXPECT_TRUE(IsUtf8Text("\xf4\x8f\xbf\xbf"));          // U+10FFFF
  EXPECT_TRUE(IsUtf8Text("\xed\x9f\xbf\xee\x80\x80"));  // around surrogates
}

TEST(TextTest, RejectsMalformedUtf8EitherWay) {
  for (bool controls : {false, true}) {
    SCOPED_TRACE(controls);
    EXPECT_FALSE(IsUtf8Text("\xc3", controls));              // truncated
    EXPECT_FALSE(IsUtf8Text("\xe2\x82", controls));          // truncated
    EXPECT_FALSE(IsUtf8Text("\xc3(", controls));             // bad follower
    EXPECT_FALSE(IsUtf8Text("\x80", controls));              // stray
    EXPECT_FALSE(IsUtf8Text("\xc0\xaf", controls));          // overlong /
    EXPECT_FALSE(IsUtf8Text("\xe0\x80\xaf", controls));      // overlong /
    EXPECT_FALSE(IsUtf8Text("\xf0\x80\x80\xaf", controls));  // overlong /
    EXPECT_FALSE(IsUtf8Text("\xed\xa0\x80", controls));      // surrogate
    EXPECT_FALSE(IsUtf8Text("\xf4\x90\x80\x80", controls));  // > U+10FFFF
    EXPECT_FALSE(IsUtf8Text("\xff", controls));
    EXPECT_FALSE(IsUtf8Text("\xf8\x88\x80\x80\x80", controls));
  }
}

TEST(TextTest, ControlCharactersOnlyWhenAllowed) {
  for (const std::string& text :
       {std::string("tab\there"), std::string("nul\0x", 5),
        std::string("del\x7f"), std::string("nl\n"), std::string("c1\xc2\x80"),
        std::string("c1\xc2\x9f")}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(IsUtf8Text(text));
    EXPECT_TRUE(IsUtf8Text(text, /*controls=*/true));
  }
}

}  // namespace
}  // namespace cairn
