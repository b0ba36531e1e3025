// Copyright (c) Cairn authors.
//
// The names and records of stream lifecycle (KurrentDB's conventions):
// metadata streams "$$<stream>" holding "$metadata" JSON events, and the
// "$streamDeleted" tombstone event. StreamMetadata's JSON codec is in
// stream_metadata.cc, the only place that parses JSON (privately, with
// nlohmann/json, so consumers of libcairn never need it).
#ifndef CAIRN_ENGINE_SRC_STREAM_METADATA_H_
#define CAIRN_ENGINE_SRC_STREAM_METADATA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/result.h"
#include "cairn/stream_metadata.h"
#include "engine/src/snapshots.h"

namespace cairn::engine {

inline constexpr std::string_view kStreamDeletedEventType = "$streamDeleted";

// "$$<stream>".
inline std::string MetastreamOf(std::string_view stream) {
  std::string name(kMetadataStreamPrefix);
  name.append(stream);
  return name;
}

// The stream whose lifecycle decides an append to `stream`: the stream a
// metadata stream or a snapshot stream (snapshots.h) describes, also
// through both ("$$$snapshot-S" is S's), else `stream` itself.
inline std::string_view LifecycleOwner(std::string_view stream) {
  return SnapshotOwner(IsMetadataStream(stream) ? MetadataStreamOwner(stream)
                                                : stream);
}

// `json` (valid metadata) with $tb set to `truncate_before`, the other
// properties kept in order (re-serialised compactly).
Result<std::string> WithTruncateBefore(std::string_view json,
                                       uint64_t truncate_before);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_STREAM_METADATA_H_
