// Copyright (c) Cairn authors.
#include "engine/src/request_pool.h"

#include <utility>

namespace cairn::engine {

uint64_t RequestPool::Footprint(const CommitRequest& request) {
  return request.stream.capacity() + request.records.capacity() +
         request.ids.capacity() * sizeof(EventId) +
         request.record_sizes.capacity() * sizeof(uint32_t);
}

std::unique_ptr<CommitRequest> RequestPool::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      std::unique_ptr<CommitRequest> request = std::move(free_.back());
      free_.pop_back();
      bytes_ -= Footprint(*request);
      return request;
    }
  }
  return std::make_unique<CommitRequest>();
}

void RequestPool::Give(std::unique_ptr<CommitRequest> request) {
  // Cleared outside the lock. Clearing keeps the buffers' capacity; what
  // the fields own besides (a barrier's action, an error's message) is
  // freed here, as it would be anyway.
  CommitRequest& r = *request;
  r.is_sync = false;
  r.action = nullptr;
  r.stream.clear();
  r.expected = ExpectedVersion::Any();
  r.ids.clear();
  r.client_ids = false;
  r.records.clear();
  r.record_sizes.clear();
  r.done = nullptr;
  r.result.reset();
  r.owner_expected.reset();
  r.tombstone = false;
  const uint64_t footprint = Footprint(r);
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.size() >= kMaxPooledRequests ||
      bytes_ + footprint > kMaxPooledBytes) {
    return;  // freed on return, after the lock is released
  }
  bytes_ += footprint;
  free_.push_back(std::move(request));
}

size_t RequestPool::pooled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

uint64_t RequestPool::pooled_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace cairn::engine
