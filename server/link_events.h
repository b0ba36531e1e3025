// Copyright (c) Cairn authors.
//
// KurrentDB's link events for the category and event-type streams
// (`$ce-<category>`, `$et-<type>`). Cairn stores no link records: the
// store answers reads of those streams with the original events, each
// carrying its revision in the link stream (RecordedEvent::link_revision).
// The server presents them as KurrentDB does: a `$>` event in the link
// stream, at that revision, whose data is "<revision>@<stream>" of the
// original, and whose id is derived from the link stream's name and the
// link revision (the same link always has the same id). It shares the
// original's position and creation time.
#ifndef CAIRN_SERVER_LINK_EVENTS_H_
#define CAIRN_SERVER_LINK_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/event.h"
#include "cairn/store.h"
#include "cairn/types.h"
#include "server/convert.h"
#include "streams.pb.h"

namespace cairn::server {

// A name-based (RFC 9562 version 8) id for the link at `link_revision` of
// `link_stream`.
EventId LinkEventId(std::string_view link_stream, uint64_t link_revision);

// "<revision>@<stream>" of the original event.
std::string LinkEventData(const RecordedEventView& original);

// Fills `out` with the link event in `link_stream` that points at
// `original` (whose link_revision must be set).
template <typename WireRecordedEvent>
void LinkEventToProto(std::string_view link_stream,
                      const RecordedEventView& original, UuidFormat format,
                      WireRecordedEvent* out);

// The event a link's data "<revision>@<stream>" points at; nullopt when
// the data is malformed or the event is not readable.
std::optional<RecordedEvent> ResolveLink(Store& store, std::string_view data);

// Fills a read's event message (every field set or cleared, so `out` may
// be reused) for `event`, read from `read_stream`: an event of a $ce-/$et-
// stream is presented as its link, and with `resolve_links` a link event
// carries the event it points at (`event`) and itself (`link`).
template <typename WireReadEvent>
void ReadEventToProto(Store& store, std::string_view read_stream,
                      bool resolve_links, UuidFormat format,
                      const RecordedEventView& event, WireReadEvent* out);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_LINK_EVENTS_H_
