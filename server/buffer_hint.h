// Copyright (c) Cairn authors.
//
// gRPC's buffer hint for the writes of one streaming call, which writes one
// response at a time (WriteQueue, BatchAppendCall). A response with more
// queued behind it is written with the hint: the transport accepts it at
// once into its write buffer (up to the connection's HTTP/2 write buffer
// size) and sends it with the ones after it in one write to the socket. The
// last queued response goes without the hint, which flushes, so nothing
// waits in the buffer for a later event.
//
// The call's first response goes without it too: gRPC sends the initial
// metadata with it, and gRPC 1.51 completes a hinted batch that carries
// them only when something else makes the transport write (tens to
// hundreds of milliseconds later).
//
// A hinted response reaches the socket one completion later, with the next
// write. That is free for a read whose client waits for the whole, but
// adds to a live event's latency, so calls that deliver live events turn
// gathering off (set_gather).
//
// No lock of its own: the owning call's mutex guards it.
#ifndef CAIRN_SERVER_BUFFER_HINT_H_
#define CAIRN_SERVER_BUFFER_HINT_H_

#include <grpcpp/grpcpp.h>

namespace cairn::server {

class BufferHint {
 public:
  // Whether responses with more queued behind them go with the hint (the
  // default) or each flushes at once.
  void set_gather(bool gather) { gather_ = gather; }

  // Whether the write about to start goes with the hint, given whether
  // more responses are queued behind it.
  bool Next(bool more_queued) {
    const bool hint = gather_ && started_ && more_queued;
    started_ = true;
    return hint;
  }

  // The options for a write that Next chose to hint or not.
  static grpc::WriteOptions Options(bool hint) {
    grpc::WriteOptions options;
    if (hint) options.set_buffer_hint();
    return options;
  }

 private:
  bool gather_ = true;
  bool started_ = false;  // a response was written: the metadata went out
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_BUFFER_HINT_H_
