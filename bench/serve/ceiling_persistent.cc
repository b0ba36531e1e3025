// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_persistent.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bench/serve/ceiling_writes.h"
#include "server/rpc_error.h"

namespace cairn::bench::serve {
namespace {

using server::RpcError;
using PersistentEvent = psub::ReadResp::ReadEvent::RecordedEvent;

// One consumer: its options, then Acks. Its writes are the confirmation
// and then events, queued while fewer than its buffer size are
// unacknowledged, through the server's WriteQueue with gathering off, as
// `cairn serve`'s persistent call writes them.
class CeilingConsumer final
    : public grpc::ServerBidiReactor<psub::ReadReq, psub::ReadResp>,
      public CeilingWrites<CeilingConsumer, psub::ReadResp> {
 public:
  CeilingConsumer(grpc::CallbackServerContext* rpc, CeilingLog* log)
      : CeilingWrites(rpc), log_(log) {
    writes_.set_gather(false);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      End(server::Ok());  // the client closed its side: it unsubscribed
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (!group_) {
      if (RpcError error = SubscribeLocked(); !server::IsOk(error)) {
        lock.unlock();
        End(error);
        return;
      }
      psub::ReadResp confirmation;
      confirmation.mutable_subscription_confirmation()->set_subscription_id(
          "ceiling");
      writes_.Push(std::move(confirmation));
    } else if (request_.has_ack()) {
      const auto acked = static_cast<uint64_t>(request_.ack().ids_size());
      unacked_ = acked < unacked_ ? unacked_ - acked : 0;
    }
    QueueEventsLocked();
    StartNextLocked(lock);
    ReadNext(&request_);
  }

  void OnWriteDone(bool ok) override { WriteDone(ok); }

  void OnDone() override { delete this; }

 private:
  // Takes the options of the first request: the group and the buffer size.
  RpcError SubscribeLocked() {
    const auto& options = request_.options();
    group_ = log_->FindGroup(options.stream_identifier().stream_name(),
                             options.group_name());
    if (!group_) return {grpc::StatusCode::NOT_FOUND, "no such group", {}, {}};
    buffer_size_ = options.buffer_size() > 0
                       ? static_cast<uint64_t>(options.buffer_size())
                       : 1;
    std::shared_ptr<const CeilingEvent> event;
    events_ = log_->StreamEvents(group_->stream(), &event);
    if (event) {
      // The two wire forms have the same fields and numbers.
      PersistentEvent copy;
      copy.ParseFromString(event->SerializeAsString());
      *event_.mutable_event()->mutable_event() = copy;
    }
    return server::Ok();
  }

  // Queues the group's next events while there is room.
  void QueueEventsLocked() {
    while (unacked_ < buffer_size_ && !writes_.ended()) {
      const std::optional<uint64_t> revision = group_->Take(events_);
      if (!revision) return;
      ++unacked_;
      psub::ReadResp response = TakeSpareLocked();
      response = event_;
      PlaceEvent(*revision, response.mutable_event());
      response.mutable_event()->mutable_no_retry_count();
      writes_.Push(std::move(response));
    }
  }

  CeilingLog* const log_;
  psub::ReadReq request_;
  std::shared_ptr<CeilingGroup> group_;
  uint64_t events_ = 0;  // of the group's stream, when the consumer came
  uint64_t buffer_size_ = 1;
  uint64_t unacked_ = 0;  // events queued or written, not yet acknowledged
  psub::ReadResp event_;  // the template of every event sent
};

}  // namespace

grpc::ServerUnaryReactor* CeilingPersistent::Create(
    grpc::CallbackServerContext* context, const psub::CreateReq* request,
    psub::CreateResp* /*response*/) {
  const auto& options = request->options();
  if (!options.has_stream()) {
    return server::FinishUnary(
        context, server::Unimplemented(
                     "the gRPC ceiling server serves stream groups only"));
  }
  if (!log_->CreateGroup(options.stream().stream_identifier().stream_name(),
                         options.group_name())) {
    return server::FinishUnary(
        context,
        RpcError{grpc::StatusCode::ALREADY_EXISTS, "the group exists", {}, {}});
  }
  return server::FinishUnary(context, server::Ok());
}

grpc::ServerBidiReactor<psub::ReadReq, psub::ReadResp>* CeilingPersistent::Read(
    grpc::CallbackServerContext* context) {
  return new CeilingConsumer(context, log_);
}

}  // namespace cairn::bench::serve
