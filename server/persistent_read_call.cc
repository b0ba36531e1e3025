// Copyright (c) Cairn authors.
#include "server/persistent_read_call.h"

#include <pthread.h>

#include <string>
#include <utility>

#include "server/link_events.h"
#include "server/persistent_errors.h"
#include "server/persistent_settings.h"

namespace cairn::server {

namespace persistent = event_store::client::persistent_subscriptions;

namespace {

// How long the receiving thread waits for events before it looks whether
// the call ended.
constexpr std::chrono::milliseconds kReceiveWait{100};
// A nack's reason goes into the parked link's metadata.
constexpr size_t kMaxReasonBytes = 4096;

NackAction ActionOf(persistent::ReadReq::Nack::Action action) {
  switch (action) {
    case persistent::ReadReq::Nack::Park:
      return NackAction::kPark;
    case persistent::ReadReq::Nack::Skip:
      return NackAction::kSkip;
    case persistent::ReadReq::Nack::Stop:
      return NackAction::kStop;
    default:  // Unknown and Retry, as KurrentDB handles them
      return NackAction::kRetry;
  }
}

std::string ConnectionName(const grpc::CallbackServerContext& rpc) {
  const auto& metadata = rpc.client_metadata();
  auto it = metadata.find("connection-name");
  if (it == metadata.end()) return "<unknown>";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

PersistentReadCall::PersistentReadCall(const CallContext& context,
                                       PersistentRegistry* registry,
                                       PersistentCalls* calls,
                                       grpc::CallbackServerContext* rpc)
    : context_(context),
      registry_(registry),
      calls_(calls),
      rpc_(rpc),
      ticket_(context, *rpc) {
  // Live deliveries: each message goes out at once (WriteQueue). No other
  // thread sees the call yet.
  writes_.set_gather(false);
  if (!ticket_.held()) {
    End(ticket_.refusal());
    return;
  }
  registered_ = calls_->Add(this);
  if (!registered_) {
    End(ShuttingDown());
    return;
  }
  StartRead(&request_);
}

void PersistentReadCall::OnReadDone(bool ok) {
  if (!ok) {
    // The client closed its side: it unsubscribed.
    End(Ok());
    return;
  }
  bool draining = false;
  {
    std::lock_guard lock(mu_);
    if (writes_.finished()) return;
    draining = writes_.ended();
  }
  // Ended, waiting for a write to finish: the client's messages are read
  // and dropped, so that a client blocked writing can go on to read (and
  // let that write finish).
  if (draining) {
    StartRead(&request_);
    return;
  }
  if (!subscribed_) {
    if (request_.content_case() != persistent::ReadReq::kOptions) {
      End(BadRequest("the first message must be options"));
      return;
    }
    if (RpcError error = Subscribe(request_.options()); !IsOk(error)) {
      End(error);
      return;
    }
    subscribed_ = true;
  } else {
    Settle(request_);
    // The room the acks made is filled from here, on this thread, when
    // the group has events ready: the pump thread then need not wake for
    // each ack. It still waits for events the group does not have yet.
    Deliver(std::chrono::milliseconds(0));
  }
  {
    std::lock_guard lock(mu_);
    if (writes_.finished()) return;
  }
  StartRead(&request_);
}

RpcError PersistentReadCall::Subscribe(const ReadReq::Options& options) {
  switch (options.stream_option_case()) {
    case ReadReq::Options::kStreamIdentifier:
      definition_.stream = options.stream_identifier().stream_name();
      break;
    case ReadReq::Options::kAll:
      definition_.stream = std::string(kAllStream);
      break;
    default:
      return BadRequest("options name no stream");
  }
  definition_.group = options.group_name();
  if (RpcError bad = CheckNames(definition_.stream, definition_.group);
      !IsOk(bad)) {
    return bad;
  }
  if (options.buffer_size() < 1 || options.buffer_size() > kMaxClientBuffer) {
    return BadRequest("buffer_size must be 1..10000");
  }
  buffer_size_ = static_cast<size_t>(options.buffer_size());
  uuid_ = options.uuid_option().content_case() ==
                  ReadReq::Options::UUIDOption::kStructured
              ? UuidFormat::kStructured
              : UuidFormat::kString;
  if (RpcError denied = ticket_.Check(definition_.stream, StreamRight::kRead);
      !IsOk(denied)) {
    return denied;
  }
  std::optional<PersistentDefinition> found =
      registry_->Find(definition_.stream, definition_.group);
  if (!found) {
    return PersistentSubscriptionNotFound(definition_.stream,
                                          definition_.group);
  }
  definition_ = std::move(*found);
  auto member = context_.store->JoinConsumerGroup(definition_.group,
                                                  GroupOptions(definition_));
  if (!member.ok()) return FromGroupStatus(member.status());
  member_ = std::move(member.value());
  const std::string key = definition_.Key();
  if (auto replay = registry_->TakeReplay(key)) {
    Status s = context_.store->ReplayParkedEvents(
        definition_.group, definition_.EngineStream(), *replay);
    if (!s.ok()) registry_->DeferReplay(key, *replay);
  }
  connection_ = std::make_shared<PersistentConnection>();
  connection_->from = rpc_->peer();
  connection_->username = ticket_.principal().login;
  connection_->connection_name = ConnectionName(*rpc_);
  connection_->buffer_size = static_cast<int32_t>(buffer_size_);
  registry_->Connect(key, connection_);
  ReadResp confirmation;
  confirmation.mutable_subscription_confirmation()->set_subscription_id(key);
  Enqueue(std::move(confirmation));
  pump_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "cairn-psub-pump");
    Pump();
  });
  return Ok();
}

