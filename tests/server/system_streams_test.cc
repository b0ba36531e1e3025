// Copyright (c) Cairn authors.
#include "server/system_streams.h"

#include <gtest/gtest.h>

#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using SystemStreamsTest = ServerTest;

TEST_F(SystemStreamsTest, UnservedStreamsAreNamedUnimplemented) {
  EXPECT_TRUE(UnservedStreamRead("$$order-1").has_value());
  EXPECT_TRUE(UnservedStreamRead("$ce-order").has_value());
  EXPECT_TRUE(UnservedStreamRead("$et-Placed").has_value());
  EXPECT_FALSE(UnservedStreamRead("$users").has_value());
  EXPECT_FALSE(UnservedStreamRead("order-1").has_value());
  EXPECT_TRUE(UnservedStreamWrite("$users").has_value());
  EXPECT_FALSE(UnservedStreamWrite("$all").has_value());
  EXPECT_FALSE(UnservedStreamWrite("order-1").has_value());
}

TEST_F(SystemStreamsTest, CallsOnThemAnswerUnimplemented) {
  streams::AppendResp response;
  grpc::Status status = Append(AnyOptions("$$s"), {Proposed("A")}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(status.error_message().find("Unimplemented"), std::string::npos);

  std::vector<streams::ReadResp> responses;
  EXPECT_EQ(ReadAllResponses(ReadRequest("$ce-s"), &responses).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(responses.empty());

  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  streams::BatchAppendReq request;
  request.mutable_correlation_id()->set_string(EventId::Generate().ToString());
  request.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "$$s");
  request.mutable_options()->mutable_any();
  request.set_is_final(true);
  ASSERT_TRUE(stream->Write(request));
  streams::BatchAppendResp reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.error().code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(reply.error().message().find("Unimplemented"), std::string::npos);
  EXPECT_EQ(reply.stream_identifier().stream_name(), "$$s");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace cairn::server::testing
