// Copyright (c) Cairn authors.
//
// `cairn serve`'s gRPC server: the KurrentDB v1 Streams, Users,
// Operations, ServerFeatures and Gossip services over one open Store, with
// the keepalive settings the official clients need, bounded calls, and
// every Streams, Users, Operations and PersistentSubscriptions call
// authenticated (authenticator.h). Services the server does not implement
// (projections, monitoring) answer UNIMPLEMENTED, as gRPC does for unknown
// services.
#ifndef CAIRN_SERVER_SERVER_H_
#define CAIRN_SERVER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cairn/result.h"
#include "cairn/store.h"
#include "server/authenticator.h"
#include "server/call_context.h"
#include "server/call_metrics.h"
#include "server/listen_address.h"
#include "server/password_hash.h"
#include "server/server_figures.h"
#include "server/tls_files.h"

namespace cairn::server {

class ConnectionListener;
class StreamsService;
class UsersService;
class OperationsService;
class PersistentSubscriptionsService;
class ServerFeaturesService;
class GossipService;

struct ServerOptions {
  ListenAddress listen{"127.0.0.1", 2113};
  // The server's certificate and key (and client CA): gRPC over TLS.
  std::optional<TlsMaterial> tls;
  // Serves plaintext when `tls` is empty. Without either, Start refuses:
  // security fails closed.
  bool insecure = false;
  // Authenticates calls against the users in the store. Off, every call
  // may do everything: `cairn serve --insecure` turns it off, as
  // KurrentDB's insecure mode does.
  bool authentication = true;
  Authenticator::Limits authentication_limits;
  // The Argon2id cost of passwords the Users service sets.
  PasswordHashCost password_cost = InteractivePasswordHashCost();
  CallLimits limits;
  // HTTP/2 streams (calls) one connection may open at once.
  int max_concurrent_streams_per_connection = 256;
  // Where notable events go (e.g. a dropped subscriber); may be empty.
  ServerLog log;
  // Operations.Shutdown calls it to ask the host for the graceful shutdown
  // SIGTERM starts; it must not wait for the shutdown (it runs inside a
  // call, which Server::Shutdown waits for). Empty: Operations.Shutdown
  // answers UNIMPLEMENTED.
  std::function<void()> request_shutdown;
  // How a scavenge started over gRPC runs (StartScavenge has no such
  // fields): its throttle_percent (1 to 100: Start refuses anything else
  // with InvalidArgument), bytes_per_sync and memory bounds.
  // `progress` (may be empty) is called on the scavenging thread with each
  // progress report; tests hold a scavenge running with it.
  ScavengeOptions scavenge;
  // Memory gRPC may use for its buffers across all connections.
  size_t grpc_memory_bytes = 256ull << 20;
  // TCP connections open at once, with calls or idle (each holds two file
  // descriptors): one more is closed when it is accepted. Above
  // limits.max_connections, so that a connection beyond that limit still
  // gets its clear RESOURCE_EXHAUSTED status.
  size_t max_open_connections = 384;
};

class Server {
 public:
  // Starts serving `store` (which must outlive the server).
  static Result<std::unique_ptr<Server>> Start(Store* store,
                                               const ServerOptions& options);
  ~Server();  // shuts down

  // The bound gRPC port (useful with port 0).
  int port() const { return port_; }
  // TCP connections open now (ServerOptions::max_open_connections), and a
  // wait until at most `count` are (for tests).
  size_t open_connections() const;
  void WaitOpenConnectionsAtMost(size_t count);
  // Calls by method and status code, and open connections.
  ServerFigures Figures() const;
  // Checks the credentials of calls (and of the HTTP pages that need
  // them).
  Authenticator* authenticator() const { return authenticator_.get(); }
  // Where clients reach the gRPC port, and the instance id Gossip reports.
  const std::string& host() const { return host_; }
  EventId instance_id() const;
  // An in-process channel to the server, for tests.
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // Ends the subscriptions, lets running appends finish (their store
  // callbacks complete before the store closes), stops a scavenge started
  // over gRPC and joins its thread, then stops. Idempotent.
  void Shutdown();

 private:
  Server() = default;

  std::unique_ptr<Authenticator> authenticator_;
  // Before grpc_, whose calls' interceptors count into it.
  CallMetrics call_metrics_;
  std::unique_ptr<StreamsService> streams_;
  std::unique_ptr<UsersService> users_;
  std::unique_ptr<OperationsService> operations_;
  std::unique_ptr<PersistentSubscriptionsService> persistent_;
  std::unique_ptr<ServerFeaturesService> features_;
  std::unique_ptr<GossipService> gossip_;
  std::unique_ptr<grpc::Server> grpc_;
  // Accepts the connections (gRPC listens on no port of its own).
  std::unique_ptr<ConnectionListener> listener_;
  int port_ = 0;
  std::string host_;
  bool shut_down_ = false;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERVER_H_
