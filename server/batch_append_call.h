// Copyright (c) Cairn authors.
//
// Streams.BatchAppend: a long-lived bidirectional call multiplexing many
// appends, each named by a correlation id. Chunks of one append are
// buffered until the chunk marked final, then appended through the store's
// group commit; the reply carries the correlation id, the stream and the
// outcome, with failures as an in-message google.rpc.Status. A deadline
// that passed before the append could start answers Timeout. Memory is
// bounded: at most CallLimits::batch_max_open appends collect chunks, and
// appends running plus replies not yet written stay within
// batch_max_in_flight (the call reads no further requests until one is
// written); the call also reads no further while the events of its running
// appends reach batch_max_buffered_bytes (until the store finished some). An
// error that ends the call (a request without a correlation id, a limit) is
// sent once the replies before it are written; until then the call reads and
// drops requests, so that a client that writes before it reads is never left
// blocked on a server that stopped reading.
//
// Lifetime: every state change happens under mu_, and a thread decides
// there what gRPC operations to start (Actions), then starts them after
// releasing mu_ and touches the call no more: once an operation started,
// its completion may finish the call and delete it on another thread. The
// call finishes only when no write or append is outstanding, and no read
// unless the call failed (gRPC completes that read before OnDone), so
// OnDone, which deletes it, runs after every thread left it. A request is
// taken while reading_ is still set, so no other read reuses request_
// meanwhile.
#ifndef CAIRN_SERVER_BATCH_APPEND_CALL_H_
#define CAIRN_SERVER_BATCH_APPEND_CALL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cairn/event.h"
#include "cairn/result.h"
#include "cairn/types.h"
#include "server/append_runner.h"
#include "server/buffer_hint.h"
#include "server/call_context.h"
#include "server/rpc_error.h"
#include "streams.pb.h"

namespace cairn::server {

class BatchAppendCall final
    : public grpc::ServerBidiReactor<
          event_store::client::streams::BatchAppendReq,
          event_store::client::streams::BatchAppendResp> {
 public:
  BatchAppendCall(const CallContext& context, grpc::CallbackServerContext* rpc);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  using Request = event_store::client::streams::BatchAppendReq;
  using Response = event_store::client::streams::BatchAppendResp;

  // One append whose chunks are arriving.
  struct Open {
    event_store::client::UUID correlation;
    Request::Options options;
    ExpectedVersion expected = ExpectedVersion::Any();
    std::optional<std::chrono::system_clock::time_point> deadline;
    std::vector<EventData> events;
    uint64_t bytes = 0;
    bool failed = false;  // answered already; later chunks are dropped
  };

  // The gRPC operations a thread starts after releasing mu_.
  struct Actions {
    bool read = false;
    bool write = false;
    bool more = false;  // with write: gRPC's buffer hint (buffer_hint.h)
    bool finish = false;
    std::optional<RpcError> error;  // with finish: the call's status
  };

  // Takes one request; an error that ends the whole call.
  std::optional<RpcError> Take();
  std::optional<RpcError> Start(const Request& request, Open* open) const;
  void Submit(Open open);
  static Response Outcome(const Open& open, Result<AppendOutcome> outcome);
  static Response Reply(const Open& open);
  void Answer(Response response);
  // With mu_ held: the next write, read or the finish, as the state allows.
  Actions NextLocked();
  // Starts `actions`; the caller touches the call no more afterwards.
  void Perform(Actions actions);

  const CallContext& context_;
  grpc::CallbackServerContext* rpc_;
  CallTicket ticket_;
  Request request_;
  std::map<std::string, Open> open_;  // by correlation id bytes
  uint64_t open_bytes_ = 0;           // events buffered in open_

  std::mutex mu_;
  std::deque<Response> replies_;
  Response current_;
  bool writing_ = false;
  BufferHint hint_;
  bool reading_ = false;
  bool read_closed_ = false;
  bool write_failed_ = false;
  bool finished_ = false;
  size_t in_flight_ = 0;
  uint64_t running_bytes_ = 0;  // events of the in_flight_ appends
  std::optional<RpcError> error_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_BATCH_APPEND_CALL_H_
