// Copyright (c) Cairn authors.
#include "server/server_figures.h"

#include <array>

namespace cairn::server {

std::string_view StatusCodeName(int code) {
  static constexpr std::array<std::string_view, CallMetrics::kCodes> kNames = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code < 0 || code >= CallMetrics::kCodes) return "UNKNOWN";
  return kNames[static_cast<size_t>(code)];
}

}  // namespace cairn::server
