// Copyright (c) Cairn authors.
//
// The PersistentSubscriptions service end to end over the in-process
// channel: create (stream and $all), consume with acks, nack until
// parked, replay parked, GetInfo and List figures, update, delete,
// restart with nothing lost, the error shapes, and who may call what.
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>

#include "server/persistent_config.h"
#include "tests/server/credentials_test_util.h"
#include "tests/server/persistent_test_util.h"

namespace cairn::server {
namespace {

using testing::CreateStreamRequest;
using testing::persistent::CreateReq;
using testing::persistent::ReadReq;
using testing::persistent::ReadResp;

std::string Exception(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("exception");
  if (it == trailers.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

class PersistentServiceTest : public testing::PersistentTest {};

// A configuration event the server cannot read stops it from starting,
// with a status naming the stream (it never starts without its groups, and
// a Start that fails part way shuts down only what it built).
TEST_F(PersistentServiceTest, AnUnreadableConfigurationStopsTheStart) {
  server_.reset();
  EventData config;
  config.type = std::string(kPersistentConfigEventType);
  config.data = "not json";
  auto written = store_->Append(std::string(kPersistentConfigStream),
                                ExpectedVersion::Any(), {config});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ServerOptions options;
  options.insecure = true;
  options.authentication = false;
  auto server = Server::Start(store_.get(), options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(server.status().IsInvalidArgument());
  EXPECT_NE(server.status().message().find(kPersistentConfigStream),
            std::string::npos)
      << server.status().message();
}

TEST_F(PersistentServiceTest, ConsumesWithAcksAndReportsFigures) {
  Seed("orders", 5);
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  grpc::ClientContext context;
  auto call = Subscribe("orders", "g", 5, &context);
  auto events = Next(*call, 5);
  ASSERT_EQ(events.size(), 5u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].event().stream_revision(), i);
    EXPECT_EQ(events[i].retry_count(), 0);
  }
  auto info = Info("orders", "g");
  EXPECT_EQ(info.event_source(), "orders");
  EXPECT_EQ(info.start_from(), "0");
  EXPECT_EQ(info.named_consumer_strategy(), "RoundRobin");
  EXPECT_EQ(info.total_items(), 5);
  EXPECT_EQ(info.total_in_flight_messages(), 5);
  ASSERT_EQ(info.connections_size(), 1);
  EXPECT_EQ(info.connections(0).in_flight_messages(), 5);
  ASSERT_TRUE(Ack(*call, events));
  // Its buffer is full: a later event arrives once the acks were handled.
  Seed("orders", 1);
  ASSERT_EQ(Next(*call, 1).size(), 1u);
  info = Info("orders", "g");
  EXPECT_EQ(info.total_items(), 6);
  EXPECT_EQ(info.last_known_event_position(), "5");
  context.TryCancel();
  (void)call->Finish();
}

TEST_F(PersistentServiceTest, FromTheEndIsTheEndAtCreate) {
  Seed("orders", 3);
  CreateReq create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_revision(
      std::numeric_limits<uint64_t>::max());
  ASSERT_TRUE(Create(create).ok());
  // Written after Create, before anyone subscribed: delivered.
  Seed("orders", 1);
  grpc::ClientContext context;
  auto call = Subscribe("orders", "g", 10, &context);
  auto events = Next(*call, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event().stream_revision(), 3u);
  EXPECT_EQ(Info("orders", "g").start_from(), "-1");
  context.TryCancel();
  (void)call->Finish();
}

TEST_F(PersistentServiceTest, NackRetriesUntilParkedThenReplays) {
  Seed("orders", 2);
  CreateReq create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_max_retry_count(2);
  create.mutable_options()->mutable_settings()->set_consumer_strategy(
      "OrderedByStream");
  ASSERT_TRUE(Create(create).ok());
  grpc::ClientContext context;
  // One event at a time: each next one shows the previous was handled.
  auto call = Subscribe("orders", "g", 1, &context);
  for (int retry = 0; retry <= 2; ++retry) {
    auto events = Next(*call, 1);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event().stream_revision(), 0u);
    EXPECT_EQ(events[0].retry_count(), retry);
    ASSERT_TRUE(Nack(*call, events[0], ReadReq::Nack::Retry));
  }
  // The third nack parked it; the next event comes once it is parked.
  auto next = Next(*call, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].event().stream_revision(), 1u);
  ASSERT_TRUE(Ack(*call, next));
  // /metrics counts the calls and the group's figures.
  const ServerFigures figures = server_->Figures();
  EXPECT_EQ(figures.persistent_subscriptions, 1u);
  EXPECT_EQ(figures.persistent_connections, 1u);
  EXPECT_EQ(figures.persistent_parked, 1u);
  bool counted = false;
  for (const CallMetrics::Count& count : figures.calls) {
    counted |= count.method == "PersistentSubscriptions.Create" &&
               count.code == 0 && count.calls == 1;
  }
  EXPECT_TRUE(counted);
  auto info = Info("orders", "g");
  EXPECT_EQ(info.parked_message_count(), 1);
  grpc::ClientContext replay_context;
  testing::persistent::ReplayParkedReq replay;
  replay.mutable_options()->set_group_name("g");
  replay.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "orders");
  replay.mutable_options()->mutable_no_limit();
  testing::persistent::ReplayParkedResp replayed;
  ASSERT_TRUE(
      persistent_->ReplayParked(&replay_context, replay, &replayed).ok());
  auto again = Next(*call, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].event().stream_revision(), 0u);
  ASSERT_TRUE(Ack(*call, again));
  context.TryCancel();
  (void)call->Finish();
}

