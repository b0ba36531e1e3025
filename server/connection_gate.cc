// Copyright (c) Cairn authors.
#include "server/connection_gate.h"

namespace cairn::server {

bool ConnectionGate::TryEnter(const std::string& peer) {
  std::lock_guard lock(mu_);
  auto it = calls_by_peer_.find(peer);
  if (it != calls_by_peer_.end()) {
    ++it->second;
    return true;
  }
  if (calls_by_peer_.size() >= limit_) return false;
  calls_by_peer_.emplace(peer, 1);
  return true;
}

void ConnectionGate::Leave(const std::string& peer) {
  std::lock_guard lock(mu_);
  auto it = calls_by_peer_.find(peer);
  if (it == calls_by_peer_.end()) return;
  if (--it->second == 0) calls_by_peer_.erase(it);
}

size_t ConnectionGate::active() const {
  std::lock_guard lock(mu_);
  return calls_by_peer_.size();
}

}  // namespace cairn::server
