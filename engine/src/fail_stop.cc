// Copyright (c) Cairn authors.
#include "engine/src/fail_stop.h"

namespace cairn::engine {

void FailStop::Fail(const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fatal_.ok()) fatal_ = status;
  failed_.store(true, std::memory_order_release);
}

Status FailStop::Gate() const {
  if (!failed()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  return Status::ReadOnly(
      "the store refuses writes after a fatal I/O error until it is "
      "reopened: " +
      fatal_.ToString());
}

Status FailStop::fatal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fatal_;
}

}  // namespace cairn::engine
