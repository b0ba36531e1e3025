// Copyright (c) Cairn authors.
//
// Feeds arbitrary bytes as each request message of the Streams service to
// the server's handlers, through generated stubs over a loopback
// channel to a server on a real store: no input may crash or hang a
// handler, and every call ends with a status (a refused request with
// INVALID_ARGUMENT or another clear code, never a silent hang). The first
// byte picks the RPC (Read, Append, BatchAppend, Delete, Tombstone); the rest
// is the serialized request.
#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "cairn/store.h"
#include "server/server.h"
#include "streams.grpc.pb.h"
#include "tests/fuzz/fuzz_server.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace streams = event_store::client::streams;

// Responses a fuzzed Read takes before it cancels the call.
constexpr int kMaxResponses = 64;

struct Fixture {
  Fixture() {
    cairn::server::ServerOptions options;
    options.limits.max_append_size = 1 << 16;
    options.limits.max_event_size = 1 << 14;
    served = cairn::fuzz::StartFuzzServer(options);
    stub = streams::Streams::NewStub(cairn::fuzz::FuzzChannel(served));
  }
  cairn::fuzz::FuzzServer served;
  std::unique_ptr<streams::Streams::Stub> stub;
};

Fixture& GetFixture() {
  // Never destroyed: libFuzzer exits without running destructors in order.
  static Fixture* fixture = new Fixture();
  return *fixture;
}

void FuzzRead(const std::string& bytes) {
  streams::ReadReq request;
  if (!request.ParseFromString(bytes)) return;
  grpc::ClientContext context;
  auto reader = GetFixture().stub->Read(&context, request);
  streams::ReadResp response;
  int taken = 0;
  // A valid subscription waits for new events after its confirmation and
  // catch-up: the first response is enough to see it started.
  const int limit = request.options().has_subscription() ? 1 : kMaxResponses;
  while (reader->Read(&response)) {
    FUZZ_CHECK(response.content_case() != streams::ReadResp::CONTENT_NOT_SET);
    if (++taken == limit) context.TryCancel();
  }
  (void)reader->Finish();
}

// Writes the requests in `bytes`, each prefixed by a length byte (those
// that do not parse are skipped), then half-closes.
template <typename Request, typename Writer>
void WriteFramed(const std::string& bytes, Writer* writer) {
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t length = static_cast<uint8_t>(bytes[at++]);
    Request request;
    if (request.ParseFromString(bytes.substr(at, length))) {
      if (!writer->Write(request)) break;
    }
    at += length;
  }
  writer->WritesDone();
}

void FuzzAppend(const std::string& bytes) {
  grpc::ClientContext context;
  streams::AppendResp response;
  auto writer = GetFixture().stub->Append(&context, &response);
  WriteFramed<streams::AppendReq>(bytes, writer.get());
  grpc::Status status = writer->Finish();
  if (status.ok()) {
    FUZZ_CHECK(response.result_case() != streams::AppendResp::RESULT_NOT_SET);
  }
}

void FuzzBatchAppend(const std::string& bytes) {
  grpc::ClientContext context;
  auto stream = GetFixture().stub->BatchAppend(&context);
  WriteFramed<streams::BatchAppendReq>(bytes, stream.get());
  streams::BatchAppendResp response;
  while (stream->Read(&response)) {
    FUZZ_CHECK(response.result_case() !=
               streams::BatchAppendResp::RESULT_NOT_SET);
  }
  (void)stream->Finish();
}

// Delete and Tombstone: a unary call that must end with a status, and on
// success carry a position.
template <typename Request, typename Response, typename Method>
void FuzzDelete(const std::string& bytes, Method method) {
  Request request;
  if (!request.ParseFromString(bytes)) return;
  grpc::ClientContext context;
  Response response;
  grpc::Status status =
      (GetFixture().stub.get()->*method)(&context, request, &response);
  if (status.ok()) {
    FUZZ_CHECK(response.position_option_case() !=
               Response::POSITION_OPTION_NOT_SET);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      FuzzRead(bytes);
      break;
    case 1:
      FuzzAppend(bytes);
      break;
    case 3:
      FuzzDelete<streams::DeleteReq, streams::DeleteResp>(
          bytes, &streams::Streams::Stub::Delete);
      break;
    case 4:
      FuzzDelete<streams::TombstoneReq, streams::TombstoneResp>(
          bytes, &streams::Streams::Stub::Tombstone);
      break;
    default:
      FuzzBatchAppend(bytes);
      break;
  }
  return 0;
}
