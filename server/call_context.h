// Copyright (c) Cairn authors.
//
// What every call of the Streams service shares: the store, the limits
// that bound a call's memory, the gates that bound how many calls run at
// once and on how many connections, the authenticator that tells who each
// call is, and the stream access rules that tell what it may do.
#ifndef CAIRN_SERVER_CALL_CONTEXT_H_
#define CAIRN_SERVER_CALL_CONTEXT_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "cairn/store.h"
#include "server/authenticator.h"
#include "server/connection_gate.h"
#include "server/rpc_error.h"
#include "server/stream_access.h"

namespace cairn::server {

struct CallLimits {
  // Total bytes (data, metadata, type) of one append; at most the store's
  // Options::max_append_size.
  uint64_t max_append_size = 32ull << 20;
  // Bytes of one event; at most the store's Options::max_event_size.
  uint64_t max_event_size = 16ull << 20;
  // Responses a Read call queues ahead of its client. A subscription whose
  // client reads nothing while this is full for `subscriber_stall_timeout`
  // is ended with RESOURCE_EXHAUSTED.
  size_t read_buffer_messages = 512;
  // Bytes of responses a Read call holds for its client: a page read from
  // the store stops at the event that reaches it, and a subscription
  // queues nothing more while its queue holds this many (as when
  // read_buffer_messages are queued). One larger event still goes, alone.
  uint64_t read_buffer_bytes = 16ull << 20;
  std::chrono::milliseconds subscriber_stall_timeout{30000};
  // Events a non-subscription Read fetches from the store at a time, and
  // events a filtered $all read examines per page.
  uint32_t read_page_events = 128;
  uint32_t read_page_examined = 4096;
  // Appends of one BatchAppend call in flight plus replies it has not yet
  // written (the call stops reading requests until one is written), and
  // correlation ids whose chunks it buffers.
  size_t batch_max_in_flight = 256;
  size_t batch_max_open = 64;
  // Bytes of events one BatchAppend call buffers for appends whose final
  // chunk has not arrived; beyond it the call ends with RESOURCE_EXHAUSTED.
  // Also the bytes of its running appends beyond which it reads no further
  // requests until the store finished some.
  uint64_t batch_max_buffered_bytes = 64ull << 20;
  // Calls of the Streams service running at once; more are refused with
  // RESOURCE_EXHAUSTED.
  size_t max_calls = 1024;
  // Client connections with Streams calls running; the first call of one
  // more connection is refused with RESOURCE_EXHAUSTED.
  size_t max_connections = 256;
};

// Counts running calls against CallLimits::max_calls.
class CallGate {
 public:
  explicit CallGate(size_t limit) : limit_(limit) {}
  bool TryEnter() {
    size_t now = active_.fetch_add(1) + 1;
    if (now <= limit_) return true;
    active_.fetch_sub(1);
    return false;
  }
  void Leave() { active_.fetch_sub(1); }
  size_t limit() const { return limit_; }
  size_t active() const { return active_.load(); }

 private:
  const size_t limit_;
  std::atomic<size_t> active_{0};
};

struct CallContext;

// Holds one place in the call gate and one call of its connection in the
// connection gate for a call's lifetime, and the call's principal.
// Whether a call without credentials is refused when its ticket is taken.
// StreamAccess denies the anonymous principal every stream, so a call
// that answers that denial for the whole call is refused at once
// (PERMISSION_DENIED access-denied): it holds no slot of the gates while
// its client sends nothing more. BatchAppend answers it per append, in
// its responses, as KurrentDB does, so it checks per request instead.
enum class AnonymousCalls { kRefused, kCheckedPerRequest };

class CallTicket {
 public:
  // Refused when a gate is full or the call's credentials are wrong (or,
  // with kRefused and authentication on, missing).
  CallTicket(const CallContext& context, const grpc::ServerContextBase& rpc,
             AnonymousCalls anonymous = AnonymousCalls::kRefused);
  CallTicket(const CallTicket&) = delete;
  CallTicket& operator=(const CallTicket&) = delete;
  ~CallTicket();
  bool held() const { return !refusal_; }
  // Why the call is refused, when it is not held.
  const RpcError& refusal() const { return *refusal_; }
  // Who the call is, when it is held.
  const Principal& principal() const { return principal_; }
  // Whether the call's principal has `right` on `stream` (stream_access.h):
  // OK or the error to answer.
  RpcError Check(std::string_view stream, StreamRight right) const {
    return access_ ? access_->Check(principal_, stream, right) : Ok();
  }

 private:
  CallGate* calls_ = nullptr;
  ConnectionGate* connections_ = nullptr;
  std::string peer_;
  std::optional<RpcError> refusal_;
  Principal principal_;
  const StreamAccess* access_ = nullptr;
};

// Receives the server's notable events (a dropped subscriber, ...), one
// line each, from any thread.
using ServerLog = std::function<void(const std::string&)>;

struct CallContext {
  Store* store = nullptr;
  CallLimits limits;
  CallGate* gate = nullptr;
  ConnectionGate* connections = nullptr;
  ServerLog log;
  // Null: every call is unrestricted (handler tests without users).
  Authenticator* authenticator = nullptr;
  // Null: no stream is checked.
  const StreamAccess* access = nullptr;
};

inline CallTicket::CallTicket(const CallContext& context,
                              const grpc::ServerContextBase& rpc,
                              AnonymousCalls anonymous)
    : peer_(rpc.peer()) {
  if (!context.gate->TryEnter()) {
    refusal_ = TooManyCalls(context.gate->limit());
    return;
  }
  calls_ = context.gate;
  if (!context.connections->TryEnter(peer_)) {
    refusal_ = TooManyConnections(context.connections->limit());
    return;
  }
  connections_ = context.connections;
  if (!context.authenticator) {
    principal_.unrestricted = true;
    return;
  }
  RpcError outcome = context.authenticator->Authenticate(rpc, &principal_);
  if (outcome.code != grpc::StatusCode::OK) {
    refusal_ = std::move(outcome);
  } else if (context.access != nullptr && principal_.anonymous() &&
             anonymous == AnonymousCalls::kRefused) {
    refusal_ = AccessDenied();
  }
  access_ = context.access;
}

inline CallTicket::~CallTicket() {
  if (connections_) connections_->Leave(peer_);
  if (calls_) calls_->Leave();
}

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CALL_CONTEXT_H_
