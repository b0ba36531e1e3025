// Copyright (c) Cairn authors.
//
// The naming rules of category and event-type streams.
#include "index/link_streams.h"

#include <gtest/gtest.h>

namespace cairn::index {
namespace {

TEST(LinkStreamsTest, CategoryIsTheNameBeforeTheFirstDash) {
  EXPECT_EQ(CategoryOf("Order-1"), "Order");
  EXPECT_EQ(CategoryOf("Order-1-2"), "Order");
  EXPECT_EQ(CategoryOf("a-"), "a");
  EXPECT_EQ(CategoryOf("plain"), std::nullopt);
  EXPECT_EQ(CategoryOf("-lead"), std::nullopt);
  EXPECT_EQ(CategoryOf("$$Order-1"), std::nullopt);
  EXPECT_EQ(CategoryOf("$ce-Order"), std::nullopt);
  EXPECT_EQ(CategoryOf(""), std::nullopt);
}

TEST(LinkStreamsTest, NamesOfTheStreamsAnEventIsIn) {
  LinkStreamNames names = LinkStreamsOf("Order-1", "Placed");
  EXPECT_EQ(names.category, "$ce-Order");
  EXPECT_EQ(names.type, "$et-Placed");
  names = LinkStreamsOf("plain", "Placed");
  EXPECT_EQ(names.category, "");
  EXPECT_EQ(names.type, "$et-Placed");
  // System event types and system streams are in no type stream.
  names = LinkStreamsOf("Order-1", "$metadata");
  EXPECT_EQ(names.category, "$ce-Order");
  EXPECT_EQ(names.type, "");
  names = LinkStreamsOf("$$Order-1", "Placed");
  EXPECT_EQ(names.category, "");
  EXPECT_EQ(names.type, "");
}

TEST(LinkStreamsTest, RecognisesTheReservedPrefixes) {
  EXPECT_TRUE(IsLinkStreamName("$ce-Order"));
  EXPECT_TRUE(IsLinkStreamName("$et-Placed"));
  EXPECT_TRUE(IsLinkStreamName("$ce-"));
  EXPECT_FALSE(IsLinkStreamName("ce-Order"));
  EXPECT_FALSE(IsLinkStreamName("$$Order"));
  EXPECT_FALSE(IsLinkStreamName("$ce"));
  EXPECT_TRUE(IsSystemEventType("$metadata"));
  EXPECT_FALSE(IsSystemEventType("Placed"));
}

}  // namespace
}  // namespace cairn::index
