// Copyright (c) Cairn authors.
//
// cairn serve DIR [--listen 127.0.0.1:2113] [--http 127.0.0.1:2114]
//                 (--tls-cert FILE --tls-key FILE [--tls-ca FILE] |
//                  --insecure) [--max-calls N] [--max-connections N]
//                 [--max-open-connections N] ...
// cairn serve --dev-certs DIR
//
// Runs the KurrentDB-compatible gRPC server (server/) over the store in DIR
// until SIGINT, SIGTERM or an Operations.Shutdown call, then shuts down
// cleanly: subscriptions end, running appends finish, a scavenge started
// over gRPC stops, the store closes.
#include <csignal>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cairn/version.h"
#include "server/bootstrap.h"
#include "server/dev_certs.h"
#include "server/http_endpoint.h"
#include "server/info_services.h"
#include "server/process_settings.h"
#include "server/server.h"
#include "tools/cli/command.h"
#include "tools/cli/signal_waiter.h"

namespace cairn::tools {
namespace {

struct ServeArgs {
  std::string dir;
  std::string listen = "127.0.0.1:2113";
  std::string http = "127.0.0.1:2114";
  bool insecure = false;
  server::TlsFiles tls;
  std::string dev_certs;
  size_t max_calls = server::CallLimits().max_calls;
  size_t max_connections = server::CallLimits().max_connections;
  size_t max_open_connections = server::ServerOptions().max_open_connections;
  size_t subscriber_buffer = server::CallLimits().read_buffer_messages;
  uint64_t subscriber_buffer_bytes = server::CallLimits().read_buffer_bytes;
  uint64_t stall_seconds = 30;
  ScavengeOptions scavenge;  // throttle_percent and bytes_per_sync
};

constexpr std::string_view kName = "serve";

// A year: beyond it a stall timeout means "never", and far beyond it the
// timeout would overflow the clock's nanoseconds.
constexpr uint64_t kMaxStallSeconds = 365ull * 24 * 3600;

int RunDevCerts(const Io& io, const ServeArgs& args) {
  if (!args.dir.empty()) {
    return Fail(io, kName,
                "--dev-certs writes certificates and exits; it takes no "
                "store DIR",
                kExitUsage);
  }
  auto written = server::WriteDevCertificates(args.dev_certs);
  if (!written.ok()) return FailStatus(io, kName, written.status());
  for (const std::string& path : written.value()) io.out << path << "\n";
  const std::string dir = args.dev_certs + "/";
  io.out << "serve with --tls-cert " << dir << server::kDevNodeCert
         << " --tls-key " << dir << server::kDevNodeKey << "; clients trust "
         << dir << server::kDevCaCert << std::endl;
  return kExitOk;
}

// The checked TLS files, none with --insecure; a usage error (returned
// through `exit`) when neither or a part is given.
std::optional<server::TlsMaterial> LoadTls(const Io& io, const ServeArgs& args,
                                           int* exit) {
  const server::TlsFiles& tls = args.tls;
  const bool any = !tls.cert.empty() || !tls.key.empty() || !tls.ca.empty();
  if (args.insecure && any) {
    *exit = Fail(io, kName,
                 "--insecure serves plaintext; it cannot be combined with "
                 "--tls-cert, --tls-key or --tls-ca",
                 kExitUsage);
  } else if (!args.insecure && !any) {
    *exit = Fail(io, kName,
                 "refusing to serve without TLS: pass --tls-cert FILE and "
                 "--tls-key FILE (`cairn serve --dev-certs DIR` makes a "
                 "pair for local use), or --insecure to serve plaintext",
                 kExitUsage);
  } else if (any && (tls.cert.empty() || tls.key.empty())) {
    *exit =
        Fail(io, kName, "TLS needs both --tls-cert and --tls-key", kExitUsage);
  } else if (any) {
    auto material = server::LoadTlsMaterial(tls);
    if (material.ok()) return std::move(material.value());
    *exit = FailStatus(io, kName, material.status());
  }
  return std::nullopt;
}

// Loudly, at every start, while a default user keeps its well-known
// password: anyone who knows KurrentDB knows it.
void WarnOfDefaultPasswords(const Io& io, Store* store) {
  Result<std::vector<std::string>> logins =
      server::UsersWithDefaultPassword(store);
  if (!logins.ok()) {
    io.err << "cairn serve: cannot check the default users' passwords: "
           << logins.status().ToString() << std::endl;
    return;
  }
  for (const std::string& login : logins.value()) {
    io.err << "cairn serve: WARNING: *** user '" << login
           << "' still has the default password; anyone can log in as it. "
              "Change it (Users.ChangePassword or ResetPassword). ***"
           << std::endl;
  }
}

int RunServe(const Io& io, const ServeArgs& args) {
  // Before gRPC starts (server/process_settings.h).
  server::ApplyGrpcProcessSettings();
  if (!args.dev_certs.empty()) return RunDevCerts(io, args);
  if (args.dir.empty()) return Fail(io, kName, "DIR is required", kExitUsage);
  Result<server::ListenAddress> listen =
      server::ParseListenAddress(args.listen);
  if (!listen.ok()) {
    return Fail(io, kName, listen.status().message(), kExitUsage);
  }
  Result<server::ListenAddress> http = server::ParseListenAddress(args.http);
  if (!http.ok()) return Fail(io, kName, http.status().message(), kExitUsage);
  int exit = kExitOk;
  std::optional<server::TlsMaterial> tls = LoadTls(io, args, &exit);
  if (exit != kExitOk) return exit;

  SignalWaiter signals;
  server::HttpEndpoint health(tls ? &*tls : nullptr);
  if (Status status = health.Start(http.value()); !status.ok()) {
    return FailStatus(io, kName, status);
  }
  Options options;
  Result<std::unique_ptr<Store>> store = OpenStore(args.dir, false, options);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  // Before serving: clients may read the bootstrap events at once.
  if (Status status = server::WriteBootstrapEvents(store.value().get());
      !status.ok()) {
    return FailStatus(io, kName, status);
  }
  WarnOfDefaultPasswords(io, store.value().get());
  server::ServerOptions server_options;
  server_options.listen = listen.value();
  server_options.insecure = args.insecure;
  // As KurrentDB's insecure mode: no authentication, every call allowed.
  server_options.authentication = !args.insecure;
  server_options.tls = tls;
  server_options.limits.max_append_size = options.max_append_size;
  server_options.limits.max_event_size = options.max_event_size;
  server_options.limits.max_calls = args.max_calls;
  server_options.limits.max_connections = args.max_connections;
  server_options.max_open_connections = args.max_open_connections;
  server_options.limits.read_buffer_messages = args.subscriber_buffer;
  server_options.limits.read_buffer_bytes = args.subscriber_buffer_bytes;
  server_options.scavenge.throttle_percent = args.scavenge.throttle_percent;
  server_options.scavenge.bytes_per_sync = args.scavenge.bytes_per_sync;
  server_options.limits.subscriber_stall_timeout =
      std::chrono::seconds(args.stall_seconds);
  server_options.request_shutdown = &SignalWaiter::Request;
  server_options.log = [&io](const std::string& line) {
    // One write per line: calls log from many threads.
    io.err << ("cairn serve: " + line + "\n") << std::flush;
  };
  Result<std::unique_ptr<server::Server>> server =
      server::Server::Start(store.value().get(), server_options);
  if (!server.ok()) return FailStatus(io, kName, server.status());
  health.Attach(store.value().get(), server.value().get());
  health.SetReady(true);
  listen.value().port = static_cast<uint16_t>(server.value()->port());
  http.value().port = static_cast<uint16_t>(health.port());
  io.err << "cairn serve: Cairn " << Version() << " serving " << args.dir
         << " (KurrentDB protocol " << server::kProtocolVersion << "): gRPC on "
         << listen.value().ToString() << ", HTTP on " << http.value().ToString()
         << (tls ? " (TLS)" : " (insecure: plaintext)") << std::endl;

  const int signal = signals.Wait();
  io.err << "cairn serve: "
         << (signal == SIGINT    ? "SIGINT"
             : signal == SIGTERM ? "SIGTERM"
                                 : "Operations.Shutdown")
         << ", shutting down" << std::endl;
  health.SetReady(false);
  health.Detach();
  server.value()->Shutdown();
  Status closed = store.value()->Close();
  health.Stop();
  if (!closed.ok()) return FailStatus(io, kName, closed);
  return kExitOk;
}

}  // namespace

Command AddServeCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve a store to the KurrentDB clients over gRPC");
  cmd->add_option("DIR", args->dir, "Store directory (created if missing)");
  cmd->add_option("--listen", args->listen,
                  "gRPC address HOST:PORT (default 127.0.0.1:2113)");
  cmd->add_option("--http", args->http,
                  "HTTP address for /health/live, /info, /ping, /metrics, "
                  "/stats, /gossip "
                  "(default 127.0.0.1:2114)");
  cmd->add_option("--tls-cert", args->tls.cert,
                  "Server certificate (chain), PEM; TLS on both ports");
  cmd->add_option("--tls-key", args->tls.key,
                  "Private key of --tls-cert, PEM (unencrypted)");
  cmd->add_option("--tls-ca", args->tls.ca,
                  "CA for client certificates, PEM: asked for, and "
                  "verified when sent");
  cmd->add_flag("--insecure", args->insecure,
                "Serve plaintext, without TLS (no authentication either)");
  cmd->add_option("--dev-certs", args->dev_certs,
                  "Write a CA and a node certificate for localhost into "
                  "this directory, then exit");
  cmd->add_option("--max-calls", args->max_calls,
                  "Streams calls running at once (default 1024)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-connections", args->max_connections,
                  "Client connections with calls running (default 256)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-open-connections", args->max_open_connections,
                  "Client connections open at once, idle ones included "
                  "(default 384)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--subscriber-buffer", args->subscriber_buffer,
                  "Responses queued per read call (default 512)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--subscriber-buffer-bytes", args->subscriber_buffer_bytes,
                  "Bytes of responses a read call holds: a page read from "
                  "the store, or a subscription's queue (default 16777216)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--subscriber-stall-timeout", args->stall_seconds,
                  "Seconds a subscriber may read nothing with a full buffer "
                  "before it is dropped (default 30; at most a year)")
      ->transform(UnsignedDecimal())
      ->check(CLI::Range(uint64_t{0}, kMaxStallSeconds));
  cmd->add_option("--scavenge-throttle-percent",
                  args->scavenge.throttle_percent,
                  "Share of the time a scavenge started over gRPC works "
                  "(1-100; default 100)")
      ->check(CLI::Range(ScavengeOptions::kMinThrottlePercent,
                         ScavengeOptions::kMaxThrottlePercent));
  cmd->add_option("--scavenge-bytes-per-sync", args->scavenge.bytes_per_sync,
                  "Bytes a scavenge writes between fdatasyncs of a "
                  "rewritten part (0: the whole part; default 1048576)")
      ->transform(UnsignedDecimal());
  return {cmd, [&io, args] { return RunServe(io, *args); }};
}

}  // namespace cairn::tools
