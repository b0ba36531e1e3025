// Copyright (c) Cairn authors.
//
// The Streams service of the KurrentDB v1 protocol over a Cairn store.
#ifndef CAIRN_SERVER_STREAMS_SERVICE_H_
#define CAIRN_SERVER_STREAMS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "server/call_context.h"
#include "server/read_call.h"
#include "streams.grpc.pb.h"

namespace cairn::server {

class StreamsService final
    : public event_store::client::streams::Streams::CallbackService {
 public:
  // `authenticator` (null: every call unrestricted) outlives the service.
  StreamsService(Store* store, const CallLimits& limits, ServerLog log,
                 Authenticator* authenticator);

  grpc::ServerWriteReactor<event_store::client::streams::ReadResp>* Read(
      grpc::CallbackServerContext* rpc,
      const event_store::client::streams::ReadReq* request) override;
  grpc::ServerReadReactor<event_store::client::streams::AppendReq>* Append(
      grpc::CallbackServerContext* rpc,
      event_store::client::streams::AppendResp* response) override;
  grpc::ServerBidiReactor<event_store::client::streams::BatchAppendReq,
                          event_store::client::streams::BatchAppendResp>*
  BatchAppend(grpc::CallbackServerContext* rpc) override;
  grpc::ServerUnaryReactor* Delete(
      grpc::CallbackServerContext* rpc,
      const event_store::client::streams::DeleteReq* request,
      event_store::client::streams::DeleteResp* response) override;
  grpc::ServerUnaryReactor* Tombstone(
      grpc::CallbackServerContext* rpc,
      const event_store::client::streams::TombstoneReq* request,
      event_store::client::streams::TombstoneResp* response) override;

  // Ends every running and later Read call (subscriptions never end on
  // their own), so that the server's shutdown can complete.
  void EndReads();

  size_t active_calls() const { return gate_.active(); }

 private:
  CallGate gate_;
  ConnectionGate connections_;
  StreamAccess access_;
  CallContext context_;
  ReadRegistry reads_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_STREAMS_SERVICE_H_
