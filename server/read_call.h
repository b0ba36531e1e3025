// Copyright (c) Cairn authors.
//
// Streams.Read: reads of a stream or of $all (paged from the store as the
// client takes the responses, so memory per call is one page), and
// subscriptions (a Cairn subscription whose events are queued for the
// client in a bounded buffer). A subscriber that takes nothing while its
// buffer is full for CallLimits::subscriber_stall_timeout is ended with
// RESOURCE_EXHAUSTED; the subscription's own thread waits meanwhile, so a
// slow client slows only itself.
#ifndef CAIRN_SERVER_READ_CALL_H_
#define CAIRN_SERVER_READ_CALL_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cairn/event.h"
#include "cairn/subscription.h"
#include "server/call_context.h"
#include "server/call_registry.h"
#include "server/read_request.h"
#include "server/rpc_error.h"
#include "server/write_queue.h"
#include "streams.pb.h"

namespace cairn::server {

class ReadCall;

// The running Read calls, so that a server shutdown can end the
// subscriptions.
using ReadRegistry = CallRegistry<ReadCall>;

class ReadCall final
    : public grpc::ServerWriteReactor<event_store::client::streams::ReadResp> {
 public:
  ReadCall(const CallContext& context, ReadRegistry* registry,
           grpc::CallbackServerContext* rpc,
           const event_store::client::streams::ReadReq* request);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // Ends the call with `error` (or OK) unless it already ended.
  void End(const RpcError& error);

 private:
  class Listener;
  using ReadResp = event_store::client::streams::ReadResp;

  void StartSubscription();
  // Paged reads: queues the next page, or the final status once done.
  void FillPage();
  void FillStreamPage();
  void FillAllPage();
  void SetFinal(RpcError error);
  // Returns the bytes queued then (WriteQueue::bytes).
  uint64_t Enqueue(ReadResp response);
  // A read of a stream without events answers this, then OK.
  void EnqueueStreamNotFound();
  // Fills an event response, resolving a link when asked to.
  void EventToResponse(const RecordedEventView& event, ReadResp* out);
  // The event's revision in the stream read: its link revision in a
  // $ce-/$et- stream.
  static uint64_t RevisionInStream(const RecordedEventView& event);

  // Starts the next write unless one is in flight; unlocks `lock`.
  void StartNextLocked(std::unique_lock<std::mutex>& lock);
  // A written response to fill again (or a new one): its memory serves
  // the next event.
  ReadResp TakeSpare();
  void Kick();
  // From the subscription's thread: waits for room in the buffer.
  bool Push(ReadResp response);

  void OnSubscribedEvent(const RecordedEventView& event);
  void OnSubscriptionCaughtUp(GlobalPosition position, bool caught_up);
  void OnSubscriptionStopped(const Status& status);
  ReadResp Checkpoint(uint64_t position);

  const CallContext& context_;
  ReadRegistry* registry_;
  grpc::CallbackServerContext* rpc_;
  CallTicket ticket_;
  ReadPlan plan_;
  bool registered_ = false;

  // Paged reads (touched only by the write sequence).
  bool first_page_ = true;
  std::optional<uint64_t> next_;  // revision or position; nullopt: the end
  uint64_t remaining_ = 0;

  // Subscriptions (touched only by the subscription's thread).
  uint64_t examined_ = 0;
  std::optional<uint64_t> last_revision_;
  // Caught up (live) and not fallen behind since.
  bool live_ = false;

  std::mutex mu_;
  std::condition_variable room_;  // a response was taken, or the call ended
  WriteQueue<ReadResp> writes_;
  // Written responses kept for reuse, at most read_page_events of at most
  // kMaxSpareBytes each, so the memory they hold stays bounded.
  static constexpr int kMaxSpareBytes = 4096;
  std::vector<ReadResp> spare_;
  std::unique_ptr<Subscription> subscription_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_READ_CALL_H_
