// Copyright (c) Cairn authors.
//
// Whether a stream's published last event is its tombstone: asked by the
// commit pipeline before it sequences an append, and by the read path for
// a stream's head.
#ifndef CAIRN_ENGINE_SRC_STORED_TOMBSTONE_H_
#define CAIRN_ENGINE_SRC_STORED_TOMBSTONE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/result.h"
#include "engine/src/record_locator.h"
#include "index/persistent_index.h"

namespace cairn::engine {

// The answer for `stream`'s last event (revision `last_revision`): the
// stream cache's, or that record's, verified, which the cache then notes.
// `last`, when not null, is that event's index entry (read already).
// Corruption (naming `dir` or the record) when the index lacks the event
// or the record is damaged. Under the state lock (shared at least).
Result<bool> IsStoredTombstone(index::PersistentIndex* index,
                               const RecordLocator& locator,
                               const std::string& dir, std::string_view stream,
                               uint64_t last_revision,
                               const index::IndexedEvent* last);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_STORED_TOMBSTONE_H_
