// Copyright (c) Cairn authors.
#include "server/append_call.h"

#include <gtest/gtest.h>

#include <limits>

#include "server/proposed_event.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using AppendCallTest = ServerTest;

TEST_F(AppendCallTest, AppendsAndAnswersRevisionAndPosition) {
  streams::AppendResp response;
  grpc::Status status =
      Append(AnyOptions("order-1"), {Proposed("A"), Proposed("B")}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(response.has_success());
  EXPECT_EQ(response.success().current_revision(), 1u);
  EXPECT_EQ(response.success().position().commit_position(), 1u);
  auto read = store_->ReadStream("order-1", ReadStreamOptions());
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read.value().events.size(), 2u);
  EXPECT_EQ(read.value().events[1].type, "B");
}

TEST_F(AppendCallTest, RetryWithTheSameIdsIsIdempotent) {
  const auto message = Proposed("A");
  streams::AppendResp first, second;
  ASSERT_TRUE(Append(AnyOptions("s"), {message}, &first).ok());
  ASSERT_TRUE(Append(AnyOptions("s"), {message}, &second).ok());
  EXPECT_EQ(second.success().current_revision(), 0u);
  auto revision = store_->GetStreamRevision("s");
  ASSERT_TRUE(revision.ok());
  EXPECT_EQ(revision.value()->value(), 0u);
}

TEST_F(AppendCallTest, WrongExpectedVersionFillsCurrentAndLegacyFields) {
  Seed("s", 3);
  streams::AppendReq::Options options = AnyOptions("s");
  options.mutable_no_stream();
  streams::AppendResp response;
  ASSERT_TRUE(Append(options, {Proposed("A")}, &response).ok());
  ASSERT_TRUE(response.has_wrong_expected_version());
  const auto& wev = response.wrong_expected_version();
  EXPECT_EQ(wev.current_revision(), 2u);
  EXPECT_TRUE(wev.has_expected_no_stream());
  EXPECT_EQ(wev.current_revision_20_6_0(), 2u);
  EXPECT_EQ(wev.expected_revision_20_6_0(),
            std::numeric_limits<uint64_t>::max());

  options.set_revision(7);
  response.Clear();
  ASSERT_TRUE(Append(options, {Proposed("A")}, &response).ok());
  EXPECT_EQ(response.wrong_expected_version().expected_revision(), 7u);

  options.mutable_stream_exists();
  response.Clear();
  ASSERT_TRUE(Append(AnyOptions("other"), {}, &response).ok());
  options.mutable_stream_identifier()->set_stream_name("missing");
  response.Clear();
  ASSERT_TRUE(Append(options, {Proposed("A")}, &response).ok());
  EXPECT_TRUE(response.wrong_expected_version().has_current_no_stream());
  EXPECT_TRUE(response.wrong_expected_version().has_expected_stream_exists());
}

// An expected revision of u64::MAX is -1 to the protocol: no stream.
TEST_F(AppendCallTest, TheMaximumExpectedRevisionIsNoStream) {
  streams::AppendReq::Options options = AnyOptions("s");
  options.set_revision(std::numeric_limits<uint64_t>::max());
  streams::AppendResp response;
  ASSERT_TRUE(Append(options, {Proposed("A")}, &response).ok());
  EXPECT_TRUE(response.has_success());
  response.Clear();
  ASSERT_TRUE(Append(options, {Proposed("A")}, &response).ok());
  ASSERT_TRUE(response.has_wrong_expected_version());
  EXPECT_TRUE(response.wrong_expected_version().has_expected_no_stream());
  EXPECT_EQ(store_->GetStreamRevision("s").value()->value(), 0u);
}

