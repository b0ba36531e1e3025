// Copyright (c) Cairn authors.
#include "server/prometheus_text.h"

#include <gtest/gtest.h>

#include "tests/server/prometheus_exposition_checker.h"

namespace cairn::server {
namespace {

TEST(PrometheusTextTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(PrometheusText::EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(PrometheusText::EscapeHelp("a\"b\\c\nd"), "a\"b\\\\c\\nd");
}

TEST(PrometheusTextTest, FormatsDoublesShortestAndInfinity) {
  EXPECT_EQ(PrometheusText::FormatDouble(1e-6), "1e-06");
  EXPECT_EQ(PrometheusText::FormatDouble(0.5), "0.5");
  EXPECT_EQ(PrometheusText::FormatDouble(2), "2");
  EXPECT_EQ(PrometheusText::FormatDouble(1.0 / 0.0), "+Inf");
}

TEST(PrometheusTextTest, WritesFamiliesSamplesAndHistograms) {
  PrometheusText out;
  out.Family("x_total", "counter", "Things.\nMore");
  out.Sample("x_total", {{"kind", "a\"b"}}, uint64_t{3});
  out.Sample("x_total", {{"kind", "c"}}, uint64_t{4});
  HistogramSnapshot h;
  h.upper_bounds = {1, 2, 4};
  h.cumulative_counts = {1, 1, 3};
  h.count = 4;
  h.sum = 33861;
  out.Histogram("d_seconds", "Durations.", h, 1e6);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\\nMore\n"
            "# TYPE x_total counter\n"
            "x_total{kind=\"a\\\"b\"} 3\n"
            "x_total{kind=\"c\"} 4\n"
            "# HELP d_seconds Durations.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"1e-06\"} 1\n"
            "d_seconds_bucket{le=\"2e-06\"} 1\n"
            "d_seconds_bucket{le=\"4e-06\"} 3\n"
            "d_seconds_bucket{le=\"+Inf\"} 4\n"
            "d_seconds_sum 0.033861\n"
            "d_seconds_count 4\n");
  testing::ExpositionChecker checker(out.text());
  EXPECT_TRUE(checker.errors().empty()) << checker.errors().front();
  EXPECT_EQ(checker.Value("x_total{kind=\"a\\\"b\"}"), 3);
}

TEST(PrometheusTextTest, TheCheckerCatchesBrokenRules) {
  // Each exposition breaks one rule the checker must report.
  constexpr char kDecreasing[] =
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 2\n"
      "h_bucket{le=\"+Inf\"} 1\n"
      "h_count 1\n";
  for (const char* broken : {
           "x_total 1\n",                                     // no TYPE
           "# TYPE x_total counter\nx_total 1\nx_total 2\n",  // duplicate
           "# TYPE x counter\nx 1\n",                         // no _total
           "# TYPE 1x gauge\n1x 1\n",                         // bad name
           kDecreasing,
           "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",
           "# TYPE a gauge\n# TYPE b gauge\na 1\n",  // outside its block
           "# TYPE a gauge\na{l=\"\\t\"} 1\n",       // bad escape
       }) {
    testing::ExpositionChecker checker(broken);
    EXPECT_FALSE(checker.errors().empty()) << broken;
  }
}

}  // namespace
}  // namespace cairn::server