void PersistentReadCall::Settle(const ReadReq& request) {
  const bool ack = request.content_case() == persistent::ReadReq::kAck;
  if (!ack && request.content_case() != persistent::ReadReq::kNack) {
    End(BadRequest("after options, only acks and nacks"));
    return;
  }
  const auto& ids = ack ? request.ack().ids() : request.nack().ids();
  const NackAction action = ActionOf(request.nack().action());
  if (!ack && request.nack().reason().size() > kMaxReasonBytes) {
    End(BadRequest("a nack's reason must be at most 4096 bytes"));
    return;
  }
  for (const event_store::client::UUID& uuid : ids) {
    std::optional<EventId> id = EventIdFromProto(uuid);
    if (!id) {
      End(BadRequest("ack and nack ids must be UUIDs"));
      return;
    }
    GlobalPosition position;
    {
      std::lock_guard lock(mu_);
      auto it = in_flight_.find(*id);
      // Not delivered on this call (or settled already): nothing to do,
      // as KurrentDB ignores it.
      if (it == in_flight_.end()) continue;
      position = it->second.position;
    }
    // The group may have retried it since (its message timeout): then it
    // is not this member's any more, and the outcome does not matter.
    Status s = ack ? member_->Ack(position)
                   : member_->Nack(position, action, request.nack().reason());
    (void)s;
    // Room for the next event only once this one is handled (a park is
    // durable), so what the client sees next follows from its acks.
    // A stopped event stays in flight until its message timeout.
    if (!ack && action == NackAction::kStop) continue;
    std::lock_guard lock(mu_);
    in_flight_.erase(*id);
    connection_->in_flight = static_cast<int32_t>(in_flight_.size());
  }
  // No wake-up here: OnReadDone fills the room with Deliver next, which
  // wakes the pump if it waited while this thread received.
}

void PersistentReadCall::ForgetExpired() {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(in_flight_,
                [&](const auto& entry) { return entry.second.expires <= now; });
  connection_->in_flight = static_cast<int32_t>(in_flight_.size());
}

bool PersistentReadCall::HasRoomLocked() const {
  // The queue's bytes count too (CallLimits::read_buffer_bytes), so that a
  // client that reads large events slowly holds a bounded queue.
  return in_flight_.size() < buffer_size_ && writes_.size() < buffer_size_ &&
         writes_.bytes() < context_.limits.read_buffer_bytes;
}

void PersistentReadCall::WakePumpLocked() {
  if (pump_waiting_ && (stop_ || (!receiving_ && HasRoomLocked()))) {
    room_.notify_one();
  }
}

