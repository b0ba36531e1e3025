// Copyright (c) Cairn authors.
#include "bench/serve/calls.h"

#include <cstdio>
#include <memory>
#include <utility>

#include "bench/serve/load_events.h"
#include "shared.pb.h"

namespace cairn::bench::serve {
namespace {

class AppendCall : public grpc::ClientWriteReactor<pb::AppendReq> {
 public:
  AppendCall(pb::Streams::Stub* stub, const std::string& stream, int events,
             int64_t sent_ns, size_t event_size, Completion done)
      : done_(std::move(done)) {
    requests_.resize(static_cast<size_t>(events) + 1);
    auto* options = requests_[0].mutable_options();
    options->mutable_stream_identifier()->set_stream_name(stream);
    options->mutable_any();
    for (size_t i = 1; i < requests_.size(); ++i) {
      FillEvent(requests_[i].mutable_proposed_message(), sent_ns, event_size,
                Rng());
    }
    stub->async()->Append(&context_, &response_, this);
    StartWrite(&requests_[0]);
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return;  // OnDone reports the failure.
    if (++next_ < requests_.size()) {
      StartWrite(&requests_[next_]);
    } else {
      StartWritesDone();
    }
  }

  void OnDone(const grpc::Status& status) override {
    std::string error;
    if (!status.ok()) {
      error = "Append: " + status.error_message();
    } else if (!response_.has_success()) {
      error = "Append: wrong expected version";
    }
    // Freed before the completion runs: the last completion lets the caller
    // drop its channel, and the context holds a reference to it. Were the
    // context freed after, the channel could die here, on gRPC's own
    // callback thread, whose completion queue its destructor shuts down
    // and frees (gRPC 1.51: a double free on that thread).
    Completion done = std::move(done_);
    delete this;
    done(error);
  }

 private:
  grpc::ClientContext context_;
  std::vector<pb::AppendReq> requests_;
  size_t next_ = 0;
  pb::AppendResp response_;
  Completion done_;
};

// Correlation ids are UUIDs counting up, in the string form the server
// echoes back unchanged.
std::string CorrelationId(uint64_t n) {
  char text[37];
  (void)std::snprintf(text, sizeof(text), "00000000-0000-4000-8000-%012llx",
                      static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return std::string(text, 36);
}

pb::ReadReq BaseRequest() {
  pb::ReadReq request;
  auto* options = request.mutable_options();
  options->set_read_direction(pb::ReadReq::Options::Forwards);
  options->mutable_uuid_option()->mutable_string();
  options->mutable_no_filter();
  return request;
}

}  // namespace

void StartAppend(pb::Streams::Stub* stub, const std::string& stream, int events,
                 int64_t sent_ns, size_t event_size, Completion done) {
  new AppendCall(stub, stream, events, sent_ns, event_size, std::move(done));
}

BatchAppendSession::BatchAppendSession(pb::Streams::Stub* stub) {
  stub->async()->BatchAppend(&context_, this);
  // Append and Close start operations from outside the reactions: the
  // hold keeps the call from finishing under them (gRPC frees its state
  // once no operation is outstanding) until Close.
  AddHold();
  StartRead(&response_);
  StartCall();
}

void BatchAppendSession::Append(const std::string& stream, int events,
                                int64_t sent_ns, size_t event_size,
                                Completion done) {
  pb::BatchAppendReq request;
  auto* options = request.mutable_options();
  options->mutable_stream_identifier()->set_stream_name(stream);
  options->mutable_any();
  for (int i = 0; i < events; ++i) {
    FillEvent(request.add_proposed_messages(), sent_ns, event_size, Rng());
  }
  request.set_is_final(true);
  const pb::BatchAppendReq* write = nullptr;
  // Set if the call has ended: completed outside the lock.
  Completion refused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) {
      refused = std::move(done);
    } else {
      const std::string id = CorrelationId(next_correlation_++);
      request.mutable_correlation_id()->set_string(id);
      waiting_.emplace(id, std::move(done));
      writes_.push_back(std::move(request));
      if (!writing_) {
        writing_ = true;
        write = &writes_.front();
      }
    }
  }
  if (refused) {
    refused(kCallEnded);
    return;
  }
  // Outside the lock: gRPC may run reactions on this thread. A deque's
  // elements stay where they are while others are added.
  if (write != nullptr) StartWrite(write);
}

