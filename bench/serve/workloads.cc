// Copyright (c) Cairn authors.
#include "bench/serve/workloads.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "bench/serve/in_flight.h"
#include "bench/serve/load_events.h"
#include "server/process_figures.h"

namespace cairn::bench::serve {
namespace {

using tools::bench::NowNanos;

// How long the subscriber may take to deliver the events the appends
// already acknowledged before the workload is declared failed: a bound
// against a hang, never a measurement.
constexpr auto kDeliveryTimeout = std::chrono::seconds(60);
// Appends in flight while pre-loading the read workloads.
constexpr int kPreloadInFlight = 16;
constexpr int kPreloadBatch = 100;

struct AppendShape {
  std::string rpc;
  int in_flight;
  int events;
};

std::vector<std::string> StreamNames(int count) {
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) names.push_back("Order-" + RandomUuid(Rng()));
  return names;
}

WorkloadResult NewResult(std::string workload, std::string rpc,
                         std::string latency_of) {
  WorkloadResult result;
  result.workload = std::move(workload);
  result.rpc = std::move(rpc);
  result.latency_of = std::move(latency_of);
  return result;
}

// The CPU time of the load generator and of the server over one measured
// window, from its construction to End().
class CpuWindow {
 public:
  explicit CpuWindow(const LoadConfig& config)
      : server_pid_(config.server_pid),
        loadgen_(cairn::server::ProcessCpuSeconds(getpid())),
        server_(ServerNow()) {}

  void End(WorkloadResult* result) const {
    result->loadgen_cpu_seconds =
        Spent(loadgen_, cairn::server::ProcessCpuSeconds(getpid()));
    result->server_cpu_seconds = Spent(server_, ServerNow());
  }

 private:
  std::optional<double> ServerNow() const {
    if (server_pid_ == 0) return std::nullopt;
    return cairn::server::ProcessCpuSeconds(server_pid_);
  }
  static std::optional<double> Spent(std::optional<double> from,
                                     std::optional<double> to) {
    if (!from || !to) return std::nullopt;
    return *to - *from;
  }

