// Copyright (c) Cairn authors.
//
// The PersistentSubscriptions service of the KurrentDB v1 protocol, over
// the engine's consumer groups (persistent_registry.h holds the
// definitions, persistent_read_call.h serves Read):
// - Create, Update, Delete, ReplayParked and RestartSubsystem are for
//   `$admins` and `$ops` (others get AccessDenied), as KurrentDB's
//   default policy has it; GetInfo and List for any authenticated user;
//   Read for a user who may read the stream (stream_access.h). With
//   authentication off every call is allowed.
// - Create answers ALREADY_EXISTS `persistent-subscription-exists` for a
//   defined group; Update, Delete, GetInfo and ReplayParked answer
//   NOT_FOUND `persistent-subscription-does-not-exist` for an undefined
//   one. Update ends the group's Read calls (CANCELLED
//   `persistent-subscription-dropped`; the clients subscribe again) and
//   Delete ends them with NOT_FOUND and forgets the group's checkpoint
//   and parked events.
// - ReplayParked hands the parked events (the first stop_at of them, all
//   with no_limit) to the connected members again, as retries; with none
//   connected, the next Read call starts it.
// - RestartSubsystem ends every Read call (CANCELLED); groups resume from
//   their checkpoints when the clients subscribe again.
#ifndef CAIRN_SERVER_PERSISTENT_SERVICE_H_
#define CAIRN_SERVER_PERSISTENT_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <variant>

#include "cairn/result.h"
#include "persistent.grpc.pb.h"
#include "server/call_context.h"
#include "server/persistent_read_call.h"
#include "server/persistent_registry.h"

namespace cairn::server {

class PersistentSubscriptionsService final
    : public event_store::client::persistent_subscriptions::
          PersistentSubscriptions::CallbackService {
 public:
  // Loads the stored definitions. `store` and `authenticator` (null:
  // every call unrestricted) outlive the service.
  static Result<std::unique_ptr<PersistentSubscriptionsService>> Start(
      Store* store, const CallLimits& limits, ServerLog log,
      Authenticator* authenticator);

  grpc::ServerUnaryReactor* Create(
      grpc::CallbackServerContext* rpc,
      const event_store::client::persistent_subscriptions::CreateReq* request,
      event_store::client::persistent_subscriptions::CreateResp* response)
      override;
  grpc::ServerUnaryReactor* Update(
      grpc::CallbackServerContext* rpc,
      const event_store::client::persistent_subscriptions::UpdateReq* request,
      event_store::client::persistent_subscriptions::UpdateResp* response)
      override;
  grpc::ServerUnaryReactor* Delete(
      grpc::CallbackServerContext* rpc,
      const event_store::client::persistent_subscriptions::DeleteReq* request,
      event_store::client::persistent_subscriptions::DeleteResp* response)
      override;
  grpc::ServerBidiReactor<
      event_store::client::persistent_subscriptions::ReadReq,
      event_store::client::persistent_subscriptions::ReadResp>*
  Read(grpc::CallbackServerContext* rpc) override;
  grpc::ServerUnaryReactor* GetInfo(
      grpc::CallbackServerContext* rpc,
      const event_store::client::persistent_subscriptions::GetInfoReq* request,
      event_store::client::persistent_subscriptions::GetInfoResp* response)
      override;
  grpc::ServerUnaryReactor* ReplayParked(
      grpc::CallbackServerContext* rpc,
      const event_store::client::persistent_subscriptions::ReplayParkedReq*
          request,
      event_store::client::persistent_subscriptions::ReplayParkedResp* response)
      override;
  grpc::ServerUnaryReactor* List(
      grpc::CallbackServerContext* rpc,
      const event_store::client::persistent_subscriptions::ListReq* request,
      event_store::client::persistent_subscriptions::ListResp* response)
      override;
  grpc::ServerUnaryReactor* RestartSubsystem(
      grpc::CallbackServerContext* rpc,
      const event_store::client::Empty* request,
      event_store::client::Empty* response) override;

  // Ends every running and later Read call, so that the server's
  // shutdown can complete.
  void EndReads();
  // RestartSubsystem's work: ends every group's Read calls (CANCELLED
  // `persistent-subscription-dropped`); the clients subscribe again.
  void RestartAll() { registry_.RestartAll(); }

  // Figures for /metrics: definitions, connected Read calls, and the
  // parked and in-flight events of all groups.
  struct Figures {
    uint64_t subscriptions = 0;
    uint64_t connections = 0;
    uint64_t in_flight = 0;
    uint64_t parked = 0;
  };
  Figures GetFigures();

 private:
  PersistentSubscriptionsService(Store* store, const CallLimits& limits,
                                 ServerLog log, Authenticator* authenticator);
  // Authenticates the call; with `operator_only`, requires `$admins` or
  // `$ops`, else any authenticated user. The caller's login in `who`.
  RpcError Authorise(grpc::CallbackServerContext* rpc, bool operator_only,
                     std::string* who);
  // Authorise, then the definition of the request's stream and group name
  // (NOT_FOUND when none).
  template <typename Options>
  std::variant<PersistentDefinition, RpcError> DefinedGroup(
      grpc::CallbackServerContext* rpc, bool operator_only,
      const Options& options);
  // Authorise (operators only), then the definition `parse` reads.
  template <typename Request, typename Parse>
  std::variant<PersistentDefinition, RpcError> OperatorDefinition(
      grpc::CallbackServerContext* rpc, const Request& request, Parse parse,
      std::string* who);
  RpcError Info(
      const PersistentDefinition& definition,
      event_store::client::persistent_subscriptions::SubscriptionInfo* out);

  Store* const store_;
  Authenticator* const authenticator_;
  CallGate gate_;
  ConnectionGate connections_;
  StreamAccess access_;
  CallContext context_;
  PersistentRegistry registry_;
  PersistentCalls reads_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PERSISTENT_SERVICE_H_
