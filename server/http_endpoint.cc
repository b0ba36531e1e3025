// Copyright (c) Cairn authors.
#include "server/http_endpoint.h"

#include <httplib.h>
#include <pthread.h>

#include <chrono>

#include "cairn/version.h"
#include "server/authenticator.h"
#include "server/info_services.h"
#include "server/metrics_exposition.h"
#include "server/node_json.h"
#include "server/prometheus_text.h"
#include "server/server.h"

namespace cairn::server {

namespace {

constexpr size_t kMaxRequestBody = 4096;

// A rendered page, or 503 when there is none to serve (no store attached
// yet or any more, or its statistics could not be read).
void Serve(httplib::Response* response, const char* content_type,
           const std::optional<std::string>& body) {
  if (!body) {
    response->status = 503;
    return;
  }
  response->set_content(*body, content_type);
}

}  // namespace

HttpEndpoint::HttpEndpoint(const TlsMaterial* tls) {
  if (tls == nullptr) {
    http_ = std::make_unique<httplib::Server>();
  } else {
    // The callback runs within the constructor; false leaves the server
    // invalid, which Start reports.
    http_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& context) {
      tls_status_ = UseTlsMaterial(&context, *tls);
      return tls_status_.ok();
    });
  }
  // Every page is a GET without a body. cpp-httplib's default would read a
  // body of any size into memory before it routes the request (and answers
  // 404): beyond this it answers 413 without reading it.
  http_->set_payload_max_length(kMaxRequestBody);
  // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, which
  // would let a second server bind the same port and share its clients.
  http_->set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http_->Get("/health/live",
             [this](const httplib::Request&, httplib::Response& response) {
               response.status = ready_ ? 204 : 503;
             });
  http_->Get("/ping", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(R"({"text":"Ping request successfully handled"})",
                         "application/json");
  });
  http_->Get("/info", [this](const httplib::Request&,
                             httplib::Response& response) {
    const bool users = Authenticating();
    std::string body =
        std::string(R"({"dbVersion":")") + Version() + R"(","esVersion":")" +
        kProtocolVersion + R"(","server":"cairn","state":")" +
        (ready_ ? "leader" : "opening") +
        R"(","features":{"projections":false,)"
        R"("userManagement":)" +
        (users ? "true" : "false") +
        R"(,"atomPub":false},)"
        R"("authentication":{"type":")" +
        (users ? "internal" : "insecure") + R"(","properties":{}}})";
    response.set_content(body, "application/json");
  });
  http_->Get("/metrics",
             [this](const httplib::Request&, httplib::Response& response) {
               Serve(&response, kPrometheusContentType,
                     Render([](const StoreStats& store, const Server& server) {
                       return MetricsExposition(store, server.Figures());
                     }));
             });
  http_->Get("/stats", [this](const httplib::Request& request,
                              httplib::Response& response) {
    if (!Authorized(request)) {
      response.status = 401;
      response.set_header("WWW-Authenticate", R"(Basic realm="cairn")");
      return;
    }
    Serve(&response, "application/json",
          Render([](const StoreStats& store, const Server& server) {
            return StatsJson(store, server.Figures());
          }));
  });
  http_->Get(
      "/gossip", [this](const httplib::Request&, httplib::Response& response) {
        Serve(&response, "application/json",
              Render([](const StoreStats& store, const Server& server) {
                GossipNode node;
                node.instance_id = server.instance_id();
                node.host = server.host();
                node.port = static_cast<uint16_t>(server.port());
                node.now_micros =
                    std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
                node.store = store;
                return GossipJson(node);
              }));
      });
}

HttpEndpoint::~HttpEndpoint() { Stop(); }

void HttpEndpoint::Attach(Store* store, const Server* server) {
  std::unique_lock lock(attached_mu_);
  store_ = store;
  server_ = server;
}

void HttpEndpoint::Detach() { Attach(nullptr, nullptr); }

bool HttpEndpoint::Authorized(const httplib::Request& request) {
  std::shared_lock lock(attached_mu_);
  if (server_ == nullptr) return true;  // the page answers 503
  Authenticator* authenticator = server_->authenticator();
  if (authenticator == nullptr || !authenticator->enabled()) return true;
  std::string header;  // owns what the authenticator looks at
  std::optional<std::string_view> authorization;
  if (request.has_header("Authorization")) {
    header = request.get_header_value("Authorization");
    authorization = header;
  }
  Principal principal;
  return authenticator->Authenticate(authorization, &principal).code ==
             grpc::StatusCode::OK &&
         !principal.anonymous();
}

bool HttpEndpoint::Authenticating() {
  std::shared_lock lock(attached_mu_);
  return server_ != nullptr && server_->authenticator() != nullptr &&
         server_->authenticator()->enabled();
}

std::optional<std::string> HttpEndpoint::Render(const Page& page) {
  std::shared_lock lock(attached_mu_);
  if (store_ == nullptr || server_ == nullptr) return std::nullopt;
  Result<StoreStats> stats = store_->GetStats();
  if (!stats.ok()) return std::nullopt;
  return page(stats.value(), *server_);
}

Status HttpEndpoint::Start(const ListenAddress& address) {
  if (!tls_status_.ok()) return tls_status_;
  if (!http_->is_valid()) {
    return Status::IOError("cannot set up HTTPS for " + address.ToString());
  }
  port_ = address.port == 0
              ? http_->bind_to_any_port(address.host)
              : (http_->bind_to_port(address.host, address.port) ? address.port
                                                                 : -1);
  if (port_ <= 0) {
    return Status::IOError("cannot listen for HTTP on " + address.ToString());
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cairn-http");
    http_->listen_after_bind();
    listen_returned_ = true;
  });
  // httplib's stop() does nothing before the accept loop runs, so a Stop
  // right after Start would wait forever: return once it runs.
  while (!http_->is_running() && !listen_returned_) std::this_thread::yield();
  return Status::Ok();
}

void HttpEndpoint::Stop() {
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();
  }
}

}  // namespace cairn::server
