// Copyright (c) Cairn authors.
//
// Turns a proposed message of Append or BatchAppend (the two carry the
// same fields) into a Cairn EventData, checking what the protocol
// requires: a valid id, the `type` and `content-type` metadata keys, and
// the per-event size limit. Also the expected-version conversions.
#ifndef CAIRN_SERVER_PROPOSED_EVENT_H_
#define CAIRN_SERVER_PROPOSED_EVENT_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "cairn/event.h"
#include "cairn/types.h"
#include "server/convert.h"
#include "server/rpc_error.h"

namespace cairn::server {

// An expected revision from the wire: u64::MAX is -1 to the protocol,
// that is no stream (KurrentDB casts the revision to a signed number).
inline ExpectedVersion ExpectedFromRevision(uint64_t revision) {
  if (revision == std::numeric_limits<uint64_t>::max()) {
    return ExpectedVersion::NoStream();
  }
  return ExpectedVersion::Exact(revision);
}

// The bytes an event counts against the size limits.
inline uint64_t ProposedSize(const EventData& event) {
  return event.data.size() + event.metadata.size() + event.type.size();
}

// What an event of an append takes in the call's buffer beyond its bytes
// (its EventData, the strings' headers, the vector's slot), counted with
// them toward the append size limits (max_append_size and BatchAppend's
// buffered bytes): a call of a million tiny events is bounded in memory
// like one of large events. KurrentDB, too, counts a fixed size per event
// in an append's total.
inline constexpr uint64_t kBufferedEventOverhead = 128;
static_assert(sizeof(EventData) <= kBufferedEventOverhead);

// The bytes an event counts against an append's total.
inline uint64_t BufferedSize(const EventData& event) {
  return ProposedSize(event) + kBufferedEventOverhead;
}

template <typename Proposed>
std::optional<RpcError> ToEventData(const Proposed& message,
                                    uint64_t max_event_size, EventData* out) {
  std::optional<EventId> id = EventIdFromProto(message.id());
  if (!id) return BadRequest("event id is missing or not a UUID");
  const auto& metadata = message.metadata();
  auto type = metadata.find("type");
  auto content_type = metadata.find("content-type");
  if (type == metadata.end() || content_type == metadata.end()) {
    return MissingRequiredMetadata();
  }
  out->id = *id;
  out->type = type->second;
  out->content_type = content_type->second == kJsonContentType
                          ? ContentType::kJson
                          : ContentType::kBinary;
  out->data = message.data();
  out->metadata = message.custom_metadata();
  const uint64_t size = ProposedSize(*out);
  if (size > max_event_size) {
    return MaximumAppendEventSizeExceeded(id->ToString(), size, max_event_size);
  }
  return std::nullopt;
}

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PROPOSED_EVENT_H_
