// Copyright (c) Cairn authors.
#include "server/connection_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace cairn::server {
namespace {

constexpr int kBacklog = 128;

// A bound, listening, non-blocking socket for `address`; IPv4 first when
// the host names both (as "localhost" does).
Result<int> Bind(const ListenAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  const int error =
      getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (error != 0) {
    return Status::InvalidArgument("cannot resolve listen address " +
                                   address.ToString() + ": " +
                                   gai_strerror(error));
  }
  std::vector<addrinfo*> candidates;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    candidates.push_back(a);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const addrinfo* a, const addrinfo* b) {
                     return a->ai_family == AF_INET && b->ai_family != AF_INET;
                   });
  int last_errno = 0;
  int fd = -1;
  for (const addrinfo* a : candidates) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                a->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    const int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, kBacklog) == 0) {
      break;
    }
    last_errno = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return Status::IOError("cannot listen for gRPC on " + address.ToString(),
                           last_errno);
  }
  return fd;
}

uint16_t BoundPort(int fd) {
  sockaddr_storage bound{};
  socklen_t size = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &size) != 0) {
    return 0;
  }
  if (bound.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
}

}  // namespace

Result<std::unique_ptr<ConnectionListener>> ConnectionListener::Start(
    const ListenAddress& address, size_t limit, HandOff hand_off) {
  auto fd = Bind(address);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<ConnectionListener> listener(
      new ConnectionListener(*fd, BoundPort(*fd), limit, std::move(hand_off)));
  if (pipe2(listener->wake_, O_CLOEXEC) != 0) {
    return Status::IOError("cannot create the listener's wake-up pipe", errno);
  }
  listener->thread_ = std::thread([l = listener.get()] {
    pthread_setname_np(pthread_self(), "cairn-listen");
    l->Loop();
  });
  return listener;
}

ConnectionListener::ConnectionListener(int listen_fd, uint16_t port,
                                       size_t limit, HandOff hand_off)
    : listen_fd_(listen_fd),
      port_(port),
      limit_(limit),
      hand_off_(std::move(hand_off)) {}

ConnectionListener::~ConnectionListener() {
  Stop();
  close(listen_fd_);
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

void ConnectionListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    const char byte = 0;
    while (write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (int fd : watched_) close(fd);
  watched_.clear();
  SetOpen(0);
}

size_t ConnectionListener::open() const {
  std::lock_guard lock(open_mu_);
  return open_;
}

void ConnectionListener::WaitOpenAtMost(size_t count) {
  std::unique_lock lock(open_mu_);
  open_changed_.wait(lock, [&] { return open_ <= count; });
}

void ConnectionListener::SetOpen(size_t open) {
  std::lock_guard lock(open_mu_);
  open_ = open;
  open_changed_.notify_all();
}

void ConnectionListener::Loop() {
  constexpr int kOutOfDescriptorsWaitMs = 100;
  std::vector<pollfd> fds;
  bool out_of_descriptors = false;
  for (;;) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    // A negative descriptor is skipped by poll.
    fds.push_back({out_of_descriptors ? -1 : listen_fd_, POLLIN, 0});
    for (int fd : watched_) fds.push_back({fd, POLLRDHUP, 0});
    const int ready = poll(fds.data(), fds.size(),
                           out_of_descriptors ? kOutOfDescriptorsWaitMs : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;  // cannot happen with valid descriptors
    }
    if (ready == 0) {  // the wait after running out of descriptors passed
      out_of_descriptors = false;
      continue;
    }
    if (fds[0].revents != 0) return;
    // Ended connections first, so that their slots serve this accept.
    size_t kept = 0;
    for (size_t i = 2; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        close(fds[i].fd);
      } else {
        watched_[kept++] = fds[i].fd;
      }
    }
    if (kept != watched_.size()) {
      watched_.resize(kept);
      SetOpen(kept);
      out_of_descriptors = false;
    }
    if ((fds[1].revents & POLLIN) != 0) out_of_descriptors = !Accept();
  }
}

bool ConnectionListener::Accept() {
  for (;;) {
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // EAGAIN: none left. Anything else (a connection reset before it was
      // accepted, no descriptors left) ends this round; poll says when to
      // try again.
      return errno != EMFILE && errno != ENFILE;
    }
    if (watched_.size() >= limit_) {
      // Counted first: the client may see the close at once.
      refused_.fetch_add(1, std::memory_order_acq_rel);
      close(fd);
      continue;
    }
    const int watch = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (watch < 0) {
      close(fd);
      continue;
    }
    const int on = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    watched_.push_back(watch);
    SetOpen(watched_.size());
    hand_off_(fd);
  }
}

}  // namespace cairn::server
