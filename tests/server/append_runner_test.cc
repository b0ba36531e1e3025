// Copyright (c) Cairn authors.
#include "server/append_runner.h"

#include <gtest/gtest.h>

#include "shared.pb.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using AppendRunnerTest = ServerTest;

TEST_F(AppendRunnerTest, AnAppendToAMetadataStreamSetsTheMetadata) {
  Seed("s", 5);
  auto options = AnyOptions("$$s");
  options.mutable_no_stream();
  streams::AppendResp response;
  ASSERT_TRUE(
      Append(options, {Proposed("$metadata", R"({"$maxCount":2})")}, &response)
          .ok());
  ASSERT_TRUE(response.has_success());
  EXPECT_EQ(response.success().current_revision(), 0u);
  auto metadata = store_->GetStreamMetadata("s");
  ASSERT_TRUE(metadata.ok());
  EXPECT_EQ(metadata->json, R"({"$maxCount":2})");

  // The metadata applies to reads, and `$$s` reads as its events.
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("s"), &responses).ok());
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].event().event().stream_revision(), 3u);
  responses.clear();
  ASSERT_TRUE(ReadAllResponses(ReadRequest("$$s"), &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].event().event().metadata().at("type"), "$metadata");
  EXPECT_EQ(responses[0].event().event().data(), R"({"$maxCount":2})");

  // The expected revision is the metadata stream's.
  response.Clear();
  ASSERT_TRUE(Append(options, {Proposed("$metadata", "{}")}, &response).ok());
  ASSERT_TRUE(response.has_wrong_expected_version());
  EXPECT_EQ(response.wrong_expected_version().current_revision(), 0u);
  EXPECT_TRUE(response.wrong_expected_version().has_expected_no_stream());
}

TEST_F(AppendRunnerTest, BadMetadataIsABadRequestAndChangesNothing) {
  for (const auto& events :
       std::vector<std::vector<streams::AppendReq::ProposedMessage>>{
           {Proposed("$metadata", "not json")},
           {Proposed("$metadata", R"({"$maxCount":-1})")},
           {Proposed("Other", "{}")},
           {Proposed("$metadata", "{}"), Proposed("$metadata", "{}")}}) {
    streams::AppendResp response;
    EXPECT_EQ(Append(AnyOptions("$$s"), events, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  auto metadata = store_->GetStreamMetadata("s");
  ASSERT_TRUE(metadata.ok());
  EXPECT_FALSE(metadata->metastream_revision.has_value());
}

TEST_F(AppendRunnerTest, BatchAppendSetsMetadataAndReportsStreamDeleted) {
  ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  for (const std::string name : {"$$s", "$$gone", "gone"}) {
    streams::BatchAppendReq request;
    request.mutable_correlation_id()->set_string(
        EventId::Generate().ToString());
    request.mutable_options()->mutable_stream_identifier()->set_stream_name(
        name);
    request.mutable_options()->mutable_any();
    auto* message = request.add_proposed_messages();
    message->mutable_id()->set_string(EventId::Generate().ToString());
    (*message->mutable_metadata())["type"] =
        name.starts_with("$$") ? "$metadata" : "E";
    (*message->mutable_metadata())["content-type"] = "application/json";
    message->set_data(R"({"owner":"x"})");
    request.set_is_final(true);
    ASSERT_TRUE(stream->Write(request));
    streams::BatchAppendResp reply;
    ASSERT_TRUE(stream->Read(&reply));
    EXPECT_EQ(reply.stream_identifier().stream_name(), name);
    if (name == "$$s") {
      ASSERT_TRUE(reply.has_success()) << reply.DebugString();
      EXPECT_EQ(reply.success().current_revision(), 0u);
      continue;
    }
    ASSERT_TRUE(reply.has_error()) << name;
    EXPECT_EQ(reply.error().code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(reply.error().message(), "StreamDeleted");
    event_store::client::StreamDeleted detail;
    ASSERT_TRUE(reply.error().details().UnpackTo(&detail));
    EXPECT_EQ(detail.stream_identifier().stream_name(), "gone");
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  auto metadata = store_->GetStreamMetadata("s");
  ASSERT_TRUE(metadata.ok());
  EXPECT_EQ(metadata->json, R"({"owner":"x"})");
}

}  // namespace
}  // namespace cairn::server::testing
