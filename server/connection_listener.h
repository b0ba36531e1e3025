// Copyright (c) Cairn authors.
//
// Accepts the gRPC port's TCP connections and hands each one to gRPC
// (grpc::AddInsecureChannelFromFd), at most `limit` at a time. gRPC 1.51
// (Debian 12) has no setting that caps incoming connections, so without
// this every idle connection a client opens holds a file descriptor and
// transport buffers until the client closes it. A connection beyond the
// limit is closed as soon as it is accepted: its client sees UNAVAILABLE
// and may retry, and the server's descriptors stay bounded.
//
// gRPC does not say when it is done with a connection. The listener keeps
// a duplicate of each handed-off descriptor: gRPC shuts the socket down
// when it closes the connection, and a client's close ends it too, and
// either shows on the duplicate as a hang-up, which frees the slot. So a
// connection holds two descriptors, and the listener at most 2 * limit.
#ifndef CAIRN_SERVER_CONNECTION_LISTENER_H_
#define CAIRN_SERVER_CONNECTION_LISTENER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cairn/result.h"
#include "server/listen_address.h"

namespace cairn::server {

class ConnectionListener {
 public:
  // Takes ownership of an accepted, non-blocking socket.
  using HandOff = std::function<void(int fd)>;

  // Binds `address` (port 0: a free port) and accepts on a thread of its
  // own until Stop.
  static Result<std::unique_ptr<ConnectionListener>> Start(
      const ListenAddress& address, size_t limit, HandOff hand_off);
  ~ConnectionListener();
  ConnectionListener(const ConnectionListener&) = delete;
  ConnectionListener& operator=(const ConnectionListener&) = delete;

  uint16_t port() const { return port_; }
  // Connections handed off and not yet ended.
  size_t open() const;
  // Waits until at most `count` connections are open (or Stop ran). A
  // client may see its connection end before the listener does, so a test
  // that frees a slot waits here before it connects again.
  void WaitOpenAtMost(size_t count);
  // Connections closed at accept because `limit` were open.
  uint64_t refused() const { return refused_.load(std::memory_order_acquire); }

  // Stops accepting and closes the listening socket and the duplicates
  // (gRPC's own descriptors stay with gRPC). Idempotent.
  void Stop();

 private:
  ConnectionListener(int listen_fd, uint16_t port, size_t limit,
                     HandOff hand_off);
  void Loop();
  // False when the process ran out of descriptors: the loop then stops
  // polling the listening socket (which would report the waiting
  // connection again at once) until a connection ends or a short wait
  // passes, instead of spinning.
  bool Accept();
  void SetOpen(size_t open);

  const int listen_fd_;
  const uint16_t port_;
  const size_t limit_;
  const HandOff hand_off_;
  int wake_[2] = {-1, -1};    // a pipe whose write end ends Loop
  std::vector<int> watched_;  // duplicates of open connections (Loop only)
  mutable std::mutex open_mu_;
  std::condition_variable open_changed_;
  size_t open_ = 0;  // watched_.size(), for other threads
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CONNECTION_LISTENER_H_
