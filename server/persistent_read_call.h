// Copyright (c) Cairn authors.
//
// PersistentSubscriptions.Read: a member of the definition's engine
// consumer group, connected over one bidirectional call. The client's
// first message names the group (and its buffer size); the call answers
// the confirmation with the key "<stream>::<group>", then events, each
// with its retry count, while the client acks and nacks them by id (the
// link's id for a link, else the event's, as the clients send them).
//
// Bounded: events are received from the group only while fewer than
// buffer_size events are unacknowledged at the client and fewer than
// buffer_size responses (and fewer than CallLimits::read_buffer_bytes
// bytes) wait to be written, so a client that reads nothing holds at most
// that much. A thread per call waits for the group's events;
// when an ack makes room while that thread is not already receiving, the
// thread that read the ack receives what the group has ready and queues it. An
// event unacknowledged past the message timeout stops counting (the group
// retried it), so a client that reads but never acks receives the retries until
// the events are parked.
//
// Ends with NOT_FOUND `persistent-subscription-does-not-exist` when the
// group does not exist or is deleted, FAILED_PRECONDITION
// `maximum-subscribers-reached`, CANCELLED `persistent-subscription-
// dropped` when the group is restarted or updated, PERMISSION_DENIED
// without read access to the stream, INVALID_ARGUMENT for a malformed
// first message, and UNAVAILABLE when the server shuts down.
#ifndef CAIRN_SERVER_PERSISTENT_READ_CALL_H_
#define CAIRN_SERVER_PERSISTENT_READ_CALL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cairn/subscription.h"
#include "persistent.pb.h"
#include "server/call_context.h"
#include "server/call_registry.h"
#include "server/convert.h"
#include "server/persistent_registry.h"
#include "server/rpc_error.h"
#include "server/write_queue.h"

namespace cairn::server {

class PersistentReadCall;
using PersistentCalls = CallRegistry<PersistentReadCall>;

// A client's buffer_size must be 1..kMaxClientBuffer.
inline constexpr int32_t kMaxClientBuffer = 10000;

class PersistentReadCall final
    : public grpc::ServerBidiReactor<
          event_store::client::persistent_subscriptions::ReadReq,
          event_store::client::persistent_subscriptions::ReadResp> {
 public:
  PersistentReadCall(const CallContext& context, PersistentRegistry* registry,
                     PersistentCalls* calls, grpc::CallbackServerContext* rpc);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // Ends the call with `error` (or OK) unless it already ended.
  void End(const RpcError& error);

 private:
  using ReadReq = event_store::client::persistent_subscriptions::ReadReq;
  using ReadResp = event_store::client::persistent_subscriptions::ReadResp;

  // The first message: joins the group, or the error to end with.
  RpcError Subscribe(const ReadReq::Options& options);
  // An ack or nack.
  void Settle(const ReadReq& request);
  // The receiving thread: waits for room, then for the group's events.
  void Pump();
  // Receives from the group as much as there is room for (waiting up to
  // `wait`) and queues it for the client, unless another thread is
  // receiving: one at a time, so the events keep the group's order.
  void Deliver(std::chrono::milliseconds wait);
  // Fewer than buffer_size unacked and as few waiting to be written.
  bool HasRoomLocked() const;
  // Wakes the pump if it waits and has something to do now: room with no
  // receive under way, or the call stopping (mu_ held). Waking it for
  // every write and ack instead cost a futex wake and a context switch
  // per event, most of them for nothing: the thread that reads the acks
  // fills the room they make itself.
  void WakePumpLocked();
  // Forgets the unacked events whose message timeout passed (mu_ held).
  void ForgetExpired();
  RpcError FromGroupStatus(const Status& status) const;
  ReadResp ToResponse(const GroupDelivery& delivery, EventId* ack_id) const;
  void Enqueue(ReadResp response);
  // Starts the next write unless one is in flight; unlocks `lock`.
  void StartNextLocked(std::unique_lock<std::mutex>& lock);

  const CallContext& context_;
  PersistentRegistry* const registry_;
  PersistentCalls* const calls_;
  grpc::CallbackServerContext* const rpc_;
  CallTicket ticket_;
  bool registered_ = false;
  ReadReq request_;
  bool subscribed_ = false;  // touched by the read sequence only
  PersistentDefinition definition_;
  UuidFormat uuid_ = UuidFormat::kString;
  size_t buffer_size_ = 0;
  std::unique_ptr<GroupMember> member_;
  std::shared_ptr<PersistentConnection> connection_;
  std::thread pump_;

  std::mutex mu_;
  // Signalled by WakePumpLocked.
  std::condition_variable room_;
  bool pump_waiting_ = false;  // the pump waits on room_
  bool stop_ = false;
  bool receiving_ = false;  // Deliver is receiving from the group
  // Unacknowledged at the client: id -> its position in the group and
  // when the group's message timeout retries it. Past that the group has
  // taken it back, so it no longer counts against the buffer: a client
  // that reads but never acks gets the retries (and, in the end, its
  // events parked), as KurrentDB does.
  struct Unacked {
    GlobalPosition position;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<EventId, Unacked> in_flight_;
  WriteQueue<ReadResp> writes_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PERSISTENT_READ_CALL_H_
