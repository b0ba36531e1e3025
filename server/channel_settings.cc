// Copyright (c) Cairn authors.
#include "server/channel_settings.h"

namespace cairn::server {

void ApplyKeepaliveSettings(grpc::ServerBuilder* builder) {
  // The clients ping every 10 s, also on idle subscriptions: allow it
  // rather than answering "too many pings" with GOAWAY.
  builder->AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Clients (the Rust one behind @kurrent/kurrentdb-client) also ping
  // right after large responses with no call active; never count those
  // as strikes that end the connection.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
}

}  // namespace cairn::server
