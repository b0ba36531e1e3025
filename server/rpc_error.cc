// Copyright (c) Cairn authors.
#include "server/rpc_error.h"

#include <algorithm>

#include "server/system_streams.h"
#include "shared.pb.h"

namespace cairn::server {

namespace {

bool IsHeaderByte(unsigned char byte) { return byte >= 0x20 && byte <= 0x7e; }

}  // namespace

std::string TrailerValue(std::string_view value) {
  if (std::all_of(value.begin(), value.end(), [](char c) {
        return IsHeaderByte(static_cast<unsigned char>(c));
      })) {
    return std::string(value);
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(value.size() * 3);
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (IsHeaderByte(byte) && byte != '%') {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[byte >> 4]);
      encoded.push_back(kHex[byte & 0xf]);
    }
  }
  return encoded;
}

grpc::Status RpcError::Apply(grpc::ServerContextBase* context) const {
  for (const auto& [key, value] : trailers) {
    context->AddTrailingMetadata(key, TrailerValue(value));
  }
  return grpc::Status(code, message);
}

RpcError Ok() { return {grpc::StatusCode::OK, "", {}, std::nullopt}; }

bool IsOk(const RpcError& error) { return error.code == grpc::StatusCode::OK; }

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* rpc,
                                      const RpcError& outcome) {
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  reactor->Finish(outcome.Apply(rpc));
  return reactor;
}

RpcError ShuttingDown() {
  return {grpc::StatusCode::UNAVAILABLE,
          "Server Is Shutting Down",
          {},
          std::nullopt};
}

RpcError Cancelled(std::string message) {
  return {grpc::StatusCode::CANCELLED, std::move(message), {}, std::nullopt};
}

RpcError BadRequest(std::string message) {
  return {
      grpc::StatusCode::INVALID_ARGUMENT, std::move(message), {}, std::nullopt};
}

RpcError MissingRequiredMetadata() {
  return {grpc::StatusCode::INVALID_ARGUMENT,
          "Required metadata properties are missing: type, content-type",
          {{"exception", "missing-required-metadata-property"},
           {"required-metadata-properties", "type,content-type"}},
          std::nullopt};
}

RpcError Unauthenticated() {
  return {
      grpc::StatusCode::UNAUTHENTICATED, "Unauthenticated", {}, std::nullopt};
}

RpcError TooBusy() {
  return {
      grpc::StatusCode::UNAVAILABLE, "Server Is Too Busy", {}, std::nullopt};
}

RpcError UserNotFound(std::string_view login) {
  return {grpc::StatusCode::NOT_FOUND,
          "User '" + std::string(login) + "' not found.",
          {{"exception", "user-not-found"}, {"login-name", std::string(login)}},
          std::nullopt};
}

RpcError ScavengeNotFound(std::string_view scavenge_id) {
  return {grpc::StatusCode::NOT_FOUND,
          "Scavenge id was invalid.",
          {{"exception", "scavenge-not-found"},
           {"scavenge-id", std::string(scavenge_id)}},
          std::nullopt};
}

RpcError UserConflict(std::string_view login) {
  return {grpc::StatusCode::FAILED_PRECONDITION,
          "User '" + std::string(login) + "' already exists.",
          {{"exception", "user-conflict"}, {"login-name", std::string(login)}},
          std::nullopt};
}

namespace {

google::protobuf::Any Pack(const google::protobuf::Message& detail) {
  google::protobuf::Any any;
  any.PackFrom(detail);
  return any;
}

}  // namespace

RpcError AccessDenied() {
  return {grpc::StatusCode::PERMISSION_DENIED,
          "Access Denied",
          {{"exception", "access-denied"}},
          Pack(event_store::client::AccessDenied())};
}

RpcError MaximumAppendSizeExceeded(uint64_t max_append_size) {
  event_store::client::MaximumAppendSizeExceeded detail;
  detail.set_maxappendsize(static_cast<uint32_t>(max_append_size));
  return {grpc::StatusCode::INVALID_ARGUMENT,
          "Maximum Append Size of " + std::to_string(max_append_size) +
              " Exceeded.",
          {{"exception", "maximum-append-size-exceeded"},
           {"maximum-append-size", std::to_string(max_append_size)}},
          Pack(detail)};
}

