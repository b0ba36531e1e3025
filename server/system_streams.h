// Copyright (c) Cairn authors.
//
// The system streams (names starting with '$') Cairn does not serve yet:
// metadata streams ($$stream), category and event-type streams ($ce-,
// $et-), and writes to any other system stream (the engine reserves '$'
// names). Calls on them answer UNIMPLEMENTED with a message saying so,
// rather than a misleading "not found" or "bad request".
#ifndef CAIRN_SERVER_SYSTEM_STREAMS_H_
#define CAIRN_SERVER_SYSTEM_STREAMS_H_

#include <optional>
#include <string_view>

#include "server/rpc_error.h"

namespace cairn::server {

std::optional<RpcError> UnservedStreamRead(std::string_view stream);
// `$all` is not covered here: writing it is a bad request.
std::optional<RpcError> UnservedStreamWrite(std::string_view stream);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SYSTEM_STREAMS_H_
