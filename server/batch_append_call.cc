// Copyright (c) Cairn authors.
#include "server/batch_append_call.h"

#include <algorithm>
#include <utility>

#include "server/proposed_event.h"
#include "shared.pb.h"

namespace cairn::server {

namespace {

std::optional<ExpectedVersion> ExpectedFromBatch(
    const event_store::client::streams::BatchAppendReq::Options& options) {
  using Options = event_store::client::streams::BatchAppendReq::Options;
  switch (options.expected_stream_position_case()) {
    case Options::kStreamPosition:
      return ExpectedFromRevision(options.stream_position());
    case Options::kNoStream:
      return ExpectedVersion::NoStream();
    case Options::kAny:
      return ExpectedVersion::Any();
    case Options::kStreamExists:
      return ExpectedVersion::StreamExists();
    default:
      return std::nullopt;
  }
}

// A client's seconds and nanoseconds as a clock duration, clamped to
// +-100 years: far beyond any deadline, and far from where the clock's
// 64-bit nanoseconds overflow (292 years), whatever the client sends.
std::chrono::system_clock::duration ClientDuration(int64_t seconds,
                                                   int64_t nanos) {
  constexpr int64_t kMaxSeconds = int64_t{100} * 366 * 24 * 3600;
  constexpr int64_t kMaxNanos = 999'999'999;
  return std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(std::clamp(seconds, -kMaxSeconds, kMaxSeconds)) +
      std::chrono::nanoseconds(std::clamp(nanos, -kMaxNanos, kMaxNanos)));
}

std::chrono::system_clock::time_point FromProtoTime(
    const google::protobuf::Timestamp& time) {
  return std::chrono::system_clock::time_point(
      ClientDuration(time.seconds(), time.nanos()));
}

}  // namespace

BatchAppendCall::BatchAppendCall(const CallContext& context,
                                 grpc::CallbackServerContext* rpc)
    : context_(context),
      rpc_(rpc),
      ticket_(context, *rpc, AnonymousCalls::kCheckedPerRequest) {
  if (!ticket_.held()) {
    finished_ = true;
    Finish(ticket_.refusal().Apply(rpc_));
    return;
  }
  reading_ = true;
  StartRead(&request_);
}

void BatchAppendCall::OnReadDone(bool ok) {
  // reading_ stays set while the request is taken: no other thread starts
  // a read into request_ meanwhile. Once the call failed, requests are
  // read and dropped: a client that writes before it reads can go on to
  // read the replies and the status, which the call sends meanwhile.
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    failed = error_.has_value() || finished_;
  }
  std::optional<RpcError> error;
  if (ok && !failed) error = Take();
  Actions actions;
  {
    std::lock_guard lock(mu_);
    reading_ = false;
    if (!ok) read_closed_ = true;
    if (error && !error_) error_ = std::move(error);
    actions = NextLocked();
  }
  Perform(std::move(actions));
}

void BatchAppendCall::OnWriteDone(bool ok) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      // The client is gone: replies have nowhere to go.
      write_failed_ = true;
      replies_.clear();
    }
    actions = NextLocked();
  }
  Perform(std::move(actions));
}

