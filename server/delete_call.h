// Copyright (c) Cairn authors.
//
// Streams.Delete (soft delete: Store::Delete) and Streams.Tombstone (hard
// delete: Store::Tombstone), unary calls with the same request and
// response shapes. Unlike Append, a wrong expected version is a gRPC
// error here: FAILED_PRECONDITION `wrong-expected-version` with the
// stream's name and the expected and actual versions as KurrentDB's
// longs (-2 any, -1 no stream, -4 stream exists; an actual version of ""
// means the stream does not exist). A tombstoned stream answers
// FAILED_PRECONDITION `stream-deleted`. The store call waits for the
// delete to be durable on the gRPC thread that runs the handler.
#ifndef CAIRN_SERVER_DELETE_CALL_H_
#define CAIRN_SERVER_DELETE_CALL_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "cairn/store.h"
#include "cairn/types.h"
#include "server/append_call.h"
#include "server/call_context.h"
#include "server/rpc_error.h"

namespace cairn::server {

enum class DeleteKind { kSoft, kTombstone };

// Deletes or tombstones `stream`: the global position of the record that
// did it, or the error to answer. `expected` nullopt is a bad request.
std::variant<uint64_t, RpcError> DeleteStream(
    Store* store, DeleteKind kind, std::string_view stream,
    std::optional<ExpectedVersion> expected);

// The Delete-form WrongExpectedVersion error.
RpcError DeleteWrongExpectedVersion(std::string_view stream,
                                    ExpectedVersion expected,
                                    std::optional<uint64_t> actual);

// Runs a DeleteReq or TombstoneReq and fills its response; returns the
// status to finish the call with.
template <typename Request, typename Response>
grpc::Status RunDeleteCall(const CallContext& context, DeleteKind kind,
                           grpc::ServerContextBase* rpc, const Request& request,
                           Response* response) {
  CallTicket ticket(context, *rpc);
  if (!ticket.held()) return ticket.refusal().Apply(rpc);
  const auto& options = request.options();
  if (RpcError denied = ticket.Check(options.stream_identifier().stream_name(),
                                     StreamRight::kDelete);
      denied.code != grpc::StatusCode::OK) {
    return denied.Apply(rpc);
  }
  std::variant<uint64_t, RpcError> outcome = DeleteStream(
      context.store, kind, options.stream_identifier().stream_name(),
      ExpectedFromOptions(options));
  if (auto* error = std::get_if<RpcError>(&outcome)) return error->Apply(rpc);
  const uint64_t position = std::get<uint64_t>(outcome);
  response->mutable_position()->set_commit_position(position);
  response->mutable_position()->set_prepare_position(position);
  return grpc::Status::OK;
}

}  // namespace cairn::server

#endif  // CAIRN_SERVER_DELETE_CALL_H_
