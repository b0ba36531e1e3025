// Copyright (c) Cairn authors.
//
// Persistent subscription definitions as they are stored: each change
// appends one `$PersistentConfig` event holding every definition to the
// stream `$persistentSubscriptionConfig`, in KurrentDB's JSON shape
// {Version, Updated, UpdatedBy, Entries[{Stream, Group, Filter,
// ResolveLinkTos, CheckPointAfter, ExtraStatistics, HistoryBufferSize,
// LiveBufferSize, MaxCheckPointCount, MinCheckPointCount, MaxRetryCount,
// ReadBatchSize, MaxSubscriberCount, MessageTimeout,
// NamedConsumerStrategy, StartFrom, StartPosition}]} (times in ms). The
// newest event is the current set. Filter is null or {"Context":
// "StreamId"|"EventType", "Type": "Prefix", "Data": [prefix]}; StartFrom
// is a stream's revision (-1: the end), StartPosition a $all position
// "C:<n>/P:<n>" (C:-1/P:-1: the end). Cairn adds CairnEndAt: where a
// definition that starts at the end starts (the end when it was created).
#ifndef CAIRN_SERVER_PERSISTENT_CONFIG_H_
#define CAIRN_SERVER_PERSISTENT_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "cairn/result.h"
#include "server/persistent_settings.h"

namespace cairn::server {

inline constexpr std::string_view kPersistentConfigStream =
    "$persistentSubscriptionConfig";
inline constexpr std::string_view kPersistentConfigEventType =
    "$PersistentConfig";

// The event data for `definitions`, written by `updated_by` at `now_us`
// (microseconds since the Unix epoch).
std::string PersistentConfigToJson(
    const std::vector<PersistentDefinition>& definitions,
    std::string_view updated_by, int64_t now_us);

// The definitions of a stored event; InvalidArgument when it is not one.
Result<std::vector<PersistentDefinition>> PersistentConfigFromJson(
    std::string_view text);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PERSISTENT_CONFIG_H_
