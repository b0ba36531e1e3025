// Copyright (c) Cairn authors.
#include "server/read_call.h"

#include <algorithm>
#include <utility>

#include "cairn/store.h"
#include "server/convert.h"
#include "server/link_events.h"
#include "server/system_streams.h"

namespace cairn::server {

using event_store::client::streams::ReadReq;
using event_store::client::streams::ReadResp;

class ReadCall::Listener final : public SubscriptionHandler {
 public:
  explicit Listener(ReadCall* call) : call_(call) {}
  void OnEvent(const RecordedEventView& event) override {
    call_->OnSubscribedEvent(event);
  }
  void OnCaughtUp(GlobalPosition position) override {
    call_->OnSubscriptionCaughtUp(position, true);
  }
  void OnFellBehind(GlobalPosition position) override {
    call_->OnSubscriptionCaughtUp(position, false);
  }
  void OnStopped(const Status& status) override {
    call_->OnSubscriptionStopped(status);
  }

 private:
  ReadCall* call_;  // outlives the subscription: OnDone stops it first
};

ReadCall::ReadCall(const CallContext& context, ReadRegistry* registry,
                   grpc::CallbackServerContext* rpc, const ReadReq* request)
    : context_(context),
      registry_(registry),
      rpc_(rpc),
      ticket_(context, *rpc) {
  if (!ticket_.held()) {
    End(ticket_.refusal());
    return;
  }
  std::variant<ReadPlan, RpcError> parsed = ParseReadRequest(*request);
  if (auto* error = std::get_if<RpcError>(&parsed)) {
    End(*error);
    return;
  }
  plan_ = std::move(std::get<ReadPlan>(parsed));
  if (RpcError denied =
          ticket_.Check(plan_.all ? "$all" : plan_.stream, StreamRight::kRead);
      denied.code != grpc::StatusCode::OK) {
    End(denied);
    return;
  }
  registered_ = registry_->Add(this);
  if (!registered_) {
    End(ShuttingDown());
    return;
  }
  if (plan_.subscription) {
    StartSubscription();
    return;
  }
  remaining_ = plan_.count;
  Kick();
}

void ReadCall::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    writes_.WriteDone();
  }
  // A failed write ends the call; Kick then finishes it, also when an
  // earlier End waited for this write.
  if (!ok) End(Cancelled("the client went away"));
  Kick();
}

void ReadCall::OnCancel() { End(Cancelled("Read cancelled")); }

void ReadCall::OnDone() {
  std::unique_ptr<Subscription> subscription;
  {
    std::lock_guard lock(mu_);
    subscription = std::move(subscription_);
  }
  // Returns after the listener's last call; Push no longer waits, as the
  // call has finished.
  if (subscription) subscription->Stop();
  if (registered_) registry_->Remove(this);
  delete this;
}

void ReadCall::End(const RpcError& error) {
  std::unique_lock lock(mu_);
  std::optional<RpcError> now = writes_.End(error);
  room_.notify_all();
  lock.unlock();
  // Only the thread that ended the queue touches the trailers.
  if (now) Finish(now->Apply(rpc_));
}

void ReadCall::StartNextLocked(std::unique_lock<std::mutex>& lock) {
  WriteQueue<ReadResp>::Step step = writes_.Next();
  if (step.write != nullptr) room_.notify_all();
  // The response written last is kept for a later event, unless it is
  // large (its strings keep their size).
  if (step.written && spare_.size() < context_.limits.read_page_events &&
      step.written->GetCachedSize() <= kMaxSpareBytes) {
    spare_.push_back(std::move(*step.written));
  }
  lock.unlock();
  WriteQueue<ReadResp>::Carry(this, rpc_, step);
}

ReadResp ReadCall::TakeSpare() {
  std::lock_guard lock(mu_);
  if (spare_.empty()) return ReadResp();
  ReadResp response = std::move(spare_.back());
  spare_.pop_back();
  return response;
}

