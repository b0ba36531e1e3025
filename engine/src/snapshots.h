// Copyright (c) Cairn authors.
//
// The names and records of snapshots (cairn/snapshot.h): the snapshots of
// stream S are "$snapshot" events of the system stream "$snapshot-S", each
// carrying the snapshot's bytes as data and a small JSON header as event
// metadata, {"revision":R,"schema":"..."}. docs/format.md ("Snapshot
// streams") documents the layout for other readers.
#ifndef CAIRN_ENGINE_SRC_SNAPSHOTS_H_
#define CAIRN_ENGINE_SRC_SNAPSHOTS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/result.h"
#include "cairn/status.h"

namespace cairn::engine {

inline constexpr std::string_view kSnapshotStreamPrefix = "$snapshot-";
inline constexpr std::string_view kSnapshotEventType = "$snapshot";
// The longest schema string SaveSnapshot accepts.
inline constexpr size_t kMaxSnapshotSchemaLength = 1024;

inline bool IsSnapshotStream(std::string_view stream) {
  return stream.starts_with(kSnapshotStreamPrefix);
}

// "$snapshot-<stream>".
inline std::string SnapshotStreamOf(std::string_view stream) {
  std::string name(kSnapshotStreamPrefix);
  name.append(stream);
  return name;
}

// The stream a snapshot stream holds snapshots of, else `stream` itself.
inline std::string_view SnapshotOwner(std::string_view stream) {
  return IsSnapshotStream(stream) ? stream.substr(kSnapshotStreamPrefix.size())
                                  : stream;
}

// What a snapshot event's metadata says about it.
struct SnapshotHeader {
  uint64_t revision = 0;  // of the snapshotted stream
  std::string schema;
};

// InvalidArgument unless `schema` is at most kMaxSnapshotSchemaLength bytes
// of UTF-8 without control characters.
Status ValidateSnapshotSchema(std::string_view schema);

// The header as the snapshot event's metadata JSON.
std::string EncodeSnapshotHeader(const SnapshotHeader& header);

// Parses a snapshot event's metadata `text`: InvalidArgument if it is not a
// header EncodeSnapshotHeader wrote.
Result<SnapshotHeader> DecodeSnapshotHeader(std::string_view text);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SNAPSHOTS_H_
