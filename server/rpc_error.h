// Copyright (c) Cairn authors.
//
// The errors of the KurrentDB v1 protocol as the official clients decode
// them: a gRPC status code, a message, and trailing metadata whose
// `exception` key names the case (plus case-specific keys). BatchAppend
// answers its errors inside the response instead, as a google.rpc.Status
// with one packed event_store.client.* detail.
#ifndef CAIRN_SERVER_RPC_ERROR_H_
#define CAIRN_SERVER_RPC_ERROR_H_

#include <google/protobuf/any.pb.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/status.h"
#include "status.pb.h"

namespace cairn::server {

struct RpcError {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  std::vector<std::pair<std::string, std::string>> trailers;
  // The event_store.client.* detail BatchAppend answers for this error;
  // unset means BadRequest (INVALID_ARGUMENT) or Unknown.
  std::optional<google::protobuf::Any> batch_detail;

  // Adds the trailers to `context` and returns the status to finish with.
  grpc::Status Apply(grpc::ServerContextBase* context) const;
};

// `value` as a trailer can carry it. gRPC takes only printable ASCII in a
// text metadata value and aborts the process on anything else, while names
// (streams, logins, ids) are UTF-8 from the client. A printable-ASCII value
// is sent as it is; any other is percent-encoded (each byte outside 0x20-0x7E,
// and '%', as %XX), the encoding gRPC itself gives grpc-message.
std::string TrailerValue(std::string_view value);

// The OK outcome, where an RpcError carries how a call ends.
RpcError Ok();
bool IsOk(const RpcError& error);
// Finishes a unary callback call with `outcome`.
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* rpc,
                                      const RpcError& outcome);
RpcError BadRequest(std::string message);
RpcError ShuttingDown();
RpcError Cancelled(std::string message);
RpcError MissingRequiredMetadata();
RpcError MaximumAppendSizeExceeded(uint64_t max_append_size);
RpcError MaximumAppendEventSizeExceeded(std::string_view event_id,
                                        uint64_t size, uint64_t max_size);
RpcError TooManyCalls(size_t limit);
// A call on one more connection than --max-connections allows.
RpcError TooManyConnections(size_t limit);
RpcError Unimplemented(std::string message);
// A tombstoned stream: FAILED_PRECONDITION `stream-deleted` with
// `stream-name`, the stream itself for its metadata stream (BatchAppend:
// NOT_FOUND "StreamDeleted" with the event_store.client.StreamDeleted detail).
RpcError StreamDeleted(std::string_view stream);
// Wrong credentials, or a disabled user: UNAUTHENTICATED, no trailers
// (the Node clients decode it as AccessDeniedError).
RpcError Unauthenticated();
// PERMISSION_DENIED `access-denied` (BatchAppend: with the AccessDenied
// detail).
RpcError AccessDenied();
// UNAVAILABLE "Server Is Too Busy" (the clients retry).
RpcError TooBusy();
// NOT_FOUND `user-not-found` / FAILED_PRECONDITION `user-conflict`, with
// `login-name`.
RpcError UserNotFound(std::string_view login);
RpcError UserConflict(std::string_view login);
// NOT_FOUND `scavenge-not-found` with `scavenge-id`: no scavenge of that
// id runs.
RpcError ScavengeNotFound(std::string_view scavenge_id);
// A store failure other than WrongExpectedVersion, with the code the
// clients treat alike: UNAVAILABLE (retry or reconnect) for a closing or
// failed store, DATA_LOSS for corruption, INVALID_ARGUMENT for bad input,
// UNIMPLEMENTED for what the store does not support, and StreamDeleted
// (naming `stream`, the stream the call is about) for a tombstoned stream.
RpcError FromStoreStatus(const Status& status, std::string_view stream = {});

// BatchAppend's in-message errors. `detail` is packed as
// type.googleapis.com/event_store.client.<Name>.
void SetBatchError(grpc::StatusCode code, std::string message,
                   const google::protobuf::Message& detail,
                   google::rpc::Status* out);
// The in-message form of an RpcError (BadRequest or a size limit).
void SetBatchError(const RpcError& error, google::rpc::Status* out);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_RPC_ERROR_H_