void ReadCall::Kick() {
  std::unique_lock lock(mu_);
  // A filtered page may match nothing: read on until there is something
  // to send or the read is done.
  while (!plan_.subscription && !writes_.writing() && !writes_.ended() &&
         writes_.size() == 0 && !writes_.has_final()) {
    lock.unlock();
    FillPage();
    lock.lock();
  }
  StartNextLocked(lock);
}

uint64_t ReadCall::Enqueue(ReadResp response) {
  std::lock_guard lock(mu_);
  writes_.Push(std::move(response));
  return writes_.bytes();
}

void ReadCall::EnqueueStreamNotFound() {
  ReadResp response;
  response.mutable_stream_not_found()
      ->mutable_stream_identifier()
      ->set_stream_name(plan_.stream);
  Enqueue(std::move(response));
}

void ReadCall::SetFinal(RpcError error) {
  std::lock_guard lock(mu_);
  writes_.SetFinal(std::move(error));
}

void ReadCall::FillPage() {
  if (remaining_ == 0) {
    SetFinal(Ok());
    return;
  }
  if (plan_.all) {
    FillAllPage();
  } else {
    FillStreamPage();
  }
  first_page_ = false;
}

void ReadCall::FillStreamPage() {
  const bool forward = plan_.direction == Direction::kForward;
  if (first_page_) {
    switch (plan_.start) {
      case ReadPlan::Start::kStart:
        next_ = 0;
        break;
      case ReadPlan::Start::kEnd:
        if (forward) {
          // Nothing follows the end; the stream must still be readable
          // (not missing, soft-deleted or tombstoned).
          ReadStreamOptions newest;
          newest.direction = Direction::kBackward;
          newest.max_count = 1;
          Result<ReadStreamResult> probe =
              context_.store->ReadStream(plan_.stream, newest);
          if (!probe.ok()) {
            if (probe.status().IsNotFound()) {
              EnqueueStreamNotFound();
            } else {
              SetFinal(FromStoreStatus(probe.status(), plan_.stream));
              return;
            }
          }
          SetFinal(Ok());
          return;
        }
        next_.reset();
        break;
      case ReadPlan::Start::kPoint:
        next_ = plan_.point;
        break;
    }
  }
  ReadStreamOptions options;
  options.direction = plan_.direction;
  if (next_) options.from = StreamRevision(*next_);
  options.max_count =
      std::min<uint64_t>(remaining_, context_.limits.read_page_events);
  options.max_bytes = context_.limits.read_buffer_bytes;
  Result<ReadStreamResult> result =
      context_.store->ReadStream(plan_.stream, options);
  if (!result.ok()) {
    if (result.status().IsNotFound()) {
      if (first_page_) {
        EnqueueStreamNotFound();
      }
      SetFinal(Ok());
      return;
    }
    SetFinal(FromStoreStatus(result.status(), plan_.stream));
    return;
  }
  const std::vector<RecordedEvent>& events = result.value().events;
  for (const RecordedEvent& event : events) {
    ReadResp response = TakeSpare();
    EventToResponse(event.View(), &response);
    Enqueue(std::move(response));
    --remaining_;
  }
  if (events.empty() || result.value().end_of_stream || remaining_ == 0) {
    SetFinal(Ok());
    return;
  }
  const uint64_t last = RevisionInStream(events.back().View());
  if (!forward && last == 0) {
    SetFinal(Ok());
    return;
  }
  next_ = forward ? last + 1 : last - 1;
}

