// Copyright (c) Cairn authors.
#include "cairn/status.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "cairn/result.h"

namespace cairn {

struct Status::Rep {
  StatusCode code = StatusCode::kOk;
  std::string message;
  int errno_value = 0;
  std::optional<WrongExpectedVersionInfo> wrong_version;
  std::optional<CorruptionInfo> corruption;
};

namespace {

const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

}  // namespace

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kWrongExpectedVersion:
      return "WrongExpectedVersion";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kReadOnly:
      return "ReadOnly";
    case StatusCode::kLocked:
      return "Locked";
    case StatusCode::kNoSpace:
      return "NoSpace";
    case StatusCode::kClosed:
      return "Closed";
    case StatusCode::kNotSupported:
      return "NotSupported";
    case StatusCode::kStreamDeleted:
      return "StreamDeleted";
    case StatusCode::kLimitReached:
      return "LimitReached";
  }
  return "Unknown";
}

void Status::RepDeleter::operator()(Rep* rep) const { delete rep; }

Status::RepPtr Status::MakeRep(StatusCode code, std::string_view msg) {
  RepPtr rep(new Rep());
  rep->code = code;
  rep->message = std::string(msg);
  return rep;
}

Status::Status(RepPtr rep) : rep_(std::move(rep)) {}
Status::~Status() = default;
Status::Status(Status&&) noexcept = default;
Status& Status::operator=(Status&&) noexcept = default;

Status::Status(const Status& other)
    : rep_(other.rep_ ? RepPtr(new Rep(*other.rep_)) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    rep_ = other.rep_ ? RepPtr(new Rep(*other.rep_)) : nullptr;
  }
  return *this;
}

Status Status::WrongExpectedVersion(std::string expected,
                                    std::optional<uint64_t> actual_revision,
                                    std::string_view context) {
  std::string msg = "expected version " + expected + ", but the stream ";
  msg += actual_revision ? "is at revision " + std::to_string(*actual_revision)
                         : std::string("does not exist");
  if (!context.empty()) {
    msg += " (";
    msg += context;
    msg += ")";
  }
  auto rep = MakeRep(StatusCode::kWrongExpectedVersion, msg);
  rep->wrong_version =
      WrongExpectedVersionInfo{std::move(expected), actual_revision};
  return Status(std::move(rep));
}

Status Status::InvalidArgument(std::string_view message) {
  return Status(MakeRep(StatusCode::kInvalidArgument, message));
}
Status Status::NotFound(std::string_view message) {
  return Status(MakeRep(StatusCode::kNotFound, message));
}
Status Status::Corruption(std::string_view file, uint64_t offset,
                          std::string_view message) {
  std::string msg(message);
  msg += " (file ";
  msg += file;
  msg += ", offset ";
  msg += std::to_string(offset);
  msg += ")";
  auto rep = MakeRep(StatusCode::kCorruption, msg);
  rep->corruption = CorruptionInfo{std::string(file), offset};
  return Status(std::move(rep));
}
Status Status::IOError(std::string_view message, int errno_value) {
  std::string msg(message);
  if (errno_value != 0) {
    msg += ": ";
    msg += std::strerror(errno_value);  // NOLINT(concurrency-mt-unsafe)
  }
  auto rep = MakeRep(StatusCode::kIOError, msg);
  rep->errno_value = errno_value;
  return Status(std::move(rep));
}
Status Status::ReadOnly(std::string_view message) {
  return Status(MakeRep(StatusCode::kReadOnly, message));
}
Status Status::Locked(std::string_view message) {
  return Status(MakeRep(StatusCode::kLocked, message));
}
Status Status::NoSpace(std::string_view message) {
  return Status(MakeRep(StatusCode::kNoSpace, message));
}
Status Status::Closed(std::string_view message) {
  return Status(MakeRep(StatusCode::kClosed, message));
}
Status Status::NotSupported(std::string_view message) {
  return Status(MakeRep(StatusCode::kNotSupported, message));
}
Status Status::StreamDeleted(std::string_view message) {
  return Status(MakeRep(StatusCode::kStreamDeleted, message));
}
Status Status::LimitReached(std::string_view message) {
  return Status(MakeRep(StatusCode::kLimitReached, message));
}

StatusCode Status::code() const { return rep_ ? rep_->code : StatusCode::kOk; }
const std::string& Status::message() const {
  return rep_ ? rep_->message : EmptyString();
}
int Status::errno_value() const { return rep_ ? rep_->errno_value : 0; }

const WrongExpectedVersionInfo* Status::wrong_expected_version() const {
  return rep_ && rep_->wrong_version ? &*rep_->wrong_version : nullptr;
}
const CorruptionInfo* Status::corruption() const {
  return rep_ && rep_->corruption ? &*rep_->corruption : nullptr;
}

std::string Status::ToString() const {
  if (!rep_) return "OK";
  std::string out(StatusCodeName(rep_->code));
  out += ": ";
  out += rep_->message;
  return out;
}

namespace internal {

void DieOnErrorAccess(const Status& status) {
  (void)std::fprintf(stderr,
                     "cairn: Result::value() called on a failed result: %s\n",
                     status.ToString().c_str());
  (void)std::fflush(stderr);
  std::abort();
}

void DieOnOkStatusResult() {
  (void)std::fputs(
      "cairn: a Result was built from an OK status, without a value\n", stderr);
  (void)std::fflush(stderr);
  std::abort();
}

}  // namespace internal
}  // namespace cairn
