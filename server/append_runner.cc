// Copyright (c) Cairn authors.
#include "server/append_runner.h"

#include <utility>

namespace cairn::server {

namespace {

bool Holds(ExpectedVersion expected, std::optional<StreamRevision> current) {
  switch (expected.kind()) {
    case ExpectedVersion::Kind::kAny:
      return true;
    case ExpectedVersion::Kind::kNoStream:
      return !current.has_value();
    case ExpectedVersion::Kind::kStreamExists:
      return current.has_value();
    case ExpectedVersion::Kind::kExact:
      return current.has_value() && current->value() == expected.revision();
  }
  return false;
}

}  // namespace

void RunAppend(Store* store, std::string stream, ExpectedVersion expected,
               std::vector<EventData> events, AppendDone done) {
  if (events.empty()) {
    Result<std::optional<StreamRevision>> current =
        store->GetStreamRevision(stream);
    if (!current.ok()) {
      done(current.status());
      return;
    }
    std::optional<uint64_t> actual;
    if (current.value()) actual = current.value()->value();
    if (!Holds(expected, current.value())) {
      done(Status::WrongExpectedVersion(expected.ToString(), actual, stream));
      return;
    }
    done(AppendOutcome{actual, std::nullopt});
    return;
  }
  store->AppendAsync(
      std::move(stream), expected, std::move(events),
      [done = std::move(done)](Result<AppendResult> result) {
        if (!result.ok()) {
          done(result.status());
          return;
        }
        done(AppendOutcome{result.value().last_revision.value(),
                           result.value().last_position.value()});
      });
}

bool WritableStreamName(const std::string& stream, std::string* why) {
  if (stream.empty()) {
    *why = "the stream name is empty";
    return false;
  }
  if (stream == "$all") {
    *why = "$all can not be written";
    return false;
  }
  return true;
}

}  // namespace cairn::server
