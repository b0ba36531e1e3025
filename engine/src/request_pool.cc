// Copyright (c) Cairn authors.
#include "engine/src/request_pool.h"

#include <string>
#include <utility>
#include <vector>

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
  // Cleared outside the lock: every field back to its default but for
  // the four buffers, which are emptied and keep their capacity. What the
  // other fields own (the callback, a barrier's action, an error's
  // message) is freed here, as it would be anyway.
  CommitRequest& r = *request;
  std::string stream = std::move(r.stream);
  std::string records = std::move(r.records);
  std::vector<EventId> ids = std::move(r.ids);
  std::vector<uint32_t> record_sizes = std::move(r.record_sizes);
  r = CommitRequest();
  r.stream = std::move(stream);
  r.records = std::move(records);
  r.ids = std::move(ids);
  r.record_sizes = std::move(record_sizes);
  r.stream.clear();
  r.records.clear();
  r.ids.clear();
  r.record_sizes.clear();
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
