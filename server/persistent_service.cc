// Copyright (c) Cairn authors.
#include "server/persistent_service.h"

#include <string>
#include <utility>

#include "server/persistent_errors.h"
#include "server/persistent_info.h"
#include "server/persistent_settings.h"
#include "server/user_store.h"

namespace cairn::server {

namespace persistent = event_store::client::persistent_subscriptions;

namespace {

// The stream a request's stream_option names: its stream, or $all; a
// request that names neither is refused, as KurrentDB does, rather than
// taken for $all.
template <typename Options>
std::variant<std::string, RpcError> StreamOf(const Options& options) {
  if (options.has_stream_identifier()) {
    return options.stream_identifier().stream_name();
  }
  if (options.has_all()) return std::string(kAllStream);
  return BadRequest("stream_option must name a stream or $all");
}

}  // namespace

template <typename Request, typename Parse>
std::variant<PersistentDefinition, RpcError>
PersistentSubscriptionsService::OperatorDefinition(
    grpc::CallbackServerContext* rpc, const Request& request, Parse parse,
    std::string* who) {
  if (RpcError denied = Authorise(rpc, true, who); !IsOk(denied)) {
    return denied;
  }
  return parse(request);
}

Result<std::unique_ptr<PersistentSubscriptionsService>>
PersistentSubscriptionsService::Start(Store* store, const CallLimits& limits,
                                      ServerLog log,
                                      Authenticator* authenticator) {
  std::unique_ptr<PersistentSubscriptionsService> service(
      new PersistentSubscriptionsService(store, limits, std::move(log),
                                         authenticator));
  Status s = service->registry_.Load();
  if (!s.ok()) return s;
  return service;
}

PersistentSubscriptionsService::PersistentSubscriptionsService(
    Store* store, const CallLimits& limits, ServerLog log,
    Authenticator* authenticator)
    : store_(store),
      authenticator_(authenticator),
      gate_(limits.max_calls),
      connections_(limits.max_connections),
      access_(store),
      context_{store,          limits,        &gate_,  &connections_,
               std::move(log), authenticator, &access_},
      registry_(store) {}

RpcError PersistentSubscriptionsService::Authorise(
    grpc::CallbackServerContext* rpc, bool operator_only, std::string* who) {
  if (authenticator_ == nullptr) return Ok();
  Principal principal;
  if (RpcError error = authenticator_->Authenticate(*rpc, &principal);
      !IsOk(error)) {
    return error;
  }
  *who = principal.login;
  if (principal.unrestricted || principal.IsAdmin()) return Ok();
  if (principal.anonymous()) return AccessDenied();
  if (operator_only && !principal.InGroup(kOpsGroup)) return AccessDenied();
  return Ok();
}

grpc::ServerUnaryReactor* PersistentSubscriptionsService::Create(
    grpc::CallbackServerContext* rpc, const persistent::CreateReq* request,
    persistent::CreateResp* /*response*/) {
  std::string who;
  auto parsed = OperatorDefinition(rpc, *request, ParseCreate, &who);
  if (auto* error = std::get_if<RpcError>(&parsed)) {
    return FinishUnary(rpc, *error);
  }
  const PersistentDefinition& definition =
      std::get<PersistentDefinition>(parsed);
  // The engine's own checks of the names (their length as a group key).
  auto group =
      store_->GetConsumerGroupInfo(definition.group, definition.EngineStream());
  if (!group.ok()) return FinishUnary(rpc, FromStoreStatus(group.status()));
  return FinishUnary(rpc, registry_.Create(definition, who));
}

grpc::ServerUnaryReactor* PersistentSubscriptionsService::Update(
    grpc::CallbackServerContext* rpc, const persistent::UpdateReq* request,
    persistent::UpdateResp* /*response*/) {
  std::string who;
  auto parsed = OperatorDefinition(rpc, *request, ParseUpdate, &who);
  if (auto* error = std::get_if<RpcError>(&parsed)) {
    return FinishUnary(rpc, *error);
  }
  PersistentDefinition definition = std::get<PersistentDefinition>(parsed);
  // Update carries no filter: the group keeps the one it was created with.
  if (auto current = registry_.Find(definition.stream, definition.group)) {
    definition.stream_prefix = current->stream_prefix;
    definition.type_prefix = current->type_prefix;
  }
  return FinishUnary(rpc, registry_.Update(definition, who));
}

grpc::ServerUnaryReactor* PersistentSubscriptionsService::Delete(
    grpc::CallbackServerContext* rpc, const persistent::DeleteReq* request,
    persistent::DeleteResp* /*response*/) {
  std::string who;
  if (RpcError denied = Authorise(rpc, true, &who); !IsOk(denied)) {
    return FinishUnary(rpc, denied);
  }
  const auto& options = request->options();
  auto named = StreamOf(options);
  if (auto* error = std::get_if<RpcError>(&named)) {
    return FinishUnary(rpc, *error);
  }
  const std::string& stream = std::get<std::string>(named);
  if (RpcError bad = CheckNames(stream, options.group_name()); !IsOk(bad)) {
    return FinishUnary(rpc, bad);
  }
  return FinishUnary(rpc, registry_.Delete(stream, options.group_name(), who));
}

grpc::ServerBidiReactor<persistent::ReadReq, persistent::ReadResp>*
PersistentSubscriptionsService::Read(grpc::CallbackServerContext* rpc) {
  return new PersistentReadCall(context_, &registry_, &reads_, rpc);
}

RpcError PersistentSubscriptionsService::Info(
    const PersistentDefinition& definition, persistent::SubscriptionInfo* out) {
  auto group =
      store_->GetConsumerGroupInfo(definition.group, definition.EngineStream());
  if (!group.ok()) return FromStoreStatus(group.status());
  SubscriptionInfoToProto(definition, *group,
                          registry_.Connections(definition.Key()), out);
  return Ok();
}

template <typename Options>
std::variant<PersistentDefinition, RpcError>
PersistentSubscriptionsService::DefinedGroup(grpc::CallbackServerContext* rpc,
                                             bool operator_only,
                                             const Options& options) {
  std::string who;
  if (RpcError denied = Authorise(rpc, operator_only, &who); !IsOk(denied)) {
    return denied;
  }
  auto named = StreamOf(options);
  if (auto* error = std::get_if<RpcError>(&named)) return *error;
  const std::string& stream = std::get<std::string>(named);
  if (RpcError bad = CheckNames(stream, options.group_name()); !IsOk(bad)) {
    return bad;
  }
  auto definition = registry_.Find(stream, options.group_name());
  if (!definition) {
    return PersistentSubscriptionNotFound(stream, options.group_name());
  }
  return std::move(*definition);
}

grpc::ServerUnaryReactor* PersistentSubscriptionsService::GetInfo(
    grpc::CallbackServerContext* rpc, const persistent::GetInfoReq* request,
    persistent::GetInfoResp* response) {
  auto found = DefinedGroup(rpc, false, request->options());
  if (auto* error = std::get_if<RpcError>(&found)) {
    return FinishUnary(rpc, *error);
  }
  return FinishUnary(rpc, Info(std::get<PersistentDefinition>(found),
                               response->mutable_subscription_info()));
}

grpc::ServerUnaryReactor* PersistentSubscriptionsService::ReplayParked(
    grpc::CallbackServerContext* rpc,
    const persistent::ReplayParkedReq* request,
    persistent::ReplayParkedResp* /*response*/) {
  const auto& options = request->options();
  auto found = DefinedGroup(rpc, true, options);
  if (auto* error = std::get_if<RpcError>(&found)) {
    return FinishUnary(rpc, *error);
  }
  const PersistentDefinition& definition =
      std::get<PersistentDefinition>(found);
  std::optional<uint64_t> max_events;
  switch (options.stop_at_option_case()) {
    case persistent::ReplayParkedReq::Options::kStopAt:
      if (options.stop_at() < 0) {
        return FinishUnary(rpc, BadRequest("stop_at must not be negative"));
      }
      max_events = static_cast<uint64_t>(options.stop_at());
      break;
    case persistent::ReplayParkedReq::Options::kNoLimit:
      break;
    default:
      return FinishUnary(
          rpc, BadRequest("stop_at_option must be stop_at or no_limit"));
  }
  Status s = store_->ReplayParkedEvents(definition.group,
                                        definition.EngineStream(), max_events);
  if (s.IsNotFound()) {
    // Nobody is connected to receive it: the next Read call starts it.
    registry_.DeferReplay(definition.Key(), max_events);
    return FinishUnary(rpc, Ok());
  }
  return FinishUnary(rpc, s.ok() ? Ok() : FromStoreStatus(s));
}

grpc::ServerUnaryReactor* PersistentSubscriptionsService::List(
    grpc::CallbackServerContext* rpc, const persistent::ListReq* request,
    persistent::ListResp* response) {
  std::string who;
  if (RpcError denied = Authorise(rpc, false, &who); !IsOk(denied)) {
    return FinishUnary(rpc, denied);
  }
  std::optional<std::string> stream;
  const auto& options = request->options();
  if (options.list_option_case() ==
      persistent::ListReq::Options::kListForStream) {
    const auto& of = options.list_for_stream();
    stream =
        of.has_stream() ? of.stream().stream_name() : std::string(kAllStream);
    if (RpcError bad = CheckNames(*stream, "-"); !IsOk(bad)) {
      return FinishUnary(rpc, bad);
    }
  }
  const std::vector<PersistentDefinition> definitions = registry_.List(stream);
  // As KurrentDB: the groups of one stream (or of $all) are NOT_FOUND when
  // there are none, which the clients raise as
  // PersistentSubscriptionNotFound; a list of every group is then empty.
  if (stream && definitions.empty()) {
    return FinishUnary(rpc, PersistentSubscriptionNotFound(*stream, ""));
  }
  for (const PersistentDefinition& definition : definitions) {
    if (RpcError error = Info(definition, response->add_subscriptions());
        !IsOk(error)) {
      return FinishUnary(rpc, error);
    }
  }
  return FinishUnary(rpc, Ok());
}

grpc::ServerUnaryReactor* PersistentSubscriptionsService::RestartSubsystem(
    grpc::CallbackServerContext* rpc,
    const event_store::client::Empty* /*request*/,
    event_store::client::Empty* /*response*/) {
  std::string who;
  if (RpcError denied = Authorise(rpc, true, &who); !IsOk(denied)) {
    return FinishUnary(rpc, denied);
  }
  registry_.RestartAll();
  return FinishUnary(rpc, Ok());
}

void PersistentSubscriptionsService::EndReads() {
  reads_.EndAll(ShuttingDown());
}

PersistentSubscriptionsService::Figures
PersistentSubscriptionsService::GetFigures() {
  Figures figures;
  for (const PersistentDefinition& definition : registry_.List(std::nullopt)) {
    ++figures.subscriptions;
    figures.connections += registry_.Connections(definition.Key()).size();
    auto group = store_->GetConsumerGroupInfo(definition.group,
                                              definition.EngineStream());
    if (!group.ok()) continue;
    figures.in_flight += group->in_flight;
    figures.parked += group->parked;
  }
  return figures;
}

}  // namespace cairn::server
