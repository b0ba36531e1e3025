// Copyright (c) Cairn authors.
#include "server/batch_append_call.h"

#include <gtest/gtest.h>

#include <map>

#include "shared.pb.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using BatchAppendCallTest = ServerTest;

streams::BatchAppendReq Chunk(const std::string& correlation,
                              const std::string& stream, int events,
                              bool is_final, bool with_options = true) {
  streams::BatchAppendReq request;
  request.mutable_correlation_id()->set_string(correlation);
  if (with_options) {
    request.mutable_options()->mutable_stream_identifier()->set_stream_name(
        stream);
    request.mutable_options()->mutable_any();
  }
  for (int i = 0; i < events; ++i) {
    auto* message = request.add_proposed_messages();
    message->mutable_id()->set_string(EventId::Generate().ToString());
    (*message->mutable_metadata())["type"] = "E";
    (*message->mutable_metadata())["content-type"] = "application/json";
    message->set_data("{}");
  }
  request.set_is_final(is_final);
  return request;
}

TEST_F(BatchAppendCallTest, MultiplexesChunkedAppendsByCorrelationId) {
  const std::string a = EventId::Generate().ToString();
  const std::string b = EventId::Generate().ToString();
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  ASSERT_TRUE(stream->Write(Chunk(a, "sa", 2, false)));
  ASSERT_TRUE(stream->Write(Chunk(b, "sb", 1, true)));
  ASSERT_TRUE(stream->Write(Chunk(a, "sa", 3, true, false)));
  std::map<std::string, streams::BatchAppendResp> replies;
  streams::BatchAppendResp reply;
  while (replies.size() < 2 && stream->Read(&reply)) {
    replies[reply.correlation_id().string()] = reply;
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[a].success().current_revision(), 4u);
  EXPECT_EQ(replies[a].stream_identifier().stream_name(), "sa");
  EXPECT_TRUE(replies[a].has_any());
  EXPECT_EQ(replies[b].success().current_revision(), 0u);
}

TEST_F(BatchAppendCallTest, ErrorsComeInsideTheResponse) {
  Seed("s", 1);
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  auto wrong = Chunk(EventId::Generate().ToString(), "s", 1, true);
  wrong.mutable_options()->mutable_no_stream();
  ASSERT_TRUE(stream->Write(wrong));
  streams::BatchAppendResp reply;
  ASSERT_TRUE(stream->Read(&reply));
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(reply.error().details().type_url(),
            "type.googleapis.com/event_store.client.WrongExpectedVersion");
  event_store::client::WrongExpectedVersion detail;
  ASSERT_TRUE(reply.error().details().UnpackTo(&detail));
  EXPECT_EQ(detail.current_stream_revision(), 0u);
  EXPECT_TRUE(detail.has_expected_no_stream());
  EXPECT_EQ(reply.stream_identifier().stream_name(), "s");

  auto late = Chunk(EventId::Generate().ToString(), "s", 1, true);
  late.mutable_options()->mutable_deadline_21_10_0()->set_seconds(1);
  ASSERT_TRUE(stream->Write(late));
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.error().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(reply.error().details().type_url(),
            "type.googleapis.com/event_store.client.Timeout");

  auto no_options = Chunk(EventId::Generate().ToString(), "s", 1, true, false);
  ASSERT_TRUE(stream->Write(no_options));
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(reply.error().details().type_url(),
            "type.googleapis.com/event_store.client.BadRequest");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(store_->GetStreamRevision("s").value()->value(), 0u);
}

TEST_F(BatchAppendCallTest, OversizedAppendAnswersMaximumAppendSizeExceeded) {
  ServerOptions options;
  options.limits.max_append_size = 10;
  StartServer(options);
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  ASSERT_TRUE(
      stream->Write(Chunk(EventId::Generate().ToString(), "s", 5, true)));
  streams::BatchAppendResp reply;
  ASSERT_TRUE(stream->Read(&reply));
  event_store::client::MaximumAppendSizeExceeded detail;
  ASSERT_TRUE(reply.error().details().UnpackTo(&detail));
  EXPECT_EQ(detail.maxappendsize(), 10u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(BatchAppendCallTest, UnfinishedAppendsAreBoundedInBytes) {
  ServerOptions options;
  options.limits.batch_max_buffered_bytes = 10;
  StartServer(options);
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  // Five events of 3 bytes ("E" and "{}") and no final chunk.
  ASSERT_TRUE(
      stream->Write(Chunk(EventId::Generate().ToString(), "s", 5, false)));
  streams::BatchAppendResp reply;
  EXPECT_FALSE(stream->Read(&reply));
  EXPECT_EQ(stream->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_FALSE(store_->GetStreamRevision("s").value().has_value());
}

TEST_F(BatchAppendCallTest, MissingCorrelationIdEndsTheCall) {
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  auto request = Chunk("x", "s", 1, true);
  request.clear_correlation_id();
  ASSERT_TRUE(stream->Write(request));
  streams::BatchAppendResp reply;
  EXPECT_FALSE(stream->Read(&reply));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BatchAppendCallTest, CallLimitRefusesTheCallBeyondIt) {
  ServerOptions options;
  options.limits.max_calls = 1;
  StartServer(options);
  grpc::ClientContext first;
  auto open = stub_->BatchAppend(&first);
  // The first call holds the only place once its reply arrives.
  ASSERT_TRUE(open->Write(Chunk(EventId::Generate().ToString(), "s", 1, true)));
  streams::BatchAppendResp reply;
  ASSERT_TRUE(open->Read(&reply));
  std::vector<streams::ReadResp> responses;
  EXPECT_EQ(ReadAllResponses(ReadRequest("s"), &responses).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  open->WritesDone();
  EXPECT_TRUE(open->Finish().ok());
}

}  // namespace
}  // namespace cairn::server::testing