TEST_F(PersistentServiceTest, AllSubscriptionWithAFilter) {
  Seed("orders-1", 2);
  Seed("users-1", 2);
  CreateReq create;
  auto* options = create.mutable_options();
  options->set_group_name("g");
  options->mutable_all()->mutable_start();
  options->mutable_all()
      ->mutable_filter()
      ->mutable_stream_identifier()
      ->add_prefix("orders-");
  options->mutable_settings()->set_read_batch_size(20);
  options->mutable_settings()->set_history_buffer_size(500);
  options->mutable_settings()->set_live_buffer_size(500);
  options->mutable_settings()->set_consumer_strategy("OrderedByStream");
  ASSERT_TRUE(Create(create).ok());
  grpc::ClientContext context;
  auto call = Subscribe("$all", "g", 10, &context);
  auto events = Next(*call, 2);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& event : events) {
    EXPECT_EQ(event.event().stream_identifier().stream_name(), "orders-1");
  }
  auto info = Info("$all", "g");
  EXPECT_EQ(info.start_from(), "C:0/P:0");
  EXPECT_EQ(info.named_consumer_strategy(), "OrderedByStream");
  context.TryCancel();
  (void)call->Finish();
}

TEST_F(PersistentServiceTest, SurvivesARestartWithNothingLost) {
  Seed("orders", 4);
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  {
    grpc::ClientContext context;
    auto call = Subscribe("orders", "g", 4, &context);
    auto events = Next(*call, 4);
    ASSERT_EQ(events.size(), 4u);
    ASSERT_TRUE(Ack(*call, {events[0], events[1]}));
    // Its buffer is full: a later event arrives once the acks were handled.
    Seed("orders", 1);
    ASSERT_EQ(Next(*call, 1).size(), 1u);
    context.TryCancel();
    (void)call->Finish();
  }
  Restart(/*reopen=*/true);
  grpc::ClientContext context;
  auto call = Subscribe("orders", "g", 10, &context);
  std::set<uint64_t> revisions;
  for (const auto& event : Next(*call, 3)) {
    revisions.insert(event.event().stream_revision());
  }
  EXPECT_EQ(revisions, (std::set<uint64_t>{2, 3, 4}));
  context.TryCancel();
  (void)call->Finish();
}

