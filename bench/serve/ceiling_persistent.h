// Copyright (c) Cairn authors.
//
// The PersistentSubscriptions service of the gRPC ceiling server: Create
// (of a group on a stream) and Read (a consumer), with the messages of
// `cairn serve` and none of its work. A consumer gets the confirmation,
// then the group's events, each once, in order, across its consumers, at
// most its buffer size unacknowledged; each Ack makes room. The group keeps
// no checkpoint and redelivers nothing: the ceiling of what gRPC allows a
// persistent subscription on the machine (bench/serve/run --ceiling).
#ifndef CAIRN_BENCH_SERVE_CEILING_PERSISTENT_H_
#define CAIRN_BENCH_SERVE_CEILING_PERSISTENT_H_

#include <grpcpp/grpcpp.h>

#include "bench/serve/ceiling_log.h"
#include "persistent.grpc.pb.h"

namespace cairn::bench::serve {

namespace psub = event_store::client::persistent_subscriptions;

class CeilingPersistent final
    : public psub::PersistentSubscriptions::CallbackService {
 public:
  explicit CeilingPersistent(CeilingLog* log) : log_(log) {}

  grpc::ServerUnaryReactor* Create(grpc::CallbackServerContext* context,
                                   const psub::CreateReq* request,
                                   psub::CreateResp* response) override;
  grpc::ServerBidiReactor<psub::ReadReq, psub::ReadResp>* Read(
      grpc::CallbackServerContext* context) override;

 private:
  CeilingLog* const log_;
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_CEILING_PERSISTENT_H_
