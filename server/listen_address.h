// Copyright (c) Cairn authors.
//
// HOST:PORT listen addresses, and whether a host is a loopback one.
#ifndef CAIRN_SERVER_LISTEN_ADDRESS_H_
#define CAIRN_SERVER_LISTEN_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/result.h"

namespace cairn::server {

struct ListenAddress {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
  // "host:port" (IPv6 bracketed), as gRPC takes it.
  std::string ToString() const;
};

// Accepts "host:port" and "[v6]:port"; port 0 asks for a free port.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_LISTEN_ADDRESS_H_
