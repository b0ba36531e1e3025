// Copyright (c) Cairn authors.
#include "tools/bench/subscribe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tools/bench/loops.h"

namespace cairn::tools::bench {
namespace {

// Acknowledgement times by position, in a ring: a subscriber that lags by
// more than the ring simply takes no latency sample for that event.
constexpr uint64_t kRing = 1u << 20;
// The streams the writer appends to, round-robin.
constexpr uint64_t kStreams = 1000;

struct AckRing {
  struct Slot {
    std::atomic<uint64_t> position{~0ull};
    std::atomic<int64_t> ns{0};
  };
  std::vector<Slot> slots = std::vector<Slot>(kRing);

  void Record(uint64_t position, int64_t ns) {
    Slot& s = slots[position % kRing];
    s.ns.store(ns, std::memory_order_relaxed);
    s.position.store(position, std::memory_order_release);
  }
  // The ack time of `position`, or 0 if not (yet) known.
  int64_t Get(uint64_t position) const {
    const Slot& s = slots[position % kRing];
    if (s.position.load(std::memory_order_acquire) != position) return 0;
    return s.ns.load(std::memory_order_relaxed);
  }
};

class Counter : public EventSink {
 public:
  Counter(const AckRing* acks, LatencyHistogram* latency, std::mutex* mu)
      : acks_(acks), latency_(latency), mu_(mu) {}
  void OnEvent(uint64_t position) override {
    delivered_.fetch_add(1, std::memory_order_relaxed);
    if (acks_ == nullptr) return;
    const int64_t now = NowNanos();
    const int64_t acked = acks_->Get(position);
    // Before the ack callback ran, the delivery was simply faster.
    uint64_t sample = acked == 0 || now < acked ? 0 : now - acked;
    local_.push_back(sample);
    if (local_.size() >= 4096) Flush();
  }
  void Flush() {
    std::lock_guard<std::mutex> lock(*mu_);
    for (uint64_t v : local_) latency_->Record(v);
    local_.clear();
  }
  uint64_t delivered() const {
    return delivered_.load(std::memory_order_relaxed);
  }

 private:
  const AckRing* acks_;
  LatencyHistogram* latency_;
  std::mutex* mu_;
  std::vector<uint64_t> local_;
  std::atomic<uint64_t> delivered_{0};
};

// Waits until `counter` has received `events`, calling `nudge` (which may
// be empty) between checks. The handlers run on the driver's threads and
// signal nothing, so this checks every `period`.
void WaitForDeliveries(const Counter& counter, uint64_t events,
                       std::chrono::milliseconds period,
                       const std::function<void()>& nudge) {
  std::mutex mu;
  std::condition_variable cv;
  while (counter.delivered() < events) {
    if (nudge) nudge();
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, period);
  }
}

}  // namespace

Status RunSubscribe(Driver* driver, const WorkloadConfig& config,
                    WorkloadResult* result) {
  const Capabilities caps = driver->capabilities();
  if (!caps.subscribe || !caps.async_append) {
    return Status::NotSupported(driver->name() + " can not run subscribe");
  }
  const uint32_t subscribers = std::max<uint32_t>(config.subscribers, 1);
  const auto pool = MakeEvents(config.event_size, 256, 11);
  std::vector<std::string> streams;
  for (uint64_t i = 0; i < kStreams; ++i) streams.push_back(StreamName(i));
  Status s = driver->Open(WriteMode::kMeasured);
  if (!s.ok()) return s;
  auto acks = std::make_unique<AckRing>();
  std::mutex latency_mu;
  std::vector<std::unique_ptr<Counter>> counters;
  std::vector<std::unique_ptr<DriverSubscription>> subs;
  auto stop_all = [&] {
    for (auto& sub : subs) sub->Stop();
  };
  for (uint32_t i = 0; i < subscribers; ++i) {
    counters.push_back(std::make_unique<Counter>(
        acks.get(), &result->latency_ns, &latency_mu));
    auto sub = driver->SubscribeAll(counters.back().get());
    if (!sub.ok()) {
      stop_all();
      return sub.status();
    }
    subs.push_back(std::move(sub.value()));
  }

  // One writer thread, config.in_flight single-event appends in flight.
  AppendRun run;
  run.streams = &streams;
  run.pool = &pool;
  run.total = config.events;
  run.seconds = config.seconds;
  run.in_flight = std::max<uint32_t>(config.in_flight, 1);
  run.progress = config.progress;
  run.phase = driver->name() + " subscribe";
  run.after_append = [&](uint64_t, int64_t end, const Appended& appended) {
    acks->Record(appended.position, end);
  };
  AppendTotals totals;
  s = RunPipelined(driver, run, &totals);
  if (!s.ok()) {
    stop_all();
    return s;
  }
  const uint64_t acked = totals.events;
  // Every subscriber receives everything that was appended.
  for (const auto& c : counters) {
    WaitForDeliveries(*c, acked, std::chrono::milliseconds(10),
                      [&] { (void)driver->Sync(); });
  }
  const int64_t end = NowNanos();
  stop_all();
  for (auto& c : counters) c->Flush();
  uint64_t delivered = 0;
  for (const auto& c : counters) delivered += c->delivered();
  const double seconds = static_cast<double>(end - totals.start_ns) / 1e9;
  result->latency_of = "delivery after the durable ack";
  result->events = acked;
  result->operations = totals.appends;
  result->seconds = seconds;
  result->events_per_sec = static_cast<double>(acked) / seconds;
  result->writers = run.in_flight;
  result->in_flight = static_cast<uint32_t>(run.in_flight);
  result->subscribers = subscribers;
  result->delivered = delivered;
  result->delivered_per_sec = static_cast<double>(delivered) / seconds;
  result->bytes_per_event =
      static_cast<double>(StoredEventBytes(config.event_size));
  if (caps.in_process) result->memory = ReadMemoryUsage();
  result->streams = kStreams;

  // Catch-up: a new subscription reads everything from the start.
  Counter catchup(nullptr, nullptr, nullptr);
  const int64_t catchup_start = NowNanos();
  auto sub = driver->SubscribeAll(&catchup);
  if (!sub.ok()) return sub.status();
  WaitForDeliveries(catchup, acked, std::chrono::milliseconds(1), nullptr);
  const int64_t catchup_end = NowNanos();
  (*sub)->Stop();
  result->catchup_events_per_sec =
      static_cast<double>(acked) /
      (static_cast<double>(catchup_end - catchup_start) / 1e9);
  return driver->Close();
}

}  // namespace cairn::tools::bench
