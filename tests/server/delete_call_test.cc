// Copyright (c) Cairn authors.
#include "server/delete_call.h"

#include <gtest/gtest.h>

#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using DeleteCallTest = ServerTest;

// A DeleteReq or TombstoneReq (same shape) for `stream`, expecting any.
template <typename Request>
Request Deletion(const std::string& stream) {
  Request request;
  request.mutable_options()->mutable_stream_identifier()->set_stream_name(
      stream);
  request.mutable_options()->mutable_any();
  return request;
}

streams::DeleteReq DeleteRequest(const std::string& stream) {
  return Deletion<streams::DeleteReq>(stream);
}

streams::TombstoneReq TombstoneRequest(const std::string& stream) {
  return Deletion<streams::TombstoneReq>(stream);
}

TEST_F(DeleteCallTest, SoftDeleteHidesTheStreamAndAnAppendContinuesIt) {
  Seed("s", 3);
  auto request = DeleteRequest("s");
  request.mutable_options()->set_revision(2);
  grpc::ClientContext context;
  streams::DeleteResp response;
  ASSERT_TRUE(stub_->Delete(&context, request, &response).ok());
  // The delete's metadata event follows the three events.
  EXPECT_EQ(response.position().commit_position(), 3u);
  EXPECT_EQ(response.position().prepare_position(), 3u);

  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("s"), &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_TRUE(responses[0].has_stream_not_found());

  streams::AppendResp appended;
  ASSERT_TRUE(Append(AnyOptions("s"), {Proposed("Again")}, &appended).ok());
  EXPECT_EQ(appended.success().current_revision(), 3u);
  responses.clear();
  ASSERT_TRUE(ReadAllResponses(ReadRequest("s"), &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].event().event().stream_revision(), 3u);
}

TEST_F(DeleteCallTest, WrongExpectedVersionIsATrailerError) {
  Seed("s", 3);
  for (auto [set, expected] : std::vector<
           std::pair<std::function<void(streams::DeleteReq*)>, std::string>>{
           {[](streams::DeleteReq* r) {
              r->mutable_options()->set_revision(7);
            },
            "7"},
           {[](streams::DeleteReq* r) {
              r->mutable_options()->mutable_no_stream();
            },
            "-1"}}) {
    auto request = DeleteRequest("s");
    set(&request);
    grpc::ClientContext context;
    streams::DeleteResp response;
    grpc::Status status = stub_->Delete(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(Trailer(context, "exception"), "wrong-expected-version");
    EXPECT_EQ(Trailer(context, "stream-name"), "s");
    EXPECT_EQ(Trailer(context, "expected-version"), expected);
    EXPECT_EQ(Trailer(context, "actual-version"), "2");
  }
  // A stream that never existed: the actual version is empty.
  auto request = DeleteRequest("never");
  request.mutable_options()->set_revision(0);
  grpc::ClientContext context;
  streams::DeleteResp response;
  EXPECT_EQ(stub_->Delete(&context, request, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Trailer(context, "actual-version"), "");
  // Nothing was deleted.
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("s"), &responses).ok());
  EXPECT_EQ(responses.size(), 3u);
}

// A name that is not printable ASCII comes back percent-encoded in the
// trailer: gRPC aborts the process on such a text metadata value.
TEST_F(DeleteCallTest, ANameThatIsNotAsciiIsEncodedInTheTrailer) {
  const std::string stream = "caf\xc3\xa9";
  Seed(stream, 1);
  grpc::ClientContext tombstone_context;
  streams::TombstoneResp tombstoned;
  ASSERT_TRUE(
      stub_
          ->Tombstone(&tombstone_context, TombstoneRequest(stream), &tombstoned)
          .ok());
  grpc::ClientContext context;
  streams::AppendResp response;
  const grpc::Status status =
      Append(AnyOptions(stream), {Proposed("E")}, &response, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            "Event stream '" + stream + "' is deleted.");
  EXPECT_EQ(Trailer(context, "exception"), "stream-deleted");
  EXPECT_EQ(Trailer(context, "stream-name"), "caf%C3%A9");
}

TEST_F(DeleteCallTest, TombstoneEndsTheStreamForGood) {
  Seed("s", 2);
  {
    grpc::ClientContext context;
    streams::TombstoneResp response;
    ASSERT_TRUE(
        stub_->Tombstone(&context, TombstoneRequest("s"), &response).ok());
    EXPECT_EQ(response.position().commit_position(), 2u);
  }
  auto expect_deleted = [](const grpc::Status& status,
                           const grpc::ClientContext& context) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(Trailer(context, "exception"), "stream-deleted");
    EXPECT_EQ(Trailer(context, "stream-name"), "s");
  };
  {
    grpc::ClientContext context;
    auto reader = stub_->Read(&context, ReadRequest("s"));
    streams::ReadResp response;
    EXPECT_FALSE(reader->Read(&response));
    expect_deleted(reader->Finish(), context);
  }
  {
    grpc::ClientContext context;
    streams::AppendResp response;
    expect_deleted(
        Append(AnyOptions("s"), {Proposed("E")}, &response, &context), context);
  }
  {
    grpc::ClientContext context;
    streams::TombstoneResp response;
    expect_deleted(stub_->Tombstone(&context, TombstoneRequest("s"), &response),
                   context);
  }
  {
    grpc::ClientContext context;
    streams::DeleteResp response;
    expect_deleted(stub_->Delete(&context, DeleteRequest("s"), &response),
                   context);
  }
  {
    auto request = ReadRequest("s");
    request.mutable_options()->mutable_subscription();
    grpc::ClientContext context;
    auto reader = stub_->Read(&context, request);
    streams::ReadResp response;
    while (reader->Read(&response)) {
      EXPECT_FALSE(response.has_event());
    }
    expect_deleted(reader->Finish(), context);
  }
}

TEST_F(DeleteCallTest, TombstoneAtTheWrongRevisionChangesNothing) {
  Seed("s", 1);
  auto request = TombstoneRequest("s");
  request.mutable_options()->mutable_no_stream();
  grpc::ClientContext context;
  streams::TombstoneResp response;
  EXPECT_EQ(stub_->Tombstone(&context, request, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Trailer(context, "expected-version"), "-1");
  EXPECT_EQ(Trailer(context, "actual-version"), "0");
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("s"), &responses).ok());
  EXPECT_EQ(responses.size(), 1u);
}

TEST_F(DeleteCallTest, BadRequestsAreRefused) {
  for (const std::string stream : {"", "$all", "$$s", "$ce-s"}) {
    grpc::ClientContext context;
    streams::DeleteResp response;
    EXPECT_EQ(
        stub_->Delete(&context, DeleteRequest(stream), &response).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT)
        << stream;
  }
  auto request = TombstoneRequest("s");
  request.mutable_options()->clear_expected_stream_revision();
  grpc::ClientContext context;
  streams::TombstoneResp response;
  EXPECT_EQ(stub_->Tombstone(&context, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace cairn::server::testing
