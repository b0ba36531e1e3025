// Copyright (c) Cairn authors.
#include "server/read_call.h"

#include <gtest/gtest.h>

#include <future>
#include <limits>
#include <memory>
#include <mutex>

#include "server/read_request.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using ReadCallTest = ServerTest;

std::vector<uint64_t> Revisions(const std::vector<streams::ReadResp>& all) {
  std::vector<uint64_t> out;
  for (const auto& response : all) {
    if (response.has_event()) {
      out.push_back(response.event().event().stream_revision());
    }
  }
  return out;
}

TEST_F(ReadCallTest, ReadsAStreamForwardsAcrossPages) {
  ServerOptions options;
  options.limits.read_page_events = 3;
  StartServer(options);
  Seed("s", 10);
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("s"), &responses).ok());
  ASSERT_EQ(responses.size(), 10u);
  EXPECT_EQ(Revisions(responses),
            (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  const auto& event = responses[0].event().event();
  EXPECT_EQ(event.stream_identifier().stream_name(), "s");
  EXPECT_EQ(event.metadata().at("type"), "E");
  EXPECT_EQ(event.metadata().at("content-type"), "application/json");
  EXPECT_FALSE(event.metadata().at("created").empty());
  EXPECT_EQ(event.id().value_case(), event_store::client::UUID::kString);
}

// The server reuses the memory of written responses for later events:
// each response must still carry exactly its own event, whatever the one
// before it held (a resolved link, longer data, metadata, a large event).
// With read_buffer_bytes below one event, every page is one event: reads
// of a stream and of $all, each way, still answer every event in order.
TEST_F(ReadCallTest, PagesStopAtTheBufferBytes) {
  ServerOptions options;
  options.limits.read_buffer_bytes = 1;
  StartServer(options);
  Seed("a", 5);
  Seed("b", 2);
  Seed("a", 3);
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("a"), &responses).ok());
  EXPECT_EQ(Revisions(responses),
            (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  auto backward = ReadRequest("a");
  backward.mutable_options()->set_read_direction(
      streams::ReadReq::Options::Backwards);
  backward.mutable_options()->mutable_stream()->mutable_end();
  responses.clear();
  ASSERT_TRUE(ReadAllResponses(backward, &responses).ok());
  EXPECT_EQ(Revisions(responses),
            (std::vector<uint64_t>{7, 6, 5, 4, 3, 2, 1, 0}));

  auto positions = [](const std::vector<streams::ReadResp>& all) {
    std::vector<uint64_t> out;
    for (const auto& response : all) {
      out.push_back(response.event().commit_position());
    }
    return out;
  };
  responses.clear();
  ASSERT_TRUE(ReadAllResponses(ReadRequest("$all"), &responses).ok());
  EXPECT_EQ(positions(responses),
            (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  auto filtered = ReadRequest("$all");
  filtered.mutable_options()->set_read_direction(
      streams::ReadReq::Options::Backwards);
  filtered.mutable_options()->mutable_all()->mutable_end();
  auto* filter = filtered.mutable_options()->mutable_filter();
  filter->mutable_stream_identifier()->add_prefix("b");
  filter->set_max(32);
  filter->set_checkpointintervalmultiplier(1);
  responses.clear();
  ASSERT_TRUE(ReadAllResponses(filtered, &responses).ok());
  EXPECT_EQ(positions(responses), (std::vector<uint64_t>{6, 5}));
}

TEST_F(ReadCallTest, EveryResponseCarriesOnlyItsOwnEvent) {
  ServerOptions options;
  options.limits.read_page_events = 3;  // reuse across many pages
  StartServer(options);
  EventData target;
  target.type = "Target";
  target.data = "T";
  target.metadata = "tm";
  ASSERT_TRUE(store_->Append("target", ExpectedVersion::Any(), {target}).ok());
  constexpr int kEvents = 40;
  std::vector<EventData> events(kEvents);
  for (int i = 0; i < kEvents; ++i) {
    EventData& event = events[i];
    if (i % 4 == 3) {
      event.type = "$>";
      event.data = "0@target";
      event.content_type = ContentType::kBinary;
      continue;
    }
    // Built, then moved in: g++ 12 -O2 reports a false -Wrestrict overlap
    // for `"E" + std::to_string(i)` (GCC bug 105651).
    std::string type("E");
    type += std::to_string(i);
    event.type = std::move(type);
    const size_t size = i == 10 ? 10'000 : static_cast<size_t>(i * 37 % 100);
    event.data = std::string(size, static_cast<char>('a' + i % 26));
    if (i % 2 == 1) {
      std::string metadata("m");
      metadata += std::to_string(i);
      event.metadata = std::move(metadata);
    }
    event.content_type = i % 3 == 0 ? ContentType::kJson : ContentType::kBinary;
  }
  ASSERT_TRUE(store_->Append("mix", ExpectedVersion::Any(), events).ok());
  auto request = ReadRequest("mix");
  request.mutable_options()->set_resolve_links(true);
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  ASSERT_EQ(responses.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    SCOPED_TRACE(i);
    const auto& read = responses[i].event();
    const auto& event = read.event();
    if (i % 4 == 3) {
      ASSERT_TRUE(read.has_link());
      EXPECT_EQ(read.link().stream_identifier().stream_name(), "mix");
      EXPECT_EQ(read.link().stream_revision(), static_cast<uint64_t>(i));
      EXPECT_EQ(read.link().data(), "0@target");
      EXPECT_EQ(event.stream_identifier().stream_name(), "target");
      EXPECT_EQ(event.metadata().at("type"), "Target");
      EXPECT_EQ(event.data(), "T");
      EXPECT_EQ(event.custom_metadata(), "tm");
      continue;
    }
    EXPECT_FALSE(read.has_link());
    EXPECT_EQ(event.stream_identifier().stream_name(), "mix");
    EXPECT_EQ(event.stream_revision(), static_cast<uint64_t>(i));
    EXPECT_EQ(event.metadata().size(), 3u);
    EXPECT_EQ(event.metadata().at("type"), events[i].type);
    EXPECT_EQ(event.metadata().at("content-type"),
              i % 3 == 0 ? "application/json" : "application/octet-stream");
    EXPECT_EQ(event.data(), events[i].data);
    EXPECT_EQ(event.custom_metadata(), events[i].metadata);
  }
}

TEST_F(ReadCallTest, ReadsBackwardsFromTheEndWithACount) {
  Seed("s", 5);
  auto request = ReadRequest("s");
  request.mutable_options()->set_read_direction(
      streams::ReadReq::Options::Backwards);
  request.mutable_options()->mutable_stream()->mutable_end();
  request.mutable_options()->set_count(2);
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  EXPECT_EQ(Revisions(responses), (std::vector<uint64_t>{4, 3}));
}

TEST_F(ReadCallTest, MissingStreamAnswersStreamNotFoundAndOk) {
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("nothing"), &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].stream_not_found().stream_identifier().stream_name(),
            "nothing");
}

TEST_F(ReadCallTest, ForwardsFromTheEndChecksTheStreamIsReadable) {
  Seed("kept", 2);
  Seed("deleted", 2);
  Seed("gone", 2);
  ASSERT_TRUE(store_->Delete("deleted", ExpectedVersion::Any()).ok());
  ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
  auto from_end = [](const std::string& stream) {
    auto request = ReadRequest(stream);
    request.mutable_options()->mutable_stream()->mutable_end();
    return request;
  };
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(from_end("kept"), &responses).ok());
  EXPECT_TRUE(responses.empty());
  ASSERT_TRUE(ReadAllResponses(from_end("deleted"), &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_TRUE(responses[0].has_stream_not_found());
  responses.clear();
  EXPECT_EQ(ReadAllResponses(from_end("gone"), &responses).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(responses.empty());
}

TEST_F(ReadCallTest, StructuredIdsRoundTrip) {
  Seed("s", 1);
  auto request = ReadRequest("s");
  request.mutable_options()->mutable_uuid_option()->mutable_structured();
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  auto id = EventIdFromProto(responses[0].event().event().id());
  ASSERT_TRUE(id.has_value());
  auto stored = store_->ReadStream("s", ReadStreamOptions());
  EXPECT_EQ(*id, stored.value().events[0].id);
}

TEST_F(ReadCallTest, ReadsAllWithAPrefixFilterAndFromAPosition) {
  ServerOptions options;
  options.limits.read_page_examined = 2;  // many pages
  StartServer(options);
  Seed("a-1", 3);
  Seed("b-1", 3);
  Seed("a-2", 2);
  auto request = ReadRequest("$all");
  auto* filter = request.mutable_options()->mutable_filter();
  filter->mutable_stream_identifier()->add_prefix("a-");
  filter->set_max(32);
  filter->set_checkpointintervalmultiplier(1);
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(responses[3].event().event().stream_identifier().stream_name(),
            "a-2");

  // Backwards from position 3 means the events before it.
  request.mutable_options()->clear_filter();
  request.mutable_options()->mutable_no_filter();
  request.mutable_options()->set_read_direction(
      streams::ReadReq::Options::Backwards);
  auto* position = request.mutable_options()->mutable_all()->mutable_position();
  position->set_commit_position(3);
  position->set_prepare_position(3);
  responses.clear();
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].event().commit_position(), 2u);
  EXPECT_EQ(responses[2].event().commit_position(), 0u);
}

TEST_F(ReadCallTest, RegexFilterOnEventTypes) {
  Seed("s", 2, "OrderPlaced");
  Seed("s", 2, "OrderPaid");
  auto request = ReadRequest("$all");
  request.mutable_options()->mutable_filter()->mutable_event_type()->set_regex(
      "Pa(id|x)$");
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  EXPECT_EQ(Revisions(responses), (std::vector<uint64_t>{2, 3}));
}

// A client's regular expression is matched without backtracking: one
// that backtracks exponentially on a long name returns (a backtracking
// matcher would not finish before the test's timeout), and one that needs
// backtracking (a back-reference) is a bad request.
TEST_F(ReadCallTest, RegexFiltersMatchWithoutBacktracking) {
  Seed(std::string(80, 'a'), 1);
  Seed("aac", 1);
  auto request = ReadRequest("$all");
  request.mutable_options()
      ->mutable_filter()
      ->mutable_stream_identifier()
      ->set_regex("^(a|aa)*c$");
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  std::vector<std::string> streams;
  for (const auto& response : responses) {
    if (response.has_event()) {
      streams.push_back(
          response.event().event().stream_identifier().stream_name());
    }
  }
  EXPECT_EQ(streams, std::vector<std::string>{"aac"});

  request.mutable_options()
      ->mutable_filter()
      ->mutable_stream_identifier()
      ->set_regex("(a)\\1");
  responses.clear();
  EXPECT_EQ(ReadAllResponses(request, &responses).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A filter's prefixes are bounded in number and in bytes.
TEST_F(ReadCallTest, FilterPrefixesAreBounded) {
  Seed("s", 1);
  auto request = ReadRequest("$all");
  auto* filter =
      request.mutable_options()->mutable_filter()->mutable_stream_identifier();
  const std::string prefix = "s";
  for (size_t i = 0; i < kMaxFilterPrefixes; ++i) filter->add_prefix(prefix);
  std::vector<streams::ReadResp> responses;
  EXPECT_TRUE(ReadAllResponses(request, &responses).ok());
  filter->add_prefix(prefix);
  responses.clear();
  EXPECT_EQ(ReadAllResponses(request, &responses).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  filter->clear_prefix();
  filter->add_prefix()->assign(kMaxFilterPrefixBytes + 1, 's');
  responses.clear();
  EXPECT_EQ(ReadAllResponses(request, &responses).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReadCallTest, InvalidCombinationsAreRefused) {
  auto request = ReadRequest("s");
  request.mutable_options()->mutable_filter()->mutable_event_type()->add_prefix(
      "x");
  std::vector<streams::ReadResp> responses;
  EXPECT_EQ(ReadAllResponses(request, &responses).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request = ReadRequest("s");
  request.mutable_options()->clear_uuid_option();
  EXPECT_EQ(ReadAllResponses(request, &responses).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(responses.empty());
}

TEST_F(ReadCallTest, StreamSubscriptionCatchesUpThenGoesLive) {
  Seed("s", 3);
  auto request = ReadRequest("s");
  request.mutable_options()->mutable_subscription();
  grpc::ClientContext context;
  auto reader = stub_->Read(&context, request);
  streams::ReadResp response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_FALSE(response.confirmation().subscription_id().empty());
  for (uint64_t revision = 0; revision < 3; ++revision) {
    ASSERT_TRUE(reader->Read(&response));
    EXPECT_EQ(response.event().event().stream_revision(), revision);
  }
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_caught_up());
  EXPECT_EQ(response.caught_up().stream_revision(), 2);
  Seed("s", 1);
  Seed("other", 1);
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.event().event().stream_revision(), 3u);
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ReadCallTest, SubscriptionFromARevisionStartsAfterIt) {
  Seed("s", 5);
  auto request = ReadRequest("s");
  request.mutable_options()->mutable_subscription();
  request.mutable_options()->mutable_stream()->set_revision(2);
  grpc::ClientContext context;
  auto reader = stub_->Read(&context, request);
  streams::ReadResp response;
  ASSERT_TRUE(reader->Read(&response));  // confirmation
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.event().event().stream_revision(), 3u);
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  reader->Finish();
}

// The protocol spells the end as u64::MAX: a subscription from there is
// live only (it never wraps to the start).
TEST_F(ReadCallTest, SubscriptionsFromTheMaximumPointAreLiveOnly) {
  Seed("s", 5);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  auto to_stream = ReadRequest("s");
  to_stream.mutable_options()->mutable_subscription();
  to_stream.mutable_options()->mutable_stream()->set_revision(kMax);
  auto to_all = ReadRequest("s");
  to_all.mutable_options()->mutable_subscription();
  auto* position = to_all.mutable_options()->mutable_all()->mutable_position();
  position->set_commit_position(kMax);
  position->set_prepare_position(kMax);
  for (const auto& request : {to_stream, to_all}) {
    grpc::ClientContext context;
    auto reader = stub_->Read(&context, request);
    streams::ReadResp response;
    ASSERT_TRUE(reader->Read(&response));
    ASSERT_TRUE(response.has_confirmation());
    Seed("s", 1);
    do {
      ASSERT_TRUE(reader->Read(&response));
    } while (!response.has_event());
    EXPECT_EQ(response.event().event().stream_identifier().stream_name(), "s");
    const uint64_t newest = request.options().has_all() ? 6 : 5;
    EXPECT_EQ(response.event().event().stream_revision(), newest);
    context.TryCancel();
    while (reader->Read(&response)) {
    }
    reader->Finish();
  }
}

TEST_F(ReadCallTest, FilteredAllSubscriptionSendsCheckpoints) {
  Seed("a", 2);
  Seed("b", 4);
  auto request = ReadRequest("$all");
  request.mutable_options()->mutable_subscription();
  auto* filter = request.mutable_options()->mutable_filter();
  filter->mutable_stream_identifier()->add_prefix("a");
  filter->set_max(2);
  filter->set_checkpointintervalmultiplier(1);
  grpc::ClientContext context;
  auto reader = stub_->Read(&context, request);
  std::vector<streams::ReadResp> responses;
  streams::ReadResp response;
  while (reader->Read(&response)) {
    responses.push_back(response);
    if (response.has_caught_up()) break;
  }
  // confirmation, a@0, a@1, checkpoint@1, checkpoint@3, checkpoint@5
  // (every 2 examined), checkpoint at the caught-up point, caught_up.
  std::vector<uint64_t> checkpoints;
  int events = 0;
  for (const auto& r : responses) {
    if (r.has_checkpoint()) {
      checkpoints.push_back(r.checkpoint().commit_position());
    }
    if (r.has_event()) ++events;
  }
  EXPECT_EQ(events, 2);
  EXPECT_EQ(checkpoints, (std::vector<uint64_t>{1, 3, 5, 5}));
  ASSERT_TRUE(responses.back().has_caught_up());
  EXPECT_EQ(responses.back().caught_up().position().commit_position(), 5u);
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  reader->Finish();
}

TEST_F(ReadCallTest, ShutdownEndsSubscriptionsWithUnavailable) {
  auto request = ReadRequest("$all");
  request.mutable_options()->mutable_subscription();
  grpc::ClientContext context;
  auto reader = stub_->Read(&context, request);
  streams::ReadResp response;
  ASSERT_TRUE(reader->Read(&response));  // confirmation
  server_->Shutdown();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// A subscriber that reads nothing, against a server that drops a stalled
// subscriber at once and logs it.
class StalledSubscriberTest : public ServerTest {
 protected:
  // Starts the server with `options` and 256 events of 256 KiB in "s", far
  // more than gRPC's flow-control windows hold; subscribes to "s" and
  // returns the server's log line that dropped the subscriber. The call's
  // status is then in status_, the responses received in received_.
  std::string SubscribeAndStall(ServerOptions options) {
    // Shared with the server's log function, which may outlive this call.
    auto dropped = std::make_shared<std::promise<std::string>>();
    auto once = std::make_shared<std::once_flag>();
    options.limits.subscriber_stall_timeout = std::chrono::milliseconds(0);
    options.log = [dropped, once](const std::string& line) {
      if (line.find("subscription dropped") == std::string::npos) return;
      std::call_once(*once, [&] { dropped->set_value(line); });
    };
    StartServer(options);
    std::vector<EventData> events(64);
    for (auto& event : events) {
      event.type = "Big";
      event.data = std::string(256 << 10, 'x');
      event.content_type = ContentType::kBinary;
    }
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE(store_->Append("s", ExpectedVersion::Any(), events).ok());
    }
    auto request = ReadRequest("s");
    request.mutable_options()->mutable_subscription();
    grpc::ClientContext context;
    auto reader = stub_->Read(&context, request);
    std::string line = dropped->get_future().get();
    streams::ReadResp response;
    while (reader->Read(&response)) ++received_;
    status_ = reader->Finish();
    return line;
  }

  grpc::Status status_;
  size_t received_ = 0;
};

TEST_F(StalledSubscriberTest, DroppedAtTheBufferMessages) {
  ServerOptions options;
  options.limits.read_buffer_messages = 2;
  EXPECT_NE(SubscribeAndStall(options).find(" responses ("), std::string::npos);
  EXPECT_EQ(status_.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_LT(received_, 256u);
}

// The byte bound of a subscription's queue: events of 256 KiB fill a
// 1 MiB buffer at a handful of responses, far below read_buffer_messages.
TEST_F(StalledSubscriberTest, DroppedAtTheBufferBytes) {
  ServerOptions options;
  options.limits.read_buffer_bytes = 1 << 20;
  // "... while N responses (B bytes) were buffered for it"
  const std::string line = SubscribeAndStall(options);
  const size_t at = line.find(" while ");
  ASSERT_NE(at, std::string::npos) << line;
  const uint64_t queued = std::stoull(line.substr(at + 7));
  const size_t open = line.find('(', at);
  ASSERT_NE(open, std::string::npos) << line;
  const uint64_t bytes = std::stoull(line.substr(open + 1));
  EXPECT_GE(queued, 1u) << line;
  EXPECT_LE(queued, 5u) << line;  // 1 MiB reached at the 4th or 5th
  EXPECT_GE(bytes, uint64_t{1} << 20) << line;
  EXPECT_LT(bytes, (uint64_t{1} << 20) + (300 << 10)) << line;
  EXPECT_EQ(status_.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace cairn::server::testing
