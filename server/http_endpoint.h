// Copyright (c) Cairn authors.
//
// The HTTP/1.1 port beside the gRPC one (gRPC cannot serve HTTP/1.1 on its
// port): GET /health/live (204 when ready, 503 while the store opens or
// the server stops), /info and /ping; and, once a store and server are
// attached, /metrics (Prometheus text), /stats and /gossip (JSON), 503
// before that. Served by cpp-httplib on its own threads; over HTTPS, with
// the gRPC port's certificate, when TLS is on.
#ifndef CAIRN_SERVER_HTTP_ENDPOINT_H_
#define CAIRN_SERVER_HTTP_ENDPOINT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>

#include "cairn/status.h"
#include "cairn/store.h"
#include "server/listen_address.h"
#include "server/tls_files.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace cairn::server {

class Server;

class HttpEndpoint {
 public:
  // Plain HTTP, or HTTPS with `tls`'s certificate when it is not null.
  explicit HttpEndpoint(const TlsMaterial* tls = nullptr);
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;
  ~HttpEndpoint();  // stops

  // Binds and starts serving; the node reports "opening" until SetReady.
  Status Start(const ListenAddress& address);
  void SetReady(bool ready) { ready_ = ready; }
  // Serves /metrics, /stats and /gossip from `store` and `server` until
  // Detach, which waits for the pages being served: call it before either
  // goes away.
  void Attach(Store* store, const Server* server);
  void Detach();
  // The bound port (useful with port 0).
  int port() const { return port_; }
  void Stop();

 private:
  // Whether `request` may see pages that need credentials (/stats): its
  // Basic credentials name an enabled user, or the attached server does
  // not authenticate (--insecure), or nothing is attached (the page then
  // answers 503).
  bool Authorized(const httplib::Request& request);
  // Whether the attached server authenticates calls (for /info).
  bool Authenticating();
  // The body of a page built from the attached store and server, or
  // nullopt when none is attached.
  using Page = std::function<std::string(const StoreStats&, const Server&)>;
  std::optional<std::string> Render(const Page& page);

  std::unique_ptr<httplib::Server> http_;
  Status tls_status_;  // why the HTTPS context could not be set up
  std::thread thread_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
  // Shared while a page is rendered or a login checked (so that a slow
  // password hash holds up no other page), exclusive to attach or detach.
  std::shared_mutex attached_mu_;
  Store* store_ = nullptr;          // guarded by attached_mu_
  const Server* server_ = nullptr;  // guarded by attached_mu_
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_HTTP_ENDPOINT_H_
