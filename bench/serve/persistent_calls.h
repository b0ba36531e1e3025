// Copyright (c) Cairn authors.
//
// The load generator's persistent-subscription calls: creating a group with
// the settings the official clients send by default, and one consumer (a
// bidirectional PersistentSubscriptions.Read) that acknowledges every event
// it receives with an Ack message of its own, as the clients' ack(event)
// does.
#ifndef CAIRN_BENCH_SERVE_PERSISTENT_CALLS_H_
#define CAIRN_BENCH_SERVE_PERSISTENT_CALLS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "persistent.grpc.pb.h"
#include "tools/bench/stats.h"

namespace cairn::bench::serve {

namespace psub = event_store::client::persistent_subscriptions;

// Creates group `group` on `stream`, from its start, with `strategy` (a
// consumer strategy name) and otherwise the Node clients' default settings.
// Empty on success, else what went wrong.
std::string CreateStreamGroup(psub::PersistentSubscriptions::Stub* stub,
                              const std::string& stream,
                              const std::string& group,
                              const std::string& strategy);

// The acknowledgements of all consumers of one run.
class AckCounter {
 public:
  void Add();
  // True once `count` acks were written, false when none was for
  // `stall` (a bound against a hang, never a measurement).
  bool WaitFor(uint64_t count, std::chrono::seconds stall);
  uint64_t count();

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t count_ = 0;
};

// One consumer of a group. Every event it receives is acknowledged; the
// time from its arrival to its Ack being written goes to latency_ns().
class PersistentConsumer
    : public grpc::ClientBidiReactor<psub::ReadReq, psub::ReadResp> {
 public:
  PersistentConsumer(psub::PersistentSubscriptions::Stub* stub,
                     const std::string& stream, const std::string& group,
                     int buffer_size, AckCounter* acks);

  // Ends the call (the server sees a cancelled consumer).
  void Cancel() { context_.TryCancel(); }
  // The call's final status, once it ended.
  grpc::Status Wait();
  tools::bench::LatencyHistogram latency_ns();

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  struct Ack {
    psub::ReadReq request;
    int64_t received_ns;
  };

  grpc::ClientContext context_;
  AckCounter* acks_;
  psub::ReadReq options_;
  psub::ReadResp response_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  std::string subscription_id_;
  // Acks to write; front() is being written once the options were.
  std::deque<Ack> writes_;
  bool writing_ = false;          // a StartWrite is outstanding
  bool options_written_ = false;  // the first write (options_) completed
  bool done_ = false;
  grpc::Status status_;
  tools::bench::LatencyHistogram latency_ns_;
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_PERSISTENT_CALLS_H_
