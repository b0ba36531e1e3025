// Copyright (c) Cairn authors.
//
// Runs one append for Append and BatchAppend: through Store::AppendAsync,
// so that appends of all connections share the store's group commit. An
// append of zero events (which the protocol allows) only checks the
// expected version. An append to a metadata stream "$$<stream>" sets the
// stream's metadata (Store::SetStreamMetadataJson, synchronously): it
// takes exactly one "$metadata" event holding valid metadata JSON;
// anything else is InvalidArgument.
#ifndef CAIRN_SERVER_APPEND_RUNNER_H_
#define CAIRN_SERVER_APPEND_RUNNER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/event.h"
#include "cairn/result.h"
#include "cairn/store.h"
#include "cairn/types.h"

namespace cairn::server {

struct AppendOutcome {
  // The stream's last revision after the append; nullopt: no stream.
  std::optional<uint64_t> current_revision;
  // The global position of the last event written; nullopt when nothing
  // was written.
  std::optional<uint64_t> position;
};

// Fills the Success message of AppendResp or BatchAppendResp (the two
// have the same fields).
template <typename Success>
void FillAppendSuccess(const AppendOutcome& outcome, Success* success) {
  if (outcome.current_revision) {
    success->set_current_revision(*outcome.current_revision);
  } else {
    success->mutable_no_stream();
  }
  if (outcome.position) {
    success->mutable_position()->set_commit_position(*outcome.position);
    success->mutable_position()->set_prepare_position(*outcome.position);
  } else {
    success->mutable_no_position();
  }
}

using AppendDone = std::function<void(Result<AppendOutcome>)>;

// `done` runs once, on one of the store's writer threads (the commit or the
// sync thread) or on the caller's.
void RunAppend(Store* store, std::string stream, ExpectedVersion expected,
               std::vector<EventData> events, AppendDone done);

// Checks a stream name the protocol lets a client write.
bool WritableStreamName(const std::string& stream, std::string* why);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_APPEND_RUNNER_H_
