// Copyright (c) Cairn authors.
//
// The system streams (names starting with '$') the server maps onto store
// calls rather than plain appends: a write to a metadata stream
// "$$<stream>" (cairn/stream_metadata.h) is Store::SetStreamMetadataJson
// for <stream>. Reads of "$$<stream>", of the category and event-type
// streams ($ce-, $et-) and of every other system stream are ordinary
// stream reads.
#ifndef CAIRN_SERVER_SYSTEM_STREAMS_H_
#define CAIRN_SERVER_SYSTEM_STREAMS_H_

#include <string_view>

#include "cairn/stream_metadata.h"

namespace cairn::server {

// KurrentDB's link event: its data is "<revision>@<stream>".
inline constexpr std::string_view kLinkEventType = "$>";

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SYSTEM_STREAMS_H_
