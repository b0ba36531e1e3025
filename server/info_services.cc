// Copyright (c) Cairn authors.
#include "server/info_services.h"

#include <chrono>

#include "server/convert.h"

namespace cairn::server {

namespace {

void AddSupportedMethod(
    event_store::client::server_features::SupportedMethods* out,
    const char* service, const char* method,
    std::initializer_list<const char*> features = {}) {
  auto* entry = out->add_methods();
  entry->set_service_name(service);
  entry->set_method_name(method);
  for (const char* feature : features) entry->add_features(feature);
}

}  // namespace

grpc::ServerUnaryReactor* ServerFeaturesService::GetSupportedMethods(
    grpc::CallbackServerContext* rpc, const event_store::client::Empty*,
    event_store::client::server_features::SupportedMethods* response) {
  // Exactly the methods that work.
  constexpr char kStreams[] = "event_store.client.streams.streams";
  AddSupportedMethod(response, kStreams, "read", {"position", "events"});
  AddSupportedMethod(response, kStreams, "append");
  AddSupportedMethod(response, kStreams, "batchappend", {"deadline_duration"});
  AddSupportedMethod(response, kStreams, "delete");
  AddSupportedMethod(response, kStreams, "tombstone");
  for (const char* method : {"create", "update", "delete", "disable", "enable",
                             "details", "changepassword", "resetpassword"}) {
    AddSupportedMethod(response, "event_store.client.users.users", method);
  }
  for (const char* method :
       {"startscavenge", "stopscavenge", "shutdown", "mergeindexes",
        "restartpersistentsubscriptions"}) {
    AddSupportedMethod(response, "event_store.client.operations.operations",
                       method);
  }
  for (const char* method : {"create", "update", "delete", "read", "getinfo",
                             "replayparked", "list", "restartsubsystem"}) {
    AddSupportedMethod(
        response,
        "event_store.client.persistent_subscriptions.persistentsubscriptions",
        method, {"stream", "all"});
  }
  AddSupportedMethod(response, "event_store.client.gossip.gossip", "read");
  AddSupportedMethod(response,
                     "event_store.client.server_features.serverfeatures",
                     "getsupportedmethods");
  response->set_event_store_server_version(kProtocolVersion);
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

GossipService::GossipService(std::string address, uint16_t port)
    : address_(std::move(address)),
      port_(port),
      instance_id_(EventId::Generate()) {}

grpc::ServerUnaryReactor* GossipService::Read(
    grpc::CallbackServerContext* rpc, const event_store::client::Empty*,
    event_store::client::gossip::ClusterInfo* response) {
  auto* member = response->add_members();
  EventIdToProto(instance_id_, UuidFormat::kStructured,
                 member->mutable_instance_id());
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  member->set_time_stamp(TicksFromMicros(now.count()));
  member->set_state(event_store::client::gossip::MemberInfo::Leader);
  member->set_is_alive(true);
  member->mutable_http_end_point()->set_address(address_);
  member->mutable_http_end_point()->set_port(port_);
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace cairn::server
