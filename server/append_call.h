// Copyright (c) Cairn authors.
//
// Streams.Append: a client-streaming call whose first message names the
// stream and the expected revision and whose later messages are the
// events. The events are buffered (bounded by the append size limit) and
// appended once the client half-closes. A wrong expected version is an OK
// response carrying both the current and the legacy fields; every other
// failure is a gRPC status with the protocol's trailers.
#ifndef CAIRN_SERVER_APPEND_CALL_H_
#define CAIRN_SERVER_APPEND_CALL_H_

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "cairn/event.h"
#include "cairn/result.h"
#include "cairn/types.h"
#include "server/append_runner.h"
#include "server/call_context.h"
#include "server/proposed_event.h"
#include "server/rpc_error.h"
#include "streams.pb.h"

namespace cairn::server {

class AppendCall final
    : public grpc::ServerReadReactor<event_store::client::streams::AppendReq> {
 public:
  AppendCall(const CallContext& context, grpc::CallbackServerContext* rpc,
             event_store::client::streams::AppendResp* response);

  void OnReadDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  // Takes one request message; returns an error that ends the call.
  std::optional<RpcError> Take();
  void Submit();
  void Complete(Result<AppendOutcome> outcome);
  void Fail(const RpcError& error) { Finish(error.Apply(rpc_)); }

  const CallContext& context_;
  grpc::CallbackServerContext* rpc_;
  event_store::client::streams::AppendResp* response_;
  CallTicket ticket_;
  event_store::client::streams::AppendReq request_;
  bool have_options_ = false;
  std::string stream_;
  ExpectedVersion expected_ = ExpectedVersion::Any();
  std::vector<EventData> events_;
  uint64_t bytes_ = 0;
};

// Fills AppendResp.wrong_expected_version: fields 6-11 always, and the
// legacy 20.6.0 fields 1-5.
void FillWrongExpectedVersion(
    ExpectedVersion expected, std::optional<uint64_t> actual,
    event_store::client::streams::AppendResp::WrongExpectedVersion* out);

// Reads an expected revision from Append/Delete/Tombstone options.
template <typename Options>
std::optional<ExpectedVersion> ExpectedFromOptions(const Options& options) {
  switch (options.expected_stream_revision_case()) {
    case Options::kRevision:
      return ExpectedFromRevision(options.revision());
    case Options::kNoStream:
      return ExpectedVersion::NoStream();
    case Options::kAny:
      return ExpectedVersion::Any();
    case Options::kStreamExists:
      return ExpectedVersion::StreamExists();
    default:
      return std::nullopt;
  }
}

}  // namespace cairn::server

#endif  // CAIRN_SERVER_APPEND_CALL_H_
