// Copyright (c) Cairn authors.
#include "tools/cli/command.h"

#include <cerrno>
#include <fstream>
#include <iostream>
#include <istream>
#include <iterator>
#include <mutex>
#include <ostream>
#include <sstream>
#include <utility>

#include "tools/jsonl/json.h"

namespace cairn::tools {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kWrongExpectedVersion:
      return kExitWrongExpectedVersion;
    case StatusCode::kInvalidArgument:
      // Everything the store can reject as invalid (a stream name, an
      // event type, an oversized event) came from the command line.
      return kExitUsage;
    case StatusCode::kCorruption:
      return kExitDamage;
    default:
      return kExitError;
  }
}

int Fail(const Io& io, std::string_view command, std::string_view message,
         int code) {
  io.err << "cairn " << command << ": " << message << '\n';
  return code;
}

int FailStatus(const Io& io, std::string_view command, const Status& status) {
  std::string message;
  switch (status.code()) {
    case StatusCode::kWrongExpectedVersion:
      message = "wrong expected version: " + status.message();
      break;
    case StatusCode::kLocked:
      message = "the store is in use by another process (" + status.message() +
                "); read-only commands work beside it, writes do not";
      break;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      message = status.message();  // the message says it all
      break;
    default:
      message = status.ToString();
  }
  return Fail(io, command, message, ExitCodeFor(status));
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& dir, bool read_only,
                                         const Options& base) {
  Options options = base;
  options.read_only = read_only;
  if (!options.logger) {
    options.logger = [](LogLevel level, std::string_view message) {
      if (level == LogLevel::kInfo) return;  // routine: not worth a line
      // Background threads report too: one line at a time.
      static std::mutex mu;
      std::lock_guard<std::mutex> lock(mu);
      std::cerr << "cairn: " << LogLevelName(level) << ": " << message << '\n';
    };
  }
  // A typo in DIR must not leave a new empty store behind for commands
  // that only look.
  if (read_only) options.create_if_missing = false;
  return Store::Open(dir, options);
}

bool OutputBuffer::Flush() {
  if (!buffer_.empty()) {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }
  return static_cast<bool>(out_);
}

Result<std::string> ReadInput(const Io& io, const std::string& path) {
  std::ostringstream contents;
  if (path == "-") {
    contents << io.in.rdbuf();
    if (io.in.bad()) return Status::IOError("cannot read standard input");
    return std::move(contents).str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::IOError("cannot open " + path, errno);
  contents << file.rdbuf();
  if (file.bad()) return Status::IOError("cannot read " + path, errno);
  return std::move(contents).str();
}

Result<ExpectedVersion> ParseExpectedOption(const std::string& text) {
  auto expected = ExpectedVersion::Parse(text);
  if (!expected) {
    return Status::InvalidArgument(
        "--expected must be any, no-stream, exists or a revision number, "
        "not '" +
        text + "'");
  }
  return *expected;
}

Status LoadPayload(const Io& io, const std::string& arg, bool binary,
                   std::string_view what, std::string* out) {
  std::string bytes = arg;
  if (!arg.empty() && arg[0] == '@') {
    auto contents = ReadInput(io, arg.substr(1));
    if (!contents.ok()) return contents.status();
    bytes = std::move(contents.value());
  }
  if (binary) {
    *out = std::move(bytes);
    return Status::Ok();
  }
  json::ParseError error;
  if (!json::Validate(bytes, &error)) {
    return Status::InvalidArgument(std::string(what) + " is not valid JSON (" +
                                   error.ToString() +
                                   "); pass --binary to store arbitrary bytes");
  }
  *out = std::string(json::TrimWhitespace(bytes));
  return Status::Ok();
}

std::string HexDigits(uint64_t v, int digits) {
  std::string out(2 + static_cast<size_t>(digits), '0');
  out[1] = 'x';
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = out.size(); i-- > 2; v >>= 4) out[i] = kDigits[v & 0xf];
  return out;
}

}  // namespace cairn::tools
