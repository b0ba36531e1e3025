// Copyright (c) Cairn authors.
//
// ServerFeatures (which methods work, and the protocol version the
// clients gate features on) and Gossip (one node, the leader).
#ifndef CAIRN_SERVER_INFO_SERVICES_H_
#define CAIRN_SERVER_INFO_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>

#include "cairn/types.h"
#include "gossip.grpc.pb.h"
#include "serverfeatures.grpc.pb.h"

namespace cairn::server {

// The KurrentDB protocol level Cairn implements: the v1 gRPC protocol of
// the 24.10 servers (no v2 append sessions). Clients parse it as X.Y.Z.
inline constexpr char kProtocolVersion[] = "24.10.0";

class ServerFeaturesService final
    : public event_store::client::server_features::ServerFeatures::
          CallbackService {
 public:
  grpc::ServerUnaryReactor* GetSupportedMethods(
      grpc::CallbackServerContext* rpc, const event_store::client::Empty*,
      event_store::client::server_features::SupportedMethods* response)
      override;
};

class GossipService final
    : public event_store::client::gossip::Gossip::CallbackService {
 public:
  // `address`/`port`: where clients reach this node's gRPC port.
  GossipService(std::string address, uint16_t port);

  grpc::ServerUnaryReactor* Read(
      grpc::CallbackServerContext* rpc, const event_store::client::Empty*,
      event_store::client::gossip::ClusterInfo* response) override;
  // The bound port, once known (the listen address may ask for port 0).
  void set_port(uint16_t port) { port_ = port; }
  const EventId& instance_id() const { return instance_id_; }

 private:
  const std::string address_;
  std::atomic<uint16_t> port_;
  const EventId instance_id_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_INFO_SERVICES_H_
