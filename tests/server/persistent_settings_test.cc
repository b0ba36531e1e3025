// Copyright (c) Cairn authors.
//
// Reading a persistent subscription's definition from Create and Update
// requests: the deprecated stream form, the $all form with a filter, the
// strategy rules, times in ms or ticks, what is refused, and the engine
// options a definition stands for.
#include "server/persistent_settings.h"

#include <gtest/gtest.h>

#include <limits>

#include "tests/server/persistent_test_util.h"

namespace cairn::server {
namespace {

using testing::CreateStreamRequest;
using testing::persistent::CreateReq;
using testing::persistent::UpdateReq;

PersistentDefinition Parsed(const CreateReq& request) {
  auto parsed = ParseCreate(request);
  EXPECT_TRUE(std::holds_alternative<PersistentDefinition>(parsed))
      << std::get<RpcError>(parsed).message;
  if (!std::holds_alternative<PersistentDefinition>(parsed)) return {};
  return std::get<PersistentDefinition>(parsed);
}

grpc::StatusCode Refusal(const CreateReq& request) {
  auto parsed = ParseCreate(request);
  if (auto* error = std::get_if<RpcError>(&parsed)) return error->code;
  return grpc::StatusCode::OK;
}

TEST(PersistentSettingsTest, DeprecatedStreamForm) {
  CreateReq request = CreateStreamRequest("orders", "g");
  PersistentDefinition d = Parsed(request);
  EXPECT_EQ(d.stream, "orders");
  EXPECT_EQ(d.group, "g");
  EXPECT_EQ(d.start, 0u);
  EXPECT_EQ(d.strategy, "RoundRobin");
  EXPECT_EQ(StartFromText(d), "0");
  request.mutable_options()->mutable_settings()->set_revision(
      std::numeric_limits<uint64_t>::max());
  d = Parsed(request);
  EXPECT_EQ(d.start, std::nullopt);
  EXPECT_EQ(StartFromText(d), "-1");
  // The enum's default (absent on the wire) is DispatchToSingle.
  request.mutable_options()
      ->mutable_settings()
      ->clear_named_consumer_strategy();
  EXPECT_EQ(Parsed(request).strategy, "DispatchToSingle");
  // The string wins over the enum.
  request.mutable_options()->mutable_settings()->set_consumer_strategy(
      "PinnedByCorrelation");
  EXPECT_EQ(Parsed(request).strategy, "PinnedByCorrelation");
}

TEST(PersistentSettingsTest, CurrentStreamFormAndTicks) {
  CreateReq request = CreateStreamRequest("ignored", "g");
  auto* stream = request.mutable_options()->mutable_stream();
  stream->mutable_stream_identifier()->set_stream_name("orders");
  stream->set_revision(7);
  request.mutable_options()->mutable_settings()->set_message_timeout_ticks(
      5 * 10'000'000LL);
  request.mutable_options()->mutable_settings()->set_checkpoint_after_ticks(
      10'000);
  PersistentDefinition d = Parsed(request);
  EXPECT_EQ(d.stream, "orders");
  EXPECT_EQ(d.start, 7u);
  EXPECT_EQ(d.message_timeout_ms, 5000);
  EXPECT_EQ(d.checkpoint_after_ms, 1);
}

TEST(PersistentSettingsTest, AllFormWithAPrefixFilter) {
  CreateReq request = CreateStreamRequest("x", "g");
  auto* all = request.mutable_options()->mutable_all();
  all->mutable_position()->set_commit_position(42);
  all->mutable_filter()->mutable_event_type()->add_prefix("order-");
  PersistentDefinition d = Parsed(request);
  EXPECT_TRUE(d.all());
  EXPECT_EQ(d.start, 42u);
  EXPECT_EQ(d.type_prefix, "order-");
  EXPECT_EQ(StartFromText(d), "C:42/P:42");
  ConsumerGroupOptions options = GroupOptions(d);
  EXPECT_FALSE(options.stream.has_value());
  EXPECT_EQ(options.from_position, GlobalPosition(42));
  EXPECT_FALSE(options.from_end);
  EXPECT_EQ(options.type_prefix, "order-");
  EXPECT_EQ(options.strategy, ConsumerStrategy::kRoundRobin);
  EXPECT_EQ(options.max_buffered, 1000u);
  EXPECT_EQ(options.max_in_flight, 20u);
  all->mutable_filter()->mutable_event_type()->set_regex("^order");
  EXPECT_EQ(Refusal(request), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(PersistentSettingsTest, RefusesWhatCannotBe) {
  auto with = [](auto change) {
    CreateReq request = CreateStreamRequest("orders", "g");
    change(request.mutable_options()->mutable_settings());
    return Refusal(request);
  };
  using Settings = CreateReq::Settings;
  EXPECT_EQ(with([](Settings* s) { s->set_live_buffer_size(0); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(with([](Settings* s) { s->set_max_subscriber_count(-1); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(with([](Settings* s) { s->set_message_timeout_ms(-5); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(with([](Settings* s) { s->set_min_checkpoint_count(2000); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      with([](Settings* s) { s->set_read_batch_size(kMaxSettingCount + 1); }),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(with([](Settings* s) { s->set_consumer_strategy("Fastest"); }),
            grpc::StatusCode::INTERNAL);
  EXPECT_EQ(Refusal(CreateStreamRequest("orders", "bad\xff")),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Refusal(CreateStreamRequest("$all", "g")),
            grpc::StatusCode::INTERNAL);
}

TEST(PersistentSettingsTest, UpdateUsesTheEnum) {
  UpdateReq request;
  request.mutable_options()->mutable_stream_identifier()->set_stream_name(
      "orders");
  request.mutable_options()->set_group_name("g");
  auto* settings = request.mutable_options()->mutable_settings();
  settings->set_read_batch_size(10);
  settings->set_live_buffer_size(10);
  settings->set_history_buffer_size(10);
  settings->set_named_consumer_strategy(UpdateReq::Pinned);
  auto parsed = ParseUpdate(request);
  ASSERT_TRUE(std::holds_alternative<PersistentDefinition>(parsed));
  EXPECT_EQ(std::get<PersistentDefinition>(parsed).strategy, "Pinned");
  EXPECT_EQ(StrategyNamed("OrderedByStream"),
            ConsumerStrategy::kOrderedByStream);
  EXPECT_EQ(StrategyNamed("roundrobin"), std::nullopt);
}

}  // namespace
}  // namespace cairn::server
