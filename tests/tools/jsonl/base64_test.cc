// Copyright (c) Cairn authors.
#include "tools/jsonl/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::tools {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  std::string out;
  ASSERT_TRUE(Base64Decode("Zm9vYmE=", &out));
  EXPECT_EQ(out, "fooba");
}

TEST(Base64Test, RoundTripsAllByteValues) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= bytes.size(); n += 1) {
    std::string part = bytes.substr(0, n);
    std::string encoded = Base64Encode(part);
    EXPECT_EQ(encoded.size() % 4, 0u);
    std::string decoded;
    ASSERT_TRUE(Base64Decode(encoded, &decoded)) << encoded;
    EXPECT_EQ(decoded, part);
  }
  EXPECT_EQ(Base64Encode("\xFB\xFF"), "+/8=");
}

TEST(Base64Test, DecodeRejectsBadInput) {
  const char* bad[] = {
      "Z",         // length not a multiple of 4
      "Zm9",       //
      "Zm9v\n",    // whitespace
      "Zm 9",      //
      "Zm9v!A==",  // outside the alphabet
      "Zm9-",      // URL-safe alphabet is not standard base64
      "=Zm9",      // padding first
      "Z=9v",      // padding in the middle
      "Zm==Zm9v",  // padding before the end
      "Z===",      // too much padding
      "====",      //
      "Zh==",      // nonzero unused bits
      "Zm9=",      //
  };
  for (const char* text : bad) {
    std::string out;
    EXPECT_FALSE(Base64Decode(text, &out)) << text;
  }
}

TEST(Base64Test, DecodeAppends) {
  std::string out = "x";
  ASSERT_TRUE(Base64Decode("eQ==", &out));
  EXPECT_EQ(out, "xy");
}

}  // namespace
}  // namespace cairn::tools
