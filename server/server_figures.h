// Copyright (c) Cairn authors.
//
// The server's own figures beside the store's, as /metrics and /stats
// report them.
#ifndef CAIRN_SERVER_SERVER_FIGURES_H_
#define CAIRN_SERVER_SERVER_FIGURES_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "server/call_metrics.h"

namespace cairn::server {

struct ServerFigures {
  std::vector<CallMetrics::Count> calls;
  // TCP connections open now; nullopt with TLS, where gRPC accepts the
  // connections itself and the server cannot count them.
  std::optional<uint64_t> open_connections;
};

// The name of a gRPC status code ("OK", "NOT_FOUND", ...).
std::string_view StatusCodeName(int code);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERVER_FIGURES_H_
