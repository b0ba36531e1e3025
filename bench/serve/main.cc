// Copyright (c) Cairn authors.
//
// cairn_serve_bench: drives a running `cairn serve` through its gRPC API
// (the callback API of the server's own generated stubs) and reports each
// workload's events per second and latency percentiles, as text or as one
// JSON object. bench/serve/run starts the server, runs this and the
// embedded `cairn bench` in the same run, and compares them.
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/serve/workloads.h"
#include "server/process_settings.h"
#include "server/tls_files.h"
#include "tools/jsonl/json.h"

namespace cairn::bench::serve {
namespace {

void AppendLatency(const char* key, const tools::bench::LatencyHistogram& h,
                   std::string* out) {
  char text[256];
  (void)std::snprintf(text, sizeof(text),
                      "\"%s\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
                      "\"p999\":%.1f,\"mean\":%.1f,\"max\":%.1f}",
                      key, h.Percentile(0.5) / 1e3, h.Percentile(0.9) / 1e3,
                      h.Percentile(0.99) / 1e3, h.Percentile(0.999) / 1e3,
                      h.Mean() / 1e3, h.max() / 1e3);
  *out += text;
}

// Sends HTTP Basic credentials with every call, as the clients do (gRPC
// sends call credentials over TLS only).
class BasicCredentials : public grpc::MetadataCredentialsPlugin {
 public:
  explicit BasicCredentials(const std::string& login_password) {
    std::string encoded(
        sodium_base64_ENCODED_LEN(login_password.size(),
                                  sodium_base64_VARIANT_ORIGINAL),
        '\0');
    sodium_bin2base64(
        encoded.data(), encoded.size(),
        reinterpret_cast<const unsigned char*>(login_password.data()),
        login_password.size(), sodium_base64_VARIANT_ORIGINAL);
    encoded.resize(encoded.find('\0'));
    value_ = "Basic " + encoded;
  }

  // Runs inline: a blocking plugin would cost each call a thread hop.
  bool IsBlocking() const override { return false; }

  grpc::Status GetMetadata(
      grpc::string_ref /*service_url*/, grpc::string_ref /*method_name*/,
      const grpc::AuthContext& /*channel_auth_context*/,
      std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->insert(std::make_pair("authorization", value_));
    return grpc::Status::OK;
  }