TEST_F(PersistentServiceTest, UpdateListAndDelete) {
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "a")).ok());
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "b")).ok());
  ASSERT_TRUE(Create(CreateStreamRequest("users", "a")).ok());
  grpc::ClientContext exists;
  EXPECT_EQ(Create(CreateStreamRequest("orders", "a"), &exists).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Exception(exists), "persistent-subscription-exists");

  testing::persistent::UpdateReq update;
  update.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "orders");
  update.mutable_options()->set_group_name("a");
  auto* settings = update.mutable_options()->mutable_settings();
  settings->set_max_retry_count(3);
  settings->set_read_batch_size(20);
  settings->set_history_buffer_size(500);
  settings->set_live_buffer_size(500);
  settings->set_named_consumer_strategy(testing::persistent::UpdateReq::Pinned);
  {
    grpc::ClientContext context;
    testing::persistent::UpdateResp response;
    ASSERT_TRUE(persistent_->Update(&context, update, &response).ok());
  }
  EXPECT_EQ(Info("orders", "a").max_retry_count(), 3);
  EXPECT_EQ(Info("orders", "a").named_consumer_strategy(), "Pinned");

  testing::persistent::ListReq list;
  list.mutable_options()
      ->mutable_list_for_stream()
      ->mutable_stream()
      ->set_stream_name("orders");
  {
    grpc::ClientContext context;
    testing::persistent::ListResp response;
    ASSERT_TRUE(persistent_->List(&context, list, &response).ok());
    EXPECT_EQ(response.subscriptions_size(), 2);
  }
  list.mutable_options()->mutable_list_all_subscriptions();
  {
    grpc::ClientContext context;
    testing::persistent::ListResp response;
    ASSERT_TRUE(persistent_->List(&context, list, &response).ok());
    EXPECT_EQ(response.subscriptions_size(), 3);
  }

  testing::persistent::DeleteReq remove;
  remove.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "orders");
  remove.mutable_options()->set_group_name("a");
  {
    grpc::ClientContext context;
    testing::persistent::DeleteResp response;
    grpc::Status deleted = persistent_->Delete(&context, remove, &response);
    ASSERT_TRUE(deleted.ok()) << deleted.error_message();
  }
  grpc::Status status;
  (void)Info("orders", "a", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  // Definitions are stored: a restart keeps the two left.
  Restart(/*reopen=*/false);
  EXPECT_EQ(Info("orders", "b").group_name(), "b");
  EXPECT_EQ(Info("users", "a").group_name(), "a");
  (void)Info("orders", "a", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

// Requests that name no stream, a group whose name holds the key's "::"
// separator, a replay without its stop option; and the groups of a stream
// that has none, NOT_FOUND as in KurrentDB (a list of all is just empty).
TEST_F(PersistentServiceTest, RequestsThatNameNothingOrCollideAreRefused) {
  grpc::ClientContext colliding;
  EXPECT_EQ(Create(CreateStreamRequest("invoices", "billing::eu"), &colliding)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Create(CreateStreamRequest("invoices::billing", "eu")).ok());

  testing::persistent::DeleteReq remove;
  remove.mutable_options()->set_group_name("eu");
  {
    grpc::ClientContext context;
    testing::persistent::DeleteResp response;
    EXPECT_EQ(persistent_->Delete(&context, remove, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  testing::persistent::ReplayParkedReq replay;
  replay.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "invoices::billing");
  replay.mutable_options()->set_group_name("eu");
  {
    grpc::ClientContext context;
    testing::persistent::ReplayParkedResp response;
    EXPECT_EQ(
        persistent_->ReplayParked(&context, replay, &response).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
  }
  replay.mutable_options()->mutable_no_limit();
  {
    grpc::ClientContext context;
    testing::persistent::ReplayParkedResp response;
    EXPECT_TRUE(persistent_->ReplayParked(&context, replay, &response).ok());
  }

  testing::persistent::ListReq list;
  list.mutable_options()
      ->mutable_list_for_stream()
      ->mutable_stream()
      ->set_stream_name("nothing-here");
  {
    grpc::ClientContext context;
    testing::persistent::ListResp response;
    EXPECT_EQ(persistent_->List(&context, list, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Exception(context), "persistent-subscription-does-not-exist");
  }
  list.mutable_options()->mutable_list_for_stream()->mutable_all();
  {
    grpc::ClientContext context;
    testing::persistent::ListResp response;
    EXPECT_EQ(persistent_->List(&context, list, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  list.mutable_options()->mutable_list_all_subscriptions();
  {
    grpc::ClientContext context;
    testing::persistent::ListResp response;
    ASSERT_TRUE(persistent_->List(&context, list, &response).ok());
    EXPECT_EQ(response.subscriptions_size(), 1);
  }
}

TEST_F(PersistentServiceTest, DeleteEndsTheReadCalls) {
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  grpc::ClientContext context;
  auto call = Subscribe("orders", "g", 10, &context);
  testing::persistent::DeleteReq remove;
  remove.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "orders");
  remove.mutable_options()->set_group_name("g");
  grpc::ClientContext delete_context;
  testing::persistent::DeleteResp deleted;
  ASSERT_TRUE(persistent_->Delete(&delete_context, remove, &deleted).ok());
  ReadResp response;
  while (call->Read(&response)) {
  }
  EXPECT_EQ(call->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Exception(context), "persistent-subscription-does-not-exist");
}

TEST_F(PersistentServiceTest, RestartSubsystemDropsTheReadCalls) {
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g")).ok());
  grpc::ClientContext context;
  auto call = Subscribe("orders", "g", 10, &context);
  grpc::ClientContext restart_context;
  event_store::client::Empty empty;
  ASSERT_TRUE(
      persistent_->RestartSubsystem(&restart_context, empty, &empty).ok());
  ReadResp response;
  while (call->Read(&response)) {
  }
  EXPECT_EQ(call->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(Exception(context), "persistent-subscription-dropped");
  // The group is still defined; a client subscribes again.
  Seed("orders", 1);
  grpc::ClientContext again;
  auto next = Subscribe("orders", "g", 10, &again);
  EXPECT_EQ(Next(*next, 1).size(), 1u);
  again.TryCancel();
  (void)next->Finish();
}

TEST_F(PersistentServiceTest, RequestsAreChecked) {
  CreateReq create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_read_batch_size(0);
  EXPECT_EQ(Create(create).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_max_retry_count(-1);
  EXPECT_EQ(Create(create).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_history_buffer_size(
      2'000'000'000);
  EXPECT_EQ(Create(create).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  create = CreateStreamRequest("orders", "");
  EXPECT_EQ(Create(create).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  create = CreateStreamRequest("orders", "g");
  create.mutable_options()->mutable_settings()->set_consumer_strategy("Nope");
  grpc::ClientContext failed;
  EXPECT_EQ(Create(create, &failed).error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(Exception(failed), "persistent-subscription-failed");
  grpc::ClientContext all;
  EXPECT_EQ(Create(CreateStreamRequest("$all", "g"), &all).error_code(),
            grpc::StatusCode::INTERNAL);
  grpc::Status status;
  (void)Info("orders", "missing", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

class PersistentAuthTest : public testing::PersistentTest {
 protected:
  void SetUp() override {
    StartWithUsers({{"op", "$ops"}, {"bob", "readers"}});
    persistent_ =
        testing::persistent::PersistentSubscriptions::NewStub(channel_);
  }
  static void As(const std::string& login, grpc::ClientContext* context) {
    context->AddMetadata("authorization",
                         testing::Basic(login + ":pw-" + login));
  }
};

TEST_F(PersistentAuthTest, OperatorsCreateUsersRead) {
  grpc::ClientContext anonymous;
  EXPECT_EQ(Create(CreateStreamRequest("orders", "g"), &anonymous).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext bob;
  As("bob", &bob);
  EXPECT_EQ(Create(CreateStreamRequest("orders", "g"), &bob).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Exception(bob), "access-denied");
  grpc::ClientContext op;
  As("op", &op);
  ASSERT_TRUE(Create(CreateStreamRequest("orders", "g"), &op).ok());
  Seed("orders", 1);
  grpc::ClientContext reader;
  As("bob", &reader);
  auto call = Subscribe("orders", "g", 10, &reader);
  ASSERT_EQ(Next(*call, 1).size(), 1u);
  reader.TryCancel();
  (void)call->Finish();
  // $all is a system stream: bob may not read it.
  grpc::ClientContext all;
  As("bob", &all);
  auto denied = persistent_->Read(&all);
  ReadReq request;
  request.mutable_options()->mutable_all();
  request.mutable_options()->set_group_name("g");
  request.mutable_options()->set_buffer_size(10);
  denied->Write(request);
  ReadResp response;
  EXPECT_FALSE(denied->Read(&response));
  EXPECT_EQ(denied->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// A Read without credentials ends at once, before its first message, so
// that it holds none of the server's call slots while its client sends
// nothing (anonymous callers may read no stream).
TEST_F(PersistentAuthTest, AnAnonymousReadEndsBeforeItsFirstMessage) {
  grpc::ClientContext anonymous;
  auto call = persistent_->Read(&anonymous);
  ReadResp response;
  EXPECT_FALSE(call->Read(&response));
  EXPECT_EQ(call->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Exception(anonymous), "access-denied");
}

}  // namespace
}  // namespace cairn::server
