// Copyright (c) Cairn authors.
//
// A store in a temporary directory served by a cairn::server::Server, and
// generated stubs over the server's in-process channel.
#ifndef CAIRN_TESTS_SERVER_SERVER_TEST_UTIL_H_
#define CAIRN_TESTS_SERVER_SERVER_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cairn/cairn.h"
#include "server/password_hash.h"
#include "server/server.h"
#include "server/user_store.h"
#include "streams.grpc.pb.h"
#include "tests/support/temp_dir.h"

namespace cairn::server::testing {

namespace streams = event_store::client::streams;

// One BatchAppend chunk of `events` events (type "E", data "{}") for
// `stream` with expected revision any.
inline streams::BatchAppendReq Chunk(const std::string& correlation,
                                     const std::string& stream, int events,
                                     bool is_final, bool with_options = true) {
  streams::BatchAppendReq request;
  request.mutable_correlation_id()->set_string(correlation);
  if (with_options) {
    request.mutable_options()->mutable_stream_identifier()->set_stream_name(
        stream);
    request.mutable_options()->mutable_any();
  }
  // std::string values: g++ 12 -O3 reports a false -Wstringop-overflow
  // for a map value assigned from a string literal here (as GCC bug 105651
  // for -Wrestrict).
  const std::string type("E");
  const std::string content_type("application/json");
  for (int i = 0; i < events; ++i) {
    auto* message = request.add_proposed_messages();
    message->mutable_id()->set_string(EventId::Generate().ToString());
    (*message->mutable_metadata())["type"] = type;
    (*message->mutable_metadata())["content-type"] = content_type;
    message->set_data("{}");
  }
  request.set_is_final(is_final);
  return request;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(ServerOptions()); }

  // (Re)starts the server with `options` (port 0: any free port).
  void StartServer(ServerOptions options) {
    server_.reset();
    if (!store_) {
      auto store = Store::Open(dir_.path(), Options());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      store_ = std::move(store.value());
    }
    options.listen.port = 0;
    // The handler tests talk over the in-process channel: plaintext,
    // unless a test asks for TLS; without users or ACLs, unless a test
    // asks for them (authenticate_).
    if (!options.tls) options.insecure = true;
    if (!authenticate_) options.authentication = false;
    auto server = Server::Start(store_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server.value());
    channel_ = server_->InProcessChannel();
    stub_ = streams::Streams::NewStub(channel_);
  }

  // Starts the server authenticating calls (cheap password hashes) with
  // these users, each as {login, group}, whose password is "pw-<login>".
  void StartWithUsers(
      const std::vector<std::pair<std::string, std::string>>& users) {
    authenticate_ = true;
    ServerOptions options;
    options.password_cost = MinimumPasswordHashCost();
    StartServer(options);
    UserStore store(store_.get());
    for (const auto& [login, group] : users) {
      UserRecord record;
      record.login = login;
      record.groups = {group};
      auto hash = HashPassword("pw-" + login, MinimumPasswordHashCost());
      ASSERT_TRUE(hash.ok());
      record.password_hash = std::move(hash.value());
      ASSERT_TRUE(store.Create(record).ok());
    }
  }

  void TearDown() override {
    server_.reset();
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }

  static streams::AppendReq::ProposedMessage Proposed(
      const std::string& type, const std::string& data = "{}") {
    streams::AppendReq::ProposedMessage message;
    message.mutable_id()->set_string(EventId::Generate().ToString());
    (*message.mutable_metadata())["type"] = type;
    (*message.mutable_metadata())["content-type"] = "application/json";
    message.set_data(data);
    return message;
  }

  // Streams.Append of `messages` with `options`; returns the call status.
  grpc::Status Append(
      const streams::AppendReq::Options& options,
      const std::vector<streams::AppendReq::ProposedMessage>& messages,
      streams::AppendResp* response, grpc::ClientContext* context = nullptr) {
    grpc::ClientContext local;
    if (!context) context = &local;
    auto writer = stub_->Append(context, response);
    streams::AppendReq request;
    *request.mutable_options() = options;
    if (!writer->Write(request)) return writer->Finish();
    for (const auto& message : messages) {
      request.Clear();
      *request.mutable_proposed_message() = message;
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  static streams::AppendReq::Options AnyOptions(const std::string& stream) {
    streams::AppendReq::Options options;
    options.mutable_stream_identifier()->set_stream_name(stream);
    options.mutable_any();
    return options;
  }

  // Appends `n` events of type "E" to `stream` through the store.
  void Seed(const std::string& stream, int n, const std::string& type = "E") {
    std::vector<EventData> events(n);
    for (auto& event : events) {
      event.type = type;
      event.data = "{}";
    }
    ASSERT_TRUE(store_->Append(stream, ExpectedVersion::Any(), events).ok());
  }

  // A Read request for `stream` ("$all" for the log) in string-id form.
  static streams::ReadReq ReadRequest(const std::string& stream) {
    streams::ReadReq request;
    auto* options = request.mutable_options();
    if (stream == "$all") {
      options->mutable_all()->mutable_start();
    } else {
      options->mutable_stream()->mutable_stream_identifier()->set_stream_name(
          stream);
      options->mutable_stream()->mutable_start();
    }
    options->set_count(1000);
    options->mutable_no_filter();
    options->mutable_uuid_option()->mutable_string();
    return request;
  }

  // Reads every response of a non-subscription Read.
  grpc::Status ReadAllResponses(const streams::ReadReq& request,
                                std::vector<streams::ReadResp>* out) {
    grpc::ClientContext context;
    auto reader = stub_->Read(&context, request);
    streams::ReadResp response;
    while (reader->Read(&response)) out->push_back(response);
    return reader->Finish();
  }

  static std::string Trailer(const grpc::ClientContext& context,
                             const std::string& key) {
    const auto& trailers = context.GetServerTrailingMetadata();
    auto it = trailers.find(key);
    if (it == trailers.end()) return "<none>";
    return std::string(it->second.data(), it->second.size());
  }

  bool authenticate_ = false;
  cairn::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<streams::Streams::Stub> stub_;
};

}  // namespace cairn::server::testing

#endif  // CAIRN_TESTS_SERVER_SERVER_TEST_UTIL_H_
