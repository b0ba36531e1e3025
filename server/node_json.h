// Copyright (c) Cairn authors.
//
// The JSON pages of the HTTP port: GET /stats (the store's statistics and
// the server's figures, the same as /metrics) and GET /gossip (this single
// node in the shape of KurrentDB's HTTP gossip, ClientClusterInfo).
#ifndef CAIRN_SERVER_NODE_JSON_H_
#define CAIRN_SERVER_NODE_JSON_H_

#include <cstdint>
#include <string>

#include "cairn/store.h"
#include "cairn/types.h"
#include "server/server_figures.h"

namespace cairn::server {

std::string StatsJson(const StoreStats& store, const ServerFigures& server);

// Where and what this node is, for /gossip.
struct GossipNode {
  EventId instance_id;  // the same as the gRPC Gossip service reports
  std::string host;     // of the gRPC port, where clients connect
  uint16_t port = 0;
  int64_t now_micros = 0;  // since the Unix epoch (the member's timeStamp)
  StoreStats store;
};

std::string GossipJson(const GossipNode& node);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_NODE_JSON_H_
