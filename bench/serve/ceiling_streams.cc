// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_streams.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cairn::bench::serve {
namespace {

// Events per page of a read, as `cairn serve` reads them (its
// read_page_events).
constexpr uint64_t kPageEvents = 128;

// As `cairn serve` writes a read (server/buffer_hint.h): a response goes
// with the buffer hint when more are queued behind it, so the last of each
// page flushes, and so does the call's first, which carries the initial
// metadata. Hinting every response up to the last stalls the call each
// time the transport's write buffer fills, until something else makes it
// write.
grpc::WriteOptions HintUnlessFirstOrEndOfPage(uint64_t index, uint64_t count) {
  grpc::WriteOptions options;
  if (index > 0 && index + 1 < count && (index + 1) % kPageEvents != 0) {
    options.set_buffer_hint();
  }
  return options;
}

// A whole read: `count` copies of `event`, revisions and positions counting
// up, built a page at a time and written one at a time.
class CeilingRead final : public grpc::ServerWriteReactor<pb::ReadResp> {
 public:
  // A call refused with `status` at once.
  explicit CeilingRead(const grpc::Status& status) : count_(0) {
    Finish(status);
  }

  CeilingRead(std::shared_ptr<const CeilingEvent> event, uint64_t count)
      : event_(std::move(event)), count_(count) {
    if (count_ == 0) {
      Finish(grpc::Status::OK);
      return;
    }
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client left"));
      return;
    }
    if (++sent_ == count_) {
      Finish(grpc::Status::OK);
    } else {
      WriteNext();
    }
  }

  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    // A page is built whole before its first write, as the server reads a
    // page of events before it writes them.
    if (sent_ % kPageEvents == 0) {
      const uint64_t end = std::min(count_, sent_ + kPageEvents);
      page_.resize(end - sent_);
      for (uint64_t i = sent_; i < end; ++i) {
        pb::ReadResp& response = page_[i - sent_];
        auto* read = response.mutable_event();
        auto* event = read->mutable_event();
        *event = *event_;
        event->set_stream_revision(i);
        // Positions as the server's: distinct and growing.
        const uint64_t position = (i + 1) * 256;
        event->set_prepare_position(position);
        event->set_commit_position(position);
        read->set_commit_position(position);
      }
    }
    StartWrite(&page_[sent_ % kPageEvents],
               HintUnlessFirstOrEndOfPage(sent_, count_));
  }

  const std::shared_ptr<const CeilingEvent> event_;
  const uint64_t count_;
  uint64_t sent_ = 0;
  std::vector<pb::ReadResp> page_;  // the page being written
};

// One Append: the options, then the events; answered when the client
// half-closes.
class CeilingAppend final : public grpc::ServerReadReactor<pb::AppendReq> {
 public:
  CeilingAppend(CeilingLog* log, pb::AppendResp* response)
      : log_(log), response_(response) {
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
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "an append needs options and an event"));
      return;
    }
    const CeilingAppended at = log_->Append(stream_, events_, first_);
    auto* success = response_->mutable_success();
    success->set_current_revision(at.revision);
    success->mutable_position()->set_commit_position(at.position);
    success->mutable_position()->set_prepare_position(at.position);
    Finish(grpc::Status::OK);
  }

  CeilingLog* const log_;
  pb::AppendResp* const response_;
  pb::AppendReq request_;
  std::string stream_;
  uint64_t events_ = 0;
  pb::AppendReq::ProposedMessage first_;
};

// One BatchAppend: each final request is answered in order; answers are
// written one at a time, hinted while more wait, as `cairn serve` does.
class CeilingBatchAppend final
    : public grpc::ServerBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp> {
 public:
  explicit CeilingBatchAppend(CeilingLog* log) : log_(log) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (!ok) {
      EndLocked(grpc::Status::OK);
      return;
    }
    if (request_.proposed_messages_size() == 0 || !request_.has_options()) {
      // The load generator sends every append in one final request.
      EndLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "a request needs options and events"));
      return;
    }
    const CeilingAppended at =
        log_->Append(request_.options().stream_identifier().stream_name(),
                     static_cast<uint64_t>(request_.proposed_messages_size()),
                     request_.proposed_messages(0));
    pb::BatchAppendResp& reply = replies_.emplace_back();
    *reply.mutable_correlation_id() = request_.correlation_id();
    auto* success = reply.mutable_success();
    success->set_current_revision(at.revision);
    success->mutable_position()->set_commit_position(at.position);
    success->mutable_position()->set_prepare_position(at.position);
    if (!writing_) WriteFrontLocked();
    lock.unlock();
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.pop_front();
    writing_ = false;
    if (!ok) {
      EndLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client left"));
    } else if (!replies_.empty()) {
      WriteFrontLocked();
    } else if (end_) {
      EndLocked(*end_);
    }
  }

  void OnDone() override { delete this; }

 private:
  void WriteFrontLocked() {
    writing_ = true;
    grpc::WriteOptions options;
    if (started_ && replies_.size() > 1) options.set_buffer_hint();
    started_ = true;
    StartWrite(&replies_.front(), options);
  }

  // The call ends with `status` once its replies are written (at once if
  // none is under way); the first status to end it counts.
  void EndLocked(const grpc::Status& status) {
    if (!end_) end_ = status;
    if (writing_ || finished_) return;
    finished_ = true;
    Finish(*end_);
  }

  CeilingLog* const log_;
  pb::BatchAppendReq request_;
  std::mutex mu_;
  std::deque<pb::BatchAppendResp> replies_;  // front() is being written
  bool writing_ = false;
  bool started_ = false;             // the first reply (with the metadata) went
  std::optional<grpc::Status> end_;  // the reads ended: how the call ends
  bool finished_ = false;
};

}  // namespace

grpc::ServerWriteReactor<pb::ReadResp>* CeilingStreams::Read(
    grpc::CallbackServerContext* /*context*/, const pb::ReadReq* request) {
  const auto& options = request->options();
  if (options.has_subscription()) {
    return new CeilingRead(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     "the gRPC ceiling server serves no subscriptions"));
  }
  std::shared_ptr<const CeilingEvent> event;
  uint64_t events = 0;
  if (options.has_all()) {
    events = log_->AllEvents(&event);
  } else {
    events = log_->StreamEvents(
        options.stream().stream_identifier().stream_name(), &event);
  }
  const uint64_t count = options.count() < events ? options.count() : events;
  return new CeilingRead(std::move(event), count);
}

grpc::ServerReadReactor<pb::AppendReq>* CeilingStreams::Append(
    grpc::CallbackServerContext* /*context*/, pb::AppendResp* response) {
  return new CeilingAppend(log_, response);
}

grpc::ServerBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp>*
CeilingStreams::BatchAppend(grpc::CallbackServerContext* /*context*/) {
  return new CeilingBatchAppend(log_);
}

}  // namespace cairn::bench::serve
