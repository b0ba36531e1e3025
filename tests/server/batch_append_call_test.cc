// Copyright (c) Cairn authors.
#include "server/batch_append_call.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "server/proposed_event.h"
#include "shared.pb.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using BatchAppendCallTest = ServerTest;

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

// Deadlines of any size are taken, clamped (the clock's nanoseconds would
// overflow): the largest mean no deadline, the most negative one has passed.
TEST_F(BatchAppendCallTest, ExtremeDeadlinesAreClampedNotOverflowed) {
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  auto at = Chunk(EventId::Generate().ToString(), "s", 1, true);
  at.mutable_options()->mutable_deadline_21_10_0()->set_seconds(kMax);
  at.mutable_options()->mutable_deadline_21_10_0()->set_nanos(999'999'999);
  auto in = Chunk(EventId::Generate().ToString(), "s", 1, true);
  in.mutable_options()->mutable_deadline()->set_seconds(kMax);
  in.mutable_options()->mutable_deadline()->set_nanos(999'999'999);
  auto passed = Chunk(EventId::Generate().ToString(), "s", 1, true);
  passed.mutable_options()->mutable_deadline()->set_seconds(
      std::numeric_limits<int64_t>::min());
  for (const auto* chunk : {&at, &in, &passed}) {
    ASSERT_TRUE(stream->Write(*chunk));
    streams::BatchAppendResp reply;
    ASSERT_TRUE(stream->Read(&reply));
    if (chunk == &passed) {
      EXPECT_EQ(reply.error().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    } else {
      EXPECT_TRUE(reply.has_success()) << reply.error().message();
    }
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(store_->GetStreamRevision("s").value()->value(), 1u);
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
  // Five events of 3 bytes ("E" and "{}") and their buffer overhead, and
  // no final chunk.
  ASSERT_TRUE(
      stream->Write(Chunk(EventId::Generate().ToString(), "s", 5, false)));
  streams::BatchAppendResp reply;
  EXPECT_FALSE(stream->Read(&reply));
  EXPECT_EQ(stream->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_FALSE(store_->GetStreamRevision("s").value().has_value());
}

// Appends whose events together pass the buffered bytes while they run
// pause the reading until the store finished some; every one is answered.
TEST_F(BatchAppendCallTest, RunningAppendsBeyondTheBufferedBytesPauseReading) {
  ServerOptions options;
  options.limits.batch_max_buffered_bytes = 3 * (3 + kBufferedEventOverhead);
  StartServer(options);
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  constexpr int kAppends = 10;
  for (int i = 0; i < kAppends; ++i) {
    ASSERT_TRUE(
        stream->Write(Chunk(EventId::Generate().ToString(), "s", 1, true)));
  }
  stream->WritesDone();
  streams::BatchAppendResp reply;
  for (int i = 0; i < kAppends; ++i) {
    ASSERT_TRUE(stream->Read(&reply));
    EXPECT_TRUE(reply.has_success()) << reply.error().message();
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(store_->GetStreamRevision("s").value()->value(), kAppends - 1u);
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

// A client that writes all its requests before it reads any (as a
// synchronous client does): an error that ends the call arrives after the
// reply queued before it, while the server reads and drops what follows.
// Over the in-process channel a write completes only once the server reads
// it, so a server that stopped reading left this client blocked for ever.
TEST_F(BatchAppendCallTest, AFailedCallReadsOnUntilItsClientReads) {
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  // Answered with BadRequest inside a reply; the call goes on.
  ASSERT_TRUE(stream->Write(
      Chunk(EventId::Generate().ToString(), "s", 1, false, false)));
  auto no_correlation = Chunk("x", "s", 1, true);
  no_correlation.clear_correlation_id();
  ASSERT_TRUE(stream->Write(no_correlation));
  // Read and dropped, or refused once the call ended: never appended.
  for (int i = 0; i < 8; ++i) {
    if (!stream->Write(Chunk(EventId::Generate().ToString(), "t", 1, true))) {
      break;
    }
  }
  stream->WritesDone();
  streams::BatchAppendResp reply;
  ASSERT_TRUE(stream->Read(&reply));
  EXPECT_EQ(reply.error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(stream->Read(&reply));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(store_->GetStreamRevision("t").value().has_value());
}

// With room for one reply, a client that writes failing appends without
// reading is read no further until it reads; then every append is answered.
TEST_F(BatchAppendCallTest, UnwrittenRepliesHoldTheCallsReads) {
  ServerOptions options;
  options.limits.batch_max_in_flight = 1;
  StartServer(options);
  grpc::ClientContext context;
  auto stream = stub_->BatchAppend(&context);
  constexpr int kAppends = 6;
  std::thread writer([&] {
    for (int i = 0; i < kAppends; ++i) {
      // No options: each is answered with BadRequest.
      ASSERT_TRUE(stream->Write(
          Chunk(EventId::Generate().ToString(), "s", 1, true, false)));
    }
    stream->WritesDone();
  });
  std::set<std::string> answered;
  streams::BatchAppendResp reply;
  while (stream->Read(&reply)) {
    EXPECT_EQ(reply.error().code(), grpc::StatusCode::INVALID_ARGUMENT);
    answered.insert(reply.correlation_id().string());
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answered.size(), static_cast<size_t>(kAppends));
}

// Writes `n` single-append requests (one event each, or none every
// `empty_every`th, which completes on the server's reading thread) on one
// call without waiting, while another thread takes the replies; returns
// the replies by correlation id.
std::map<std::string, streams::BatchAppendResp> AppendMany(
    streams::Streams::Stub* stub, int n, int empty_every) {
  grpc::ClientContext context;
  auto stream = stub->BatchAppend(&context);
  std::map<std::string, streams::BatchAppendResp> replies;
  std::thread reader([&] {
    streams::BatchAppendResp reply;
    while (static_cast<int>(replies.size()) < n && stream->Read(&reply)) {
      replies[reply.correlation_id().string()] = reply;
    }
  });
  for (int i = 0; i < n; ++i) {
    const bool empty = empty_every != 0 && i % empty_every == 0;
    if (!stream->Write(Chunk(EventId::Generate().ToString(),
                             "s-" + std::to_string(i % 7), empty ? 0 : 1,
                             true))) {
      break;
    }
  }
  reader.join();
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  return replies;
}

void ExpectAllSucceeded(
    const std::map<std::string, streams::BatchAppendResp>& replies, int n) {
  EXPECT_EQ(static_cast<int>(replies.size()), n);
  for (const auto& [correlation, reply] : replies) {
    EXPECT_TRUE(reply.has_success())
        << correlation << ": " << reply.error().message();
  }
}

// Every request is taken whole even while appends complete and start the
// next read on other threads: with the in-flight limit reached again and
// again, no request is read into the buffer still being taken (which
// answered BadRequest) and no wake-up is lost (which left the call silent).
TEST_F(BatchAppendCallTest, EveryAppendOfAFullCallIsAnswered) {
  ExpectAllSucceeded(AppendMany(stub_.get(), 3000, 0), 3000);
  EXPECT_EQ(store_->GetStreamRevision("s-0").value()->value(), 428u);
}

TEST_F(BatchAppendCallTest, InFlightLimitOfOneAnswersEveryAppend) {
  ServerOptions options;
  options.limits.batch_max_in_flight = 1;
  StartServer(options);
  ExpectAllSucceeded(AppendMany(stub_.get(), 1000, 5), 1000);
}

TEST_F(BatchAppendCallTest, AppendsCompletingOnTheReadingThreadAreAnswered) {
  ServerOptions options;
  options.limits.batch_max_in_flight = 2;
  StartServer(options);
  ExpectAllSucceeded(AppendMany(stub_.get(), 1000, 1), 1000);
}

// Calls cancelled while their appends run end without touching the call
// after gRPC finished it (the sanitizer builds check), and the server
// serves on.
TEST_F(BatchAppendCallTest, CancelledCallsWithAppendsInFlightEndCleanly) {
  constexpr int kCalls = 16;
  std::vector<std::thread> clients;
  for (int c = 0; c < kCalls; ++c) {
    clients.emplace_back([this, c] {
      grpc::ClientContext context;
      auto stream = stub_->BatchAppend(&context);
      for (int i = 0; i < 64; ++i) {
        if (!stream->Write(Chunk(EventId::Generate().ToString(),
                                 "c-" + std::to_string(c), 1, true))) {
          break;
        }
      }
      // Some replies arrive, then the client goes away mid-call.
      streams::BatchAppendResp reply;
      for (int i = 0; i < c % 4 && stream->Read(&reply); ++i) {
      }
      context.TryCancel();
      const grpc::Status status = stream->Finish();
      EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
    });
  }
  for (auto& client : clients) client.join();
  ExpectAllSucceeded(AppendMany(stub_.get(), 10, 0), 10);
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
