// Copyright (c) Cairn authors.
//
// Streams.BatchAppend: a long-lived bidirectional call multiplexing many
// appends, each named by a correlation id. Chunks of one append are
// buffered until the chunk marked final, then appended through the store's
// group commit; the reply carries the correlation id, the stream and the
// outcome, with failures as an in-message google.rpc.Status. A deadline
// that passed before the append could start answers Timeout. Memory is
// bounded: at most CallLimits::batch_max_open appends collect chunks and
// at most batch_max_in_flight run at once (the call reads no further
// requests until one finishes).
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

  // Takes one request; an error that ends the whole call.
  std::optional<RpcError> Take();
  std::optional<RpcError> Start(const Request& request, Open* open);
  void Submit(Open open);
  void Complete(const Open& open, Result<AppendOutcome> outcome);
  Response Reply(const Open& open) const;
  void Answer(Response response);
  // Writes the next reply, reads on, or finishes, as the state allows.
  void Advance();

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
  bool reading_ = false;
  bool read_closed_ = false;
  bool write_failed_ = false;
  bool finished_ = false;
  size_t in_flight_ = 0;
  std::optional<RpcError> error_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_BATCH_APPEND_CALL_H_