std::optional<RpcError> BatchAppendCall::Take() {
  if (!request_.has_correlation_id() ||
      !EventIdFromProto(request_.correlation_id())) {
    return BadRequest("BatchAppend needs a UUID correlation_id");
  }
  const std::string key = request_.correlation_id().SerializeAsString();
  auto it = open_.find(key);
  if (it == open_.end()) {
    if (open_.size() >= context_.limits.batch_max_open) {
      return RpcError{grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "BatchAppend has " +
                          std::to_string(context_.limits.batch_max_open) +
                          " unfinished appends",
                      {},
                      std::nullopt};
    }
    it = open_.emplace(key, Open{}).first;
    it->second.correlation = request_.correlation_id();
    if (std::optional<RpcError> error = Start(request_, &it->second)) {
      it->second.failed = true;
      Response reply = Reply(it->second);
      SetBatchError(*error, reply.mutable_error());
      Answer(std::move(reply));
    }
  }
  Open& open = it->second;
  for (const auto& message : request_.proposed_messages()) {
    if (open.failed) break;
    EventData event;
    std::optional<RpcError> error =
        ToEventData(message, context_.limits.max_event_size, &event);
    if (!error) {
      const uint64_t size = BufferedSize(event);
      open.bytes += size;
      open_bytes_ += size;
      if (open.bytes > context_.limits.max_append_size) {
        error = MaximumAppendSizeExceeded(context_.limits.max_append_size);
      } else if (open_bytes_ > context_.limits.batch_max_buffered_bytes) {
        return RpcError{
            grpc::StatusCode::RESOURCE_EXHAUSTED,
            "BatchAppend buffers more than " +
                std::to_string(context_.limits.batch_max_buffered_bytes) +
                " bytes of unfinished appends",
            {},
            std::nullopt};
      }
    }
    if (error) {
      open.failed = true;
      open_bytes_ -= open.bytes;
      open.bytes = 0;
      open.events.clear();
      Response reply = Reply(open);
      SetBatchError(*error, reply.mutable_error());
      Answer(std::move(reply));
      break;
    }
    open.events.push_back(std::move(event));
  }
  if (request_.is_final()) {
    open_bytes_ -= open.bytes;
    Open done = std::move(open);
    open_.erase(it);
    if (!done.failed) Submit(std::move(done));
  }
  return std::nullopt;
}

std::optional<RpcError> BatchAppendCall::Start(const Request& request,
                                               Open* open) const {
  if (!request.has_options()) {
    return BadRequest("the first chunk of an append needs options");
  }
  open->options = request.options();
  std::string why;
  if (!WritableStreamName(open->options.stream_identifier().stream_name(),
                          &why)) {
    return BadRequest(why);
  }
  if (RpcError denied = ticket_.Check(
          open->options.stream_identifier().stream_name(), StreamRight::kWrite);
      denied.code != grpc::StatusCode::OK) {
    return denied;
  }
  std::optional<ExpectedVersion> expected = ExpectedFromBatch(open->options);
  if (!expected) return BadRequest("the append needs an expected position");
  open->expected = *expected;
  using Options = Request::Options;
  switch (open->options.deadline_option_case()) {
    case Options::kDeadline21100:
      open->deadline = FromProtoTime(open->options.deadline_21_10_0());
      break;
    case Options::kDeadline:
      open->deadline = std::chrono::system_clock::now() +
                       ClientDuration(open->options.deadline().seconds(),
                                      open->options.deadline().nanos());
      break;
    default:
      break;
  }
  return std::nullopt;
}

void BatchAppendCall::Submit(Open open) {
  if (open.deadline && std::chrono::system_clock::now() >= *open.deadline) {
    Response reply = Reply(open);
    SetBatchError(grpc::StatusCode::DEADLINE_EXCEEDED, "Timeout",
                  event_store::client::Timeout(), reply.mutable_error());
    Answer(std::move(reply));
    return;
  }
  {
    std::lock_guard lock(mu_);
    ++in_flight_;
    running_bytes_ += open.bytes;
  }
  std::string stream = open.options.stream_identifier().stream_name();
  std::vector<EventData> events = std::move(open.events);
  const ExpectedVersion expected = open.expected;
  RunAppend(context_.store, std::move(stream), expected, std::move(events),
            [this, open = std::move(open)](Result<AppendOutcome> outcome) {
              // Runs on the store's thread (or inline): in_flight_ keeps
              // the call from finishing until the reply is queued and the
              // next operations are chosen, all under one lock.
              Response reply = Outcome(open, std::move(outcome));
              Actions actions;
              {
                std::lock_guard lock(mu_);
                if (!write_failed_) replies_.push_back(std::move(reply));
                --in_flight_;
                running_bytes_ -= open.bytes;
                actions = NextLocked();
              }
              Perform(std::move(actions));
            });
}

