// Copyright (c) Cairn authors.
//
// The Streams service of the gRPC ceiling server: Append, BatchAppend and
// Read (of a stream or of $all, and subscriptions to $all from its end)
// with the messages, the write pattern and the buffer hint of `cairn
// serve`, and none of its work: an append is counted (CeilingLog), a read
// sends copies of a template event, and a subscriber gets each appended
// event from the thread that counted it. The load generator's figures
// against it are what gRPC alone allows on the machine (docs/benchmarks.md,
// bench/serve/run --ceiling). With a CeilingSync, every append first pays
// the disk's part of a durable append (ceiling_sync.h): the ceiling of a
// delivery's latency.
#ifndef CAIRN_BENCH_SERVE_CEILING_STREAMS_H_
#define CAIRN_BENCH_SERVE_CEILING_STREAMS_H_

#include <grpcpp/grpcpp.h>

#include "bench/serve/ceiling_log.h"
#include "bench/serve/ceiling_sync.h"
#include "streams.grpc.pb.h"

namespace cairn::bench::serve {

class CeilingStreams final : public pb::Streams::CallbackService {
 public:
  // `sync`, when not null, is synced once per Append and per BatchAppend
  // request before it is answered (and its events delivered).
  explicit CeilingStreams(CeilingLog* log, CeilingSync* sync = nullptr)
      : log_(log), sync_(sync) {}

  grpc::ServerWriteReactor<pb::ReadResp>* Read(
      grpc::CallbackServerContext* context,
      const pb::ReadReq* request) override;
  grpc::ServerReadReactor<pb::AppendReq>* Append(
      grpc::CallbackServerContext* context, pb::AppendResp* response) override;
  grpc::ServerBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp>* BatchAppend(
      grpc::CallbackServerContext* context) override;

 private:
  CeilingLog* const log_;
  CeilingSync* const sync_;
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_CEILING_STREAMS_H_
