// Copyright (c) Cairn authors.
#include "server/link_events.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "persistent.pb.h"
#include "server/system_streams.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

using LinkEventsTest = ServerTest;

TEST(LinkEventIdTest, IsStablePerLinkAndDistinctAcrossLinks) {
  const EventId a = LinkEventId("$ce-order", 3);
  EXPECT_EQ(a, LinkEventId("$ce-order", 3));
  EXPECT_NE(a, LinkEventId("$ce-order", 4));
  EXPECT_NE(a, LinkEventId("$et-order", 3));
  EXPECT_FALSE(a.IsNil());
  // A well-formed RFC 9562 version 8 UUID.
  EXPECT_EQ(a.bytes()[6] >> 4, 8);
  EXPECT_EQ(a.bytes()[8] >> 6, 2);
}

// order-1: Placed; order-2: Placed; other-1: Shipped; order-1: Shipped.
void SeedOrders(Store* store) {
  for (auto [stream, type] : std::vector<std::pair<std::string, std::string>>{
           {"order-1", "Placed"},
           {"order-2", "Placed"},
           {"other-1", "Shipped"},
           {"order-1", "Shipped"}}) {
    EventData event;
    event.type = type;
    event.data = "{}";
    ASSERT_TRUE(store->Append(stream, ExpectedVersion::Any(), {event}).ok());
  }
}

// The bytes of `message` with its map fields in key order, so that two
// messages with the same fields compare equal.
std::string DeterministicBytes(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    EXPECT_TRUE(message.SerializeToCodedStream(&coded));
  }
  return bytes;
}

// PersistentSubscriptions.Read's event (fields 1..4 of its ReadEvent) is
// exactly what Streams.Read sends for the same event, for plain events,
// category-stream events (links made by the server) and stored link
// events, resolved or not, in both id formats: the clients decode both
// with the same code.
TEST_F(LinkEventsTest, PersistentReadsCarryTheSameEventAsStreamReads) {
  SeedOrders(store_.get());
  EventData link;
  link.type = std::string(kLinkEventType);
  link.data = "1@order-1";
  ASSERT_TRUE(store_->Append("links", ExpectedVersion::Any(), {link}).ok());
  std::vector<std::pair<std::string, RecordedEvent>> reads;
  for (const char* stream : {"order-1", "$ce-order", "$et-Placed", "links"}) {
    auto read = store_->ReadStream(stream, ReadStreamOptions{});
    ASSERT_TRUE(read.ok()) << stream << ": " << read.status().ToString();
    for (RecordedEvent& e : read->events) reads.emplace_back(stream, e);
  }
  ASSERT_EQ(reads.size(), 2u + 3u + 2u + 1u);
  for (const auto& [stream, event] : reads) {
    for (bool resolve : {false, true}) {
      for (UuidFormat format : {UuidFormat::kString, UuidFormat::kStructured}) {
        streams::ReadResp::ReadEvent plain;
        ReadEventToProto(*store_, stream, resolve, format, event.View(),
                         &plain);
        event_store::client::persistent_subscriptions::ReadResp::ReadEvent
            persistent;
        ReadEventToProto(*store_, stream, resolve, format, event.View(),
                         &persistent);
        EXPECT_EQ(DeterministicBytes(persistent), DeterministicBytes(plain))
            << stream << " revision " << event.revision.value()
            << (resolve ? " resolved" : "");
        EXPECT_EQ(plain.has_link(),
                  resolve && (event.link_revision || stream == "links"));
      }
    }
  }
}

TEST_F(LinkEventsTest, CategoryReadsResolveLinksWhenAsked) {
  SeedOrders(store_.get());
  auto request = ReadRequest("$ce-order");
  request.mutable_options()->set_resolve_links(true);
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  ASSERT_EQ(responses.size(), 3u);
  const std::pair<std::string, uint64_t> originals[] = {
      {"order-1", 0}, {"order-2", 0}, {"order-1", 1}};
  for (uint64_t i = 0; i < 3; ++i) {
    const auto& read = responses[i].event();
    EXPECT_EQ(read.event().stream_identifier().stream_name(),
              originals[i].first);
    EXPECT_EQ(read.event().stream_revision(), originals[i].second);
    EXPECT_EQ(read.link().stream_identifier().stream_name(), "$ce-order");
    EXPECT_EQ(read.link().stream_revision(), i);
    EXPECT_EQ(read.link().metadata().at("type"), "$>");
    EXPECT_EQ(read.link().data(),
              std::to_string(originals[i].second) + "@" + originals[i].first);
    EXPECT_EQ(read.link().commit_position(), read.event().commit_position());
    EXPECT_EQ(read.link().id().string(),
              LinkEventId("$ce-order", i).ToString());
  }
}

TEST_F(LinkEventsTest, TypeReadsWithoutResolvingAnswerTheLinks) {
  SeedOrders(store_.get());
  auto request = ReadRequest("$et-Shipped");
  request.mutable_options()->mutable_stream()->mutable_end();
  request.mutable_options()->set_read_direction(
      streams::ReadReq::Options::Backwards);
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(request, &responses).ok());
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_FALSE(responses[0].event().has_link());
  EXPECT_EQ(responses[0].event().event().stream_identifier().stream_name(),
            "$et-Shipped");
  EXPECT_EQ(responses[0].event().event().stream_revision(), 1u);
  EXPECT_EQ(responses[0].event().event().data(), "1@order-1");
  EXPECT_EQ(responses[0].event().event().metadata().at("content-type"),
            "application/octet-stream");
  EXPECT_EQ(responses[1].event().event().data(), "0@other-1");
}

TEST_F(LinkEventsTest, CategoryReadsPageByLinkRevision) {
  // More events than one page, spread over streams so that the original
  // revisions differ from the link revisions.
  for (int i = 0; i < 300; ++i) {
    EventData event;
    event.type = "E";
    event.data = "{}";
    ASSERT_TRUE(store_
                    ->Append("cat-" + std::to_string(i % 7),
                             ExpectedVersion::Any(), {event})
                    .ok());
  }
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("$ce-cat"), &responses).ok());
  ASSERT_EQ(responses.size(), 300u);
  for (uint64_t i = 0; i < responses.size(); ++i) {
    EXPECT_EQ(responses[i].event().event().stream_revision(), i);
  }
}

TEST_F(LinkEventsTest, CategorySubscriptionCatchesUpThenGoesLive) {
  SeedOrders(store_.get());
  auto request = ReadRequest("$ce-order");
  request.mutable_options()->set_resolve_links(true);
  request.mutable_options()->mutable_subscription();
  grpc::ClientContext context;
  auto reader = stub_->Read(&context, request);
  streams::ReadResp response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_confirmation());
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader->Read(&response));
    EXPECT_EQ(response.event().link().stream_revision(), i);
  }
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_caught_up());
  EXPECT_EQ(response.caught_up().stream_revision(), 2);
  Seed("order-3", 1);
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.event().event().stream_identifier().stream_name(),
            "order-3");
  EXPECT_EQ(response.event().link().stream_revision(), 3u);
  context.TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace cairn::server::testing
