// Copyright (c) Cairn authors. Public API.
//
// Status: the outcome of an operation. No exceptions cross the Cairn API; every
// fallible call returns a Status or a Result<T>. An OK status holds no
// allocation, so returning success is cheap on hot paths.
#ifndef CAIRN_STATUS_H_
#define CAIRN_STATUS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/export.h"

namespace cairn {

enum class StatusCode : uint8_t {
  kOk = 0,
  // The append's expected version did not match the stream (ABORTED-like:
  // re-read the stream and retry at a higher level). Carries the details.
  kWrongExpectedVersion = 1,
  // A caller error: bad stream name, oversized event, bad option, ...
  // Nothing was written.
  kInvalidArgument = 2,
  // The thing asked for does not exist (e.g. opening a missing store with
  // create_if_missing = false).
  kNotFound = 3,
  // Persisted data failed a checksum or an invariant (DATA_LOSS-like: alert
  // an operator). Carries the file and byte offset.
  kCorruption = 4,
  // An operating-system I/O call failed.
  kIOError = 5,
  // The store refuses writes: it was opened read-only, or an earlier fatal
  // I/O error (e.g. a failed fsync) made it fail-stop until reopened.
  kReadOnly = 6,
  // Another process holds the store's writer lock.
  kLocked = 7,
  // The device is full (ENOSPC). Nothing acknowledged was lost.
  kNoSpace = 8,
  // The store is closed or closing.
  kClosed = 9,
  // The persisted format version is not one this build understands.
  kNotSupported = 10,
  // The stream was tombstoned (Store::Tombstone): it can never be read,
  // appended to or subscribed to again (KurrentDB's StreamDeleted).
  kStreamDeleted = 11,
  // A configured limit is reached (e.g. a consumer group's max_members);
  // retry once the limit has room again.
  kLimitReached = 12,
};

// Human-readable name of a code ("WrongExpectedVersion", ...).
CAIRN_EXPORT std::string_view StatusCodeName(StatusCode code);

// Details of a wrong-expected-version failure.
struct WrongExpectedVersionInfo {
  // What the caller expected, rendered as in ExpectedVersion::ToString().
  std::string expected;
  // The stream's last revision at the time of the check; nullopt when the
  // stream does not exist.
  std::optional<uint64_t> actual_revision;
};

// Details of a corruption failure.
struct CorruptionInfo {
  std::string file;     // path of the damaged file
  uint64_t offset = 0;  // byte offset of the damaged record or structure
};

class [[nodiscard]] CAIRN_EXPORT Status {
 public:
  Status() noexcept = default;  // OK
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept;
  Status& operator=(Status&&) noexcept;
  ~Status();

  static Status Ok() { return Status(); }
  static Status WrongExpectedVersion(std::string expected,
                                     std::optional<uint64_t> actual_revision,
                                     std::string_view context = {});
  static Status InvalidArgument(std::string_view message);
  static Status NotFound(std::string_view message);
  static Status Corruption(std::string_view file, uint64_t offset,
                           std::string_view message);
  // errno_value 0 means "no errno"; otherwise strerror text is appended.
  static Status IOError(std::string_view message, int errno_value = 0);
  static Status ReadOnly(std::string_view message);
  static Status Locked(std::string_view message);
  static Status NoSpace(std::string_view message);
  static Status Closed(std::string_view message);
  static Status NotSupported(std::string_view message);
  static Status StreamDeleted(std::string_view message);
  static Status LimitReached(std::string_view message);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const;
  bool IsWrongExpectedVersion() const {
    return code() == StatusCode::kWrongExpectedVersion;
  }
  bool IsInvalidArgument() const {
    return code() == StatusCode::kInvalidArgument;
  }
  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsIOError() const { return code() == StatusCode::kIOError; }
  bool IsReadOnly() const { return code() == StatusCode::kReadOnly; }
  bool IsLocked() const { return code() == StatusCode::kLocked; }
  bool IsNoSpace() const { return code() == StatusCode::kNoSpace; }
  bool IsClosed() const { return code() == StatusCode::kClosed; }
  bool IsStreamDeleted() const { return code() == StatusCode::kStreamDeleted; }
  bool IsLimitReached() const { return code() == StatusCode::kLimitReached; }

  // The message without the code name; empty for OK.
  const std::string& message() const;
  // errno of an I/O failure, 0 if none.
  int errno_value() const;
  // Present only for kWrongExpectedVersion.
  const WrongExpectedVersionInfo* wrong_expected_version() const;
  // Present only for kCorruption.
  const CorruptionInfo* corruption() const;

  // "Corruption: bad body checksum (file .../00000001.seg, offset 4096)".
  std::string ToString() const;

 private:
  struct Rep;
  // Out of line so Rep can stay incomplete here.
  struct RepDeleter {
    void operator()(Rep* rep) const;
  };
  using RepPtr = std::unique_ptr<Rep, RepDeleter>;
  explicit Status(RepPtr rep);
  static RepPtr MakeRep(StatusCode code, std::string_view msg);
  RepPtr rep_;  // null means OK
};

}  // namespace cairn

#endif  // CAIRN_STATUS_H_
