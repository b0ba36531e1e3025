// Copyright (c) Cairn authors.
//
// A persistent subscription's definition (KurrentDB's settings for one
// group of one stream or of $all), read and checked from the Create and
// Update requests, deprecated forms included, and the engine consumer
// group options it stands for:
// - max_subscriber_count is the group's member limit; message timeout,
//   max retry count, checkpoint after / min / max count and read batch
//   size are the group's; each member holds at most read_batch_size events
//   queued or in flight, and the group at most history_buffer_size +
//   live_buffer_size.
// - Strategies are KurrentDB's DispatchToSingle, RoundRobin, Pinned and
//   PinnedByCorrelation, and Cairn's OrderedByStream.
// - $all filters are one stream-name or event-type prefix; regular
//   expressions and several prefixes are refused.
// Counts above kMaxSettingCount, negative counts or times, an empty batch
// or buffer, and min_checkpoint_count above max_checkpoint_count are
// INVALID_ARGUMENT; an unknown strategy is INTERNAL
// `persistent-subscription-failed`, as KurrentDB answers it.
#ifndef CAIRN_SERVER_PERSISTENT_SETTINGS_H_
#define CAIRN_SERVER_PERSISTENT_SETTINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "cairn/subscription.h"
#include "persistent.pb.h"
#include "server/rpc_error.h"

namespace cairn::server {

inline constexpr std::string_view kAllStream = "$all";
inline constexpr int32_t kMaxSettingCount = 1'000'000;

struct PersistentDefinition {
  std::string stream;  // kAllStream for $all
  std::string group;
  // A stream's revision or a $all position to start at; nullopt: the end.
  std::optional<uint64_t> start;
  // With start at the end: the end when the definition was created or
  // updated (the registry fills it in), where a group without a checkpoint
  // starts, so that events written after Create are delivered.
  uint64_t end_at = 0;
  // $all only, at most one of them.
  std::string stream_prefix;
  std::string type_prefix;
  bool resolve_links = false;
  bool extra_statistics = false;
  int32_t message_timeout_ms = 30000;
  int32_t max_retry_count = 10;
  int32_t checkpoint_after_ms = 2000;
  int32_t min_checkpoint_count = 10;
  int32_t max_checkpoint_count = 1000;
  int32_t max_subscriber_count = 0;  // 0: no limit
  int32_t live_buffer_size = 500;
  int32_t read_batch_size = 20;
  int32_t history_buffer_size = 500;
  std::string strategy = "RoundRobin";

  bool all() const { return stream == kAllStream; }
  // KurrentDB's key, "<stream>::<group>" (the confirmation's id).
  std::string Key() const { return stream + "::" + group; }
  // The stream as the engine group names it (nullopt for $all).
  std::optional<std::string_view> EngineStream() const {
    return all() ? std::nullopt : std::optional<std::string_view>(stream);
  }
};

// The definition a request asks for, or why it can not be.
std::variant<PersistentDefinition, RpcError> ParseCreate(
    const event_store::client::persistent_subscriptions::CreateReq& request);
std::variant<PersistentDefinition, RpcError> ParseUpdate(
    const event_store::client::persistent_subscriptions::UpdateReq& request);

// Checks a stream and group name as every request names them.
RpcError CheckNames(std::string_view stream, std::string_view group);

// The strategy named `name` (KurrentDB's names, and OrderedByStream).
std::optional<ConsumerStrategy> StrategyNamed(std::string_view name);

// The engine options that serve `definition`.
ConsumerGroupOptions GroupOptions(const PersistentDefinition& definition);

// Where it starts, as GetInfo reports it: "0"/"-1"/"<n>" for a stream,
// "C:<n>/P:<n>" or "C:-1/P:-1" for $all.
std::string StartFromText(const PersistentDefinition& definition);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PERSISTENT_SETTINGS_H_
