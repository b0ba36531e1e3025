// Copyright (c) Cairn authors.
#include "server/persistent_errors.h"

#include <utility>

namespace cairn::server {
namespace {

RpcError Shaped(grpc::StatusCode code, std::string message,
                std::string_view exception, std::string_view stream,
                std::string_view group) {
  return {code,
          std::move(message),
          {{"exception", std::string(exception)},
           {"stream-name", std::string(stream)},
           {"group-name", std::string(group)}},
          std::nullopt};
}

std::string Describe(std::string_view stream, std::string_view group) {
  std::string text = "Subscription group '";
  text += group;
  text += "' on stream '";
  text += stream;
  text += "'";
  return text;
}

}  // namespace

RpcError PersistentSubscriptionNotFound(std::string_view stream,
                                        std::string_view group) {
  return Shaped(grpc::StatusCode::NOT_FOUND,
                Describe(stream, group) + " does not exist.",
                "persistent-subscription-does-not-exist", stream, group);
}

RpcError PersistentSubscriptionExists(std::string_view stream,
                                      std::string_view group) {
  return Shaped(grpc::StatusCode::ALREADY_EXISTS,
                Describe(stream, group) + " exists.",
                "persistent-subscription-exists", stream, group);
}

RpcError PersistentSubscriptionFailed(std::string_view stream,
                                      std::string_view group,
                                      std::string reason) {
  RpcError error = Shaped(grpc::StatusCode::INTERNAL,
                          Describe(stream, group) + " failed: " + reason,
                          "persistent-subscription-failed", stream, group);
  error.trailers.emplace_back("reason", std::move(reason));
  return error;
}

RpcError PersistentSubscriptionDropped(std::string_view stream,
                                       std::string_view group) {
  return Shaped(grpc::StatusCode::CANCELLED,
                Describe(stream, group) + " dropped.",
                "persistent-subscription-dropped", stream, group);
}

RpcError MaximumSubscribersReached(std::string_view stream,
                                   std::string_view group) {
  return Shaped(grpc::StatusCode::FAILED_PRECONDITION,
                Describe(stream, group) +
                    " has reached its maximum number of subscribers.",
                "maximum-subscribers-reached", stream, group);
}

}  // namespace cairn::server
