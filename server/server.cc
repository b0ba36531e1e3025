// Copyright (c) Cairn authors.
#include "server/server.h"

#include <grpcpp/resource_quota.h>
#include <grpcpp/server_posix.h>

#include <chrono>
#include <string>
#include <vector>

#include "server/channel_settings.h"
#include "server/connection_listener.h"
#include "server/info_services.h"
#include "server/operations_service.h"
#include "server/persistent_service.h"
#include "server/streams_service.h"
#include "server/users_service.h"

namespace cairn::server {

namespace {

constexpr std::chrono::seconds kShutdownGrace{5};

std::shared_ptr<grpc::ServerCredentials> Credentials(const TlsMaterial& tls) {
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca_pem.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Store* store,
                                              const ServerOptions& options) {
  if (!options.tls && !options.insecure) {
    return Status::InvalidArgument(
        "refusing to serve " + options.listen.ToString() +
        " without TLS: pass --tls-cert and --tls-key (cairn serve "
        "--dev-certs DIR makes a pair for local use), or --insecure to "
        "serve plaintext");
  }
  // Checked here rather than when a client starts a scavenge, which would
  // answer Started and then fail in the background.
  Status scavenge = options.scavenge.Validate();
  if (!scavenge.ok()) return scavenge;
  std::unique_ptr<Server> server(new Server());
  server->authenticator_ = std::make_unique<Authenticator>(
      store, options.authentication, options.authentication_limits);
  server->streams_ = std::make_unique<StreamsService>(
      store, options.limits, options.log, server->authenticator_.get());
  server->users_ = std::make_unique<UsersService>(
      store, server->authenticator_.get(), options.password_cost);
  auto persistent = PersistentSubscriptionsService::Start(
      store, options.limits, options.log, server->authenticator_.get());
  if (!persistent.ok()) return persistent.status();
  server->persistent_ = std::move(persistent.value());
  server->operations_ = std::make_unique<OperationsService>(
      store, server->authenticator_.get(), options.log,
      options.request_shutdown, options.scavenge,
      [persistent = server->persistent_.get()] { persistent->RestartAll(); });
  server->features_ = std::make_unique<ServerFeaturesService>();
  server->gossip_ =
      std::make_unique<GossipService>(options.listen.host, options.listen.port);
  grpc::ServerBuilder builder;
  if (options.tls) {
    // gRPC 1.51 can hand over a plaintext connection only
    // (AddInsecureChannelFromFd), so with TLS gRPC accepts the connections
    // itself and --max-open-connections does not apply (docs/server.md).
    builder.AddListeningPort(options.listen.ToString(),
                             Credentials(*options.tls), &server->port_);
  }
  // Plaintext: no listening port; the ConnectionListener accepts the
  // connections, so that it can bound them (server/connection_listener.h).
  server->host_ = options.listen.host;
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      CallMetrics::InterceptorFactory(&server->call_metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(server->streams_.get());
  builder.RegisterService(server->users_.get());
  builder.RegisterService(server->operations_.get());
  builder.RegisterService(server->persistent_.get());
  builder.RegisterService(server->features_.get());
  builder.RegisterService(server->gossip_.get());
  ApplyKeepaliveSettings(&builder);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams_per_connection);
  // An append message carries one event: its size limit plus framing.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(options.limits.max_event_size + (1 << 20)));
  grpc::ResourceQuota quota("cairn-serve");
  quota.Resize(options.grpc_memory_bytes);
  builder.SetResourceQuota(quota);
  server->grpc_ = builder.BuildAndStart();
  if (!server->grpc_) return Status::IOError("cannot start gRPC");
  if (options.tls) {
    if (server->port_ == 0) {
      return Status::IOError("cannot listen on " + options.listen.ToString());
    }
    server->gossip_->set_port(static_cast<uint16_t>(server->port_));
    return server;
  }
  auto listener =
      ConnectionListener::Start(options.listen, options.max_open_connections,
                                [grpc = server->grpc_.get()](int fd) {
                                  grpc::AddInsecureChannelFromFd(grpc, fd);
                                });
  if (!listener.ok()) return listener.status();
  server->listener_ = std::move(listener.value());
  server->port_ = server->listener_->port();
  server->gossip_->set_port(static_cast<uint16_t>(server->port_));
  return server;
}

Server::~Server() { Shutdown(); }

size_t Server::open_connections() const {
  return listener_ ? listener_->open() : 0;
}

void Server::WaitOpenConnectionsAtMost(size_t count) {
  if (listener_) listener_->WaitOpenAtMost(count);
}

ServerFigures Server::Figures() const {
  ServerFigures figures;
  figures.calls = call_metrics_.Counts();
  if (listener_) figures.open_connections = listener_->open();
  const PersistentSubscriptionsService::Figures persistent =
      persistent_->GetFigures();
  figures.persistent_subscriptions = persistent.subscriptions;
  figures.persistent_connections = persistent.connections;
  figures.persistent_in_flight = persistent.in_flight;
  figures.persistent_parked = persistent.parked;
  figures.process = ReadProcessFigures();
  return figures;
}

EventId Server::instance_id() const { return gossip_->instance_id(); }

std::shared_ptr<grpc::Channel> Server::InProcessChannel() {
  return grpc_->InProcessChannel(grpc::ChannelArguments());
}

void Server::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // No new connections from here on (gRPC must not get one while it shuts
  // down); gRPC ends the open ones.
  // A Start that failed part way leaves later members unset: each step
  // below runs only for what was built.
  if (listener_) listener_->Stop();
  // Subscriptions end first (with UNAVAILABLE, which makes clients
  // reconnect); Shutdown then waits for the other calls, whose appends
  // complete through the still-open store.
  if (streams_) streams_->EndReads();
  if (persistent_) persistent_->EndReads();
  // Long-lived BatchAppend calls are cancelled after the grace period;
  // each still waits for its running appends before it ends.
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    grpc_->Wait();
  }
  // No call can start a scavenge now; the store stays open until this
  // returns.
  if (operations_) operations_->Close();
}

}  // namespace cairn::server
