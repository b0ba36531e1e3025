// Copyright (c) Cairn authors.
//
// The errors of KurrentDB's PersistentSubscriptions service as the
// official clients decode them: the `exception` trailer names the case,
// with `stream-name` and `group-name` (plus `reason` for a failure).
#ifndef CAIRN_SERVER_PERSISTENT_ERRORS_H_
#define CAIRN_SERVER_PERSISTENT_ERRORS_H_

#include <string>
#include <string_view>

#include "server/rpc_error.h"

namespace cairn::server {

// NOT_FOUND `persistent-subscription-does-not-exist`.
RpcError PersistentSubscriptionNotFound(std::string_view stream,
                                        std::string_view group);
// ALREADY_EXISTS `persistent-subscription-exists`.
RpcError PersistentSubscriptionExists(std::string_view stream,
                                      std::string_view group);
// INTERNAL `persistent-subscription-failed` with `reason`.
RpcError PersistentSubscriptionFailed(std::string_view stream,
                                      std::string_view group,
                                      std::string reason);
// CANCELLED `persistent-subscription-dropped`.
RpcError PersistentSubscriptionDropped(std::string_view stream,
                                       std::string_view group);
// FAILED_PRECONDITION `maximum-subscribers-reached`.
RpcError MaximumSubscribersReached(std::string_view stream,
                                   std::string_view group);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PERSISTENT_ERRORS_H_
