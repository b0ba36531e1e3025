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
#include "server/process_figures.h"

namespace cairn::server {

struct ServerFigures {
  std::vector<CallMetrics::Count> calls;
  // TCP connections open now; nullopt with TLS, where gRPC accepts the
  // connections itself and the server cannot count them.
  std::optional<uint64_t> open_connections;
  // Persistent subscriptions: those defined, their connected Read calls,
  // and their groups' events in flight and parked.
  uint64_t persistent_subscriptions = 0;
  uint64_t persistent_connections = 0;
  uint64_t persistent_in_flight = 0;
  uint64_t persistent_parked = 0;
  // The process's CPU, memory, file descriptors and threads; nullopt
  // where they cannot be read.
  std::optional<ProcessFigures> process;
};

// The name of a gRPC status code ("OK", "NOT_FOUND", ...).
std::string_view StatusCodeName(int code);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERVER_FIGURES_H_
