// Copyright (c) Cairn authors.
#include "server/buffer_hint.h"

#include <gtest/gtest.h>

namespace cairn::server {
namespace {

TEST(BufferHintTest, HintsOnlyWritesWithMoreBehindThemAfterTheFirst) {
  BufferHint hint;
  EXPECT_FALSE(hint.Next(true));   // the first write carries the metadata
  EXPECT_TRUE(hint.Next(true));    // more queued behind it
  EXPECT_FALSE(hint.Next(false));  // the last queued one flushes
  EXPECT_TRUE(hint.Next(true));
}

TEST(BufferHintTest, WithoutGatheringNothingIsHinted) {
  BufferHint hint;
  hint.set_gather(false);
  EXPECT_FALSE(hint.Next(true));
  EXPECT_FALSE(hint.Next(true));
  hint.set_gather(true);
  EXPECT_TRUE(hint.Next(true));
}

TEST(BufferHintTest, OptionsCarryTheHint) {
  EXPECT_TRUE(BufferHint::Options(true).get_buffer_hint());
  EXPECT_FALSE(BufferHint::Options(false).get_buffer_hint());
}

}  // namespace
}  // namespace cairn::server