BatchAppendCall::Response BatchAppendCall::Reply(const Open& open) {
  Response reply;
  *reply.mutable_correlation_id() = open.correlation;
  *reply.mutable_stream_identifier() = open.options.stream_identifier();
  switch (open.expected.kind()) {
    case ExpectedVersion::Kind::kAny:
      reply.mutable_any();
      break;
    case ExpectedVersion::Kind::kNoStream:
      reply.mutable_no_stream();
      break;
    case ExpectedVersion::Kind::kStreamExists:
      reply.mutable_stream_exists();
      break;
    case ExpectedVersion::Kind::kExact:
      reply.set_stream_position(open.expected.revision());
      break;
  }
  return reply;
}

BatchAppendCall::Response BatchAppendCall::Outcome(
    const Open& open, Result<AppendOutcome> outcome) {
  Response reply = Reply(open);
  if (!outcome.ok()) {
    const Status& status = outcome.status();
    if (status.IsWrongExpectedVersion()) {
      event_store::client::WrongExpectedVersion detail;
      const std::optional<uint64_t>& actual =
          status.wrong_expected_version()->actual_revision;
      if (actual) {
        detail.set_current_stream_revision(*actual);
      } else {
        detail.mutable_current_no_stream();
      }
      switch (open.expected.kind()) {
        case ExpectedVersion::Kind::kAny:
          detail.mutable_expected_any();
          break;
        case ExpectedVersion::Kind::kNoStream:
          detail.mutable_expected_no_stream();
          break;
        case ExpectedVersion::Kind::kStreamExists:
          detail.mutable_expected_stream_exists();
          break;
        case ExpectedVersion::Kind::kExact:
          detail.set_expected_stream_position(open.expected.revision());
          break;
      }
      SetBatchError(grpc::StatusCode::ALREADY_EXISTS, "WrongExpectedVersion",
                    detail, reply.mutable_error());
    } else {
      SetBatchError(FromStoreStatus(
                        status, open.options.stream_identifier().stream_name()),
                    reply.mutable_error());
    }
    return reply;
  }
  FillAppendSuccess(outcome.value(), reply.mutable_success());
  return reply;
}

void BatchAppendCall::Answer(Response response) {
  // Only from Take, while reading_ holds the call open; OnReadDone writes
  // the reply once the request is taken.
  std::lock_guard lock(mu_);
  if (!write_failed_) replies_.push_back(std::move(response));
}

BatchAppendCall::Actions BatchAppendCall::NextLocked() {
  Actions actions;
  if (finished_) return actions;
  if (!writing_ && !replies_.empty()) {
    current_ = std::move(replies_.front());
    replies_.pop_front();
    writing_ = true;
    actions.write = true;
    actions.more = hint_.Next(!replies_.empty());
  }
  // Appends running and replies not yet written together stay within
  // batch_max_in_flight: a client that reads no replies is read no
  // further; and so is one whose running appends hold
  // batch_max_buffered_bytes of events, until the store finished some. A
  // failed call only drops what it reads, so it reads on.
  const bool room =
      in_flight_ + replies_.size() < context_.limits.batch_max_in_flight &&
      running_bytes_ < context_.limits.batch_max_buffered_bytes;
  if (!read_closed_ && !reading_ && (room || error_)) {
    reading_ = true;
    actions.read = true;
  }
  // A failed call finishes once its appends are answered, with a read
  // still pending (gRPC ends it); otherwise once the client half-closed.
  const bool done_reading = error_.has_value() || (read_closed_ && !reading_);
  if (done_reading && in_flight_ == 0 && !writing_ && replies_.empty()) {
    finished_ = true;
    actions.finish = true;
    actions.error = std::move(error_);
  }
  return actions;
}

void BatchAppendCall::Perform(Actions actions) {
  // While a read or write chosen here is not yet started, the call cannot
  // finish (reading_/writing_ are set), so the second start is safe; after
  // the last one this thread leaves the call.
  if (actions.read) StartRead(&request_);
  if (actions.write) StartWrite(&current_, BufferHint::Options(actions.more));
  if (actions.finish) {
    Finish(actions.error ? actions.error->Apply(rpc_) : grpc::Status::OK);
  }
}

}  // namespace cairn::server
