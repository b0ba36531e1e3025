// Copyright (c) Cairn authors.
//
// The response side of a streaming call. gRPC allows one write in flight
// per call, and Finish must not race a StartWrite, so the responses wait
// here and the call's end takes its turn after them: a call ended while a
// write is in flight finishes when that write completes.
//
// WriteQueue has no lock of its own. Every member runs under the owning
// call's mutex, so that the call's other state (its buffer bound, its
// unacknowledged events) shares one lock with it; what it decides (write
// this response, finish with that status) the call carries out after
// unlocking, as a Step. Responses are written with gRPC's buffer hint
// when more wait behind them (buffer_hint.h).
#ifndef CAIRN_SERVER_WRITE_QUEUE_H_
#define CAIRN_SERVER_WRITE_QUEUE_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "server/buffer_hint.h"
#include "server/rpc_error.h"

namespace cairn::server {

template <typename Response>
class WriteQueue {
 public:
  // What the call does next, once it has unlocked.
  struct Step {
    Response* write = nullptr;        // StartWrite(write), when not null
    bool more = false;                // more responses queued behind it
    std::optional<RpcError> finish;   // Finish with it, when set
    std::optional<Response> written;  // the response `write` replaced, to reuse
  };

  // Carries out `step` on `call` (a server reactor), outside the lock.
  template <typename Call>
  static void Carry(Call* call, grpc::CallbackServerContext* rpc,
                    const Step& step) {
    if (step.write != nullptr) {
      call->StartWrite(step.write, BufferHint::Options(step.more));
    }
    if (step.finish) call->Finish(step.finish->Apply(rpc));
  }

  // The call ended or is ending: nothing more is queued.
  bool ended() const { return finished_ || ending_; }
  // Finish ran or is about to run.
  bool finished() const { return finished_; }
  bool writing() const { return writing_; }
  // A final status waits for the queue to drain (SetFinal or End).
  bool has_final() const { return final_.has_value(); }
  size_t size() const { return queue_.size(); }
  // Serialized bytes of the queued responses (not of the one in flight).
  uint64_t bytes() const { return bytes_; }

  // Whether responses with more queued behind them go with the buffer
  // hint (the default) or each flushes at once.
  void set_gather(bool gather) { hint_.set_gather(gather); }

  // Queues a response, unless the call ended.
  void Push(Response response) {
    if (ended()) return;
    const size_t size = response.ByteSizeLong();
    bytes_ += size;
    sizes_.push_back(size);
    queue_.push_back(std::move(response));
  }
  // The call finishes with `error` once every queued response is written.
  void SetFinal(RpcError error) { final_ = std::move(error); }
  // The write in flight completed.
  void WriteDone() { writing_ = false; }

  // The next write, or the finish once everything is written; nothing
  // while a write is in flight or the call finished.
  Step Next() {
    Step step;
    if (writing_ || finished_) return step;
    if (queue_.empty()) {
      if (final_) {
        finished_ = true;
        step.finish = std::move(final_);
        final_.reset();
      }
      return step;
    }
    // The response last written swaps places with the next one and goes
    // back to the caller, whose strings keep their capacity for reuse.
    current_.Swap(&queue_.front());
    step.written = std::move(queue_.front());
    queue_.pop_front();
    bytes_ -= sizes_.front();
    sizes_.pop_front();
    writing_ = true;
    step.write = &current_;
    step.more = hint_.Next(!queue_.empty());
    return step;
  }

  // Ends the call with `error` unless it ended already, dropping what
  // waits. Returns the status to Finish with now, or nothing when the call
  // had ended or a write is in flight: then the Next after its WriteDone
  // finishes with `error`.
  std::optional<RpcError> End(const RpcError& error) {
    if (ended()) return std::nullopt;
    Clear();
    if (writing_) {
      ending_ = true;
      final_ = error;
      return std::nullopt;
    }
    finished_ = true;
    return error;
  }

  // Ends the call at once although a write is in flight, for a client that
  // stopped taking responses: that write will not complete while it does
  // not read, so waiting for it would hold the call forever. The write was
  // started long before (the caller waited for the client first). False if
  // the call had ended already.
  bool Abandon() {
    if (finished_) return false;
    finished_ = true;
    Clear();
    return true;
  }

 private:
  void Clear() {
    queue_.clear();
    sizes_.clear();
    bytes_ = 0;
  }

  std::deque<Response> queue_;
  std::deque<size_t> sizes_;  // ByteSizeLong of each queued response
  uint64_t bytes_ = 0;        // their sum
  Response current_;          // being written while writing_
  bool writing_ = false;
  BufferHint hint_;
  bool finished_ = false;
  bool ending_ = false;  // End ran while a write was in flight
  std::optional<RpcError> final_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_WRITE_QUEUE_H_
