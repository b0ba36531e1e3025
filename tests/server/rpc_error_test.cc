// Copyright (c) Cairn authors.
#include "server/rpc_error.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::server {
namespace {

TEST(TrailerValueTest, PrintableAsciiIsSentAsItIs) {
  EXPECT_EQ(TrailerValue(""), "");
  EXPECT_EQ(TrailerValue("Order-5f1c"), "Order-5f1c");
  EXPECT_EQ(TrailerValue("100% ~ {x}"), "100% ~ {x}");
}

TEST(TrailerValueTest, AnyOtherValueIsPercentEncoded) {
  EXPECT_EQ(TrailerValue("zo\xc3\xab"), "zo%C3%AB");
  EXPECT_EQ(TrailerValue("a\tb"), "a%09b");
  EXPECT_EQ(TrailerValue(std::string("nul\0", 4)), "nul%00");
  EXPECT_EQ(TrailerValue("\x7f"), "%7F");
  // Once a value is encoded its '%' is too, so it decodes back exactly.
  EXPECT_EQ(TrailerValue("5%\xff"), "5%25%FF");
}

TEST(TrailerValueTest, EveryByteOfAnEncodedValueIsPrintableAscii) {
  std::string all;
  for (int byte = 0; byte < 256; ++byte) all.push_back(static_cast<char>(byte));
  const std::string encoded = TrailerValue(all);
  EXPECT_EQ(encoded.size(), all.size() + 2 * (256 - 95 + 1));
  for (const char c : encoded) {
    EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << static_cast<int>(c);
  }
}

}  // namespace
}  // namespace cairn::server
