// Copyright (c) Cairn authors.
//
// The running calls of one kind that never end on their own
// (subscriptions), so that a server shutdown can end them. `Call` has
// End(const RpcError&), which only finishes the call (its OnDone removes
// it later, on another thread).
#ifndef CAIRN_SERVER_CALL_REGISTRY_H_
#define CAIRN_SERVER_CALL_REGISTRY_H_

#include <mutex>
#include <optional>
#include <set>

#include "server/rpc_error.h"

namespace cairn::server {

template <typename Call>
class CallRegistry {
 public:
  // False once EndAll ran: the call must end at once.
  bool Add(Call* call) {
    std::lock_guard lock(mu_);
    if (ended_) return false;
    calls_.insert(call);
    return true;
  }
  void Remove(Call* call) {
    std::lock_guard lock(mu_);
    calls_.erase(call);
  }
  // Ends every running call with `error`, and every later one.
  void EndAll(const RpcError& error) {
    std::lock_guard lock(mu_);
    ended_ = error;
    for (Call* call : calls_) call->End(error);
  }

 private:
  std::mutex mu_;
  std::set<Call*> calls_;
  std::optional<RpcError> ended_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CALL_REGISTRY_H_
