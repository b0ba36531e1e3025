// Copyright (c) Cairn authors.
//
// gRPC calls counted by method and status code, for /metrics and /stats.
// The table is fixed (the methods the server registers, plus "other", times
// the 17 gRPC status codes), so no client can grow it; a server
// interceptor counts each call once, when its status is sent, with one
// relaxed atomic increment.
#ifndef CAIRN_SERVER_CALL_METRICS_H_
#define CAIRN_SERVER_CALL_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace cairn::server {

class CallMetrics {
 public:
  // gRPC paths of the methods the server serves, and their metric names.
  struct Method {
    std::string_view path;   // "/event_store.client.streams.Streams/Read"
    std::string_view label;  // "Streams.Read"
  };
  static constexpr std::array<Method, 15> kMethods = {{
      {"/event_store.client.streams.Streams/Read", "Streams.Read"},
      {"/event_store.client.streams.Streams/Append", "Streams.Append"},
      {"/event_store.client.streams.Streams/BatchAppend",
       "Streams.BatchAppend"},
      {"/event_store.client.streams.Streams/Delete", "Streams.Delete"},
      {"/event_store.client.streams.Streams/Tombstone", "Streams.Tombstone"},
      {"/event_store.client.server_features.ServerFeatures/"
       "GetSupportedMethods",
       "ServerFeatures.GetSupportedMethods"},
      {"/event_store.client.gossip.Gossip/Read", "Gossip.Read"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "Create",
       "PersistentSubscriptions.Create"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "Update",
       "PersistentSubscriptions.Update"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "Delete",
       "PersistentSubscriptions.Delete"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "Read",
       "PersistentSubscriptions.Read"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "GetInfo",
       "PersistentSubscriptions.GetInfo"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "ReplayParked",
       "PersistentSubscriptions.ReplayParked"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "List",
       "PersistentSubscriptions.List"},
      {"/event_store.client.persistent_subscriptions.PersistentSubscriptions/"
       "RestartSubsystem",
       "PersistentSubscriptions.RestartSubsystem"},
  }};
  // Label of any other method.
  static constexpr std::string_view kOtherMethod = "other";
  // gRPC status codes run from OK (0) to UNAUTHENTICATED (16).
  static constexpr int kCodes = 17;

  struct Count {
    std::string_view method;  // a label of kMethods, or kOtherMethod
    int code = 0;             // grpc::StatusCode
    uint64_t calls = 0;
  };

  // One call of the method at `path` ended with `code`.
  void Record(std::string_view path, int code);
  // Every (method, code) counted at least once, in table order.
  std::vector<Count> Counts() const;

  // The interceptor factory that feeds `metrics` (which must outlive the
  // gRPC server it is installed in).
  static std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory(CallMetrics* metrics);

 private:
  static constexpr size_t kRows = kMethods.size() + 1;  // + other
  std::array<std::atomic<uint64_t>, kRows * kCodes> counts_{};
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_CALL_METRICS_H_
