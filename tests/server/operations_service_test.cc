// Copyright (c) Cairn authors.
#include "server/operations_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "operations.grpc.pb.h"
#include "server/password_hash.h"
#include "server/user_store.h"
#include "tests/server/credentials_test_util.h"
#include "tests/server/server_test_util.h"

namespace cairn::server {
namespace {

namespace operations = event_store::client::operations;

using testing::Basic;

// Holds a scavenge at its first progress report until Release.
class Gate {
 public:
  void Pass(const ScavengeProgress&) {
    std::unique_lock<std::mutex> lock(mutex_);
    ++arrived_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void WaitArrived() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return arrived_ > 0; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool open_ = false;
};

class OperationsServiceTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    authenticate_ = true;
    Restart(/*hold=*/false);
    UserStore store(store_.get());
    for (auto [login, group] :
         {std::pair{"root", "$admins"}, std::pair{"op", "$ops"},
          std::pair{"bob", "readers"}}) {
      UserRecord record;
      record.login = login;
      record.groups = {group};
      record.password_hash =
          HashPassword("pw-" + record.login, MinimumPasswordHashCost()).value();
      ASSERT_TRUE(store.Create(record).ok());
    }
  }

  void TearDown() override {
    gate_.Release();
    ServerTest::TearDown();
  }

  // (Re)starts the server; with `hold`, scavenges wait at gate_.
  void Restart(bool hold) {
    ServerOptions options;
    options.password_cost = MinimumPasswordHashCost();
    options.request_shutdown = [this] { ++shutdown_requests_; };
    if (hold) {
      options.scavenge.progress = [this](const ScavengeProgress& progress) {
        gate_.Pass(progress);
      };
    }
    StartServer(options);
    ops_ = operations::Operations::NewStub(channel_);
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& login) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!login.empty()) {
      context->AddMetadata("authorization", Basic(login + ":pw-" + login));
    }
    return context;
  }

  // The `exception` trailer of a finished call; empty without one.
  static std::string Exception(const grpc::ClientContext& context) {
    const auto& trailers = context.GetServerTrailingMetadata();
    auto exception = trailers.find("exception");
    if (exception == trailers.end()) return "";
    return std::string(exception->second.data(), exception->second.size());
  }

  grpc::Status Start(const std::string& as, operations::ScavengeResp* response,
                     int thread_count = 1, int start_from_chunk = 0) {
    operations::StartScavengeReq request;
    request.mutable_options()->set_thread_count(thread_count);
    request.mutable_options()->set_start_from_chunk(start_from_chunk);
    return ops_->StartScavenge(As(as).get(), request, response);
  }

  grpc::Status Stop(const std::string& as, const std::string& id,
                    operations::ScavengeResp* response) {
    operations::StopScavengeReq request;
    request.mutable_options()->set_scavenge_id(id);
    return ops_->StopScavenge(As(as).get(), request, response);
  }

  // Waits (bounded) until `scavenges` runs have finished and none runs.
  void WaitScavengesFinished(uint64_t scavenges) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      auto stats = store_->GetStats();
      ASSERT_TRUE(stats.ok());
      if (stats->activity.scavenges >= scavenges &&
          !stats->activity.scavenge_running) {
        return;
      }
      std::this_thread::yield();
    }
    FAIL() << "the scavenge did not finish";
  }

  // Events of `stream` in the log, its tombstone aside.
  size_t StoredEvents(const std::string& stream) {
    ReadAllOptions options;
    options.max_count = 100000;
    auto all = store_->ReadAll(options);
    EXPECT_TRUE(all.ok());
    size_t count = 0;
    for (const RecordedEvent& event : all->events) {
      if (event.stream == stream && event.type != "$streamDeleted") ++count;
    }
    return count;
  }

  Gate gate_;
  std::atomic<int> shutdown_requests_{0};
  std::unique_ptr<operations::Operations::Stub> ops_;
};

TEST_F(OperationsServiceTest, StartedScavengeRemovesTombstonedEvents) {
  Seed("doomed", 5);
  ASSERT_TRUE(store_->Tombstone("doomed", ExpectedVersion::Any()).ok());
  Seed("kept", 3);
  ASSERT_EQ(StoredEvents("doomed"), 5u);

  operations::ScavengeResp response;
  ASSERT_TRUE(Start("root", &response).ok());
  EXPECT_EQ(response.scavenge_result(), operations::ScavengeResp::Started);
  EXPECT_FALSE(response.scavenge_id().empty());
  WaitScavengesFinished(1);

  EXPECT_EQ(StoredEvents("doomed"), 0u);
  EXPECT_EQ(StoredEvents("kept"), 3u);
  EXPECT_GE(store_->GetStats()->activity.scavenged_events, 5u);

  // The finished run's id is no longer stoppable; a new run gets a new id.
  operations::ScavengeResp stopped;
  EXPECT_EQ(Stop("root", response.scavenge_id(), &stopped).error_code(),
            grpc::StatusCode::NOT_FOUND);
  operations::ScavengeResp again;
  ASSERT_TRUE(Start("op", &again).ok());
  EXPECT_EQ(again.scavenge_result(), operations::ScavengeResp::Started);
  EXPECT_NE(again.scavenge_id(), response.scavenge_id());
  WaitScavengesFinished(2);
}

