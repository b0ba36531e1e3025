// Copyright (c) Cairn authors.
#include "server/write_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "streams.pb.h"

namespace cairn::server {
namespace {

using Response = event_store::client::streams::ReadResp;
using Queue = WriteQueue<Response>;

Response Checkpoint(uint64_t position) {
  Response response;
  response.mutable_checkpoint()->set_commit_position(position);
  return response;
}

TEST(WriteQueueTest, WritesOneResponseAtATimeInOrder) {
  Queue queue;
  EXPECT_EQ(queue.Next().write, nullptr);  // nothing queued
  queue.Push(Checkpoint(1));
  queue.Push(Checkpoint(2));
  Queue::Step first = queue.Next();
  ASSERT_NE(first.write, nullptr);
  EXPECT_EQ(first.write->checkpoint().commit_position(), 1u);
  EXPECT_TRUE(queue.writing());
  EXPECT_EQ(queue.Next().write, nullptr);  // one write in flight at most
  EXPECT_EQ(queue.size(), 1u);
  queue.WriteDone();
  Queue::Step second = queue.Next();
  ASSERT_NE(second.write, nullptr);
  EXPECT_EQ(second.write->checkpoint().commit_position(), 2u);
  // The response written before comes back for reuse.
  ASSERT_TRUE(second.written.has_value());
  EXPECT_EQ(second.written->checkpoint().commit_position(), 1u);
  EXPECT_FALSE(second.finish.has_value());
}

// bytes() counts the serialized size of what waits: not the response in
// flight, nothing once the call ended.
TEST(WriteQueueTest, CountsTheBytesQueued) {
  Queue queue;
  EXPECT_EQ(queue.bytes(), 0u);
  Response large;
  large.mutable_event()->mutable_event()->set_data(std::string(5000, 'x'));
  const uint64_t large_size = large.ByteSizeLong();
  const uint64_t small_size = Checkpoint(1).ByteSizeLong();
  queue.Push(Checkpoint(1));
  queue.Push(large);
  queue.Push(Checkpoint(2));
  EXPECT_EQ(queue.bytes(), large_size + 2 * small_size);
  ASSERT_NE(queue.Next().write, nullptr);
  EXPECT_EQ(queue.bytes(), large_size + small_size);
  queue.WriteDone();
  ASSERT_NE(queue.Next().write, nullptr);
  EXPECT_EQ(queue.bytes(), small_size);
  EXPECT_FALSE(queue.End(RpcError{}).has_value());  // a write in flight
  EXPECT_EQ(queue.bytes(), 0u);
  queue.Push(large);  // ended: not queued
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(WriteQueueTest, OnlyTheFirstAndTheLastQueuedResponsesFlush) {
  Queue queue;
  queue.Push(Checkpoint(1));
  queue.Push(Checkpoint(2));
  queue.Push(Checkpoint(3));
  Queue::Step first = queue.Next();
  ASSERT_NE(first.write, nullptr);
  EXPECT_FALSE(first.more);  // carries the initial metadata: sent at once
  queue.WriteDone();
  Queue::Step second = queue.Next();
  ASSERT_NE(second.write, nullptr);
  EXPECT_TRUE(second.more);  // may wait in the transport's buffer
  queue.WriteDone();
  Queue::Step third = queue.Next();
  ASSERT_NE(third.write, nullptr);
  EXPECT_FALSE(third.more);  // the last one queued: sent at once
  // A response queued while the last one is written is the last in turn.
  queue.Push(Checkpoint(4));
  queue.WriteDone();
  Queue::Step fourth = queue.Next();
  ASSERT_NE(fourth.write, nullptr);
  EXPECT_FALSE(fourth.more);
}

TEST(WriteQueueTest, WithoutGatheringEveryResponseFlushes) {
  Queue queue;
  queue.set_gather(false);
  for (uint64_t p = 1; p <= 3; ++p) queue.Push(Checkpoint(p));
  for (int i = 0; i < 3; ++i) {
    Queue::Step step = queue.Next();
    ASSERT_NE(step.write, nullptr);
    EXPECT_FALSE(step.more);
    queue.WriteDone();
  }
  // Turned on again (a subscription that fell behind), it gathers.
  queue.set_gather(true);
  queue.Push(Checkpoint(4));
  queue.Push(Checkpoint(5));
  EXPECT_TRUE(queue.Next().more);
}

TEST(WriteQueueTest, AFinalStatusWaitsForTheQueuedResponses) {
  Queue queue;
  queue.Push(Checkpoint(1));
  queue.SetFinal(Ok());
  EXPECT_TRUE(queue.has_final());
  Queue::Step write = queue.Next();
  ASSERT_NE(write.write, nullptr);
  EXPECT_FALSE(write.finish.has_value());
  queue.WriteDone();
  Queue::Step finish = queue.Next();
  EXPECT_EQ(finish.write, nullptr);
  ASSERT_TRUE(finish.finish.has_value());
  EXPECT_TRUE(IsOk(*finish.finish));
  EXPECT_TRUE(queue.finished());
  EXPECT_FALSE(queue.Next().finish.has_value());  // finishes once
}

TEST(WriteQueueTest, EndWhileIdleFinishesAtOnceAndDropsTheQueue) {
  Queue queue;
  queue.Push(Checkpoint(1));
  std::optional<RpcError> now = queue.End(Cancelled("bye"));
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->code, grpc::StatusCode::CANCELLED);
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_TRUE(queue.finished());
  EXPECT_FALSE(queue.End(Ok()).has_value());  // once
  queue.Push(Checkpoint(2));                  // ended: not taken
  EXPECT_EQ(queue.size(), 0u);
  Queue::Step step = queue.Next();
  EXPECT_EQ(step.write, nullptr);
  EXPECT_FALSE(step.finish.has_value());
}

TEST(WriteQueueTest, EndDuringAWriteFinishesWhenTheWriteCompletes) {
  Queue queue;
  queue.Push(Checkpoint(1));
  queue.Push(Checkpoint(2));
  ASSERT_NE(queue.Next().write, nullptr);
  EXPECT_FALSE(queue.End(Cancelled("bye")).has_value());
  EXPECT_TRUE(queue.ended());
  EXPECT_FALSE(queue.finished());
  EXPECT_FALSE(queue.End(Ok()).has_value());  // the first End stands
  queue.Push(Checkpoint(3));
  EXPECT_EQ(queue.size(), 0u);
  queue.WriteDone();
  Queue::Step step = queue.Next();
  EXPECT_EQ(step.write, nullptr);  // the queued response was dropped
  ASSERT_TRUE(step.finish.has_value());
  EXPECT_EQ(step.finish->code, grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(queue.finished());
}

TEST(WriteQueueTest, AbandonEndsAtOnceDespiteTheWriteInFlight) {
  Queue queue;
  queue.Push(Checkpoint(1));
  queue.Push(Checkpoint(2));
  ASSERT_NE(queue.Next().write, nullptr);
  EXPECT_TRUE(queue.Abandon());
  EXPECT_TRUE(queue.finished());
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_FALSE(queue.Abandon());
  EXPECT_FALSE(queue.End(Ok()).has_value());
  queue.WriteDone();  // the abandoned write completes (failed) later
  Queue::Step step = queue.Next();
  EXPECT_EQ(step.write, nullptr);
  EXPECT_FALSE(step.finish.has_value());
}

}  // namespace
}  // namespace cairn::server
