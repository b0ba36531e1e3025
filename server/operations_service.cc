// Copyright (c) Cairn authors.
#include "server/operations_service.h"

#include <pthread.h>

#include <utility>

#include "cairn/types.h"
#include "server/rpc_error.h"

namespace cairn::server {

namespace operations = event_store::client::operations;

namespace {

constexpr int kMaxThreadCount = 64;

// Authenticates the call and requires `$admins` or `$ops`.
RpcError OperatorOnly(Authenticator* authenticator,
                      grpc::CallbackServerContext* rpc) {
  Principal principal;
  if (RpcError who = authenticator->Authenticate(*rpc, &principal);
      !IsOk(who)) {
    return who;
  }
  return principal.IsAdmin() || principal.InGroup(kOpsGroup) ? Ok()
                                                             : AccessDenied();
}

RpcError CheckStart(const operations::StartScavengeReq::Options& options) {
  if (options.thread_count() < 1 || options.thread_count() > kMaxThreadCount) {
    return BadRequest("thread_count must be 1..64");
  }
  if (options.start_from_chunk() != 0) {
    return BadRequest(
        "start_from_chunk must be 0: a scavenge always covers the whole log");
  }
  return Ok();
}

std::string Describe(const std::string& id,
                     const Result<ScavengeResult>& result) {
  if (!result.ok()) {
    return "scavenge " + id + " failed: " + result.status().ToString();
  }
  return "scavenge " + id + (result->stopped ? " stopped" : " finished") +
         ": removed " + std::to_string(result->events_removed) + " of " +
         std::to_string(result->events_examined) + " events";
}

}  // namespace

OperationsService::OperationsService(Store* store, Authenticator* authenticator,
                                     ServerLog log,
                                     std::function<void()> request_shutdown,
                                     ScavengeOptions scavenge,
                                     std::function<void()> restart_persistent)
    : store_(store),
      authenticator_(authenticator),
      log_(std::move(log)),
      request_shutdown_(std::move(request_shutdown)),
      scavenge_(std::move(scavenge)),
      restart_persistent_(std::move(restart_persistent)) {}

OperationsService::~OperationsService() { Close(); }

grpc::ServerUnaryReactor* OperationsService::StartScavenge(
    grpc::CallbackServerContext* rpc,
    const operations::StartScavengeReq* request,
    operations::ScavengeResp* response) {
  RpcError outcome = OperatorOnly(authenticator_, rpc);
  if (IsOk(outcome)) outcome = CheckStart(request->options());
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return FinishUnary(rpc, ShuttingDown());
  if (!running_id_.empty()) {
    response->set_scavenge_id(running_id_);
    response->set_scavenge_result(operations::ScavengeResp::InProgress);
    return FinishUnary(rpc, Ok());
  }
  // The previous run's thread cleared running_id_ as its last step under
  // the lock, so it is ending: the join is short.
  if (thread_.joinable()) thread_.join();
  running_id_ = EventId::Generate().ToString();
  stop_requested_.store(false);
  thread_ = std::thread([this, id = running_id_] {
    pthread_setname_np(pthread_self(), "cairn-scavenge");
    RunScavenge(id);
  });
  if (log_) log_("scavenge " + running_id_ + " started");
  response->set_scavenge_id(running_id_);
  response->set_scavenge_result(operations::ScavengeResp::Started);
  return FinishUnary(rpc, Ok());
}

void OperationsService::RunScavenge(const std::string& id) {
  ScavengeOptions options = scavenge_;
  // A stop asked for before the store's scavenge began (Store::StopScavenge
  // then finds none) takes effect at its first progress report, before
  // its first part.
  options.progress = [this](const ScavengeProgress& progress) {
    if (scavenge_.progress) scavenge_.progress(progress);
    if (stop_requested_.load()) (void)store_->StopScavenge();
  };
  Result<ScavengeResult> result = store_->Scavenge(options);
  if (log_) log_(Describe(id, result));
  std::lock_guard<std::mutex> lock(mutex_);
  running_id_.clear();
}

grpc::ServerUnaryReactor* OperationsService::StopScavenge(
    grpc::CallbackServerContext* rpc,
    const operations::StopScavengeReq* request,
    operations::ScavengeResp* response) {
  if (RpcError outcome = OperatorOnly(authenticator_, rpc); !IsOk(outcome)) {
    return FinishUnary(rpc, outcome);
  }
  const std::string& id = request->options().scavenge_id();
  std::lock_guard<std::mutex> lock(mutex_);
  if (running_id_.empty() || id != running_id_) {
    return FinishUnary(rpc, ScavengeNotFound(id));
  }
  stop_requested_.store(true);
  // NotFound when the store's scavenge has not begun yet (the progress
  // callback stops it then) or has just ended.
  (void)store_->StopScavenge();
  response->set_scavenge_id(id);
  response->set_scavenge_result(operations::ScavengeResp::Stopped);
  return FinishUnary(rpc, Ok());
}

grpc::ServerUnaryReactor* OperationsService::Shutdown(
    grpc::CallbackServerContext* rpc, const event_store::client::Empty*,
    event_store::client::Empty*) {
  if (RpcError outcome = OperatorOnly(authenticator_, rpc); !IsOk(outcome)) {
    return FinishUnary(rpc, outcome);
  }
  if (!request_shutdown_) {
    return FinishUnary(
        rpc, Unimplemented("this server cannot be shut down over gRPC"));
  }
  if (log_) log_("shutdown requested over gRPC");
  request_shutdown_();
  return FinishUnary(rpc, Ok());
}

grpc::ServerUnaryReactor* OperationsService::RestartPersistentSubscriptions(
    grpc::CallbackServerContext* rpc, const event_store::client::Empty*,
    event_store::client::Empty*) {
  if (RpcError outcome = OperatorOnly(authenticator_, rpc); !IsOk(outcome)) {
    return FinishUnary(rpc, outcome);
  }
  if (!restart_persistent_) {
    return FinishUnary(rpc, Unimplemented("no persistent subscriptions"));
  }
  restart_persistent_();
  return FinishUnary(rpc, Ok());
}

grpc::ServerUnaryReactor* OperationsService::MergeIndexes(
    grpc::CallbackServerContext* rpc, const event_store::client::Empty*,
    event_store::client::Empty*) {
  // The store merges its index tables in the background as they
  // accumulate; there is nothing to start.
  return FinishUnary(rpc, OperatorOnly(authenticator_, rpc));
}

void OperationsService::Close() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    if (!running_id_.empty()) {
      stop_requested_.store(true);
      (void)store_->StopScavenge();
    }
    thread = std::move(thread_);
  }
  // Unlocked: the thread takes the lock as its last step.
  if (thread.joinable()) thread.join();
}

}  // namespace cairn::server
