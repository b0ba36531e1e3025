// Copyright (c) Cairn authors. Public API.
//
// Snapshots: an application's state of a stream folded up to a revision,
// saved beside the stream so that loading an aggregate reads the newest
// snapshot and only the events after it (Store::SaveSnapshot,
// Store::LoadAggregate). The store keeps a stream's snapshots as events
// of the system stream "$snapshot-<stream>", which clients may read like
// any stream but write only through SaveSnapshot; docs/format.md
// ("Snapshot streams") gives the record layout.
#ifndef CAIRN_SNAPSHOT_H_
#define CAIRN_SNAPSHOT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cairn/event.h"
#include "cairn/types.h"

namespace cairn {

// A snapshot as the application proposes it.
struct SnapshotData {
  // The state, opaque bytes to the store. At most Options::max_event_size
  // bytes together with the schema and the store's small JSON header.
  std::string data;
  // What the bytes are, for the application to decide whether it can
  // still read them: a content type and/or schema version, e.g.
  // "OrderState/v3". 0..1024 bytes of UTF-8 without control characters.
  std::string schema;
  // How readers (and `cairn read --json`) render `data`.
  ContentType content_type = ContentType::kBinary;
};

struct SaveSnapshotOptions {
  // How many snapshots of the stream the store keeps: the snapshot
  // stream's $maxCount. Older ones become unreadable at once and a
  // scavenge removes them. Must be at least 1.
  uint64_t keep = 1;
};

struct SaveSnapshotResult {
  // The snapshot's revision in "$snapshot-<stream>" and position in the
  // global log.
  StreamRevision snapshot_revision;
  GlobalPosition position;
};

// A saved snapshot as loaded.
struct Snapshot {
  // The snapshot is the state after the stream's event at this revision.
  StreamRevision revision;
  std::string data;
  std::string schema;
  ContentType content_type = ContentType::kBinary;
  // Where the snapshot event is in the global log, and when it was saved
  // (microseconds since the Unix epoch).
  GlobalPosition position;
  int64_t created_us = 0;
};

struct LoadAggregateOptions {
  // At most this many events after the snapshot are returned: a stream
  // with a longer tail is loaded in parts, the rest read with ReadStream
  // from `next_revision`. Must be at least 1.
  uint64_t max_count = 4096;
};

struct AggregateResult {
  // The newest usable snapshot, or nullopt when there is none (then
  // `events` start at the stream's first readable event).
  std::optional<Snapshot> snapshot;
  // The stream's readable events after the snapshot, in order, as
  // ReadStream returns them (at most LoadAggregateOptions::max_count).
  std::vector<RecordedEvent> events;
  // The stream's last revision when the events were read.
  StreamRevision last_revision;
  // True when `events` reach the end of the stream; otherwise the next
  // part starts at `next_revision`.
  bool end_of_stream = false;
  StreamRevision next_revision;
};

}  // namespace cairn

#endif  // CAIRN_SNAPSHOT_H_