  const int server_pid_;
  const std::optional<double> loadgen_;
  const std::optional<double> server_;
};

// Collects InFlight's figures into `result`.
void Collect(const InFlight& run, WorkloadResult* result) {
  result->events = run.events();
  result->operations = run.operations();
  result->seconds = run.seconds();
  result->latency_ns = run.latency_ns();
  result->error = run.error();
}

// The time an operation-counted run may take: unbounded.
constexpr double kNoTimeLimit = std::numeric_limits<int32_t>::max();

double Seconds(const LoadConfig& config) {
  return config.operations != 0 ? kNoTimeLimit : config.seconds;
}

// `events`-event appends to random streams of `names`, through Append or
// through one BatchAppend call, `in_flight` at a time, for `seconds` or
// until `max_appends` (when not 0).
void RunAppends(pb::Streams::Stub* stub, const AppendShape& shape,
                const std::vector<std::string>& names, const LoadConfig& config,
                double seconds, uint64_t max_appends, WorkloadResult* result) {
  const uint64_t events = static_cast<uint64_t>(shape.events);
  std::unique_ptr<BatchAppendSession> session;
  if (shape.rpc == "BatchAppend") {
    session = std::make_unique<BatchAppendSession>(stub);
  }
  InFlight* run_ptr = nullptr;
  auto start = [&](int64_t start_ns) {
    const std::string& stream = names[Rng()() % names.size()];
    auto done = [run_ptr, start_ns, events](const std::string& error) {
      run_ptr->Finish(start_ns, events, error);
    };
    if (session) {
      session->Append(stream, shape.events, start_ns, config.event_size, done);
    } else {
      StartAppend(stub, stream, shape.events, start_ns, config.event_size,
                  done);
    }
  };
  InFlight run(shape.in_flight, seconds, start, max_appends);
  run_ptr = &run;
  const CpuWindow cpu(config);
  run.Run();
  cpu.End(result);
  Collect(run, result);
  if (session) {
    grpc::Status status = session->Close();
    // The call's status says why its appends failed with "the call ended".
    if (!status.ok() &&
        (result->error.empty() || result->error.starts_with(kCallEnded))) {
      result->error = "BatchAppend: " + status.error_message();
    }
  }
}

WorkloadResult AppendWorkload(const std::string& name, const AppendShape& shape,
                              pb::Streams::Stub* stub,
                              const LoadConfig& config) {
  WorkloadResult result =
      NewResult(name, shape.rpc, "append (send to acknowledgement)");
  result.in_flight = shape.in_flight;
  result.events_per_append = shape.events;
  RunAppends(stub, shape, StreamNames(config.streams), config, Seconds(config),
             config.operations, &result);
  return result;
}

// Pre-loads `events` events in 100-event appends over `names`.
std::string Preload(pb::Streams::Stub* stub,
                    const std::vector<std::string>& names, uint64_t events,
                    const LoadConfig& config) {
  WorkloadResult preload;
  const uint64_t appends = (events + kPreloadBatch - 1) / kPreloadBatch;
  RunAppends(stub, {"Append", kPreloadInFlight, kPreloadBatch}, names, config,
             kNoTimeLimit, appends, &preload);
  if (preload.error.empty() && preload.operations != appends) {
    return "pre-load stored " + std::to_string(preload.operations) + " of " +
           std::to_string(appends) + " appends";
  }
  return preload.error;
}

// Whole reads with `request`, one at a time, for `config`'s time or
// operations; each must return at least `expected` events.
void RunReads(pb::Streams::Stub* stub, const pb::ReadReq& request,
              uint64_t expected, const LoadConfig& config,
              WorkloadResult* result) {
  const CpuWindow cpu(config);
  const int64_t begin = NowNanos();
  const int64_t deadline = begin + static_cast<int64_t>(Seconds(config) * 1e9);
  int64_t now = begin;
  do {
    uint64_t events = 0;
    const int64_t start = NowNanos();
    grpc::Status status = ReadWhole(stub, request, &events);
    now = NowNanos();
    if (!status.ok()) {
      result->error = "Read: " + status.error_message();
      break;
    }
    if (events < expected) {
      result->error = "Read returned " + std::to_string(events) +
                      " events, expected " + std::to_string(expected);
      break;
    }
    result->latency_ns.Record(static_cast<uint64_t>(now - start));
    result->events += events;
    ++result->operations;
  } while (config.operations != 0 ? result->operations < config.operations
                                  : now < deadline);
  result->seconds = (now - begin) / 1e9;
  cpu.End(result);
}

WorkloadResult ReadStreamWorkload(pb::Streams::Stub* stub,
                                  const LoadConfig& config) {
  WorkloadResult result =
      NewResult("read-stream", "Read", "read of the whole stream");
  const std::vector<std::string> names = StreamNames(1);
  result.error = Preload(stub, names, config.stream_events, config);
  if (!result.error.empty()) return result;
  // The pre-load rounds up to whole 100-event appends.
  const uint64_t stored = (config.stream_events + kPreloadBatch - 1) /
                          kPreloadBatch * kPreloadBatch;
  RunReads(stub, ReadStreamRequest(names[0], stored), stored, config, &result);
  return result;
}

WorkloadResult ReadAllWorkload(pb::Streams::Stub* stub,
                               const LoadConfig& config) {
  WorkloadResult result =
      NewResult("read-all", "Read", "read of the whole of $all");
  result.error =
      Preload(stub, StreamNames(config.streams), config.all_events, config);
  if (!result.error.empty()) return result;
  // $all also holds the server's bootstrap events and earlier workloads'.
  RunReads(stub, ReadAllRequest(std::numeric_limits<uint64_t>::max()),
           config.all_events, config, &result);
  return result;
}

// What the $all subscriber saw.
class Deliveries {
 public:
  void OnResponse(const pb::ReadResp& response) {
    std::lock_guard<std::mutex> lock(mu_);
    // Caught up, the subscription is live: every append sent from now on
    // is delivered (the confirmation comes before that point is fixed).
    if (response.has_caught_up()) {
      live_ = true;
    } else if (response.has_event()) {
      std::optional<int64_t> sent = SentNanos(response.event().event().data());
      if (sent) {
        latency_ns_.Record(static_cast<uint64_t>(NowNanos() - *sent));
        ++delivered_;
      }
    }
    changed_.notify_all();
  }
  // False if the subscription did not catch up within kDeliveryTimeout.
  bool WaitLive() {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, kDeliveryTimeout, [this] { return live_; });
  }
  // False if fewer than `count` arrived within kDeliveryTimeout.
  bool WaitDelivered(uint64_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, kDeliveryTimeout,
                             [&] { return delivered_ >= count; });
  }
  uint64_t delivered() {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_;
  }
  tools::bench::LatencyHistogram latency_ns() {
    std::lock_guard<std::mutex> lock(mu_);
    return latency_ns_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool live_ = false;
  uint64_t delivered_ = 0;
  tools::bench::LatencyHistogram latency_ns_;
};

