// Copyright (c) Cairn authors.
#include "tools/bench/subscribe.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "cairn/store.h"

namespace cairn::tools::bench {
namespace {

// Acknowledgement times by position, in a ring: a subscriber that lags by
// more than the ring simply takes no latency sample for that event.
constexpr uint64_t kRing = 1u << 20;

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

class Counter : public SubscriptionHandler {
 public:
  Counter(const AckRing* acks, LatencyHistogram* latency, std::mutex* mu)
      : acks_(acks), latency_(latency), mu_(mu) {}
  void OnEvent(const RecordedEventView& event) override {
    delivered_.fetch_add(1, std::memory_order_relaxed);
    if (acks_ == nullptr) return;
    const int64_t now = NowNanos();
    const int64_t acked = acks_->Get(event.position.value());
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

}  // namespace

Status RunSubscribe(const WorkloadConfig& config, WorkloadResult* result) {
  const uint32_t subscribers = std::max<uint32_t>(config.subscribers, 1);
  const auto pool = MakeEvents(config.event_size, 256, 11);
  Options options;
  options.durability = config.durability;
  auto store = Store::Open(config.dir, options);
  if (!store.ok()) return store.status();
  auto acks = std::make_unique<AckRing>();
  std::mutex latency_mu;
  std::vector<std::shared_ptr<Counter>> counters;
  std::vector<std::unique_ptr<Subscription>> subs;
  for (uint32_t i = 0; i < subscribers; ++i) {
    counters.push_back(std::make_shared<Counter>(
        acks.get(), &result->latency_ns, &latency_mu));
    auto sub = (*store)->Subscribe(SubscriptionOptions{}, counters.back());
    if (!sub.ok()) return sub.status();
    subs.push_back(std::move(sub.value()));
  }

  // One writer thread, config.in_flight (256 by default) single-event
  // appends in flight, durable.
  const uint64_t max_in_flight = std::max<uint32_t>(config.in_flight, 1);
  result->in_flight = static_cast<uint32_t>(max_in_flight);
  std::mutex mu;
  std::condition_variable cv;
  uint64_t in_flight = 0;
  uint64_t acked = 0;
  Status error;
  const int64_t start = NowNanos();
  const int64_t deadline = start + static_cast<int64_t>(config.seconds * 1e9);
  uint64_t issued = 0;
  while (NowNanos() < deadline &&
         (config.events == 0 || issued < config.events)) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < max_in_flight; });
      if (!error.ok()) break;
      ++in_flight;
    }
    (*store)->AppendAsync(StreamName(issued % 1000), ExpectedVersion::Any(),
                          {pool[issued % pool.size()]},
                          [&](Result<AppendResult> r) {
                            const int64_t now = NowNanos();
                            if (r.ok()) {
                              acks->Record(r->first_position.value(), now);
                            }
                            std::lock_guard<std::mutex> lock(mu);
                            if (!r.ok() && error.ok()) error = r.status();
                            --in_flight;
                            ++acked;
                            cv.notify_all();
                          });
    ++issued;
    if (config.progress != nullptr && config.progress->Due(NowNanos())) {
      config.progress->Show("cairn bench: subscribe  " +
                            std::to_string(issued) + " appended");
    }
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  if (!error.ok()) return error;
  // Every subscriber receives everything that was appended.
  for (const auto& c : counters) {
    while (c->delivered() < acked) {
      (void)(*store)->Sync();
      std::unique_lock<std::mutex> lock(mu);
      cv.wait_for(lock, std::chrono::milliseconds(10));
    }
  }
  const int64_t end = NowNanos();
  for (auto& s : subs) s->Stop();
  for (auto& c : counters) c->Flush();
  uint64_t delivered = 0;
  for (const auto& c : counters) delivered += c->delivered();
  result->latency_of = "delivery after the durable ack";
  result->events = acked;
  result->operations = acked;
  result->seconds = static_cast<double>(end - start) / 1e9;
  result->events_per_sec = static_cast<double>(acked) / result->seconds;
  result->subscribers = subscribers;
  result->delivered = delivered;
  result->delivered_per_sec = static_cast<double>(delivered) / result->seconds;
  result->payload_bytes_per_event = config.event_size;
  result->bytes_per_event =
      static_cast<double>(StoredEventBytes(config.event_size));
  result->memory = ReadMemoryUsage();
  result->streams = 1000;

  // Catch-up: a new subscription reads the whole log from position 0.
  auto catchup = std::make_shared<Counter>(nullptr, nullptr, nullptr);
  const int64_t catchup_start = NowNanos();
  auto sub = (*store)->Subscribe(SubscriptionOptions{}, catchup);
  if (!sub.ok()) return sub.status();
  while (catchup->delivered() < acked) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(1));
  }
  const int64_t catchup_end = NowNanos();
  (*sub)->Stop();
  result->catchup_events_per_sec =
      static_cast<double>(acked) /
      (static_cast<double>(catchup_end - catchup_start) / 1e9);
  return (*store)->Close();
}

}  // namespace cairn::tools::bench
