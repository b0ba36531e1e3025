// Copyright (c) Cairn authors.
//
// The naming rules of the category and event-type streams: which `$ce-` and
// `$et-` stream an event appears in. They follow KurrentDB's standard
// projections `$by_category` (category = the stream name before its first
// '-') and `$by_event_type`, so a KurrentDB-compatible server maps them 1:1.
// docs/architecture.md ("Category and event-type streams") states the rules.
#ifndef CAIRN_INDEX_LINK_STREAMS_H_
#define CAIRN_INDEX_LINK_STREAMS_H_

#include <optional>
#include <string>
#include <string_view>

namespace cairn::index {

inline constexpr std::string_view kCategoryStreamPrefix = "$ce-";
inline constexpr std::string_view kTypeStreamPrefix = "$et-";

// The category of `stream`: the part before its first '-'. None for system
// streams (names starting with '$'), names without '-', and names starting
// with '-' (an empty category names no stream).
std::optional<std::string_view> CategoryOf(std::string_view stream);

// True if the event type is a system type (starting with '$'), which no
// `$et-` stream lists, as no `$ce-` stream lists a system stream.
bool IsSystemEventType(std::string_view type);

// True for names of category and event-type streams (`$ce-...`,
// `$et-...`): read-only streams the store maintains itself.
bool IsLinkStreamName(std::string_view stream);

// The category stream and the event-type stream an event of `stream` with
// `type` appears in, each "" when it appears in none.
struct LinkStreamNames {
  std::string category;
  std::string type;
};
LinkStreamNames LinkStreamsOf(std::string_view stream, std::string_view type);

}  // namespace cairn::index

#endif  // CAIRN_INDEX_LINK_STREAMS_H_
