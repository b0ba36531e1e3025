// Copyright (c) Cairn authors.
//
// cairn_grpc_ceiling: a gRPC server of the Streams and PersistentSubscriptions
// services that does no work but gRPC's (ceiling_streams.h,
// ceiling_persistent.h), with the channel settings of `cairn serve`. The
// load generator's figures against it are the ceiling of what gRPC allows on
// the machine; bench/serve/run --ceiling states Cairn's as a fraction of
// them. Prints "gRPC on HOST:PORT" to stderr when it listens, and stops on
// SIGINT or SIGTERM.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "bench/serve/ceiling_log.h"
#include "bench/serve/ceiling_persistent.h"
#include "bench/serve/ceiling_streams.h"
#include "cairn/options.h"
#include "server/channel_settings.h"
#include "tools/cli/signal_waiter.h"

namespace cairn::bench::serve {
namespace {

int Main(int argc, char** argv) {
  CLI::App app{"A gRPC server that does gRPC's work only: the ceiling"};
  std::string host = "127.0.0.1";
  int port = 0;
  app.add_option("--host", host, "Address to listen on (default 127.0.0.1)");
  app.add_option("--port", port, "Port (default 0: a free one)")
      ->check(CLI::Range(0, 65535));
  CLI11_PARSE(app, argc, argv);

  tools::SignalWaiter signals;
  CeilingLog log;
  CeilingStreams streams(&log);
  CeilingPersistent persistent(&log);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(host + ":" + std::to_string(port),
                           grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&streams);
  builder.RegisterService(&persistent);
  // The settings of cairn serve that touch every connection.
  cairn::server::ApplyKeepaliveSettings(&builder);
  // Its message size limit: an event of the store's default maximum size,
  // plus framing.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(Options().max_event_size + (1 << 20)));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    (void)std::fprintf(stderr, "cairn_grpc_ceiling: cannot listen on %s:%d\n",
                       host.c_str(), port);
    return 2;
  }
  (void)std::fprintf(stderr, "cairn_grpc_ceiling: gRPC on %s:%d\n",
                     host.c_str(), bound);
  (void)std::fflush(stderr);
  (void)signals.Wait();
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace cairn::bench::serve

int main(int argc, char** argv) {
  try {
    return cairn::bench::serve::Main(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "cairn_grpc_ceiling: %s\n", e.what());
    return 2;
  }
}
