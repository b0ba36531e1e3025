// Copyright (c) Cairn authors. Public API.
#ifndef CAIRN_EVENT_H_
#define CAIRN_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/export.h"
#include "cairn/types.h"

namespace cairn {

// An event as the application proposes it for appending.
struct EventData {
  // Identifies the event for idempotent retries. Nil (the default) means the
  // store generates a random UUID; a retry must reuse the same ids to be
  // recognised as a retry.
  EventId id;
  // Application-defined event type, e.g. "OrderPlaced". 1..max_type_length
  // bytes of UTF-8 without control characters.
  std::string type;
  // The payload and metadata are opaque bytes to the store.
  std::string data;
  std::string metadata;
  // Tells readers (and `cairn read --json`) how to render data/metadata.
  ContentType content_type = ContentType::kJson;
};

struct RecordedEventView;

// A persisted event, owning its bytes.
struct CAIRN_EXPORT RecordedEvent {
  std::string stream;
  StreamRevision revision;
  GlobalPosition position;
  EventId id;
  std::string type;
  std::string data;
  std::string metadata;
  ContentType content_type = ContentType::kJson;
  // When the store accepted the append, microseconds since the Unix epoch.
  int64_t created_us = 0;
  // Set only for events read from a category or event-type stream
  // (`$ce-<category>`, `$et-<type>`): the event's revision in that stream.
  // The other fields are the original event's (its own stream, revision
  // and position), as a resolved link presents it.
  std::optional<StreamRevision> link_revision;

  // A view of this event (valid while it lives and is unchanged), for code
  // that handles both kinds.
  RecordedEventView View() const;
};

// A persisted event whose strings point into store-owned memory. Valid only
// during the visitor call that receives it; copy what must outlive it.
struct CAIRN_EXPORT RecordedEventView {
  std::string_view stream;
  StreamRevision revision;
  GlobalPosition position;
  EventId id;
  std::string_view type;
  std::string_view data;
  std::string_view metadata;
  ContentType content_type = ContentType::kJson;
  int64_t created_us = 0;
  std::optional<StreamRevision> link_revision;  // as in RecordedEvent

  RecordedEvent ToOwned() const;
};

}  // namespace cairn

#endif  // CAIRN_EVENT_H_
