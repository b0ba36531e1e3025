// Copyright (c) Cairn authors.
#include "server/persistent_info.h"

#include <algorithm>
#include <string>

namespace cairn::server {

namespace persistent = event_store::client::persistent_subscriptions;

namespace {

// The last handled or read place before `next` (the group's cursor).
std::string PositionBefore(const PersistentDefinition& definition,
                           uint64_t next) {
  if (next == 0) return {};
  std::string at = std::to_string(next - 1);
  if (!definition.all()) return at;
  return "C:" + at + "/P:" + at;
}

int32_t Clamp(uint64_t value) {
  return static_cast<int32_t>(
      std::min<uint64_t>(value, std::numeric_limits<int32_t>::max()));
}

}  // namespace

void SubscriptionInfoToProto(
    const PersistentDefinition& definition, const ConsumerGroupInfo& group,
    const std::vector<std::shared_ptr<PersistentConnection>>& connections,
    persistent::SubscriptionInfo* out) {
  out->set_event_source(definition.stream);
  out->set_group_name(definition.group);
  out->set_status(group.live ? "Live" : "NotReady");
  for (const auto& connection : connections) {
    auto* info = out->add_connections();
    info->set_from(connection->from);
    info->set_username(connection->username);
    info->set_connection_name(connection->connection_name);
    info->set_total_items(connection->delivered.load());
    const int32_t in_flight = connection->in_flight.load();
    info->set_in_flight_messages(in_flight);
    info->set_available_slots(std::max(0, connection->buffer_size - in_flight));
  }
  out->set_total_items(static_cast<int64_t>(group.delivered));
  if (group.last_checkpoint) {
    out->set_last_checkpointed_event_position(
        PositionBefore(definition, group.last_checkpoint->value()));
  }
  out->set_last_known_event_position(
      PositionBefore(definition, group.read_position.value()));
  out->set_resolve_link_tos(definition.resolve_links);
  out->set_start_from(StartFromText(definition));
  out->set_message_timeout_milliseconds(definition.message_timeout_ms);
  out->set_extra_statistics(definition.extra_statistics);
  out->set_max_retry_count(definition.max_retry_count);
  out->set_live_buffer_size(definition.live_buffer_size);
  out->set_buffer_size(definition.history_buffer_size);
  out->set_read_batch_size(definition.read_batch_size);
  out->set_check_point_after_milliseconds(definition.checkpoint_after_ms);
  out->set_min_check_point_count(definition.min_checkpoint_count);
  out->set_max_check_point_count(definition.max_checkpoint_count);
  out->set_read_buffer_count(Clamp(group.queued));
  out->set_retry_buffer_count(Clamp(group.replaying));
  out->set_total_in_flight_messages(Clamp(group.in_flight));
  out->set_outstanding_messages_count(Clamp(group.in_flight + group.queued));
  out->set_named_consumer_strategy(definition.strategy);
  out->set_max_subscriber_count(definition.max_subscriber_count);
  out->set_parked_message_count(static_cast<int64_t>(group.parked));
}

}  // namespace cairn::server
