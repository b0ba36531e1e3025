// Copyright (c) Cairn authors.
#include "server/connection_listener.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

// A plain TCP connection to 127.0.0.1:port (-1 if it fails).
int ConnectTcp(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  // Not a synchronisation: a read that would wait longer fails the test
  // (ClosedByServer) rather than hanging it.
  timeval timeout{};
  timeout.tv_sec = 120;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Whether the other end closed `fd`'s connection: a read returns at the
// end of the stream (or a reset) and never before on a blocking socket.
bool ClosedByServer(int fd) {
  char byte;
  const ssize_t n = recv(fd, &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

size_t OpenDescriptors() {
  size_t count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  // readdir is safe here: no other thread reads this DIR stream.
  while (readdir(dir) != nullptr) ++count;  // NOLINT(concurrency-mt-unsafe)
  closedir(dir);
  return count;
}

// What the listener handed off, for the test to end.
class HandedOff {
 public:
  void Add(int fd) {
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    changed_.notify_all();
  }
  // Waits for the n-th connection and returns it.
  int Wait(size_t n) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return fds_.size() >= n; });
    return fds_[n - 1];
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return fds_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<int> fds_;
};

TEST(ConnectionListenerTest, ClosesConnectionsBeyondTheLimitUntilOneEnds) {
  HandedOff handed;
  auto listener = ConnectionListener::Start(ListenAddress{"127.0.0.1", 0}, 2,
                                            [&](int fd) { handed.Add(fd); });
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  const int port = (*listener)->port();
  ASSERT_NE(port, 0);
  const int a = ConnectTcp(port);
  const int b = ConnectTcp(port);
  handed.Wait(2);
  // Three more: each is accepted and closed at once.
  std::vector<int> refused;
  for (int i = 0; i < 3; ++i) refused.push_back(ConnectTcp(port));
  for (int fd : refused) {
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(ClosedByServer(fd));
    close(fd);
  }
  EXPECT_EQ((*listener)->refused(), 3u);
  EXPECT_EQ(handed.size(), 2u);
  EXPECT_EQ((*listener)->open(), 2u);
  // The server side of `a` ends (as gRPC ends a connection): its slot
  // serves the next connection.
  const int a_server = handed.Wait(1);
  shutdown(a_server, SHUT_RDWR);
  close(a_server);
  EXPECT_TRUE(ClosedByServer(a));
  (*listener)->WaitOpenAtMost(1);
  const int c = ConnectTcp(port);
  const int c_server = handed.Wait(3);
  EXPECT_GE(c_server, 0);
  // A client closing its connection frees the slot too.
  close(b);
  (*listener)->WaitOpenAtMost(1);
  const int d = ConnectTcp(port);
  handed.Wait(4);
  EXPECT_EQ((*listener)->refused(), 3u);
  (*listener)->Stop();
  for (int fd : {a, c, d}) close(fd);
  for (size_t n = 2; n <= 4; ++n) close(handed.Wait(n));
}

TEST(ConnectionListenerTest, RefusesAnAddressItCannotBind) {
  auto first = ConnectionListener::Start(ListenAddress{"127.0.0.1", 0}, 1,
                                         [](int fd) { close(fd); });
  ASSERT_TRUE(first.ok());
  auto second =
      ConnectionListener::Start(ListenAddress{"127.0.0.1", (*first)->port()}, 1,
                                [](int fd) { close(fd); });
  EXPECT_FALSE(second.ok());
}

using OpenConnectionLimitTest = ServerTest;

TEST_F(OpenConnectionLimitTest, IdleConnectionsStayBoundedCallsServeOn) {
  ServerOptions options;
  options.max_open_connections = 2;
  StartServer(options);
  Seed("s", 1);
  // Two connections of gRPC clients, each with a call that works.
  std::vector<std::unique_ptr<streams::Streams::Stub>> clients;
  for (int i = 0; i < 2; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    clients.push_back(streams::Streams::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()),
        grpc::InsecureChannelCredentials(), args)));
  }
  auto read_one = [&](streams::Streams::Stub* stub) {
    grpc::ClientContext context;
    auto reader = stub->Read(&context, ReadRequest("s"));
    streams::ReadResp response;
    size_t events = 0;
    while (reader->Read(&response)) events += response.has_event() ? 1 : 0;
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(events, 1u);
  };
  for (auto& client : clients) read_one(client.get());
  EXPECT_EQ(server_->open_connections(), 2u);

  // Many idle connections beyond the limit: the server holds no
  // descriptor for any of them (only the test's own ends stay open).
  constexpr size_t kIdle = 20;
  const size_t before = OpenDescriptors();
  std::vector<int> idle;
  for (size_t i = 0; i < kIdle; ++i) {
    const int fd = ConnectTcp(server_->port());
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  for (int fd : idle) EXPECT_TRUE(ClosedByServer(fd));
  // Without the limit gRPC would hold one descriptor for each of them as
  // well (before + 2 * kIdle).
  EXPECT_LE(OpenDescriptors(), before + kIdle + 2);
  EXPECT_EQ(server_->open_connections(), 2u);

  // The admitted connections serve on.
  for (auto& client : clients) read_one(client.get());
  for (int fd : idle) close(fd);
}

TEST_F(OpenConnectionLimitTest, AConnectionGrpcEndsFreesItsSlot) {
  ServerOptions options;
  options.max_open_connections = 1;
  StartServer(options);
  // gRPC ends a connection that does not open with the HTTP/2 preface.
  // The client sees its end, so gRPC shut the socket down (the listener's
  // duplicate does not keep it open); the listener sees it too, a moment
  // later, and the slot serves the next connection.
  for (int i = 0; i < 3; ++i) {
    const int fd = ConnectTcp(server_->port());
    ASSERT_GE(fd, 0);
    const std::string junk = "not http/2\r\n\r\n";
    ASSERT_EQ(send(fd, junk.data(), junk.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(junk.size()));
    // An admitted connection gets gRPC's SETTINGS frame before its end; a
    // refused one gets nothing.
    char buffer[256];
    size_t received = 0;
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) received += n;
    EXPECT_TRUE(n == 0 || errno == ECONNRESET) << "errno " << errno;
    EXPECT_GT(received, 0u) << "connection " << i << " was refused";
    server_->WaitOpenConnectionsAtMost(0);
    close(fd);
  }
}

}  // namespace
}  // namespace cairn::server::testing
