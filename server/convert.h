// Copyright (c) Cairn authors.
//
// Conversions between the KurrentDB v1 wire messages and Cairn's public
// types: event ids, stream identifiers, positions, timestamps and recorded
// events. Cairn's global position is a gapless event counter; on the wire
// it is both the commit and the prepare position.
#ifndef CAIRN_SERVER_CONVERT_H_
#define CAIRN_SERVER_CONVERT_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <optional>
#include <string>

#include "cairn/event.h"
#include "cairn/types.h"
#include "persistent.pb.h"
#include "shared.pb.h"
#include "streams.pb.h"

namespace cairn::server {

// How a read answers event ids (ReadReq.Options.uuid_option).
enum class UuidFormat { kString, kStructured };

// The id in either wire form; nullopt when it is missing or malformed.
std::optional<EventId> EventIdFromProto(const event_store::client::UUID& uuid);
void EventIdToProto(const EventId& id, UuidFormat format,
                    event_store::client::UUID* out);

// .NET ticks (100 ns) since the Unix epoch, as the clients read "created".
int64_t TicksFromMicros(int64_t micros);

void NowToTimestamp(google::protobuf::Timestamp* out);

// The two wire forms of a recorded event: Streams.Read's and
// PersistentSubscriptions.Read's. They are distinct messages with the same
// fields, so the conversions below are written once for both (explicitly
// instantiated for exactly these two).
using StreamsRecordedEvent =
    event_store::client::streams::ReadResp::ReadEvent::RecordedEvent;
using PersistentRecordedEvent = event_store::client::persistent_subscriptions::
    ReadResp::ReadEvent::RecordedEvent;

// Fills a wire RecordedEvent: id, stream, revision, positions, the
// metadata map (type, created, content-type), custom metadata and data.
template <typename WireRecordedEvent>
void RecordedEventToProto(const RecordedEventView& event, UuidFormat format,
                          WireRecordedEvent* out);

inline constexpr std::string_view kJsonContentType = "application/json";
inline constexpr std::string_view kBinaryContentType =
    "application/octet-stream";

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CONVERT_H_
