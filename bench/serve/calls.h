// Copyright (c) Cairn authors.
//
// The load generator's gRPC calls, on the callback API of the server's
// generated stubs: one Append (client streaming) per append, one BatchAppend
// session (bidirectional) that multiplexes appends by correlation id, and a
// Read (server streaming) for reads and subscriptions.
#ifndef CAIRN_BENCH_SERVE_CALLS_H_
#define CAIRN_BENCH_SERVE_CALLS_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "streams.grpc.pb.h"

namespace cairn::bench::serve {

namespace pb = event_store::client::streams;

// Called once per operation: empty on success, else what went wrong.
using Completion = std::function<void(const std::string& error)>;

// Starts one Append of `events` events to `stream` (expected revision any);
// `done` runs on a gRPC thread when the server answered. Frees itself.
void StartAppend(pb::Streams::Stub* stub, const std::string& stream, int events,
                 int64_t sent_ns, size_t event_size, Completion done);

// What an append of a BatchAppend call that ended fails with (Close
// returns the call's status).
inline constexpr char kCallEnded[] = "BatchAppend: the call ended";

// One BatchAppend call carrying many appends at once.
class BatchAppendSession
    : public grpc::ClientBidiReactor<pb::BatchAppendReq, pb::BatchAppendResp> {
 public:
  explicit BatchAppendSession(pb::Streams::Stub* stub);

  // Queues one append of `events` events to `stream`; `done` runs when its
  // answer arrives (or the call ends first).
  void Append(const std::string& stream, int events, int64_t sent_ns,
              size_t event_size, Completion done);

  // Ends the call once no append is waiting, and returns its status. Call
  // it exactly once, after the last Append.
  grpc::Status Close();

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // Fails every waiting append; no append is taken after it.
  void FailWaiting();

  grpc::ClientContext context_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  std::deque<pb::BatchAppendReq> writes_;  // front() is being written
  bool writing_ = false;                   // a StartWrite is outstanding
  bool writes_done_ = false;               // Close() asked to end the call
  bool ended_ = false;                     // no more appends are taken
  bool done_ = false;                      // OnDone finished with this object
  grpc::Status status_;
  uint64_t next_correlation_ = 0;
  std::unordered_map<std::string, Completion> waiting_;
  pb::BatchAppendResp response_;
};

// One Read call: every response goes to `on_response`; Wait() returns the
// final status. Cancel() ends a subscription.
class ReadCall : public grpc::ClientReadReactor<pb::ReadResp> {
 public:
  using OnResponse = std::function<void(const pb::ReadResp&)>;

  ReadCall(pb::Streams::Stub* stub, const pb::ReadReq& request,
           OnResponse on_response);

  void Cancel() { context_.TryCancel(); }
  grpc::Status Wait();

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  grpc::ClientContext context_;
  OnResponse on_response_;
  pb::ReadResp response_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  grpc::Status status_;
};

// Reads with `request` to its end on this thread (gRPC's synchronous API:
// the thread takes each response from the transport itself, with no hand-off
// to a callback thread), counting the events into `events`.
grpc::Status ReadWhole(pb::Streams::Stub* stub, const pb::ReadReq& request,
                       uint64_t* events);

// A Read request: forwards, string uuids, no filter, `count` events.
pb::ReadReq ReadStreamRequest(const std::string& stream, uint64_t count);
pb::ReadReq ReadAllRequest(uint64_t count);
// A subscription to $all from its end.
pb::ReadReq SubscribeAllRequest();

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_CALLS_H_