RpcError MaximumAppendEventSizeExceeded(std::string_view event_id,
                                        uint64_t size, uint64_t max_size) {
  event_store::client::MaximumAppendEventSizeExceeded detail;
  detail.set_eventid(std::string(event_id));
  detail.set_proposedeventsize(static_cast<uint32_t>(size));
  detail.set_maxappendeventsize(static_cast<uint32_t>(max_size));
  return {grpc::StatusCode::INVALID_ARGUMENT,
          "Event " + std::string(event_id) + " of " + std::to_string(size) +
              " bytes exceeds the maximum event size of " +
              std::to_string(max_size) + " bytes.",
          {{"exception", "maximum-append-event-size-exceeded"},
           {"maximum-append-event-size", std::to_string(max_size)},
           {"event-id", std::string(event_id)},
           {"proposed-append-event-size", std::to_string(size)}},
          Pack(detail)};
}

RpcError TooManyCalls(size_t limit) {
  return {grpc::StatusCode::RESOURCE_EXHAUSTED,
          "Server Is Too Busy: " + std::to_string(limit) +
              " calls are active (--max-calls)",
          {},
          std::nullopt};
}

RpcError TooManyConnections(size_t limit) {
  return {grpc::StatusCode::RESOURCE_EXHAUSTED,
          "Server Is Too Busy: " + std::to_string(limit) +
              " connections have calls running (--max-connections)",
          {},
          std::nullopt};
}

RpcError Unimplemented(std::string message) {
  return {
      grpc::StatusCode::UNIMPLEMENTED, std::move(message), {}, std::nullopt};
}

RpcError StreamDeleted(std::string_view stream) {
  // A metadata write fails because its stream is tombstoned: name that.
  if (IsMetadataStream(stream)) stream = MetadataStreamOwner(stream);
  event_store::client::StreamDeleted detail;
  detail.mutable_stream_identifier()->set_stream_name(std::string(stream));
  return {
      grpc::StatusCode::FAILED_PRECONDITION,
      "Event stream '" + std::string(stream) + "' is deleted.",
      {{"exception", "stream-deleted"}, {"stream-name", std::string(stream)}},
      Pack(detail)};
}

RpcError FromStoreStatus(const Status& status, std::string_view stream) {
  switch (status.code()) {
    case StatusCode::kStreamDeleted:
      return StreamDeleted(stream);
    case StatusCode::kNotSupported:
      return Unimplemented(status.message());
    case StatusCode::kInvalidArgument:
      return BadRequest(status.message());
    case StatusCode::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, status.ToString(), {}, std::nullopt};
    case StatusCode::kCorruption:
      return {grpc::StatusCode::DATA_LOSS, status.ToString(), {}, std::nullopt};
    case StatusCode::kClosed:
      return ShuttingDown();
    default:
      return {
          grpc::StatusCode::UNAVAILABLE, status.ToString(), {}, std::nullopt};
  }
}

void SetBatchError(grpc::StatusCode code, std::string message,
                   const google::protobuf::Message& detail,
                   google::rpc::Status* out) {
  out->set_code(static_cast<int32_t>(code));
  out->set_message(std::move(message));
  out->mutable_details()->PackFrom(detail);
}

void SetBatchError(const RpcError& error, google::rpc::Status* out) {
  if (error.batch_detail) {
    // KurrentDB's in-message StreamDeleted is NOT_FOUND "StreamDeleted",
    // where its trailer form is FAILED_PRECONDITION.
    const bool deleted =
        error.batch_detail->Is<event_store::client::StreamDeleted>();
    out->set_code(static_cast<int32_t>(deleted ? grpc::StatusCode::NOT_FOUND
                                               : error.code));
    out->set_message(deleted ? "StreamDeleted" : error.message);
    *out->mutable_details() = *error.batch_detail;
    return;
  }
  if (error.code == grpc::StatusCode::INVALID_ARGUMENT) {
    event_store::client::BadRequest detail;
    detail.set_message(error.message);
    SetBatchError(error.code, "BadRequest", detail, out);
    return;
  }
  event_store::client::Unknown detail;
  SetBatchError(error.code, error.message, detail, out);
}

}  // namespace cairn::server