void ReadCall::FillAllPage() {
  const bool forward = plan_.direction == Direction::kForward;
  if (first_page_) {
    switch (plan_.start) {
      case ReadPlan::Start::kStart:
        if (!forward) {
          SetFinal(Ok());
          return;
        }
        next_ = 0;
        break;
      case ReadPlan::Start::kEnd:
        if (forward) {
          SetFinal(Ok());
          return;
        }
        next_.reset();
        break;
      case ReadPlan::Start::kPoint:
        if (forward) {
          next_ = plan_.point;
          break;
        }
        // Backwards from a position means the events before it.
        if (plan_.point == 0) {
          SetFinal(Ok());
          return;
        }
        next_ = plan_.point - 1;
        {
          Result<StoreStats> stats = context_.store->GetStats();
          if (!stats.ok()) {
            SetFinal(FromStoreStatus(stats.status()));
            return;
          }
          if (*next_ >= stats.value().events) next_.reset();
        }
        break;
    }
  }
  ReadAllOptions options;
  options.direction = plan_.direction;
  if (next_) options.from = GlobalPosition(*next_);
  options.max_count = context_.limits.read_page_examined;
  uint32_t matched = 0;
  // What the queue holds: a page is read only once the one before it went.
  uint64_t page_bytes = 0;
  bool stopped = false;
  std::optional<uint64_t> last;
  Result<std::optional<GlobalPosition>> result =
      context_.store->VisitAll(options, [&](const RecordedEventView& event) {
        last = event.position.value();
        if (!plan_.filter || plan_.filter->Matches(event)) {
          ReadResp response = TakeSpare();
          EventToResponse(event, &response);
          page_bytes = Enqueue(std::move(response));
          ++matched;
          --remaining_;
        }
        if (remaining_ == 0 || matched >= context_.limits.read_page_events ||
            page_bytes >= context_.limits.read_buffer_bytes) {
          stopped = true;
          return false;
        }
        return true;
      });
  if (!result.ok()) {
    SetFinal(FromStoreStatus(result.status()));
    return;
  }
  if (remaining_ == 0) {
    SetFinal(Ok());
    return;
  }
  if (stopped) {
    if (!forward && *last == 0) {
      SetFinal(Ok());
      return;
    }
    next_ = forward ? *last + 1 : *last - 1;
    return;
  }
  if (!result.value()) {
    SetFinal(Ok());
    return;
  }
  next_ = result.value()->value();
}

void ReadCall::EventToResponse(const RecordedEventView& event, ReadResp* out) {
  ReadEventToProto(*context_.store, plan_.stream, plan_.resolve_links,
                   plan_.uuid, event, out->mutable_event());
}

uint64_t ReadCall::RevisionInStream(const RecordedEventView& event) {
  return event.link_revision ? event.link_revision->value()
                             : event.revision.value();
}

void ReadCall::StartSubscription() {
  ReadResp confirmation;
  confirmation.mutable_confirmation()->set_subscription_id(
      EventId::Generate().ToString());
  Enqueue(std::move(confirmation));

  SubscriptionOptions options;
  options.checkpoint_interval = 0;  // filters run here, so do checkpoints
  if (!plan_.all) {
    options.stream = plan_.stream;
    switch (plan_.start) {
      case ReadPlan::Start::kStart:
        options.from_revision = StreamRevision(0);
        break;
      case ReadPlan::Start::kPoint:
        // Subscriptions start after the given revision.
        options.from_revision = StreamRevision(plan_.point + 1);
        last_revision_ = plan_.point;
        break;
      case ReadPlan::Start::kEnd: {
        Result<std::optional<StreamRevision>> revision =
            context_.store->GetStreamRevision(plan_.stream);
        if (!revision.ok()) {
          End(FromStoreStatus(revision.status(), plan_.stream));
          return;
        }
        if (revision.value()) {
          options.from_revision = StreamRevision(revision.value()->value() + 1);
          last_revision_ = revision.value()->value();
        }
        break;
      }
    }
  } else {
    switch (plan_.start) {
      case ReadPlan::Start::kStart:
        break;
      case ReadPlan::Start::kPoint:
        options.from_position = GlobalPosition(plan_.point + 1);
        break;
      case ReadPlan::Start::kEnd:
        options.from_end = true;
        break;
    }
  }
  Result<std::unique_ptr<Subscription>> subscription =
      context_.store->Subscribe(options, std::make_shared<Listener>(this));
  if (!subscription.ok()) {
    End(FromStoreStatus(subscription.status(), plan_.stream));
    return;
  }
  {
    std::lock_guard lock(mu_);
    subscription_ = std::move(subscription.value());
  }
  Kick();
}

