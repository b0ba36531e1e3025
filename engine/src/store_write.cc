// Copyright (c) Cairn authors.
//
// The write path's entry: validate and encode on the caller's thread, then
// hand the append to the commit pipeline (commit_pipeline.h), which
// sequences, writes, syncs, publishes and acknowledges it. Close.
#include <algorithm>
#include <chrono>
#include <limits>
#include <span>
#include <utility>

#include "engine/src/store_impl.h"
#include "engine/src/validation.h"
#include "engine/src/wall_clock.h"
#include "segment/record.h"

namespace cairn::engine {

Status StoreImpl::WriteGate() const {
  if (options_.read_only) {
    return Status::ReadOnly("the store was opened read-only");
  }
  return fail_stop_.Gate();
}

Status StoreImpl::PrepareAppend(std::string stream_name,
                                ExpectedVersion expected,
                                std::span<const EventData> events,
                                Request* request, bool system) {
  Status s = ValidateAppend(stream_name, events, options_, system);
  if (!s.ok()) return s;
  // A pooled request keeps its buffer: copied into it, the name's own
  // buffer is freed here, on the thread that allocated it.
  if (request->stream.capacity() >= stream_name.size()) {
    request->stream.assign(stream_name);
  } else {
    request->stream = std::move(stream_name);
  }
  const std::string_view stream = request->stream;
  request->expected = expected;
  request->ids.reserve(events.size());
  request->record_sizes.reserve(events.size());
  // Enough for every record (each continuation is smaller than a head).
  size_t estimate = stream.size();
  for (const EventData& e : events) {
    estimate += segment::kRecordHeaderSize + segment::kEventBodyFixedSize +
                e.type.size() + e.data.size() + e.metadata.size();
  }
  request->records.reserve(estimate);
  // The first event's record is the append's head, with the stream name
  // and the creation time; the others are continuations naming it.
  const size_t head_at = request->records.size();
  const int64_t now = WallClockMicros();
  for (const EventData& e : events) {
    EventId id = e.id;
    if (id.IsNil()) {
      id = EventId::Generate();
    } else {
      request->client_ids = true;
    }
    request->ids.push_back(id);
    segment::EventFields fields;
    fields.stream = stream;
    fields.type = e.type;
    fields.data = e.data;
    fields.metadata = e.metadata;
    fields.id = id;
    fields.created_us = now;
    fields.content_type = e.content_type;
    const size_t size =
        request->record_sizes.empty()
            ? segment::EncodeEventRecord(fields, options_.compression_threshold,
                                         &request->records)
            : segment::EncodeContinuationRecord(fields,
                                                options_.compression_threshold,
                                                head_at, &request->records);
    request->record_sizes.push_back(static_cast<uint32_t>(size));
  }
  return Status::Ok();
}

Result<AppendResult> StoreImpl::Append(std::string_view stream,
                                       ExpectedVersion expected,
                                       std::span<const EventData> events) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  auto request = NewRequest();
  Status s =
      PrepareAppend(std::string(stream), expected, events, request.get());
  if (!s.ok()) return s;
  return SubmitAndWait(std::move(request));
}

Result<AppendResult> StoreImpl::SubmitAndWait(
    std::unique_ptr<Request> request) {
  if (!pipeline_) return WriteGate();  // read-only: no pipeline
  return pipeline_->Submit(std::move(request));
}

void StoreImpl::AppendAsync(std::string stream, ExpectedVersion expected,
                            std::vector<EventData> events,
                            AppendCallback done) {
  Status gate = WriteGate();
  auto request = NewRequest();
  if (gate.ok()) {
    gate = PrepareAppend(std::move(stream), expected, events, request.get());
  }
  if (!gate.ok()) {
    done(gate);
    return;
  }
  request->done = std::move(done);
  pipeline_->SubmitAsync(std::move(request));
}

Status StoreImpl::SyncStoreDirectory() {
  if (fail_stop_.failed()) return fail_stop_.fatal();
  Status s = fs_->SyncDir(dir_);
  if (!s.ok()) Fail(s);
  return s;
}

Status StoreImpl::Sync() {
  if (options_.read_only) return Status::Ok();
  return Barrier(nullptr);
}

Status StoreImpl::Barrier(std::function<Status()> action) {
  Status gate = WriteGate();
  if (!gate.ok()) return gate;
  return pipeline_->Barrier(std::move(action));
}

Status StoreImpl::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  // Subscriptions and consumer groups first, while the store still serves
  // them (a group saves its checkpoint): they are stopped, their threads
  // joined, and their handles detached (later calls return Closed).
  followers_->Close();
  // A running scavenge stops at its next step (a committed batch is
  // finished first) and no new one starts: it uses the commit thread and
  // the indexes, which close below.
  StopScavengeForClose();
  if (closed_) return Status::Ok();
  closed_ = true;
  // Appends and syncs from now on are refused (Closed).
  if (pipeline_) pipeline_->RefuseNew();
  closed_flag_.store(true, std::memory_order_release);
  // The zero-fill of the next segment is no longer needed: it stops while
  // the pipeline drains and the index is written out, and is joined
  // below.
  SegmentPreparer* preparer = log_ ? log_->preparer() : nullptr;
  if (preparer != nullptr) preparer->RequestStop();
  // Queued appends complete, everything acknowledged becomes durable, and
  // the pipeline's threads are joined.
  if (pipeline_) pipeline_->Stop();
  // Everything durable goes into index tables, so the next open replays
  // nothing. Derived data: a failure here loses nothing (the next open
  // replays the log), so it does not fail the Close. The index replaces
  // its in-memory table, which a reader that passed the closed check just
  // before may still be looking at: the state lock keeps them apart.
  if (index_) {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    (void)index_->Close();
    if (links_) (void)links_->Close();
  }
  // No background thread may write once the lock is released: the next
  // writer could adopt a file still being written.
  if (preparer != nullptr) preparer->Stop();
  lock_.reset();
  return fail_stop_.fatal();
}

}  // namespace cairn::engine
