// Copyright (c) Cairn authors.
//
// Checks of caller input, run before anything is written: a rejected append
// changes nothing.
#ifndef CAIRN_ENGINE_SRC_VALIDATION_H_
#define CAIRN_ENGINE_SRC_VALIDATION_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "cairn/event.h"
#include "cairn/options.h"
#include "cairn/status.h"

namespace cairn::engine {

// Options that can not work together or are out of range.
Status ValidateOptions(const Options& options);

// The largest append (sum of event sizes) the store accepts: the option,
// capped so an encoded append always fits one segment.
uint64_t EffectiveMaxAppendSize(const Options& options);

// A stream name a caller may append to, delete, tombstone or give
// metadata: 1..max_stream_name_length bytes of printable UTF-8. System
// names ('$' first) are allowed, as in KurrentDB, except "$all", the
// category and event-type streams ($ce-, $et-: the store derives them)
// and metadata streams ("$$<stream>": SetStreamMetadataJson writes them).
Status ValidateStreamName(std::string_view stream, const Options& options);

// Validates the whole append: stream name, at least one event, each event's
// type and size, the append's total size, no id used twice. A caller's
// append (`system` false) may not use a metadata or snapshot stream nor
// the tombstone's event type; the store's own appends (`system`) write
// "$$<stream>" metadata streams, "$snapshot-<stream>" snapshot streams
// (and their metadata streams) and tombstones, for a valid stream name.
Status ValidateAppend(std::string_view stream,
                      std::span<const EventData> events, const Options& options,
                      bool system = false);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_VALIDATION_H_
