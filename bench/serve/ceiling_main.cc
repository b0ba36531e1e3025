// Copyright (c) Cairn authors.
//
// cairn_grpc_ceiling: a gRPC server of the Streams and PersistentSubscriptions
// services that does no work but gRPC's (ceiling_streams.h,
// ceiling_persistent.h), with the channel settings of `cairn serve`. The
// load generator's figures against it are the ceiling of what gRPC allows on
// the machine; bench/serve/run --ceiling states Cairn's as a fraction of
// them. With --sync-dir every append first overwrites and fdatasyncs a 4 KiB
// block of a file there (ceiling_sync.h), as a durable append must: the
// ceiling of the subscribe workload's delivery latency. Prints "gRPC on
// HOST:PORT" to stderr when it listens, and stops on SIGINT or SIGTERM.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "bench/serve/ceiling_log.h"
#include "bench/serve/ceiling_persistent.h"
#include "bench/serve/ceiling_streams.h"
#include "bench/serve/ceiling_sync.h"
#include "cairn/options.h"
#include "engine/io/file_system.h"
#include "server/channel_settings.h"
#include "server/process_settings.h"
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
  std::string sync_dir;
  app.add_option("--sync-dir", sync_dir,
                 "Overwrite and fdatasync a 4 KiB block of a file in this "
                 "directory before answering each append")
      ->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);

  // As cairn serve does, so that the figures compare.
  cairn::server::ApplyGrpcProcessSettings();
  tools::SignalWaiter signals;
  std::unique_ptr<CeilingSync> sync;
  if (!sync_dir.empty()) {
    auto opened = CeilingSync::Open(io::PosixFileSystem(), sync_dir);
    if (!opened.ok()) {
      (void)std::fprintf(stderr, "cairn_grpc_ceiling: %s\n",
                         opened.status().ToString().c_str());
      return 2;
    }
    sync = std::move(opened).value();
  }
  CeilingLog log;
  CeilingStreams streams(&log, sync.get());
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