WorkloadResult SubscribeWorkload(pb::Streams::Stub* stub,
                                 const LoadConfig& config) {
  WorkloadResult result =
      NewResult("subscribe", "Read (subscription to $all)",
                "delivery (append sent to event at the subscriber)");
  Deliveries deliveries;
  ReadCall subscription(
      stub, SubscribeAllRequest(),
      [&deliveries](const pb::ReadResp& r) { deliveries.OnResponse(r); });
  if (!deliveries.WaitLive()) {
    subscription.Cancel();
    grpc::Status status = subscription.Wait();
    result.error =
        "the subscription did not catch up: " + status.error_message();
    return result;
  }
  WorkloadResult appends;
  RunAppends(stub, {"Append", 1, 1}, StreamNames(config.streams), config,
             Seconds(config), config.operations, &appends);
  result.error = appends.error;
  result.append_latency_ns = appends.latency_ns;
  result.loadgen_cpu_seconds = appends.loadgen_cpu_seconds;
  result.server_cpu_seconds = appends.server_cpu_seconds;
  result.operations = appends.operations;
  result.seconds = appends.seconds;
  if (result.error.empty() && !deliveries.WaitDelivered(appends.events)) {
    result.error = "the subscriber received " +
                   std::to_string(deliveries.delivered()) + " of " +
                   std::to_string(appends.events) + " events";
  }
  subscription.Cancel();
  grpc::Status status = subscription.Wait();
  if (result.error.empty() && status.error_code() != grpc::CANCELLED) {
    result.error = "subscription ended: " + status.error_message();
  }
  result.events = deliveries.delivered();
  if (result.error.empty() && result.events != appends.events) {
    result.error = "the subscriber received " + std::to_string(result.events) +
                   " events for " + std::to_string(appends.events) +
                   " appended";
  }
  result.latency_ns = deliveries.latency_ns();
  return result;
}

// A group on one pre-loaded stream, drained by config.consumers consumers
// that acknowledge every event: the persistent subscription's catch-up
// rate. It pre-loads config.all_events events (config.operations in a
// smoke run) and runs until every one was acknowledged.
WorkloadResult PersistentWorkload(const Stubs& stubs,
                                  const LoadConfig& config) {
  WorkloadResult result =
      NewResult("persistent", "PersistentSubscriptions.Read",
                "event at a consumer to its Ack written");
  result.in_flight = config.consumers * config.buffer_size;
  const uint64_t events =
      config.operations != 0 ? config.operations : config.all_events;
  const std::vector<std::string> names = StreamNames(1);
  result.error = Preload(stubs.streams, names, events, config);
  if (!result.error.empty()) return result;
  // The pre-load rounds up to whole 100-event appends.
  const uint64_t stored =
      (events + kPreloadBatch - 1) / kPreloadBatch * kPreloadBatch;
  const std::string group = "bench-" + RandomUuid(Rng());
  result.error =
      CreateStreamGroup(stubs.persistent, names[0], group, config.strategy);
  if (!result.error.empty()) return result;
  AckCounter acks;
  const CpuWindow cpu(config);
  const int64_t begin = NowNanos();
  std::vector<std::unique_ptr<PersistentConsumer>> consumers;
  consumers.reserve(static_cast<size_t>(config.consumers));
  for (int i = 0; i < config.consumers; ++i) {
    consumers.push_back(std::make_unique<PersistentConsumer>(
        stubs.persistent, names[0], group, config.buffer_size, &acks));
  }
  const bool drained = acks.WaitFor(stored, kDeliveryTimeout);
  result.seconds = static_cast<double>(NowNanos() - begin) / 1e9;
  cpu.End(&result);
  for (auto& consumer : consumers) consumer->Cancel();
  for (auto& consumer : consumers) {
    grpc::Status status = consumer->Wait();
    if (result.error.empty() && status.error_code() != grpc::CANCELLED) {
      result.error = "a consumer ended: " + status.error_message();
    }
    result.latency_ns.Merge(consumer->latency_ns());
  }
  // At least once: a redelivery would be acknowledged again and counted.
  result.events = acks.count();
  result.operations = result.events;
  if (result.error.empty() && (!drained || result.events != stored)) {
    result.error = "the consumers acknowledged " +
                   std::to_string(result.events) + " events of " +
                   std::to_string(stored);
  }
  return result;
}

}  // namespace

const std::vector<std::string>& WorkloadNames() {
  static const std::vector<std::string> names = {
      "read-stream", "read-all",       "append-1",
      "append-256",  "batch-append-1", "batch-append-256",
      "append-100",  "subscribe",      "persistent"};
  return names;
}

WorkloadResult RunWorkload(const std::string& name, const Stubs& stubs,
                           const LoadConfig& config) {
  if (name == "persistent") return PersistentWorkload(stubs, config);
  pb::Streams::Stub* stub = stubs.streams;
  if (name == "read-stream") return ReadStreamWorkload(stub, config);
  if (name == "read-all") return ReadAllWorkload(stub, config);
  if (name == "subscribe") return SubscribeWorkload(stub, config);
  const AppendShape shape =
      name == "append-1"           ? AppendShape{"Append", 1, 1}
      : name == "append-256"       ? AppendShape{"Append", 256, 1}
      : name == "batch-append-1"   ? AppendShape{"BatchAppend", 1, 1}
      : name == "batch-append-256" ? AppendShape{"BatchAppend", 256, 1}
                                   : AppendShape{"Append", 1, 100};
  return AppendWorkload(name, shape, stub, config);
}

}  // namespace cairn::bench::serve
