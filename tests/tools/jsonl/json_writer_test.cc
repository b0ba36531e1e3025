// Copyright (c) Cairn authors.
#include "tools/jsonl/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "tools/jsonl/json.h"

namespace cairn::tools::json {
namespace {

std::string NumberText(double value) {
  Writer w;
  w.Number("", value);
  return w.Take();
}

TEST(JsonWriterTest, BuildsNestedObjectsWithCommas) {
  Writer w;
  w.BeginObject();
  w.String("a", "x\"y");
  w.Uint("b", 18446744073709551615u);
  w.Int("c", -3);
  w.BeginArray("d");
  w.Bool("", true);
  w.Null("");
  w.EndArray();
  w.EndObject();
  EXPECT_EQ(w.Take(),
            R"({"a":"x\"y","b":18446744073709551615,"c":-3,"d":[true,null]})");
}

TEST(JsonWriterTest, NumbersHaveThreeDecimals) {
  EXPECT_EQ(NumberText(0), "0.000");
  EXPECT_EQ(NumberText(1), "1.000");
  EXPECT_EQ(NumberText(0.1), "0.100");
  EXPECT_EQ(NumberText(2.5), "2.500");
  EXPECT_EQ(NumberText(-12.3456), "-12.346");
  EXPECT_EQ(NumberText(123456789.0), "123456789.000");
}

TEST(JsonWriterTest, SmallNumbersKeepThreeSignificantDigits) {
  EXPECT_EQ(NumberText(0.0999), "0.0999");
  EXPECT_EQ(NumberText(0.012345), "0.0123");
  EXPECT_EQ(NumberText(0.00041), "0.000410");
  EXPECT_EQ(NumberText(-0.00041), "-0.000410");
  EXPECT_EQ(NumberText(1.5e-9), "0.00000000150");
  // Every small nonzero value a report can hold reads as nonzero.
  for (double v = 0.09; v > 1e-17; v /= 3) {
    const std::string text = NumberText(v);
    Value parsed;
    ASSERT_TRUE(Parse(text, &parsed)) << text;
    ASSERT_TRUE(parsed.AsDouble().has_value()) << text;
    EXPECT_NEAR(*parsed.AsDouble() / v, 1.0, 5e-3) << text;
  }
  // Below that, zero: never an exponent, never a long string.
  EXPECT_EQ(NumberText(1e-30), "0.00000000000000000000");
}

TEST(JsonWriterTest, NonFiniteNumbersAreNull) {
  EXPECT_EQ(NumberText(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(NumberText(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(NumberText(std::nan("")), "null");
}

}  // namespace
}  // namespace cairn::tools::json