 private:
  std::string value_;
};

double EventsPerSecond(const WorkloadResult& r) {
  return r.seconds > 0 ? r.events / r.seconds : 0;
}

// ,"cpu":{...}: the CPU seconds of the measured window, and per event.
void AppendCpu(const WorkloadResult& r, std::string* out) {
  if (!r.loadgen_cpu_seconds && !r.server_cpu_seconds) return;
  *out += ",\"cpu\":{";
  const char* comma = "";
  auto add = [&](const char* who, std::optional<double> seconds) {
    if (!seconds) return;
    char text[160];
    (void)std::snprintf(
        text, sizeof(text), "%s\"%s_seconds\":%.3f,\"%s_us_per_event\":%.3f",
        comma, who, *seconds, who,
        r.events > 0 ? *seconds * 1e6 / static_cast<double>(r.events) : 0.0);
    *out += text;
    comma = ",";
  };
  add("loadgen", r.loadgen_cpu_seconds);
  add("server", r.server_cpu_seconds);
  *out += "}";
}

std::string ToJson(const std::string& target, const LoadConfig& config,
                   const std::vector<WorkloadResult>& results) {
  std::string out = "{\"target\":";
  tools::json::AppendQuoted(target, &out);
  char text[256];
  (void)std::snprintf(
      text, sizeof(text),
      ",\"duration\":%.3f,\"event_size\":%zu,\"streams\":%d,"
      "\"all_events\":%llu,\"stream_events\":%llu,\"consumers\":%d,"
      "\"buffer_size\":%d,\"strategy\":",
      config.seconds, config.event_size, config.streams,
      static_cast<unsigned long long>(config.all_events),
      static_cast<unsigned long long>(config.stream_events), config.consumers,
      config.buffer_size);
  out += text;
  tools::json::AppendQuoted(config.strategy, &out);
  out += ",\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const WorkloadResult& r = results[i];
    if (i > 0) out += ",";
    out += "{\"workload\":";
    tools::json::AppendQuoted(r.workload, &out);
    out += ",\"rpc\":";
    tools::json::AppendQuoted(r.rpc, &out);
    out += ",\"latency_of\":";
    tools::json::AppendQuoted(r.latency_of, &out);
    (void)std::snprintf(
        text, sizeof(text),
        ",\"in_flight\":%d,\"events_per_append\":%d,\"events\":%llu,"
        "\"operations\":%llu,\"seconds\":%.6f,"
        "\"events_per_sec\":%.1f,",
        r.in_flight, r.events_per_append,
        static_cast<unsigned long long>(r.events),
        static_cast<unsigned long long>(r.operations), r.seconds,
        EventsPerSecond(r));
    out += text;
    AppendLatency("latency_us", r.latency_ns, &out);
    AppendCpu(r, &out);
    if (r.append_latency_ns.count() > 0) {
      out += ",";
      AppendLatency("append_latency_us", r.append_latency_ns, &out);
    }
    if (!r.error.empty()) {
      out += ",\"error\":";
      tools::json::AppendQuoted(r.error, &out);
    }
    out += "}";
  }
  out += "]}";
  return out;
}

void PrintText(const WorkloadResult& r) {
  const auto& h = r.latency_ns;
  std::printf(
      "%-17s %10.0f events/s  %9llu events  p50 %.0f us  p90 %.0f us  "
      "p99 %.0f us  p99.9 %.0f us%s%s\n",
      r.workload.c_str(), EventsPerSecond(r),
      static_cast<unsigned long long>(r.events), h.Percentile(0.5) / 1e3,
      h.Percentile(0.9) / 1e3, h.Percentile(0.99) / 1e3,
      h.Percentile(0.999) / 1e3,
      r.error.empty() ? "" : "  FAILED: ", r.error.c_str());
  if (r.server_cpu_seconds && r.events > 0) {
    std::printf(
        "%-17s server %.1f us, load generator %.1f us of CPU per event\n", "",
        *r.server_cpu_seconds * 1e6 / static_cast<double>(r.events),
        r.loadgen_cpu_seconds.value_or(0) * 1e6 /
            static_cast<double>(r.events));
  }
  (void)std::fflush(stdout);
}

int Main(int argc, char** argv) {
  // As cairn serve and the ceiling server do (server/process_settings.h).
  cairn::server::ApplyGrpcProcessSettings();
  CLI::App app{"Load generator for cairn serve (gRPC)"};
  std::string target;
  std::vector<std::string> workloads = {"all"};
  LoadConfig config;
  bool json = false;
  std::string tls_ca;
  app.add_option("--target", target, "The server's gRPC address HOST:PORT")
      ->required();
  app.add_option("--tls-ca", tls_ca,
                 "Connect over TLS, trusting this CA (PEM); default plaintext");
  std::string credentials_text = "admin:changeit";
  app.add_option("--credentials", credentials_text,
                 "LOGIN:PASSWORD sent with every call over TLS (default the "
                 "server's default admin)");
  std::vector<std::string> choices = WorkloadNames();
  choices.emplace_back("all");
  app.add_option("--workload", workloads, "Workloads to run (default all)")
      ->check(CLI::IsMember(choices));
  app.add_option("--duration", config.seconds, "Seconds per workload")
      ->check(CLI::PositiveNumber);
  app.add_option("--operations", config.operations,
                 "Appends or reads per workload, whatever the time (a smoke "
                 "run with exact counts)")
      ->check(CLI::PositiveNumber);
  app.add_option("--event-size", config.event_size,
                 "Bytes of type + data per event (default 200)")
      ->check(CLI::Range(32, 1 << 20));
  app.add_option("--streams", config.streams,
                 "Streams the appends spread over (default 10000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--events", config.all_events,
                 "Events pre-loaded for read-all and persistent (default "
                 "100000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--stream-events", config.stream_events,
                 "Events of the stream read-stream reads (default 1000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--consumers", config.consumers,
                 "persistent: consumers of the group (default 4)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--buffer-size", config.buffer_size,
                 "persistent: unacked events per consumer (default 10, the "
                 "clients')")
      ->check(CLI::Range(1, 10000));
  app.add_option("--strategy", config.strategy,
                 "persistent: the group's consumer strategy (default "
                 "RoundRobin)");
  app.add_option("--server-pid", config.server_pid,
                 "The server's process id when it runs on this machine: each "
                 "workload then reports its CPU time too")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "Print one JSON object");
  CLI11_PARSE(app, argc, argv);

  if (workloads.size() == 1 && workloads[0] == "all") {
    workloads = WorkloadNames();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (!tls_ca.empty()) {
    Result<std::string> ca =
        cairn::server::LoadPemCertificates("TLS CA", tls_ca);
    if (!ca.ok()) {
      std::cerr << "cairn_serve_bench: " << ca.status().message() << "\n";
      return 2;
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca.value();
    credentials = grpc::CompositeChannelCredentials(
        grpc::SslCredentials(ssl),
        grpc::MetadataCredentialsFromPlugin(
            std::make_unique<BasicCredentials>(credentials_text)));
  }
  auto channel = grpc::CreateCustomChannel(target, credentials, args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(30))) {
    std::cerr << "cairn_serve_bench: cannot connect to " << target << "\n";
    return 2;
  }
  auto stub = pb::Streams::NewStub(channel);
  auto persistent = psub::PersistentSubscriptions::NewStub(channel);
  const Stubs stubs{stub.get(), persistent.get()};
  std::vector<WorkloadResult> results;
  bool failed = false;
  for (const std::string& name : workloads) {
    results.push_back(RunWorkload(name, stubs, config));
    if (!results.back().error.empty()) failed = true;
    if (!json) PrintText(results.back());
  }
  if (json) std::cout << ToJson(target, config, results) << "\n";
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace cairn::bench::serve

int main(int argc, char** argv) {
  // gRPC, CLI11 and the standard library report what goes wrong outside
  // the calls (an allocation, a bad argument) by exception.
  try {
    return cairn::bench::serve::Main(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "cairn_serve_bench: %s\n", e.what());
    return 2;
  }
}
