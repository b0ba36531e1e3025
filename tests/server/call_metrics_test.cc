// Copyright (c) Cairn authors.
#include "server/call_metrics.h"

#include <gtest/gtest.h>

namespace cairn::server {
namespace {

TEST(CallMetricsTest, CountsByMethodAndCodeInABoundedTable) {
  CallMetrics metrics;
  EXPECT_TRUE(metrics.Counts().empty());
  metrics.Record("/event_store.client.streams.Streams/Append", 0);
  metrics.Record("/event_store.client.streams.Streams/Append", 0);
  metrics.Record("/event_store.client.streams.Streams/Append", 3);
  metrics.Record("/event_store.client.gossip.Gossip/Read", 0);
  // Any other path shares one row; an out-of-range code counts as UNKNOWN.
  metrics.Record("/some.Service/Method", 12);
  metrics.Record("/another.Service/Method", 12);
  metrics.Record("/event_store.client.gossip.Gossip/Read", 99);
  auto counts = metrics.Counts();
  ASSERT_EQ(counts.size(), 5u);
  EXPECT_EQ(counts[0].method, "Streams.Append");
  EXPECT_EQ(counts[0].code, 0);
  EXPECT_EQ(counts[0].calls, 2u);
  EXPECT_EQ(counts[1].method, "Streams.Append");
  EXPECT_EQ(counts[1].code, 3);
  EXPECT_EQ(counts[1].calls, 1u);
  EXPECT_EQ(counts[2].method, "Gossip.Read");
  EXPECT_EQ(counts[2].code, 0);
  EXPECT_EQ(counts[3].method, "Gossip.Read");
  EXPECT_EQ(counts[3].code, 2);
  EXPECT_EQ(counts[4].method, "other");
  EXPECT_EQ(counts[4].code, 12);
  EXPECT_EQ(counts[4].calls, 2u);
}

}  // namespace
}  // namespace cairn::server