void PersistentReadCall::Deliver(std::chrono::milliseconds wait) {
  size_t credit = 0;
  {
    std::lock_guard lock(mu_);
    if (stop_ || receiving_ || !HasRoomLocked()) return;
    receiving_ = true;
    credit = buffer_size_ - std::max(in_flight_.size(), writes_.size());
  }
  auto got = member_->ReceiveDeliveries(credit, wait);
  if (got.ok()) {
    const auto timeout =
        std::chrono::milliseconds(definition_.message_timeout_ms);
    for (const GroupDelivery& delivery : *got) {
      EventId id;
      ReadResp response = ToResponse(delivery, &id);
      {
        std::lock_guard lock(mu_);
        in_flight_[id] = Unacked{
            delivery.event.position,
            timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout
                                : std::chrono::steady_clock::time_point::max()};
        connection_->in_flight = static_cast<int32_t>(in_flight_.size());
      }
      connection_->delivered.fetch_add(1);
      Enqueue(std::move(response));
    }
  }
  {
    std::lock_guard lock(mu_);
    receiving_ = false;
    WakePumpLocked();  // it may wait for this receive to end
  }
  if (!got.ok()) End(FromGroupStatus(got.status()));
}

void PersistentReadCall::Pump() {
  const bool expires = definition_.message_timeout_ms > 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      while (!stop_ && (receiving_ || !HasRoomLocked())) {
        pump_waiting_ = true;
        room_.wait_for(lock, kReceiveWait);
        pump_waiting_ = false;
        if (expires) ForgetExpired();
      }
      if (stop_) return;
    }
    Deliver(kReceiveWait);
  }
}

RpcError PersistentReadCall::FromGroupStatus(const Status& status) const {
  const std::string& stream = definition_.stream;
  const std::string& group = definition_.group;
  if (status.IsNotFound()) return PersistentSubscriptionNotFound(stream, group);
  if (status.IsLimitReached()) return MaximumSubscribersReached(stream, group);
  if (status.IsClosed()) return PersistentSubscriptionDropped(stream, group);
  return PersistentSubscriptionFailed(stream, group, status.ToString());
}

PersistentReadCall::ReadResp PersistentReadCall::ToResponse(
    const GroupDelivery& delivery, EventId* ack_id) const {
  const RecordedEvent& event = delivery.event;
  ReadResp out;
  ReadEventToProto(*context_.store, definition_.stream,
                   definition_.resolve_links, uuid_, event.View(),
                   out.mutable_event());
  out.mutable_event()->set_retry_count(
      static_cast<int32_t>(delivery.retry_count));
  // The clients ack a link by its own id.
  *ack_id = event.link_revision
                ? LinkEventId(definition_.stream, event.link_revision->value())
                : event.id;
  return out;
}

void PersistentReadCall::Enqueue(ReadResp response) {
  std::unique_lock lock(mu_);
  if (writes_.ended()) return;
  writes_.Push(std::move(response));
  StartNextLocked(lock);
}

void PersistentReadCall::StartNextLocked(std::unique_lock<std::mutex>& lock) {
  WriteQueue<ReadResp>::Step step = writes_.Next();
  if (step.write != nullptr) WakePumpLocked();  // the queue shrank
  lock.unlock();
  WriteQueue<ReadResp>::Carry(this, rpc_, step);
}

void PersistentReadCall::OnWriteDone(bool ok) {
  if (!ok) {
    End(Cancelled("the client went away"));
  }
  std::unique_lock lock(mu_);
  writes_.WriteDone();
  StartNextLocked(lock);
}

void PersistentReadCall::OnCancel() { End(Cancelled("Read cancelled")); }

void PersistentReadCall::End(const RpcError& error) {
  std::unique_lock lock(mu_);
  stop_ = true;
  room_.notify_all();
  std::optional<RpcError> now = writes_.End(error);
  lock.unlock();
  if (now) Finish(now->Apply(rpc_));
}

void PersistentReadCall::OnDone() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  if (pump_.joinable()) pump_.join();
  if (member_) member_->Leave();
  if (connection_) registry_->Disconnect(definition_.Key(), connection_);
  if (registered_) calls_->Remove(this);
  delete this;
}

}  // namespace cairn::server
