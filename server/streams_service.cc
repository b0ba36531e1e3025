// Copyright (c) Cairn authors.
#include "server/streams_service.h"

#include "server/append_call.h"
#include "server/batch_append_call.h"
#include "server/delete_call.h"

namespace cairn::server {

namespace streams = event_store::client::streams;

StreamsService::StreamsService(Store* store, const CallLimits& limits,
                               ServerLog log, Authenticator* authenticator)
    : gate_(limits.max_calls),
      connections_(limits.max_connections),
      access_(store),
      context_{store,          limits,        &gate_,  &connections_,
               std::move(log), authenticator, &access_} {}

grpc::ServerWriteReactor<streams::ReadResp>* StreamsService::Read(
    grpc::CallbackServerContext* rpc, const streams::ReadReq* request) {
  return new ReadCall(context_, &reads_, rpc, request);
}

grpc::ServerReadReactor<streams::AppendReq>* StreamsService::Append(
    grpc::CallbackServerContext* rpc, streams::AppendResp* response) {
  return new AppendCall(context_, rpc, response);
}

grpc::ServerBidiReactor<streams::BatchAppendReq, streams::BatchAppendResp>*
StreamsService::BatchAppend(grpc::CallbackServerContext* rpc) {
  return new BatchAppendCall(context_, rpc);
}

grpc::ServerUnaryReactor* StreamsService::Delete(
    grpc::CallbackServerContext* rpc, const streams::DeleteReq* request,
    streams::DeleteResp* response) {
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  reactor->Finish(
      RunDeleteCall(context_, DeleteKind::kSoft, rpc, *request, response));
  return reactor;
}

grpc::ServerUnaryReactor* StreamsService::Tombstone(
    grpc::CallbackServerContext* rpc, const streams::TombstoneReq* request,
    streams::TombstoneResp* response) {
  grpc::ServerUnaryReactor* reactor = rpc->DefaultReactor();
  reactor->Finish(
      RunDeleteCall(context_, DeleteKind::kTombstone, rpc, *request, response));
  return reactor;
}

void StreamsService::EndReads() { reads_.EndAll(ShuttingDown()); }

}  // namespace cairn::server
