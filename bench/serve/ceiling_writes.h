// Copyright (c) Cairn authors.
//
// The response side of a gRPC ceiling call (ceiling_streams.h,
// ceiling_persistent.h): the server's own WriteQueue under the call's
// mutex, with the steps every such call takes (start the next write or the
// finish, end with an error, read on unless finished), so that the ceiling
// writes exactly as `cairn serve` does. `Reactor` is the call: a gRPC server
// reactor that derives from CeilingWrites<Reactor, Response>.
#ifndef CAIRN_BENCH_SERVE_CEILING_WRITES_H_
#define CAIRN_BENCH_SERVE_CEILING_WRITES_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "server/rpc_error.h"
#include "server/write_queue.h"

namespace cairn::bench::serve {

template <typename Reactor, typename Response>
class CeilingWrites {
 protected:
  explicit CeilingWrites(grpc::CallbackServerContext* rpc) : rpc_(rpc) {}

  // Starts the queue's next write, or the finish, after unlocking. The
  // response written last is kept for reuse (up to kSpares), as `cairn
  // serve`'s read keeps it: its strings keep their capacity.
  void StartNextLocked(std::unique_lock<std::mutex>& lock) {
    typename server::WriteQueue<Response>::Step step = writes_.Next();
    if (step.written && spares_.size() < kSpares) {
      spares_.push_back(std::move(*step.written));
    }
    lock.unlock();
    server::WriteQueue<Response>::Carry(static_cast<Reactor*>(this), rpc_,
                                        step);
  }

  // A response to fill: a spare one if there is one.
  Response TakeSpareLocked() {
    if (spares_.empty()) return Response();
    Response response = std::move(spares_.back());
    spares_.pop_back();
    return response;
  }

  // The write in flight completed: the call ends if it failed, else the
  // next write (or the finish) starts.
  void WriteDone(bool ok) {
    if (!ok) End(server::Cancelled("the client left"));
    std::unique_lock<std::mutex> lock(mu_);
    writes_.WriteDone();
    StartNextLocked(lock);
  }

  // Ends the call with `error`, at once or after the write in flight.
  void End(const server::RpcError& error) {
    std::unique_lock<std::mutex> lock(mu_);
    const std::optional<server::RpcError> now = writes_.End(error);
    lock.unlock();
    if (now) static_cast<Reactor*>(this)->Finish(now->Apply(rpc_));
  }

  // Reads the next request into `request` unless the call finished (no
  // operation may follow Finish).
  template <typename Request>
  void ReadNext(Request* request) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writes_.finished()) return;
    }
    static_cast<Reactor*>(this)->StartRead(request);
  }

  static constexpr size_t kSpares = 128;

  grpc::CallbackServerContext* const rpc_;
  std::mutex mu_;
  server::WriteQueue<Response> writes_;  // under mu_
  std::vector<Response> spares_;         // under mu_
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_CEILING_WRITES_H_
