// Copyright (c) Cairn authors.
//
// The HTTP/1.1 port beside the gRPC one (gRPC cannot serve HTTP/1.1 on its
// port): GET /health/live (204 when ready, 503 while the store opens or
// the server stops), /info and /ping. Served by cpp-httplib on its own
// threads; over HTTPS, with the gRPC port's certificate, when TLS is on.
#ifndef CAIRN_SERVER_HTTP_ENDPOINT_H_
#define CAIRN_SERVER_HTTP_ENDPOINT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "cairn/status.h"
#include "server/listen_address.h"
#include "server/tls_files.h"

namespace httplib {
class Server;
}

namespace cairn::server {

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
  // The bound port (useful with port 0).
  int port() const { return port_; }
  void Stop();

 private:
  std::unique_ptr<httplib::Server> http_;
  Status tls_status_;  // why the HTTPS context could not be set up
  std::thread thread_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_HTTP_ENDPOINT_H_
