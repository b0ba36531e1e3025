// Copyright (c) Cairn authors.
//
// CommitRequest: an append (or a sync barrier) on its way through the
// commit pipeline (commit_pipeline.h). The appending thread validates and
// encodes it (StoreImpl::PrepareAppend); the pipeline sequences, writes,
// syncs and publishes it, then completes it through `done`.
#ifndef CAIRN_ENGINE_SRC_COMMIT_REQUEST_H_
#define CAIRN_ENGINE_SRC_COMMIT_REQUEST_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/store.h"

namespace cairn::engine {

struct CommitRequest {
  bool is_sync = false;
  // Runs on the commit thread after a sync's flush and fsync (a
  // scavenge seals the log and installs its rewritten segments this way:
  // only the commit thread changes the segment list, and it reads the
  // list without the state lock).
  std::function<Status()> action;
  std::string stream;
  ExpectedVersion expected = ExpectedVersion::Any();
  std::vector<EventId> ids;
  bool client_ids = false;  // some id came from the caller
  std::string records;      // encoded, unsealed records, back to back
  std::vector<uint32_t> record_sizes;
  AppendCallback done;
  // Set by the pipeline before `done` runs. Empty rather than a default
  // error, which would cost an allocation on every append.
  std::optional<Result<AppendResult>> result;
  // Soft delete (an append to "$$S"): `expected` guards the metadata
  // stream against a concurrent metadata write, and this guards S.
  std::optional<ExpectedVersion> owner_expected;
  bool tombstone = false;  // the "$streamDeleted" event of a Tombstone
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_COMMIT_REQUEST_H_
