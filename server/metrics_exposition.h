// Copyright (c) Cairn authors.
//
// GET /metrics: the store's and the server's figures in the Prometheus text
// format (server/prometheus_text.h). docs/server.md lists every metric.
// Every label takes values from a fixed set (read kinds, the served
// methods, gRPC status codes), so the number of series is bounded whatever
// the clients do.
#ifndef CAIRN_SERVER_METRICS_EXPOSITION_H_
#define CAIRN_SERVER_METRICS_EXPOSITION_H_

#include <string>

#include "cairn/store.h"
#include "server/server_figures.h"

namespace cairn::server {

std::string MetricsExposition(const StoreStats& store,
                              const ServerFigures& server);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_METRICS_EXPOSITION_H_
