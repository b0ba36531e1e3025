// Copyright (c) Cairn authors.
//
// The Operations service of the KurrentDB v1 protocol, for `$admins` and
// `$ops` only (others get AccessDenied; with authentication off every
// call is allowed):
// - StartScavenge runs Store::Scavenge on one thread the service owns and
//   answers Started with a fresh id at once; while that scavenge runs, a
//   second start answers its id with InProgress, as KurrentDB does.
//   thread_count must be 1..64 (the store scavenges with one thread
//   whatever it is) and start_from_chunk 0 (the store always scavenges
//   the whole log), else INVALID_ARGUMENT. The outcome goes to the log.
// - StopScavenge with the running scavenge's id asks it to stop after its
//   current step (Store::StopScavenge) and answers Stopped; any other id
//   is NOT_FOUND `scavenge-not-found`.
// - Shutdown asks the host to shut the server down as SIGTERM does
//   (ServerOptions::request_shutdown); UNIMPLEMENTED without one.
// - MergeIndexes answers OK: the store merges its index tables in the
//   background on its own.
// - RestartPersistentSubscriptions ends every persistent subscription's
//   Read calls, as PersistentSubscriptions.RestartSubsystem does
//   (UNIMPLEMENTED without a persistent subscriptions service).
// ResignNode and SetNodePriority answer UNIMPLEMENTED.
#ifndef CAIRN_SERVER_OPERATIONS_SERVICE_H_
#define CAIRN_SERVER_OPERATIONS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "cairn/store.h"
#include "operations.grpc.pb.h"
#include "server/authenticator.h"
#include "server/call_context.h"

namespace cairn::server {

class OperationsService final
    : public event_store::client::operations::Operations::CallbackService {
 public:
  // `store` and `authenticator` outlive the service. `request_shutdown`
  // (may be empty) must only ask for the shutdown, not wait for it: it
  // runs inside a call, which the shutdown waits for. The scavenges the
  // service runs use `scavenge` (its `progress`, may be empty, sees each
  // progress report). `restart_persistent` (may be empty) restarts the
  // persistent subscriptions.
  OperationsService(Store* store, Authenticator* authenticator, ServerLog log,
                    std::function<void()> request_shutdown,
                    ScavengeOptions scavenge,
                    std::function<void()> restart_persistent);
  ~OperationsService() override;  // Close()

  grpc::ServerUnaryReactor* StartScavenge(
      grpc::CallbackServerContext* rpc,
      const event_store::client::operations::StartScavengeReq* request,
      event_store::client::operations::ScavengeResp* response) override;
  grpc::ServerUnaryReactor* StopScavenge(
      grpc::CallbackServerContext* rpc,
      const event_store::client::operations::StopScavengeReq* request,
      event_store::client::operations::ScavengeResp* response) override;
  grpc::ServerUnaryReactor* Shutdown(
      grpc::CallbackServerContext* rpc,
      const event_store::client::Empty* request,
      event_store::client::Empty* response) override;
  grpc::ServerUnaryReactor* MergeIndexes(
      grpc::CallbackServerContext* rpc,
      const event_store::client::Empty* request,
      event_store::client::Empty* response) override;
  grpc::ServerUnaryReactor* RestartPersistentSubscriptions(
      grpc::CallbackServerContext* rpc,
      const event_store::client::Empty* request,
      event_store::client::Empty* response) override;

  // Refuses new scavenges, stops a running one and joins its thread, so
  // that none outlives the server. Idempotent.
  void Close();

 private:
  void RunScavenge(const std::string& id);

  Store* const store_;
  Authenticator* const authenticator_;
  const ServerLog log_;
  const std::function<void()> request_shutdown_;
  const ScavengeOptions scavenge_;
  const std::function<void()> restart_persistent_;

  std::mutex mutex_;
  // The running scavenge's id; empty when none runs.
  std::string running_id_;
  bool closed_ = false;
  std::thread thread_;
  // StopScavenge or Close asked the running scavenge to stop; the thread
  // passes it on to the store once the store's scavenge has begun.
  std::atomic<bool> stop_requested_{false};
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_OPERATIONS_SERVICE_H_
