// Copyright (c) Cairn authors.
//
// /metrics' exposition follows the format's rules, and its figures move
// with real appends and reads through the server.
#include "server/metrics_exposition.h"

#include <gtest/gtest.h>

#include "tests/server/prometheus_exposition_checker.h"
#include "tests/server/server_test_util.h"

namespace cairn::server::testing {
namespace {

class MetricsExpositionTest : public ServerTest {
 protected:
  ExpositionChecker Scrape() {
    auto stats = store_->GetStats();
    EXPECT_TRUE(stats.ok());
    const std::string text = MetricsExposition(*stats, server_->Figures());
    ExpositionChecker checker(text);
    for (const std::string& error : checker.errors()) ADD_FAILURE() << error;
    return checker;
  }
};

TEST_F(MetricsExpositionTest, FollowsTheFormatAndNamesEveryFamily) {
  ExpositionChecker checker = Scrape();
  for (const char* family :
       {"cairn_appends_total", "cairn_written_events_total",
        "cairn_written_bytes_total", "cairn_sync_duration_seconds",
        "cairn_group_commit_events", "cairn_index_flushes_total",
        "cairn_index_merges_total", "cairn_reads_total",
        "cairn_subscription_delivered_events_total", "cairn_subscriptions",
        "cairn_subscription_max_lag_events", "cairn_grpc_calls_total",
        "cairn_open_connections", "cairn_events", "cairn_scavenges_total",
        "cairn_scavenge_running", "cairn_scavenged_events_total"}) {
    EXPECT_EQ(checker.types().count(family), 1u) << family;
  }
  EXPECT_EQ(checker.types().at("cairn_sync_duration_seconds"), "histogram");
}

// The process families carry the Prometheus process collector's names,
// types and units, with this process's figures.
TEST_F(MetricsExpositionTest, ReportsTheProcessAsThePrometheusCollectorDoes) {
  ExpositionChecker checker = Scrape();
  EXPECT_EQ(checker.types().at("process_cpu_seconds_total"), "counter");
  for (const char* gauge :
       {"process_resident_memory_bytes", "process_virtual_memory_bytes",
        "process_open_fds", "process_max_fds", "process_threads",
        "process_start_time_seconds"}) {
    ASSERT_EQ(checker.types().count(gauge), 1u) << gauge;
    EXPECT_EQ(checker.types().at(gauge), "gauge") << gauge;
    EXPECT_GT(checker.Value(gauge), 0) << gauge;
  }
  EXPECT_GE(checker.Value("process_cpu_seconds_total"), 0);
  EXPECT_LE(checker.Value("process_open_fds"),
            checker.Value("process_max_fds"));
  EXPECT_LE(checker.Value("process_resident_memory_bytes"),
            checker.Value("process_virtual_memory_bytes"));
  // The server runs threads of its own (gRPC's and the store's).
  EXPECT_GT(checker.Value("process_threads"), 2);
}

TEST_F(MetricsExpositionTest, FiguresMoveWithAppendsAndReadsThroughTheServer) {
  ExpositionChecker before = Scrape();
  streams::AppendResp response;
  ASSERT_TRUE(
      Append(AnyOptions("order-1"), {Proposed("A"), Proposed("B")}, &response)
          .ok());
  std::vector<streams::ReadResp> responses;
  ASSERT_TRUE(ReadAllResponses(ReadRequest("order-1"), &responses).ok());
  responses.clear();
  ASSERT_TRUE(ReadAllResponses(ReadRequest("$all"), &responses).ok());
  // A refused append: $all is not writable.
  const grpc::Status refused =
      Append(AnyOptions("$all"), {Proposed("A")}, &response);
  ASSERT_FALSE(refused.ok());

  ExpositionChecker after = Scrape();
  auto delta = [&](const std::string& key) {
    return after.Value(key) - std::max(before.Value(key), 0.0);
  };
  EXPECT_EQ(delta("cairn_appends_total"), 1);
  EXPECT_EQ(delta("cairn_written_events_total"), 2);
  EXPECT_GT(delta("cairn_written_bytes_total"), 0);
  EXPECT_GE(delta("cairn_sync_duration_seconds_count"), 1);
  EXPECT_EQ(delta("cairn_group_commit_events_sum"), 2);
  EXPECT_EQ(delta("cairn_reads_total{kind=\"stream\"}"), 1);
  EXPECT_EQ(delta("cairn_reads_total{kind=\"all\"}"), 1);
  EXPECT_EQ(after.Value("cairn_grpc_calls_total{method=\"Streams.Append\","
                        "code=\"OK\"}"),
            1);
  EXPECT_EQ(after.Value(
                "cairn_grpc_calls_total{method=\"Streams.Read\",code=\"OK\"}"),
            2);
  EXPECT_EQ(
      after.Value("cairn_grpc_calls_total{method=\"Streams.Append\","
                  "code=\"" +
                  std::string(StatusCodeName(refused.error_code())) + "\"}"),
      1);
  EXPECT_EQ(after.Value("cairn_events"), before.Value("cairn_events") + 2);
}

TEST_F(MetricsExpositionTest, CountsOpenConnectionsOfThePlaintextPort) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = streams::Streams::NewStub(channel);
  grpc::ClientContext context;
  std::vector<streams::ReadResp> responses;
  auto reader = stub->Read(&context, ReadRequest("$all"));
  streams::ReadResp read;
  while (reader->Read(&read)) responses.push_back(read);
  ASSERT_TRUE(reader->Finish().ok());
  // The channel keeps its connection open.
  EXPECT_EQ(Scrape().Value("cairn_open_connections"), 1);
}

}  // namespace
}  // namespace cairn::server::testing
