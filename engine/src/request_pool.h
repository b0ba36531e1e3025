// Copyright (c) Cairn authors.
//
// RequestPool: commit requests kept for reuse, with their buffers, so
// that an append in steady state allocates no request, record buffer or
// id vector. The pipeline's threads complete the appends that the
// application's threads prepared; freeing them there would free memory
// allocated by another thread, which with glibc's malloc takes that
// thread's arena lock, so that under load the appending thread and the
// acknowledgement thread block each other on it. Returning the request
// to the pool instead costs one short critical section and no free.
//
// Bounded: at most kMaxPooledRequests requests, holding at most
// kMaxPooledBytes of buffer capacity in all; a request beyond either is
// freed as before.
#ifndef CAIRN_ENGINE_SRC_REQUEST_POOL_H_
#define CAIRN_ENGINE_SRC_REQUEST_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/src/commit_request.h"

namespace cairn::engine {

inline constexpr size_t kMaxPooledRequests = 1024;
inline constexpr uint64_t kMaxPooledBytes = uint64_t{4} << 20;

class RequestPool {
 public:
  RequestPool() = default;
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  // A request with every field at its default, reusing a pooled one's
  // buffers when there is one.
  std::unique_ptr<CommitRequest> Take();
  // Takes back a request whose outcome has been taken (its `done` and
  // `result` moved out): clears it and keeps it if the bounds allow.
  void Give(std::unique_ptr<CommitRequest> request);

  // For tests.
  size_t pooled() const;
  uint64_t pooled_bytes() const;

 private:
  // The heap capacity a pooled request keeps.
  static uint64_t Footprint(const CommitRequest& request);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CommitRequest>> free_;  // guarded by mu_
  uint64_t bytes_ = 0;                                // guarded by mu_
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_REQUEST_POOL_H_
