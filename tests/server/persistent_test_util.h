// Copyright (c) Cairn authors.
//
// A served store with the PersistentSubscriptions stub, and the requests
// and Read-call steps the persistent subscription tests share.
#ifndef CAIRN_TESTS_SERVER_PERSISTENT_TEST_UTIL_H_
#define CAIRN_TESTS_SERVER_PERSISTENT_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "persistent.grpc.pb.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {

namespace persistent = event_store::client::persistent_subscriptions;

using PersistentStream =
    grpc::ClientReaderWriter<persistent::ReadReq, persistent::ReadResp>;

// Create for `stream` in the deprecated form the Node clients send
// (stream_identifier and settings.revision), from the start, with the
// clients' default settings.
inline persistent::CreateReq CreateStreamRequest(const std::string& stream,
                                                 const std::string& group) {
  persistent::CreateReq request;
  auto* options = request.mutable_options();
  options->mutable_stream_identifier()->set_stream_name(stream);
  options->set_group_name(group);
  auto* settings = options->mutable_settings();
  settings->set_revision(0);
  settings->set_max_retry_count(10);
  settings->set_min_checkpoint_count(10);
  settings->set_max_checkpoint_count(1000);
  settings->set_live_buffer_size(500);
  settings->set_read_batch_size(20);
  settings->set_history_buffer_size(500);
  settings->set_message_timeout_ms(30000);
  settings->set_checkpoint_after_ms(2000);
  settings->set_named_consumer_strategy(persistent::CreateReq::RoundRobin);
  return request;
}

class PersistentTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    persistent_ = persistent::PersistentSubscriptions::NewStub(channel_);
  }
  // Restarts the server (and, with `reopen`, closes and reopens the store).
  void Restart(bool reopen) {
    server_.reset();
    if (reopen) {
      ASSERT_TRUE(store_->Close().ok());
      store_.reset();
    }
    StartServer(ServerOptions());
    persistent_ = persistent::PersistentSubscriptions::NewStub(channel_);
  }

  grpc::Status Create(const persistent::CreateReq& request,
                      grpc::ClientContext* context = nullptr) {
    grpc::ClientContext local;
    persistent::CreateResp response;
    return persistent_->Create(context ? context : &local, request, &response);
  }

  // Opens a Read call on `stream`'s `group` and takes its confirmation.
  std::unique_ptr<PersistentStream> Subscribe(const std::string& stream,
                                              const std::string& group,
                                              int buffer_size,
                                              grpc::ClientContext* context) {
    auto call = persistent_->Read(context);
    persistent::ReadReq request;
    auto* options = request.mutable_options();
    if (stream == "$all") {
      options->mutable_all();
    } else {
      options->mutable_stream_identifier()->set_stream_name(stream);
    }
    options->set_group_name(group);
    options->set_buffer_size(buffer_size);
    options->mutable_uuid_option()->mutable_string();
    EXPECT_TRUE(call->Write(request));
    persistent::ReadResp confirmation;
    if (call->Read(&confirmation)) {
      EXPECT_EQ(confirmation.subscription_confirmation().subscription_id(),
                stream + "::" + group);
    }
    return call;
  }

  // The next `n` events of a Read call.
  static std::vector<persistent::ReadResp::ReadEvent> Next(
      PersistentStream& call, size_t n) {
    std::vector<persistent::ReadResp::ReadEvent> events;
    persistent::ReadResp response;
    while (events.size() < n && call.Read(&response)) {
      if (response.has_event()) events.push_back(response.event());
    }
    return events;
  }

  // The id a client acks an event by: its link's, else its own.
  static std::string AckId(const persistent::ReadResp::ReadEvent& event) {
    return event.has_link() ? event.link().id().string()
                            : event.event().id().string();
  }

  static bool Ack(PersistentStream& call,
                  const std::vector<persistent::ReadResp::ReadEvent>& events) {
    persistent::ReadReq request;
    for (const auto& event : events) {
      request.mutable_ack()->add_ids()->set_string(AckId(event));
    }
    return call.Write(request);
  }

  static bool Nack(PersistentStream& call,
                   const persistent::ReadResp::ReadEvent& event,
                   persistent::ReadReq::Nack::Action action) {
    persistent::ReadReq request;
    request.mutable_nack()->add_ids()->set_string(AckId(event));
    request.mutable_nack()->set_action(action);
    request.mutable_nack()->set_reason("test");
    return call.Write(request);
  }

  persistent::SubscriptionInfo Info(const std::string& stream,
                                    const std::string& group,
                                    grpc::Status* status = nullptr) {
    grpc::ClientContext context;
    persistent::GetInfoReq request;
    if (stream == "$all") {
      request.mutable_options()->mutable_all();
    } else {
      request.mutable_options()->mutable_stream_identifier()->set_stream_name(
          stream);
    }
    request.mutable_options()->set_group_name(group);
    persistent::GetInfoResp response;
    grpc::Status got = persistent_->GetInfo(&context, request, &response);
    if (status) *status = got;
    return response.subscription_info();
  }

  std::unique_ptr<persistent::PersistentSubscriptions::Stub> persistent_;
};

}  // namespace cairn::server::testing

#endif  // CAIRN_TESTS_SERVER_PERSISTENT_TEST_UTIL_H_
