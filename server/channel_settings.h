// Copyright (c) Cairn authors.
//
// The gRPC channel settings of `cairn serve` that every connection gets:
// keepalive and pings as the official clients use them. The gRPC ceiling
// server of the benchmarks (bench/serve/ceiling_main.cc) applies the same.
#ifndef CAIRN_SERVER_CHANNEL_SETTINGS_H_
#define CAIRN_SERVER_CHANNEL_SETTINGS_H_

#include <grpcpp/grpcpp.h>

namespace cairn::server {

void ApplyKeepaliveSettings(grpc::ServerBuilder* builder);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CHANNEL_SETTINGS_H_
