// Copyright (c) Cairn authors. Public API.
//
// Result<T>: either a value or a non-OK Status. Accessing the value of a
// failed result, or building a Result from an OK status, is a programming
// error: in every build it aborts the process with the status message on
// standard error, rather than read a value that is not there.
#ifndef CAIRN_RESULT_H_
#define CAIRN_RESULT_H_

#include <optional>
#include <utility>

#include "cairn/export.h"
#include "cairn/status.h"

namespace cairn {
namespace internal {

// Reports a Result misuse on stderr and aborts (status.cc).
[[noreturn]] CAIRN_EXPORT void DieOnErrorAccess(const Status& status);
[[noreturn]] CAIRN_EXPORT void DieOnOkStatusResult();

}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose: `return value;` and `return status;` both work.
  Result(T value) : value_(std::move(value)) {}         // NOLINT
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) internal::DieOnOkStatusResult();
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    CheckValue();
    return *value_;
  }
  const T& value() const& {
    CheckValue();
    return *value_;
  }
  T&& value() && {
    CheckValue();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckValue() const {
    if (!status_.ok()) [[unlikely]] {
      internal::DieOnErrorAccess(status_);
    }
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace cairn

#endif  // CAIRN_RESULT_H_
