// Copyright (c) Cairn authors.
//
// The gRPC ceiling server's services, in this process, driven by the load
// generator's own workloads and calls: the counts each workload asks for
// come back exactly, and what the ceiling does not serve is refused with a
// status, never a silent success.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "bench/serve/calls.h"
#include "bench/serve/ceiling_log.h"
#include "bench/serve/ceiling_persistent.h"
#include "bench/serve/ceiling_streams.h"
#include "bench/serve/ceiling_sync.h"
#include "bench/serve/workloads.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"

namespace cairn::bench::serve {
namespace {

class CeilingServicesTest : public ::testing::Test {
 protected:
  // With a sync file (ceiling_sync.h) on an in-memory file system.
  void UseSync() {
    ASSERT_TRUE(memory_.CreateDir("/sync").ok());
    auto sync = CeilingSync::Open(&fs_, "/sync");
    ASSERT_TRUE(sync.ok()) << sync.status().ToString();
    sync_ = std::move(sync).value();
  }

  void SetUp() override {
    if (HasFailure()) return;
    streams_ = std::make_unique<CeilingStreams>(&log_, sync_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(streams_.get());
    builder.RegisterService(&persistent_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = pb::Streams::NewStub(channel_);
    persistent_stub_ = psub::PersistentSubscriptions::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  WorkloadResult Run(const std::string& workload, uint64_t operations) {
    LoadConfig config;
    config.operations = operations;
    config.all_events = 300;
    config.stream_events = 250;
    config.streams = 7;
    return RunWorkload(workload, {stub_.get(), persistent_stub_.get()}, config);
  }

  io::MemoryFileSystem memory_;
  io::FaultInjectionFileSystem fs_{&memory_, 1};
  std::unique_ptr<CeilingSync> sync_;
  CeilingLog log_;
  std::unique_ptr<CeilingStreams> streams_;
  CeilingPersistent persistent_{&log_};
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Streams::Stub> stub_;
  std::unique_ptr<psub::PersistentSubscriptions::Stub> persistent_stub_;
};

TEST_F(CeilingServicesTest, AppendsAreCountedExactly) {
  for (const char* workload : {"append-1", "append-256", "batch-append-1",
                               "batch-append-256", "append-100"}) {
    std::shared_ptr<const CeilingEvent> event;
    const uint64_t before = log_.AllEvents(&event);
    const WorkloadResult result = Run(workload, 300);
    EXPECT_EQ(result.error, "") << workload;
    EXPECT_EQ(result.operations, 300u) << workload;
    EXPECT_EQ(log_.AllEvents(&event) - before, result.events) << workload;
  }
}

TEST_F(CeilingServicesTest, ReadsReturnWhatWasAppended) {
  WorkloadResult result = Run("read-stream", 5);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.operations, 5u);
  EXPECT_EQ(result.events, 5u * 300u);  // 250 rounded up to whole appends

  result = Run("read-all", 4);
  EXPECT_EQ(result.error, "");
  std::shared_ptr<const CeilingEvent> event;
  // $all holds read-stream's pre-load too.
  EXPECT_EQ(result.events, 4 * log_.AllEvents(&event));

  // A read for fewer events than there are stops at its count.
  uint64_t seen = 0;
  ReadCall call(stub_.get(), ReadAllRequest(17),
                [&seen](const pb::ReadResp& response) {
                  if (response.has_event()) {
                    EXPECT_EQ(response.event().event().stream_revision(), seen);
                    ++seen;
                  }
                });
  EXPECT_TRUE(call.Wait().ok());
  EXPECT_EQ(seen, 17u);
}

TEST_F(CeilingServicesTest, EveryEventOfAGroupIsDeliveredOnce) {
  const WorkloadResult result = Run("persistent", 1000);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.events, 1000u);
}

// The subscribe workload's appends, each delivered to its subscription.
TEST_F(CeilingServicesTest, ASubscriberGetsEveryEventAppendedOnceLive) {
  const WorkloadResult result = Run("subscribe", 300);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.operations, 300u);
  EXPECT_EQ(result.events, 300u);
  // The subscription unregisters as it ends, at the latest once the server
  // has shut down (which waits for every call's end).
  server_->Shutdown();
  EXPECT_FALSE(log_.HasSubscribers());
}

// The same ceiling with the disk's part of each append: one synced block
// per Append call and per BatchAppend request, before the answer.
class CeilingSyncedServicesTest : public CeilingServicesTest {
 protected:
  void SetUp() override {
    UseSync();
    CeilingServicesTest::SetUp();
  }
};

TEST_F(CeilingSyncedServicesTest, EveryAppendSyncsOnceBeforeItIsAnswered) {
  WorkloadResult result = Run("subscribe", 200);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.events, 200u);
  EXPECT_EQ(sync_->syncs(), 200u);
  result = Run("batch-append-1", 50);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(sync_->syncs(), 250u);
}

TEST_F(CeilingSyncedServicesTest, AFailedSyncFailsEveryLaterAppend) {
  fs_.AddRule(io::FaultRule::Always(io::FaultOp::kSync));
  std::shared_ptr<const CeilingEvent> event;
  const uint64_t before = log_.AllEvents(&event);
  for (const char* workload : {"append-1", "batch-append-1"}) {
    const WorkloadResult result = Run(workload, 3);
    EXPECT_NE(result.error, "") << workload;
  }
  EXPECT_EQ(log_.AllEvents(&event), before);  // nothing counted
  EXPECT_EQ(sync_->syncs(), 0u);
  EXPECT_EQ(fs_.retried_syncs(), 0u);
}

TEST_F(CeilingServicesTest, WhatTheCeilingDoesNotServeIsRefused) {
  // A subscription to a stream, or to $all from its start.
  pb::ReadReq to_stream = SubscribeAllRequest();
  to_stream.mutable_options()
      ->mutable_stream()
      ->mutable_stream_identifier()
      ->set_stream_name("s");
  ReadCall stream_subscription(stub_.get(), to_stream,
                               [](const pb::ReadResp&) {});
  EXPECT_EQ(stream_subscription.Wait().error_code(), grpc::UNIMPLEMENTED);
  pb::ReadReq from_start = SubscribeAllRequest();
  from_start.mutable_options()->mutable_all()->mutable_start();
  ReadCall start_subscription(stub_.get(), from_start,
                              [](const pb::ReadResp&) {});
  EXPECT_EQ(start_subscription.Wait().error_code(), grpc::UNIMPLEMENTED);

  EXPECT_EQ(CreateStreamGroup(persistent_stub_.get(), "s", "g", "RoundRobin"),
            "");
  EXPECT_NE(CreateStreamGroup(persistent_stub_.get(), "s", "g", "RoundRobin"),
            "");

  // An append with options and no event.
  grpc::ClientContext context;
  pb::AppendResp response;
  auto writer = stub_->Append(&context, &response);
  pb::AppendReq options;
  options.mutable_options()->mutable_stream_identifier()->set_stream_name("s");
  options.mutable_options()->mutable_any();
  ASSERT_TRUE(writer->Write(options));
  ASSERT_TRUE(writer->WritesDone());
  EXPECT_EQ(writer->Finish().error_code(), grpc::INVALID_ARGUMENT);

  // A consumer of a group that does not exist.
  grpc::ClientContext read_context;
  auto consumer = persistent_stub_->Read(&read_context);
  psub::ReadReq request;
  request.mutable_options()->mutable_stream_identifier()->set_stream_name("s");
  request.mutable_options()->set_group_name("missing");
  request.mutable_options()->set_buffer_size(10);
  ASSERT_TRUE(consumer->Write(request));
  psub::ReadResp reply;
  EXPECT_FALSE(consumer->Read(&reply));
  EXPECT_EQ(consumer->Finish().error_code(), grpc::NOT_FOUND);
}

}  // namespace
}  // namespace cairn::bench::serve
