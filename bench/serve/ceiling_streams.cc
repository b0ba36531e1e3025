// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_streams.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bench/serve/ceiling_writes.h"
#include "server/append_runner.h"
#include "server/rpc_error.h"

namespace cairn::bench::serve {
namespace {

using server::RpcError;

// Events per page of a read, as `cairn serve` reads them (its
// read_page_events).
constexpr uint64_t kPageEvents = 128;

// Fills the Success of an append that landed at `at`, as the server does.
template <typename Success>
void FillSuccess(const CeilingAppended& at, Success* success) {
  server::FillAppendSuccess(server::AppendOutcome{at.revision, at.position},
                            success);
}

// A whole read: `count` copies of `event`, revisions and positions counting
// up. As `cairn serve`'s read, it queues a page at a time once the last one
// is written, and writes through the server's WriteQueue, which gives the
// buffer hint to every response with more queued behind it: the last of
// each page flushes, and so does the call's first (the initial metadata).
class CeilingRead final : public grpc::ServerWriteReactor<pb::ReadResp>,
                          public CeilingWrites<CeilingRead, pb::ReadResp> {
 public:
  // A call refused with `error` at once.
  CeilingRead(grpc::CallbackServerContext* rpc, const RpcError& error)
      : CeilingWrites(rpc), count_(0) {
    End(error);
  }

  CeilingRead(grpc::CallbackServerContext* rpc,
              std::shared_ptr<const CeilingEvent> event, uint64_t count)
      : CeilingWrites(rpc), event_(std::move(event)), count_(count) {
    Kick();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writes_.WriteDone();
    }
    if (!ok) End(server::Cancelled("the client left"));
    Kick();
  }

  void OnDone() override { delete this; }

 private:
  // Queues the next page (or the end) when everything queued was written,
  // then starts the next write or the finish.
  void Kick() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!writes_.writing() && !writes_.ended() && writes_.size() == 0 &&
        !writes_.has_final()) {
      if (queued_ == count_) {
        writes_.SetFinal(server::Ok());
      } else {
        QueuePageLocked();
      }
    }
    StartNextLocked(lock);
  }

  void QueuePageLocked() {
    const uint64_t end = std::min(count_, queued_ + kPageEvents);
    for (; queued_ < end; ++queued_) {
      pb::ReadResp response = TakeSpareLocked();
      *response.mutable_event()->mutable_event() = *event_;
      PlaceEvent(queued_, response.mutable_event());
      writes_.Push(std::move(response));
    }
  }

  const std::shared_ptr<const CeilingEvent> event_;
  const uint64_t count_;
  uint64_t queued_ = 0;  // events queued so far, under mu_
};

// One Append: the options, then the events; answered when the client
// half-closes.
class CeilingAppend final : public grpc::ServerReadReactor<pb::AppendReq> {
 public:
  CeilingAppend(grpc::CallbackServerContext* rpc, CeilingLog* log,
                pb::AppendResp* response)
      : rpc_(rpc), log_(log), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Answer();
      return;
    }
    if (request_.has_options()) {
      stream_ = request_.options().stream_identifier().stream_name();
    } else if (request_.has_proposed_message()) {
      if (events_++ == 0) first_ = request_.proposed_message();
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  void Answer() {
    if (stream_.empty() || events_ == 0) {
      Finish(server::BadRequest("an append needs options and an event")
                 .Apply(rpc_));
      return;
    }
    FillSuccess(log_->Append(stream_, events_, first_),
                response_->mutable_success());
    Finish(grpc::Status::OK);
  }

  grpc::CallbackServerContext* const rpc_;
  CeilingLog* const log_;
  pb::AppendResp* const response_;
  pb::AppendReq request_;
  std::string stream_;
  uint64_t events_ = 0;
  pb::AppendReq::ProposedMessage first_;
};

// One BatchAppend: each request is answered in order, through the server's
// WriteQueue (hinted while more replies wait), as `cairn serve` answers.
class CeilingBatchAppend final
    : public grpc::ServerBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp>,
      public CeilingWrites<CeilingBatchAppend, pb::BatchAppendResp> {
 public:
  CeilingBatchAppend(grpc::CallbackServerContext* rpc, CeilingLog* log)
      : CeilingWrites(rpc), log_(log) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed: finish once the replies are written.
      std::unique_lock<std::mutex> lock(mu_);
      if (!writes_.ended()) writes_.SetFinal(server::Ok());
      StartNextLocked(lock);
      return;
    }
    if (request_.proposed_messages_size() == 0 || !request_.has_options()) {
      // The load generator sends every append in one final request.
      End(server::BadRequest("a request needs options and events"));
      return;
    }
    pb::BatchAppendResp reply;
    *reply.mutable_correlation_id() = request_.correlation_id();
    FillSuccess(
        log_->Append(request_.options().stream_identifier().stream_name(),
                     static_cast<uint64_t>(request_.proposed_messages_size()),
                     request_.proposed_messages(0)),
        reply.mutable_success());
    {
      std::unique_lock<std::mutex> lock(mu_);
      writes_.Push(std::move(reply));
      StartNextLocked(lock);
    }
    ReadNext(&request_);
  }

  void OnWriteDone(bool ok) override { WriteDone(ok); }

  void OnDone() override { delete this; }

 private:
  CeilingLog* const log_;
  pb::BatchAppendReq request_;
};

}  // namespace

grpc::ServerWriteReactor<pb::ReadResp>* CeilingStreams::Read(
    grpc::CallbackServerContext* context, const pb::ReadReq* request) {
  const auto& options = request->options();
  if (options.has_subscription()) {
    return new CeilingRead(
        context, server::Unimplemented("the gRPC ceiling server serves no "
                                       "subscriptions"));
  }
  std::shared_ptr<const CeilingEvent> event;
  uint64_t events = 0;
  if (options.has_all()) {
    events = log_->AllEvents(&event);
  } else {
    events = log_->StreamEvents(
        options.stream().stream_identifier().stream_name(), &event);
  }
  return new CeilingRead(context, std::move(event),
                         std::min<uint64_t>(options.count(), events));
}

grpc::ServerReadReactor<pb::AppendReq>* CeilingStreams::Append(
    grpc::CallbackServerContext* context, pb::AppendResp* response) {
  return new CeilingAppend(context, log_, response);
}

grpc::ServerBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp>*
CeilingStreams::BatchAppend(grpc::CallbackServerContext* context) {
  return new CeilingBatchAppend(context, log_);
}

}  // namespace cairn::bench::serve
