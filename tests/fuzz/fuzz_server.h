// Copyright (c) Cairn authors.
//
// The server the request fuzzers drive: a store in a fresh temporary
// directory (no durability syncs) holding three events of stream "s",
// served plaintext on a loopback port. The fuzzers reach it over TCP, as
// real clients do: gRPC 1.51's in-process transport keeps the memory of
// many calls that the server ends before the client half-closes, which a long
// fuzzing run turns into an out-of-memory report that is not the server's.
#ifndef CAIRN_TESTS_FUZZ_FUZZ_SERVER_H_
#define CAIRN_TESTS_FUZZ_FUZZ_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "server/server.h"
#include "tests/fuzz/fuzz_util.h"

namespace cairn::fuzz {

struct FuzzServer {
  std::unique_ptr<Store> store;
  std::unique_ptr<server::Server> server;
};

// `options` with the listen port, plaintext and the store filled in.
inline FuzzServer StartFuzzServer(server::ServerOptions options) {
  char pattern[] = "/tmp/cairn-fuzz-server-XXXXXX";
  const char* dir = mkdtemp(pattern);
  FUZZ_CHECK(dir != nullptr);
  Options store_options;
  store_options.durability = Durability::kNone;
  auto opened = Store::Open(dir, store_options);
  FUZZ_CHECK(opened.ok());
  FuzzServer out;
  out.store = std::move(opened.value());
  std::vector<EventData> events(3);
  for (auto& event : events) {
    event.type = "Seed";
    event.data = "{}";
  }
  FUZZ_CHECK(out.store->Append("s", ExpectedVersion::Any(), events).ok());
  options.listen.port = 0;
  options.insecure = true;  // plaintext, on loopback only
  auto started = server::Server::Start(out.store.get(), options);
  FUZZ_CHECK(started.ok());
  out.server = std::move(started.value());
  return out;
}

// A plaintext channel to `served` over loopback TCP.
inline std::shared_ptr<grpc::Channel> FuzzChannel(const FuzzServer& served) {
  return grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(served.server->port()),
      grpc::InsecureChannelCredentials());
}

}  // namespace cairn::fuzz

#endif  // CAIRN_TESTS_FUZZ_FUZZ_SERVER_H_
