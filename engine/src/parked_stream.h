// Copyright (c) Cairn authors.
//
// A consumer group's parked stream (cairn/subscription.h): the link events
// parking appends, as KurrentDB's PersistentSubscriptionMessageParker
// writes them (type "$>", data "<revision>@<stream>", metadata JSON
// {Added, Reason, SubscriptionEventNumber}), and the reads of it that
// replay and GetInfo make. The stream is an ordinary system stream, so it
// is as durable as any append; a replay truncates it with $tb.
#ifndef CAIRN_ENGINE_SRC_PARKED_STREAM_H_
#define CAIRN_ENGINE_SRC_PARKED_STREAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/event.h"
#include "cairn/result.h"
#include "cairn/store.h"

namespace cairn::engine {

inline constexpr std::string_view kLinkEventType = "$>";

// The link that parks `event`, stamped `added_us` (microseconds since the
// Unix epoch). A group of `subscribed` (nullopt: $all) that received the
// event through a link of a category or event-type stream (its
// link_revision) parks that link, as KurrentDB does: the replay then
// finds the event at the group's own cursor, its link revision.
EventData ParkedLink(const RecordedEvent& event,
                     std::optional<std::string_view> subscribed,
                     std::string_view reason, int64_t added_us);

// The target of a link's data "<revision>@<stream>"; nullopt if malformed.
struct LinkTarget {
  uint64_t revision = 0;
  std::string stream;
};
std::optional<LinkTarget> ParseLinkTarget(std::string_view data);

// The parked stream's readable range: revisions [first, end). Empty when
// the stream does not exist.
struct ParkedRange {
  uint64_t first = 0;
  uint64_t end = 0;
};
Result<ParkedRange> ParkedRangeOf(Store& store, const std::string& parked);

// One parked entry read for a replay: its revision in the parked stream
// and the event it links to (nullopt when that event is no longer
// readable: deleted, truncated or expired; nothing is left to deliver).
struct ParkedEntry {
  uint64_t revision = 0;
  std::optional<RecordedEvent> event;
};
// Reads up to `max` entries of `parked` from revision `from` and resolves
// their links.
Result<std::vector<ParkedEntry>> ReadParked(Store& store,
                                            const std::string& parked,
                                            uint64_t from, uint64_t max);

// Sets the parked stream's $tb to `truncate_before`, keeping the rest of
// its metadata.
Status TruncateParked(Store& store, const std::string& parked,
                      uint64_t truncate_before);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_PARKED_STREAM_H_
