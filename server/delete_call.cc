// Copyright (c) Cairn authors.
#include "server/delete_call.h"

#include <string>

#include "server/append_runner.h"

namespace cairn::server {

namespace {

// KurrentDB's long form of an expected version.
std::string VersionAsLong(ExpectedVersion expected) {
  switch (expected.kind()) {
    case ExpectedVersion::Kind::kAny:
      return "-2";
    case ExpectedVersion::Kind::kNoStream:
      return "-1";
    case ExpectedVersion::Kind::kStreamExists:
      return "-4";
    case ExpectedVersion::Kind::kExact:
      return std::to_string(expected.revision());
  }
  return "";
}

}  // namespace

RpcError DeleteWrongExpectedVersion(std::string_view stream,
                                    ExpectedVersion expected,
                                    std::optional<uint64_t> actual) {
  const std::string expected_text = VersionAsLong(expected);
  const std::string actual_text = actual ? std::to_string(*actual) : "";
  return {grpc::StatusCode::FAILED_PRECONDITION,
          "Delete failed due to WrongExpectedVersion. Stream: " +
              std::string(stream) + ", Expected version: " + expected_text +
              ", Actual version: " + (actual ? actual_text : "none"),
          {{"exception", "wrong-expected-version"},
           {"stream-name", std::string(stream)},
           {"expected-version", expected_text},
           {"actual-version", actual_text}},
          std::nullopt};
}

std::variant<uint64_t, RpcError> DeleteStream(
    Store* store, DeleteKind kind, std::string_view stream,
    std::optional<ExpectedVersion> expected) {
  std::string why;
  if (!WritableStreamName(std::string(stream), &why)) return BadRequest(why);
  if (!expected) return BadRequest("the delete needs an expected revision");
  Result<DeleteResult> result = kind == DeleteKind::kSoft
                                    ? store->Delete(stream, *expected)
                                    : store->Tombstone(stream, *expected);
  if (result.ok()) return result.value().position.value();
  const Status& status = result.status();
  if (status.IsWrongExpectedVersion()) {
    return DeleteWrongExpectedVersion(
        stream, *expected, status.wrong_expected_version()->actual_revision);
  }
  return FromStoreStatus(status, stream);
}

}  // namespace cairn::server
