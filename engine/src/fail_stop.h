// Copyright (c) Cairn authors.
//
// FailStop: a store's sticky fatal error. After a failed fdatasync (or a
// write whose outcome is unknown) the store stops writing until it is
// reopened: a failed fsync is never retried, and the page cache is not
// trusted for the bytes it covered (docs/durability.md). Any thread may
// read it; the commit pipeline, a scavenge's commit and the index's
// publication set it.
#ifndef CAIRN_ENGINE_SRC_FAIL_STOP_H_
#define CAIRN_ENGINE_SRC_FAIL_STOP_H_

#include <atomic>
#include <mutex>

#include "cairn/status.h"

namespace cairn::engine {

class FailStop {
 public:
  // Sets the fatal error; the first one is kept.
  void Fail(const Status& status);
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Ok, or ReadOnly naming the fatal error.
  Status Gate() const;
  // The fatal error itself (Ok if none).
  Status fatal() const;

 private:
  mutable std::mutex mu_;
  Status fatal_;  // guarded by mu_
  std::atomic<bool> failed_{false};
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_FAIL_STOP_H_
