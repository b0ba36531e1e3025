// Copyright (c) Cairn authors.
//
// Feeds arbitrary bytes as the request messages of the PersistentSubscriptions
// and Users services to the server's handlers, through generated stubs over
// a loopback channel to a server on a real store (one persistent
// subscription "s::g" is defined): no input may crash or hang a handler, and
// every call ends with a status. The first byte picks the RPC; the rest is
// the serialized request (for the bidirectional Read, length-prefixed
// requests written in turn before the client half-closes).
#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "persistent.grpc.pb.h"
#include "server/server.h"
#include "tests/fuzz/fuzz_server.h"
#include "tests/fuzz/fuzz_util.h"
#include "users.grpc.pb.h"

namespace {

namespace persistent = event_store::client::persistent_subscriptions;
namespace users = event_store::client::users;

// Responses a fuzzed Read or Details takes before it cancels the call.
constexpr int kMaxResponses = 16;

struct Fixture {
  Fixture() {
    cairn::server::ServerOptions options;
    options.authentication = false;
    served = cairn::fuzz::StartFuzzServer(options);
    auto channel = cairn::fuzz::FuzzChannel(served);
    persistent_stub = persistent::PersistentSubscriptions::NewStub(channel);
    users_stub = users::Users::NewStub(channel);
    persistent::CreateReq create;
    create.mutable_options()->mutable_stream_identifier()->set_stream_name("s");
    create.mutable_options()->set_group_name("g");
    auto* settings = create.mutable_options()->mutable_settings();
    settings->set_read_batch_size(20);
    settings->set_live_buffer_size(500);
    settings->set_history_buffer_size(500);
    grpc::ClientContext context;
    persistent::CreateResp created;
    FUZZ_CHECK(persistent_stub->Create(&context, create, &created).ok());
  }
  cairn::fuzz::FuzzServer served;
  std::unique_ptr<persistent::PersistentSubscriptions::Stub> persistent_stub;
  std::unique_ptr<users::Users::Stub> users_stub;
};

Fixture& GetFixture() {
  // Never destroyed: libFuzzer exits without running destructors in order.
  static Fixture* fixture = new Fixture();
  return *fixture;
}

// A unary call: it must end with a status whatever the request.
template <typename Request, typename Response, typename Stub, typename Method>
void FuzzUnary(const std::string& bytes, Stub* stub, Method method) {
  Request request;
  if (!request.ParseFromString(bytes)) return;
  grpc::ClientContext context;
  Response response;
  (void)(stub->*method)(&context, request, &response);
}

void FuzzRead(const std::string& bytes) {
  grpc::ClientContext context;
  auto call = GetFixture().persistent_stub->Read(&context);
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t length = static_cast<uint8_t>(bytes[at++]);
    persistent::ReadReq request;
    if (request.ParseFromString(bytes.substr(at, length))) {
      if (!call->Write(request)) break;
    }
    at += length;
  }
  call->WritesDone();
  persistent::ReadResp response;
  int taken = 0;
  while (call->Read(&response)) {
    FUZZ_CHECK(response.content_case() !=
               persistent::ReadResp::CONTENT_NOT_SET);
    if (++taken == kMaxResponses) context.TryCancel();
  }
  (void)call->Finish();
}

void FuzzDetails(const std::string& bytes) {
  users::DetailsReq request;
  if (!request.ParseFromString(bytes)) return;
  grpc::ClientContext context;
  auto reader = GetFixture().users_stub->Details(&context, request);
  users::DetailsResp response;
  int taken = 0;
  while (reader->Read(&response)) {
    if (++taken == kMaxResponses) context.TryCancel();
  }
  (void)reader->Finish();
}

void FuzzPersistent(int rpc, const std::string& bytes) {
  using Stub = persistent::PersistentSubscriptions::Stub;
  Stub* stub = GetFixture().persistent_stub.get();
  switch (rpc) {
    case 0:
      FuzzUnary<persistent::CreateReq, persistent::CreateResp>(bytes, stub,
                                                               &Stub::Create);
      break;
    case 1:
      FuzzUnary<persistent::UpdateReq, persistent::UpdateResp>(bytes, stub,
                                                               &Stub::Update);
      break;
    case 2:
      FuzzUnary<persistent::DeleteReq, persistent::DeleteResp>(bytes, stub,
                                                               &Stub::Delete);
      break;
    case 3:
      FuzzUnary<persistent::GetInfoReq, persistent::GetInfoResp>(
          bytes, stub, &Stub::GetInfo);
      break;
    case 4:
      FuzzUnary<persistent::ListReq, persistent::ListResp>(bytes, stub,
                                                           &Stub::List);
      break;
    case 5:
      FuzzUnary<persistent::ReplayParkedReq, persistent::ReplayParkedResp>(
          bytes, stub, &Stub::ReplayParked);
      break;
    default:
      FuzzRead(bytes);
      break;
  }
}

void FuzzUsers(int rpc, const std::string& bytes) {
  using Stub = users::Users::Stub;
  Stub* stub = GetFixture().users_stub.get();
  switch (rpc) {
    case 0:
      FuzzUnary<users::CreateReq, users::CreateResp>(bytes, stub,
                                                     &Stub::Create);
      break;
    case 1:
      FuzzUnary<users::UpdateReq, users::UpdateResp>(bytes, stub,
                                                     &Stub::Update);
      break;
    case 2:
      FuzzUnary<users::DeleteReq, users::DeleteResp>(bytes, stub,
                                                     &Stub::Delete);
      break;
    case 3:
      FuzzUnary<users::DisableReq, users::DisableResp>(bytes, stub,
                                                       &Stub::Disable);
      break;
    case 4:
      FuzzUnary<users::EnableReq, users::EnableResp>(bytes, stub,
                                                     &Stub::Enable);
      break;
    case 5:
      FuzzUnary<users::ChangePasswordReq, users::ChangePasswordResp>(
          bytes, stub, &Stub::ChangePassword);
      break;
    case 6:
      FuzzUnary<users::ResetPasswordReq, users::ResetPasswordResp>(
          bytes, stub, &Stub::ResetPassword);
      break;
    default:
      FuzzDetails(bytes);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  // 0..6: PersistentSubscriptions (Create, Update, Delete, GetInfo, List,
  // ReplayParked, Read); 7..14: Users (Create, Update, Delete, Disable,
  // Enable, ChangePassword, ResetPassword, Details).
  const int rpc = data[0] % 15;
  if (rpc < 7) {
    FuzzPersistent(rpc, bytes);
  } else {
    FuzzUsers(rpc - 7, bytes);
  }
  return 0;
}
