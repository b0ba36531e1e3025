// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_streams.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// Syncs `sync`, if any: the disk's part of a durable append.
std::optional<RpcError> SyncFailure(CeilingSync* sync) {
  if (sync == nullptr) return std::nullopt;
  Status s = sync->Sync();
  if (s.ok()) return std::nullopt;
  return server::FromStoreStatus(s);
}

// One Append: the options, then the events; answered when the client
// half-closes. Its events are kept for delivery when a subscriber was
// registered as it began, else only counted (the first kept as the
// stream's template).
class CeilingAppend final : public grpc::ServerReadReactor<pb::AppendReq> {
 public:
  CeilingAppend(grpc::CallbackServerContext* rpc, CeilingLog* log,
                CeilingSync* sync, pb::AppendResp* response)
      : rpc_(rpc), log_(log), sync_(sync), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Answer();
      return;
    }
    if (request_.has_options()) {
      stream_ = request_.options().stream_identifier().stream_name();
      deliver_ = log_->HasSubscribers();
    } else if (request_.has_proposed_message()) {
      if (deliver_) {
        kept_.push_back(std::move(*request_.mutable_proposed_message()));
      } else if (events_ == 0) {
        first_ = request_.proposed_message();
      }
      ++events_;
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
    if (std::optional<RpcError> failed = SyncFailure(sync_)) {
      Finish(failed->Apply(rpc_));
      return;
    }
    FillSuccess(deliver_ ? log_->AppendAndDeliver(stream_, kept_)
                         : log_->Append(stream_, events_, first_),
                response_->mutable_success());
    Finish(grpc::Status::OK);
  }

  grpc::CallbackServerContext* const rpc_;
  CeilingLog* const log_;
  CeilingSync* const sync_;
  pb::AppendResp* const response_;
  pb::AppendReq request_;
  std::string stream_;
  bool deliver_ = false;
  uint64_t events_ = 0;
  pb::AppendReq::ProposedMessage first_;
  std::vector<pb::AppendReq::ProposedMessage> kept_;
};

// One BatchAppend: each request is answered in order, through the server's
// WriteQueue (hinted while more replies wait), as `cairn serve` answers.
class CeilingBatchAppend final
    : public grpc::ServerBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp>,
      public CeilingWrites<CeilingBatchAppend, pb::BatchAppendResp> {
 public:
  CeilingBatchAppend(grpc::CallbackServerContext* rpc, CeilingLog* log,
                     CeilingSync* sync)
      : CeilingWrites(rpc), log_(log), sync_(sync) {
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
    if (std::optional<RpcError> failed = SyncFailure(sync_)) {
      End(*failed);
      return;
    }
    pb::BatchAppendResp reply;
    *reply.mutable_correlation_id() = request_.correlation_id();
    const std::string& stream =
        request_.options().stream_identifier().stream_name();
    FillSuccess(
        log_->HasSubscribers()
            ? log_->AppendAndDeliver(stream, request_.proposed_messages())
            : log_->Append(
                  stream,
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
  CeilingSync* const sync_;
  pb::BatchAppendReq request_;
};

// A subscription to $all from its end: the confirmation and the caught-up
// message, then each event appended while it is registered with the log,
// each written at once (as `cairn serve` writes live events). A client that
// lets kMaxQueued responses pile up is ended with RESOURCE_EXHAUSTED, as
// the server ends a stalled subscriber.
class CeilingSubscription final
    : public grpc::ServerWriteReactor<pb::ReadResp>,
      public CeilingWrites<CeilingSubscription, pb::ReadResp>,
      public CeilingSubscriber {
 public:
  static constexpr size_t kMaxQueued = 512;  // cairn serve's default

  CeilingSubscription(grpc::CallbackServerContext* rpc, CeilingLog* log)
      : CeilingWrites(rpc), log_(log) {
    pb::ReadResp confirmation;
    confirmation.mutable_confirmation()->set_subscription_id(
        "ceiling-subscription");
    pb::ReadResp caught_up;
    caught_up.mutable_caught_up();
    std::unique_lock<std::mutex> lock(mu_);
    writes_.Push(std::move(confirmation));
    writes_.Push(std::move(caught_up));
    writes_.set_gather(false);
    log_->AddSubscriber(this);
    StartNextLocked(lock);
  }

  void Deliver(const CeilingEvent& event, uint64_t revision,
               uint64_t position) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (writes_.ended()) return;
    if (writes_.size() >= kMaxQueued) {
      lock.unlock();
      End(RpcError{grpc::StatusCode::RESOURCE_EXHAUSTED,
                   "the subscriber fell behind the ceiling's buffer",
                   {},
                   std::nullopt});
      return;
    }
    pb::ReadResp response = TakeSpareLocked();
    auto* read = response.mutable_event();
    *read->mutable_event() = event;
    read->mutable_event()->set_stream_revision(revision);
    read->mutable_event()->set_prepare_position(position);
    read->mutable_event()->set_commit_position(position);
    read->set_commit_position(position);
    writes_.Push(std::move(response));
    StartNextLocked(lock);
  }

  void OnWriteDone(bool ok) override { WriteDone(ok); }
  void OnCancel() override { End(server::Cancelled("the client left")); }
  void OnDone() override {
    log_->RemoveSubscriber(this);
    delete this;
  }

 private:
  CeilingLog* const log_;
};

}  // namespace

grpc::ServerWriteReactor<pb::ReadResp>* CeilingStreams::Read(
    grpc::CallbackServerContext* context, const pb::ReadReq* request) {
  const auto& options = request->options();
  if (options.has_subscription()) {
    if (!options.has_all() || !options.all().has_end()) {
      return new CeilingRead(
          context, server::Unimplemented("the gRPC ceiling server serves "
                                         "subscriptions to $all from its end "
                                         "only"));
    }
    return new CeilingSubscription(context, log_);
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
  return new CeilingAppend(context, log_, sync_, response);
}

grpc::ServerBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp>*
CeilingStreams::BatchAppend(grpc::CallbackServerContext* context) {
  return new CeilingBatchAppend(context, log_, sync_);
}

}  // namespace cairn::bench::serve