void BatchAppendSession::OnWriteDone(bool ok) {
  if (!ok) return;  // OnDone fails whatever is waiting.
  const pb::BatchAppendReq* write = nullptr;
  bool writes_done = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writes_.pop_front();
    if (!writes_.empty()) {
      write = &writes_.front();
    } else {
      writing_ = false;
      writes_done = writes_done_;
    }
  }
  if (write != nullptr) {
    StartWrite(write);
  } else if (writes_done) {
    StartWritesDone();
  }
}

void BatchAppendSession::FailWaiting() {
  std::unordered_map<std::string, Completion> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    waiting.swap(waiting_);
  }
  for (auto& [id, done] : waiting) done(kCallEnded);
}

void BatchAppendSession::OnReadDone(bool ok) {
  if (!ok) {
    // The call ended. Its appends fail here, not in OnDone, which the hold
    // defers until Close: the caller learns they ended before it closes.
    FailWaiting();
    return;
  }
  Completion done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waiting_.find(response_.correlation_id().string());
    if (it != waiting_.end()) {
      done = std::move(it->second);
      waiting_.erase(it);
    }
  }
  std::string error;
  if (!done) {
    error = "BatchAppend: an answer for an unknown correlation id";
  } else if (!response_.has_success()) {
    error = "BatchAppend: " + response_.error().message();
    // A bad request names what was wrong in its detail.
    event_store::client::BadRequest detail;
    if (response_.error().details().UnpackTo(&detail)) {
      error += ": " + detail.message();
    }
  }
  StartRead(&response_);
  if (done) done(error);
}

void BatchAppendSession::OnDone(const grpc::Status& status) {
  FailWaiting();  // none are left once the read failed
  // Close() may destroy the session as soon as it sees done_.
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  done_ = true;
  done_cv_.notify_all();
}

grpc::Status BatchAppendSession::Close() {
  bool writes_done = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ended_ && !writes_done_) {
      writes_done_ = true;
      writes_done = !writing_;
    }
  }
  if (writes_done) StartWritesDone();
  // No operation starts from outside the reactions after this.
  RemoveHold();
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return done_; });
  return status_;
}

ReadCall::ReadCall(pb::Streams::Stub* stub, const pb::ReadReq& request,
                   OnResponse on_response)
    : on_response_(std::move(on_response)) {
  stub->async()->Read(&context_, &request, this);
  StartRead(&response_);
  StartCall();
}

void ReadCall::OnReadDone(bool ok) {
  if (!ok) return;
  on_response_(response_);
  StartRead(&response_);
}

void ReadCall::OnDone(const grpc::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  done_ = true;
  done_cv_.notify_all();
}

grpc::Status ReadCall::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return done_; });
  return status_;
}

grpc::Status ReadWhole(pb::Streams::Stub* stub, const pb::ReadReq& request,
                       uint64_t* events) {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<pb::ReadResp>> reader =
      stub->Read(&context, request);
  pb::ReadResp response;
  while (reader->Read(&response)) {
    if (response.has_event()) ++*events;
  }
  return reader->Finish();
}

pb::ReadReq ReadStreamRequest(const std::string& stream, uint64_t count) {
  pb::ReadReq request = BaseRequest();
  auto* stream_options = request.mutable_options()->mutable_stream();
  stream_options->mutable_stream_identifier()->set_stream_name(stream);
  stream_options->mutable_start();
  request.mutable_options()->set_count(count);
  return request;
}

pb::ReadReq ReadAllRequest(uint64_t count) {
  pb::ReadReq request = BaseRequest();
  request.mutable_options()->mutable_all()->mutable_start();
  request.mutable_options()->set_count(count);
  return request;
}

pb::ReadReq SubscribeAllRequest() {
  pb::ReadReq request = BaseRequest();
  request.mutable_options()->mutable_all()->mutable_end();
  request.mutable_options()->mutable_subscription();
  return request;
}

}  // namespace cairn::bench::serve
