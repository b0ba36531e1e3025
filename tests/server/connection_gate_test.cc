// Copyright (c) Cairn authors.
#include "server/connection_gate.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

TEST(ConnectionGateTest, CountsConnectionsNotCalls) {
  ConnectionGate gate(2);
  EXPECT_TRUE(gate.TryEnter("ipv4:127.0.0.1:1"));
  EXPECT_TRUE(gate.TryEnter("ipv4:127.0.0.1:1"));
  EXPECT_TRUE(gate.TryEnter("ipv4:127.0.0.1:2"));
  EXPECT_EQ(gate.active(), 2u);
  // A third connection is refused; calls of the two known ones are not.
  EXPECT_FALSE(gate.TryEnter("ipv4:127.0.0.1:3"));
  EXPECT_TRUE(gate.TryEnter("ipv4:127.0.0.1:2"));
  // A connection leaves the count with its last call.
  gate.Leave("ipv4:127.0.0.1:1");
  EXPECT_FALSE(gate.TryEnter("ipv4:127.0.0.1:3"));
  gate.Leave("ipv4:127.0.0.1:1");
  EXPECT_EQ(gate.active(), 1u);
  EXPECT_TRUE(gate.TryEnter("ipv4:127.0.0.1:3"));
  EXPECT_EQ(gate.active(), 2u);
}

using ConnectionLimitTest = ServerTest;

// A TCP connection of its own (channels with a local subchannel pool
// never share one).
std::unique_ptr<streams::Streams::Stub> Connect(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return streams::Streams::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                grpc::InsecureChannelCredentials(), args));
}

TEST_F(ConnectionLimitTest, ConnectionsBeyondTheLimitAreRefusedOthersServe) {
  ServerOptions options;
  options.limits.max_connections = 2;
  StartServer(options);
  auto a = Connect(server_->port());
  auto b = Connect(server_->port());
  auto c = Connect(server_->port());

  // Two connections with a BatchAppend call running each.
  grpc::ClientContext context_a;
  grpc::ClientContext context_b;
  auto call_a = a->BatchAppend(&context_a);
  auto call_b = b->BatchAppend(&context_b);
  streams::BatchAppendResp reply;
  ASSERT_TRUE(
      call_a->Write(Chunk(EventId::Generate().ToString(), "a", 1, true)));
  ASSERT_TRUE(call_a->Read(&reply));
  EXPECT_TRUE(reply.has_success());
  ASSERT_TRUE(
      call_b->Write(Chunk(EventId::Generate().ToString(), "b", 1, true)));
  ASSERT_TRUE(call_b->Read(&reply));
  EXPECT_TRUE(reply.has_success());

  // A third connection gets a clear status and changes nothing.
  streams::AppendResp response;
  grpc::ClientContext context_c;
  auto writer = c->Append(&context_c, &response);
  streams::AppendReq request;
  *request.mutable_options() = AnyOptions("c");
  writer->Write(request);
  writer->WritesDone();
  const grpc::Status refused = writer->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("--max-connections"),
            std::string::npos)
      << refused.error_message();
  EXPECT_FALSE(store_->GetStreamRevision("c").value().has_value());

  // The two connections serve on, also with more calls.
  std::vector<streams::ReadResp> responses;
  grpc::ClientContext read_context;
  auto reader = a->Read(&read_context, ReadRequest("a"));
  streams::ReadResp read;
  while (reader->Read(&read)) responses.push_back(read);
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(responses.size(), 1u);
  ASSERT_TRUE(
      call_b->Write(Chunk(EventId::Generate().ToString(), "b", 1, true)));
  ASSERT_TRUE(call_b->Read(&reply));
  EXPECT_EQ(reply.success().current_revision(), 1u);
  call_a->WritesDone();
  call_b->WritesDone();
  EXPECT_TRUE(call_a->Finish().ok());
  EXPECT_TRUE(call_b->Finish().ok());
}

}  // namespace
}  // namespace cairn::server::testing