TEST_F(OperationsServiceTest, SecondStartAnswersTheRunningScavenge) {
  Restart(/*hold=*/true);
  operations::ScavengeResp first;
  ASSERT_TRUE(Start("root", &first).ok());
  gate_.WaitArrived();
  operations::ScavengeResp second;
  ASSERT_TRUE(Start("op", &second).ok());
  EXPECT_EQ(second.scavenge_result(), operations::ScavengeResp::InProgress);
  EXPECT_EQ(second.scavenge_id(), first.scavenge_id());
  gate_.Release();
  WaitScavengesFinished(1);
}

TEST_F(OperationsServiceTest, StopEndsTheRunningScavengeOnly) {
  Seed("doomed", 4);
  ASSERT_TRUE(store_->Tombstone("doomed", ExpectedVersion::Any()).ok());
  Restart(/*hold=*/true);
  operations::ScavengeResp started;
  ASSERT_TRUE(Start("root", &started).ok());
  gate_.WaitArrived();

  operations::StopScavengeReq request;
  request.mutable_options()->set_scavenge_id("not-" + started.scavenge_id());
  operations::ScavengeResp response;
  auto context_ptr = As("root");
  grpc::Status wrong =
      ops_->StopScavenge(context_ptr.get(), request, &response);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Exception(*context_ptr), "scavenge-not-found");

  operations::ScavengeResp stopped;
  ASSERT_TRUE(Stop("op", started.scavenge_id(), &stopped).ok());
  EXPECT_EQ(stopped.scavenge_result(), operations::ScavengeResp::Stopped);
  EXPECT_EQ(stopped.scavenge_id(), started.scavenge_id());
  gate_.Release();
  WaitScavengesFinished(1);
  // Stopped before its first part: nothing was removed.
  EXPECT_EQ(StoredEvents("doomed"), 4u);
}

TEST_F(OperationsServiceTest, BadOptionsAreInvalidArgument) {
  operations::ScavengeResp response;
  EXPECT_EQ(Start("root", &response, 0).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Start("root", &response, 65).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status chunk = Start("root", &response, 1, 3);
  EXPECT_EQ(chunk.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(chunk.error_message().find("start_from_chunk"), std::string::npos);
  EXPECT_EQ(store_->GetStats()->activity.scavenges, 0u);
}

TEST_F(OperationsServiceTest, AThrottleOutsideOneToAHundredIsRefusedAtStart) {
  for (uint32_t percent : {0u, 101u}) {
    ServerOptions options;
    options.insecure = true;
    options.listen.port = 0;
    options.scavenge.throttle_percent = percent;
    auto server = Server::Start(store_.get(), options);
    EXPECT_TRUE(server.status().IsInvalidArgument())
        << percent << ": " << server.status().ToString();
  }
}

TEST_F(OperationsServiceTest, OnlyAdminsAndOpsMayOperate) {
  for (const std::string as : {"bob", ""}) {
    operations::ScavengeResp response;
    auto context = As(as);
    operations::StartScavengeReq request;
    request.mutable_options()->set_thread_count(1);
    grpc::Status status =
        ops_->StartScavenge(context.get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << as;
    EXPECT_EQ(Exception(*context), "access-denied");
    event_store::client::Empty empty;
    EXPECT_EQ(ops_->Shutdown(As(as).get(), {}, &empty).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(ops_->MergeIndexes(As(as).get(), {}, &empty).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(ops_->RestartPersistentSubscriptions(As(as).get(), {}, &empty)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(Stop(as, "x", &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(shutdown_requests_.load(), 0);
  EXPECT_EQ(store_->GetStats()->activity.scavenges, 0u);
  event_store::client::Empty empty;
  EXPECT_TRUE(ops_->MergeIndexes(As("op").get(), {}, &empty).ok());
  EXPECT_TRUE(
      ops_->RestartPersistentSubscriptions(As("op").get(), {}, &empty).ok());
}

TEST_F(OperationsServiceTest, ShutdownAsksTheHostOnce) {
  event_store::client::Empty empty;
  ASSERT_TRUE(ops_->Shutdown(As("root").get(), {}, &empty).ok());
  EXPECT_EQ(shutdown_requests_.load(), 1);
}

TEST_F(OperationsServiceTest, WithoutAuthenticationAnyoneMayOperate) {
  authenticate_ = false;
  Restart(/*hold=*/false);
  event_store::client::Empty empty;
  ASSERT_TRUE(ops_->Shutdown(As("").get(), {}, &empty).ok());
  EXPECT_EQ(shutdown_requests_.load(), 1);
  operations::ScavengeResp response;
  ASSERT_TRUE(Start("", &response).ok());
  WaitScavengesFinished(1);
}

TEST_F(OperationsServiceTest, ServerShutdownJoinsARunningScavenge) {
  Restart(/*hold=*/true);
  operations::ScavengeResp started;
  ASSERT_TRUE(Start("root", &started).ok());
  gate_.WaitArrived();
  gate_.Release();
  server_->Shutdown();
  // The scavenge's thread ended before Shutdown returned.
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_FALSE(stats->activity.scavenge_running);
  EXPECT_EQ(stats->activity.scavenges, 1u);
}

TEST_F(OperationsServiceTest, ShutdownWithoutAHostIsUnimplemented) {
  ServerOptions options;
  options.password_cost = MinimumPasswordHashCost();
  StartServer(options);
  ops_ = operations::Operations::NewStub(channel_);
  event_store::client::Empty empty;
  EXPECT_EQ(ops_->Shutdown(As("root").get(), {}, &empty).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace cairn::server
