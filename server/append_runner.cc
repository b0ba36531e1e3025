// Copyright (c) Cairn authors.
#include "server/append_runner.h"

#include <utility>

#include "server/system_streams.h"

namespace cairn::server {

namespace {

AppendOutcome OutcomeOf(const AppendResult& result) {
  return AppendOutcome{result.last_revision.value(),
                       result.last_position.value()};
}

// An append to "$$<stream>": the stream's new metadata, one "$metadata"
// event whose data is the metadata's JSON. The store validates the JSON
// and checks `expected` against the metadata stream's revision.
Result<AppendOutcome> WriteMetadata(Store* store, std::string_view stream,
                                    ExpectedVersion expected,
                                    const std::vector<EventData>& events) {
  if (events.size() != 1 || events[0].type != kMetadataEventType) {
    return Status::InvalidArgument(
        "an append to a metadata stream ($$stream) takes exactly one event "
        "of type $metadata");
  }
  Result<AppendResult> result = store->SetStreamMetadataJson(
      MetadataStreamOwner(stream), expected, events[0].data);
  if (!result.ok()) return result.status();
  return OutcomeOf(result.value());
}

}  // namespace

void RunAppend(Store* store, std::string stream, ExpectedVersion expected,
               std::vector<EventData> events, AppendDone done) {
  if (IsMetadataStream(stream) && !events.empty()) {
    // Store::SetStreamMetadataJson waits for durability on this thread.
    done(WriteMetadata(store, stream, expected, events));
    return;
  }
  if (events.empty()) {
    Result<std::optional<StreamRevision>> current =
        store->GetStreamRevision(stream);
    if (!current.ok()) {
      done(current.status());
      return;
    }
    std::optional<uint64_t> actual;
    if (current.value()) actual = current.value()->value();
    if (!expected.Allows(actual)) {
      done(Status::WrongExpectedVersion(expected.ToString(), actual, stream));
      return;
    }
    done(AppendOutcome{actual, std::nullopt});
    return;
  }
  store->AppendAsync(std::move(stream), expected, std::move(events),
                     [done = std::move(done)](Result<AppendResult> result) {
                       if (!result.ok()) {
                         done(result.status());
                         return;
                       }
                       done(OutcomeOf(result.value()));
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