bool ReadCall::Push(ReadResp response) {
  std::unique_lock lock(mu_);
  // Full at read_buffer_messages responses or read_buffer_bytes bytes; an
  // empty queue takes one response of any size.
  auto full = [&] {
    return writes_.size() >= context_.limits.read_buffer_messages ||
           (writes_.size() > 0 &&
            writes_.bytes() >= context_.limits.read_buffer_bytes);
  };
  while (!writes_.ended() && full()) {
    if (room_.wait_for(lock, context_.limits.subscriber_stall_timeout) ==
            std::cv_status::timeout &&
        !writes_.ended() && full()) {
      const std::string message =
          "subscription dropped: the client read nothing while " +
          std::to_string(writes_.size()) + " responses (" +
          std::to_string(writes_.bytes()) + " bytes) were buffered for it";
      writes_.Abandon();
      room_.notify_all();
      lock.unlock();
      // OnDone stops this subscription (waiting for this call to return)
      // before it deletes the call, so the members stay valid here.
      if (context_.log) context_.log(rpc_->peer() + ": " + message);
      Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, message));
      return false;
    }
  }
  if (writes_.ended()) return false;
  writes_.Push(std::move(response));
  StartNextLocked(lock);
  return true;
}

ReadResp ReadCall::Checkpoint(uint64_t position) {
  ReadResp response;
  ReadResp::Checkpoint* checkpoint = response.mutable_checkpoint();
  checkpoint->set_commit_position(position);
  checkpoint->set_prepare_position(position);
  NowToTimestamp(checkpoint->mutable_timestamp());
  return response;
}

void ReadCall::OnSubscribedEvent(const RecordedEventView& event) {
  // A live subscription of a principal the ACLs restrict checks its read
  // right again for each event, so that a changed `$acl` or `$settings`
  // ends it (catch-up was checked when the call started).
  if (live_ && !ticket_.principal().IsAdmin()) {
    RpcError denied =
        ticket_.Check(plan_.all ? "$all" : plan_.stream, StreamRight::kRead);
    if (denied.code != grpc::StatusCode::OK) {
      End(denied);
      return;
    }
  }
  ++examined_;
  if (!plan_.all) last_revision_ = RevisionInStream(event);
  if (!plan_.filter || plan_.filter->Matches(event)) {
    ReadResp response = TakeSpare();
    EventToResponse(event, &response);
    if (!Push(std::move(response))) return;
  }
  if (plan_.filter && plan_.checkpoint_interval != 0 &&
      examined_ % plan_.checkpoint_interval == 0) {
    Push(Checkpoint(event.position.value()));
  }
}

void ReadCall::OnSubscriptionCaughtUp(GlobalPosition position, bool caught_up) {
  live_ = caught_up;
  {
    // Catching up, responses are gathered into socket writes; live, each
    // event goes out at once (WriteQueue).
    std::lock_guard lock(mu_);
    writes_.set_gather(!caught_up);
  }
  ReadResp response;
  google::protobuf::Timestamp* timestamp;
  auto fill = [&](auto* message) {
    timestamp = message->mutable_timestamp();
    if (!plan_.all) {
      if (last_revision_) {
        message->set_stream_revision(static_cast<int64_t>(*last_revision_));
      }
    } else if (position.value() > 0) {
      message->mutable_position()->set_commit_position(position.value() - 1);
      message->mutable_position()->set_prepare_position(position.value() - 1);
    }
  };
  if (caught_up) {
    fill(response.mutable_caught_up());
  } else {
    fill(response.mutable_fell_behind());
  }
  NowToTimestamp(timestamp);
  // Everything before `position` was examined: a filtered subscription's
  // client may resume from its last event.
  if (caught_up && plan_.filter && position.value() > 0) {
    if (!Push(Checkpoint(position.value() - 1))) return;
  }
  Push(std::move(response));
}

void ReadCall::OnSubscriptionStopped(const Status& status) {
  if (status.ok()) return;  // stopped by OnDone
  End(FromStoreStatus(status, plan_.all ? std::string_view() : plan_.stream));
}

}  // namespace cairn::server
