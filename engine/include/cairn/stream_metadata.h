// Copyright (c) Cairn authors. Public API.
//
// Stream metadata: per-stream settings kept as JSON events of the stream's
// metadata stream, in KurrentDB's format, so a KurrentDB-compatible server
// maps them one to one. Reads apply $maxCount, $maxAge and $tb at once,
// whether or not anything has been physically removed yet.
#ifndef CAIRN_STREAM_METADATA_H_
#define CAIRN_STREAM_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/export.h"
#include "cairn/result.h"
#include "cairn/types.h"

namespace cairn {

// The metadata of stream S is kept in its metadata stream "$$S", as
// events of type "$metadata" (the newest one holds the metadata).
inline constexpr std::string_view kMetadataStreamPrefix = "$$";
inline constexpr std::string_view kMetadataEventType = "$metadata";

inline bool IsMetadataStream(std::string_view stream) {
  return stream.starts_with(kMetadataStreamPrefix);
}

// S for "$$S".
inline std::string_view MetadataStreamOwner(std::string_view metadata_stream) {
  return metadata_stream.substr(kMetadataStreamPrefix.size());
}

// `$tb` of a soft-deleted stream (KurrentDB's long.MaxValue): the stream
// reads as not found until it is appended to again; then only the events
// appended after the delete are visible.
inline constexpr uint64_t kSoftDeletedTruncateBefore = 9223372036854775807ull;

// `$acl`: roles per right, stored and returned but not enforced by the
// engine. Each right is absent (the server's default applies) or a list
// of roles (KurrentDB also accepts a single role string, read as a list
// of one).
struct StreamAcl {
  std::optional<std::vector<std::string>> read;        // $r
  std::optional<std::vector<std::string>> write;       // $w
  std::optional<std::vector<std::string>> delete_;     // $d
  std::optional<std::vector<std::string>> meta_read;   // $mr
  std::optional<std::vector<std::string>> meta_write;  // $mw

  bool operator==(const StreamAcl&) const = default;
};

// The typed view of a stream's metadata JSON. Absent fields are absent
// from the JSON.
struct CAIRN_EXPORT StreamMetadata {
  // $maxCount: only the newest max_count events are readable (> 0).
  std::optional<uint64_t> max_count;
  // $maxAge: only events created in the last max_age_seconds are readable
  // (> 0), judged against each event's created time.
  std::optional<uint64_t> max_age_seconds;
  // $tb: events below this revision are not readable (<=
  // kSoftDeletedTruncateBefore).
  std::optional<uint64_t> truncate_before;
  // $cacheControl, seconds (> 0): a hint for HTTP front ends.
  std::optional<uint64_t> cache_control_seconds;
  std::optional<StreamAcl> acl;
  // Properties not starting with '$' known above (KurrentDB calls them
  // custom), in document order: name and the value as JSON text, which
  // FromJson gives and ToJson writes in compact form (StreamMetadataResult::
  // json keeps the bytes as written).
  std::vector<std::pair<std::string, std::string>> custom;

  // Parses and validates metadata JSON: an object; $maxCount, $maxAge,
  // $cacheControl integers > 0; $tb an integer in [0, 2^63 - 1]; $acl an
  // object whose $r $w $d $mr $mw are strings or arrays of strings.
  // InvalidArgument, naming the property, otherwise.
  static Result<StreamMetadata> FromJson(std::string_view json);
  // The JSON object of these fields: InvalidArgument if a field is out of
  // range or a custom value is not one JSON value.
  Result<std::string> ToJson() const;

  bool operator==(const StreamMetadata&) const = default;
};

// A stream's metadata as stored.
struct StreamMetadataResult {
  StreamMetadata metadata;
  // The JSON exactly as written, byte for byte; "{}" when none was set.
  std::string json;
  // Revision of the metadata in the metadata stream, for optimistic
  // concurrency on the next write: nullopt when none was ever set
  // (ExpectedVersion::NoStream()).
  std::optional<StreamRevision> metastream_revision;
};

// Where a delete or tombstone was recorded in the global log.
struct DeleteResult {
  GlobalPosition position;
};

}  // namespace cairn

#endif  // CAIRN_STREAM_METADATA_H_
