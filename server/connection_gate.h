// Copyright (c) Cairn authors.
//
// Bounds the client connections that have calls running. gRPC 1.51 (Debian
// 12) has no hook at accept time and no channel argument that caps
// incoming connections, so a connection is known by its peer address
// (`ipv4:127.0.0.1:53114`, unique per TCP connection) from its calls: the
// first call of a connection beyond the limit is refused, and a connection
// leaves the count when its last call ends.
#ifndef CAIRN_SERVER_CONNECTION_GATE_H_
#define CAIRN_SERVER_CONNECTION_GATE_H_

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace cairn::server {

class ConnectionGate {
 public:
  explicit ConnectionGate(size_t limit) : limit_(limit) {}

  // Counts one more call of `peer`; false (counting nothing) when `peer`
  // has no call running and `limit` connections already have.
  bool TryEnter(const std::string& peer);
  // Ends one call of `peer`, entered before.
  void Leave(const std::string& peer);

  size_t limit() const { return limit_; }
  // Connections with calls running.
  size_t active() const;

 private:
  const size_t limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> calls_by_peer_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CONNECTION_GATE_H_
