// Copyright (c) Cairn authors.
#include "server/system_streams.h"

#include <string>

namespace cairn::server {

std::optional<RpcError> UnservedStreamRead(std::string_view stream) {
  if (stream.starts_with("$$")) {
    return Unimplemented(
        "Unimplemented: stream metadata ($$stream) is not supported yet");
  }
  if (stream.starts_with("$ce-") || stream.starts_with("$et-")) {
    return Unimplemented(
        "Unimplemented: category and event-type streams ($ce-, $et-) are not "
        "supported yet");
  }
  return std::nullopt;
}

std::optional<RpcError> UnservedStreamWrite(std::string_view stream) {
  if (std::optional<RpcError> error = UnservedStreamRead(stream)) return error;
  if (stream.starts_with('$') && stream != "$all") {
    return Unimplemented("Unimplemented: writing system stream " +
                         std::string(stream) + " is not supported");
  }
  return std::nullopt;
}

}  // namespace cairn::server