TEST_F(AppendCallTest, ZeroEventsOnlyChecksTheExpectedVersion) {
  Seed("s", 2);
  streams::AppendReq::Options options = AnyOptions("s");
  options.set_revision(1);
  streams::AppendResp response;
  ASSERT_TRUE(Append(options, {}, &response).ok());
  EXPECT_EQ(response.success().current_revision(), 1u);
  EXPECT_TRUE(response.success().has_no_position());
  options.set_revision(0);
  response.Clear();
  ASSERT_TRUE(Append(options, {}, &response).ok());
  EXPECT_EQ(response.wrong_expected_version().current_revision(), 1u);
}

TEST_F(AppendCallTest, MissingTypeIsRefusedWithTheProtocolTrailers) {
  auto message = Proposed("A");
  message.mutable_metadata()->erase("content-type");
  grpc::ClientContext context;
  streams::AppendResp response;
  grpc::Status status = Append(AnyOptions("s"), {message}, &response, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Trailer(context, "exception"),
            "missing-required-metadata-property");
  EXPECT_EQ(Trailer(context, "required-metadata-properties"),
            "type,content-type");
  EXPECT_FALSE(store_->GetStreamRevision("s").value().has_value());
}

TEST_F(AppendCallTest, OversizedAppendIsRefused) {
  ServerOptions options;
  options.limits.max_append_size = 100;
  options.limits.max_event_size = 60;
  StartServer(options);
  grpc::ClientContext context;
  streams::AppendResp response;
  grpc::Status status =
      Append(AnyOptions("s"), {Proposed("A", std::string(61, 'x'))}, &response,
             &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Trailer(context, "exception"),
            "maximum-append-event-size-exceeded");
  EXPECT_EQ(Trailer(context, "maximum-append-event-size"), "60");

  grpc::ClientContext total;
  status = Append(AnyOptions("s"),
                  {Proposed("A", std::string(50, 'x')),
                   Proposed("A", std::string(50, 'x'))},
                  &response, &total);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Trailer(total, "exception"), "maximum-append-size-exceeded");
  EXPECT_EQ(Trailer(total, "maximum-append-size"), "100");
  EXPECT_FALSE(store_->GetStreamRevision("s").value().has_value());
}

// Each event counts its buffer overhead toward the append's total: many
// tiny events hit the limit as their memory would, not only their bytes.
TEST_F(AppendCallTest, TinyEventsCountTheirBufferOverhead) {
  ServerOptions options;
  options.limits.max_append_size = 10 * kBufferedEventOverhead;
  StartServer(options);
  std::vector<streams::AppendReq::ProposedMessage> events(10, Proposed("A"));
  for (auto& event : events) event.set_data("");
  grpc::ClientContext context;
  streams::AppendResp response;
  grpc::Status status = Append(AnyOptions("s"), events, &response, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Trailer(context, "exception"), "maximum-append-size-exceeded");
  EXPECT_FALSE(store_->GetStreamRevision("s").value().has_value());

  events.pop_back();  // nine fit
  for (auto& event : events) {
    event.mutable_id()->set_string(EventId::Generate().ToString());
  }
  grpc::ClientContext fits;
  ASSERT_TRUE(Append(AnyOptions("s"), events, &response, &fits).ok());
  EXPECT_TRUE(response.has_success());
}

TEST_F(AppendCallTest, BadRequestsChangeNothing) {
  streams::AppendResp response;
  streams::AppendReq::Options no_expected;
  no_expected.mutable_stream_identifier()->set_stream_name("s");
  EXPECT_EQ(Append(no_expected, {Proposed("A")}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Append(AnyOptions(""), {Proposed("A")}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Append(AnyOptions("$all"), {Proposed("A")}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  auto bad_id = Proposed("A");
  bad_id.mutable_id()->set_string("not-a-uuid");
  EXPECT_EQ(Append(AnyOptions("s"), {bad_id}, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // A proposed message before the options.
  grpc::ClientContext context;
  auto writer = stub_->Append(&context, &response);
  streams::AppendReq request;
  *request.mutable_proposed_message() = Proposed("A");
  writer->Write(request);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(store_->GetStreamRevision("s").value().has_value());
}

}  // namespace
}  // namespace cairn::server::testing
