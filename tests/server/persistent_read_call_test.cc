// Copyright (c) Cairn authors.
//
// One persistent Read call: its first message and its acks checked, the
// error shapes of a missing group and of a member too many, and the bound
// on what it holds for a client that takes nothing.
#include <gtest/gtest.h>

#include <string>

#include "tests/server/persistent_test_util.h"

namespace cairn::server {
namespace {

using testing::CreateStreamRequest;
using testing::persistent::ReadReq;
using testing::persistent::ReadResp;

class PersistentReadCallTest : public testing::PersistentTest {
 protected:
  // Writes `request` as a call's first message and returns how it ended.
  grpc::Status FirstMessage(const ReadReq& request,
                            grpc::ClientContext* context) {
    auto call = persistent_->Read(context);
    call->Write(request);
    ReadResp response;
    while (call->Read(&response)) {
    }
    return call->Finish();
  }
  static ReadReq Options(const std::string& group, int buffer_size) {
    ReadReq request;
    request.mutable_options()->mutable_stream_identifier()->set_stream_name(
        "orders");
    request.mutable_options()->set_group_name(group);
    request.mutable_options()->set_buffer_size(buffer_size);
    return request;
  }
};

TEST_F(PersistentReadCallTest, FirstMessageIsChecked) {
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  ReadReq ack;
  ack.mutable_ack()->add_ids()->set_string("not-a-uuid");
  grpc::ClientContext not_options;
  EXPECT_EQ(FirstMessage(ack, &not_options).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext no_buffer;
  EXPECT_EQ(FirstMessage(Options("g", 0), &no_buffer).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext missing;
  EXPECT_EQ(FirstMessage(Options("missing", 10), &missing).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Trailer(missing, "exception"),
            "persistent-subscription-does-not-exist");
  EXPECT_EQ(Trailer(missing, "group-name"), "missing");
}

TEST_F(PersistentReadCallTest, BadAckIdEndsTheCall) {
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  grpc::ClientContext context;
  auto call = Subscribe("orders", "g", 10, &context);
  ReadReq ack;
  ack.mutable_ack()->add_ids()->set_string("not-a-uuid");
  call->Write(ack);
  ReadResp response;
  while (call->Read(&response)) {
  }
  EXPECT_EQ(call->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PersistentReadCallTest, AnEndedCallStillTakesWhatTheClientWrites) {
  // Events wait to be written when a bad ack ends the call: it keeps
  // reading, so a client that writes everything before it reads (the
  // in-process channel buffers nothing) is not stuck.
  Seed("orders", 3);
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  grpc::ClientContext context;
  auto call = persistent_->Read(&context);
  ASSERT_TRUE(call->Write(Options("g", 10)));
  ReadReq ack;
  ack.mutable_ack()->add_ids()->set_string("not-a-uuid");
  for (int i = 0; i < 4; ++i) call->Write(ack);
  call->WritesDone();
  ReadResp response;
  while (call->Read(&response)) {
  }
  EXPECT_EQ(call->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PersistentReadCallTest, MaxSubscribersReached) {
  auto create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_max_subscriber_count(1);
  ASSERT_TRUE(Create(create).ok());
  grpc::ClientContext first;
  auto call = Subscribe("orders", "g", 10, &first);
  grpc::ClientContext second;
  EXPECT_EQ(FirstMessage(Options("g", 10), &second).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Trailer(second, "exception"), "maximum-subscribers-reached");
  first.TryCancel();
  (void)call->Finish();
}

TEST_F(PersistentReadCallTest, AnEventNeverAckedComesAgainAfterItsTimeout) {
  Seed("orders", 1);
  auto create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_message_timeout_ms(1);
  ASSERT_TRUE(Create(create).ok());
  grpc::ClientContext context;
  // A full buffer of one: the retry arrives only because the timeout
  // took the first delivery back.
  auto call = Subscribe("orders", "g", 1, &context);
  auto first = Next(*call, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].retry_count(), 0);
  auto again = Next(*call, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].event().stream_revision(), 0u);
  EXPECT_GE(again[0].retry_count(), 1);
  context.TryCancel();
  (void)call->Finish();
}

TEST_F(PersistentReadCallTest, HoldsAtMostItsBufferForAClientThatTakesNothing) {
  Seed("orders", 100);
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  grpc::ClientContext context;
  auto call = Subscribe("orders", "g", 5, &context);
  // The client reads five events and acks none: the call receives no more
  // from the group, whatever it holds.
  ASSERT_EQ(Next(*call, 5).size(), 5u);
  auto info = Info("orders", "g");
  ASSERT_EQ(info.connections_size(), 1);
  EXPECT_EQ(info.connections(0).in_flight_messages(), 5);
  EXPECT_EQ(info.total_items(), 5);
  EXPECT_LE(info.total_in_flight_messages(), 5);
  context.TryCancel();
  (void)call->Finish();
}

}  // namespace
}  // namespace cairn::server
