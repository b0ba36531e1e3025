// Copyright (c) Cairn authors. Public API.
//
// Result<T>: either a value or a non-OK Status. Accessing the value of a
// failed result is a programming error (asserted in debug builds).
#ifndef CAIRN_RESULT_H_
#define CAIRN_RESULT_H_

#include <cassert>
#include <optional>
#include <utility>

#include "cairn/status.h"

namespace cairn {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose: `return value;` and `return status;` both work.
  Result(T value) : value_(std::move(value)) {}         // NOLINT
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "Result built from an OK status needs a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace cairn

#endif  // CAIRN_RESULT_H_
