// Copyright (c) Cairn authors.
#include "tools/cli/command.h"

#include <cerrno>
#include <charconv>
#include <filesystem>
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

std::optional<uint64_t> ParseUnsignedDecimal(std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value, 10);
  // from_chars takes no sign, space or prefix; it must take every byte.
  if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
  return value;
}

CLI::Validator UnsignedDecimal() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const std::optional<uint64_t> number = ParseUnsignedDecimal(value);
        if (!number) return "'" + value + "' is not an unsigned decimal number";
        value = std::to_string(*number);
        return "";
      },
      "UINT", "UnsignedDecimal");
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

namespace {

// Reads `in` to its end, refusing more than `limit` bytes.
Result<std::string> ReadStream(std::istream& in, const std::string& what,
                               uint64_t limit) {
  std::string out;
  char buffer[64 << 10];
  for (;;) {
    in.read(buffer, sizeof buffer);
    const auto got = static_cast<size_t>(in.gcount());
    out.append(buffer, got);
    if (out.size() > limit) {
      return Status::InvalidArgument(what + " holds more than " +
                                     std::to_string(limit) + " bytes");
    }
    if (got < sizeof buffer) break;
  }
  if (in.bad()) return Status::IOError("cannot read " + what, errno);
  return out;
}

}  // namespace

Result<std::string> ReadInput(const Io& io, const std::string& path,
                              uint64_t limit) {
  if (path == "-") return ReadStream(io.in, "standard input", limit);
  // A directory opens, and then reads as empty through a filebuf.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return Status::InvalidArgument(path + " is a directory");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::IOError("cannot open " + path, errno);
  auto contents = ReadStream(file, path, limit);
  if (!contents.ok()) return contents.status();
  // A filebuf reports a failed read as the end of the file: a regular
  // file that reads short failed.
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (!error && std::filesystem::is_regular_file(path, error) &&
      contents->size() < size) {
    return Status::IOError("cannot read " + path + ": read " +
                           std::to_string(contents->size()) + " of " +
                           std::to_string(size) + " bytes");
  }
  return contents;
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
    auto contents = ReadInput(io, arg.substr(1), Options().max_event_size);
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
