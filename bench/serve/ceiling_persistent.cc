// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_persistent.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace cairn::bench::serve {
namespace {

using PersistentEvent = psub::ReadResp::ReadEvent::RecordedEvent;

// One consumer: its options, then Acks; the writes are the confirmation and
// then events, one at a time, while fewer than the buffer size are
// unacknowledged.
class CeilingConsumer final
    : public grpc::ServerBidiReactor<psub::ReadReq, psub::ReadResp> {
 public:
  explicit CeilingConsumer(CeilingLog* log) : log_(log) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (!ok) {
      EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client left"));
      return;
    }
    if (!group_) {
      if (!Subscribe()) return;
      response_.mutable_subscription_confirmation()->set_subscription_id(
          "ceiling");
      writing_ = true;
      StartWrite(&response_);
    } else if (request_.has_ack()) {
      const auto acked = static_cast<uint64_t>(request_.ack().ids_size());
      unacked_ = acked < unacked_ ? unacked_ - acked : 0;
      if (!writing_) WriteNextLocked();
    }
    lock.unlock();
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client left"));
    } else if (end_) {
      EndLocked(*end_);
    } else {
      WriteNextLocked();
    }
  }

  void OnDone() override { delete this; }

 private:
  // Takes the options of the first request; false (and the call ends) if
  // they name no group.
  bool Subscribe() {
    const auto& options = request_.options();
    group_ = log_->FindGroup(options.stream_identifier().stream_name(),
                             options.group_name());
    if (!group_) {
      EndLocked(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such group"));
      return false;
    }
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
    return true;
  }

  // Writes the group's next event if there is room and one is left.
  void WriteNextLocked() {
    if (unacked_ >= buffer_size_) return;
    const std::optional<uint64_t> revision = group_->Take(events_);
    if (!revision) return;
    ++unacked_;
    response_ = event_;
    auto* read = response_.mutable_event();
    auto* event = read->mutable_event();
    event->set_stream_revision(*revision);
    const uint64_t position = (*revision + 1) * 256;
    event->set_prepare_position(position);
    event->set_commit_position(position);
    read->set_commit_position(position);
    read->mutable_no_retry_count();
    writing_ = true;
    StartWrite(&response_);
  }

  void EndLocked(const grpc::Status& status) {
    if (!end_) end_ = status;
    if (writing_ || finished_) return;
    finished_ = true;
    Finish(*end_);
  }

  CeilingLog* const log_;
  psub::ReadReq request_;
  std::mutex mu_;
  std::shared_ptr<CeilingGroup> group_;
  uint64_t events_ = 0;  // of the group's stream, when the consumer came
  uint64_t buffer_size_ = 1;
  uint64_t unacked_ = 0;
  psub::ReadResp event_;     // the template of every event sent
  psub::ReadResp response_;  // being written when writing_
  bool writing_ = false;
  std::optional<grpc::Status> end_;
  bool finished_ = false;
};

}  // namespace

grpc::ServerUnaryReactor* CeilingPersistent::Create(
    grpc::CallbackServerContext* context, const psub::CreateReq* request,
    psub::CreateResp* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto& options = request->options();
  if (!options.has_stream()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 "the gRPC ceiling server serves stream "
                                 "groups only"));
  } else if (!log_->CreateGroup(
                 options.stream().stream_identifier().stream_name(),
                 options.group_name())) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "the group exists"));
  } else {
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerBidiReactor<psub::ReadReq, psub::ReadResp>* CeilingPersistent::Read(
    grpc::CallbackServerContext* /*context*/) {
  return new CeilingConsumer(log_);
}

}  // namespace cairn::bench::serve
