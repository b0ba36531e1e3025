// Copyright (c) Cairn authors.
//
// The one report writer of `cairn bench` and bench/peers: a peer's report
// carries the fields bench/peers/report.py reads, with the names of
// Cairn's own, and no raw limits or goals (those are Cairn's).
#include "tools/bench/report.h"

#include <gtest/gtest.h>

#include <string>

#include "tools/jsonl/json.h"

namespace cairn::tools::bench {
namespace {

WorkloadResult Result(std::string workload) {
  WorkloadResult r;
  r.workload = std::move(workload);
  r.events = 1000;
  r.seconds = 2;
  r.events_per_sec = 500;
  r.operations = 1000;
  r.writers = 3;
  r.streams = 10;
  r.latency_of = "append";
  r.latency_ns.Record(2000);
  return r;
}

json::Value Parse(const std::string& text) {
  json::Value value;
  json::ParseError error;
  EXPECT_TRUE(json::Parse(text, &value, &error)) << error.ToString();
  return value;
}

TEST(ReportTest, APeersJsonHasCairnsFieldNamesAndItsOwnSettings) {
  BenchReport report;
  report.peer = "sqlite";
  report.durability_text = "fsync before COMMIT returns";
  report.store_settings = {{"journal_mode", "wal"}};
  report.workload = "single";
  report.seconds = 2;
  report.in_flight = 256;
  report.results.push_back(Result("single"));
  const json::Value j = Parse(ReportJson(report));
  EXPECT_EQ(j.Find("peer")->string_value(), "sqlite");
  EXPECT_EQ(j.Find("durability")->string_value(),
            "fsync before COMMIT returns");
  EXPECT_EQ(j.Find("workload")->string_value(), "single");
  EXPECT_EQ(j.Find("events_per_sec")->AsDouble().value_or(0), 500);
  EXPECT_EQ(j.Find("writers")->AsDouble().value_or(0), 3);
  EXPECT_EQ(j.Find("latency_us")->Find("p50")->AsDouble().value_or(0), 2);
  const json::Value* settings = j.Find("settings");
  ASSERT_NE(settings, nullptr);
  EXPECT_EQ(settings->Find("journal_mode")->string_value(), "wal");
  EXPECT_EQ(settings->Find("in_flight")->AsDouble().value_or(0), 256);
  // No raw limits, no memory of the client process, no goals.
  EXPECT_EQ(j.Find("raw"), nullptr);
  EXPECT_EQ(j.Find("raw_fsync_per_sec"), nullptr);
  EXPECT_EQ(j.Find("memory"), nullptr);
  EXPECT_EQ(j.Find("goal"), nullptr);
  EXPECT_NE(ReportText(report).find("sqlite single"), std::string::npos);
}

TEST(ReportTest, CairnsJsonHasTheRawLimitsAndTheGoals) {
  BenchReport report;
  report.workload = "single";
  report.durability = "group";
  report.raw_seconds = 1;
  report.raw.fsync_per_sec = 1000;
  WorkloadResult r = Result("single");
  r.memory.vm_rss = 1 << 20;
  report.results.push_back(r);
  const json::Value j = Parse(ReportJson(report));
  EXPECT_EQ(j.Find("peer"), nullptr);
  EXPECT_EQ(j.Find("raw_fsync_per_sec")->AsDouble().value_or(0), 1000);
  EXPECT_NE(j.Find("raw"), nullptr);
  EXPECT_NE(j.Find("memory"), nullptr);
  EXPECT_EQ(j.Find("ratio_to_raw_fsync")->AsDouble().value_or(0), 0.5);
  EXPECT_TRUE(j.Find("goal")->Find("met")->is_bool());
  EXPECT_EQ(j.Find("settings")->Find("durability")->string_value(), "group");
}

}  // namespace
}  // namespace cairn::tools::bench
