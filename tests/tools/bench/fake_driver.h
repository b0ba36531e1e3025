// Copyright (c) Cairn authors.
//
// An in-process benchmark Driver for the tests of the shared loops and
// workloads: it keeps every event's stream in memory, checks every
// expected token like a real store, and records every call, so a test can
// assert exactly which operations a workload issued.
//
// Asynchronous appends are held until `hold` of them are outstanding and
// then acknowledged together, on the issuing thread, inside the
// AppendAsync call that filled the batch: a run of RunPipelined with
// in_flight == hold sees exactly `hold` appends in flight, without a
// thread or a clock. A test must therefore issue a multiple of `hold`
// asynchronous appends.
#ifndef CAIRN_TESTS_TOOLS_BENCH_FAKE_DRIVER_H_
#define CAIRN_TESTS_TOOLS_BENCH_FAKE_DRIVER_H_

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tools/bench/driver.h"

namespace cairn::tools::bench::testing {

class FakeDriver : public Driver {
 public:
  struct AppendCall {
    std::string stream;
    int64_t expected = 0;
    size_t events = 0;
    WriteMode mode = WriteMode::kMeasured;
    bool async = false;
  };

  explicit FakeDriver(Capabilities caps, size_t hold = 1)
      : caps_(caps), hold_(hold) {}

  std::string name() const override { return "fake"; }
  std::string durability() const override { return "in memory"; }
  std::vector<Setting> Settings() override { return {{"kind", "fake"}}; }
  Capabilities capabilities() const override { return caps_; }
  int concurrent_writers() const override { return concurrent_writers_; }
  int load_writers() const override { return 1; }

  Status Reset() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++resets;
    log_.clear();
    streams_.clear();
    open_ = false;
    return Status::Ok();
  }
  Status Open(WriteMode mode) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_) return Status::InvalidArgument("already open");
    opens.push_back(mode);
    mode_ = mode;
    open_ = true;
    return Status::Ok();
  }
  Result<std::unique_ptr<Writer>> NewWriter(WriteMode mode) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++new_writers;
    return std::unique_ptr<Writer>(new FakeWriter(this, mode));
  }
  Status AfterLoad() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++after_loads;
    mode_ = WriteMode::kMeasured;
    return Status::Ok();
  }
  Status Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_) ++closes;
    open_ = false;
    return Status::Ok();
  }

  Result<uint64_t> ReadAllPass(uint64_t /*total*/) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++read_all_passes;
    return static_cast<uint64_t>(log_.size());
  }

  Result<uint64_t> ReadAllPassUnverified(uint64_t /*total*/) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++unverified_passes;
    return static_cast<uint64_t>(log_.size());
  }

  void AppendAsync(const std::string& stream, int64_t expected,
                   std::vector<EventData> events, AppendSink* sink,
                   uint64_t tag) override {
    std::vector<std::pair<Held, Result<Appended>>> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls.push_back({stream, expected, events.size(), mode_, true});
      held_.push_back({stream, expected, events.size(), sink, tag});
      max_held = std::max(max_held, held_.size());
      if (held_.size() < hold_) return;
      for (Held& h : held_) {
        auto r = AppendLocked(h.stream, h.expected, h.events);
        done.emplace_back(std::move(h), std::move(r));
      }
      held_.clear();
    }
    for (auto& [h, r] : done) {
      Deliver(r, h.events);
      h.sink->AppendDone(h.tag, r);
    }
  }

  Result<StreamPage> ReadStream(const std::string& stream, uint64_t from,
                                uint64_t max_count) override {
    std::lock_guard<std::mutex> lock(mu_);
    stream_reads.emplace_back(stream, from);
    const auto it = streams_.find(stream);
    const uint64_t length = it == streams_.end() ? 0 : it->second;
    const uint64_t left = from < length ? length - from : 0;
    const uint64_t n = std::min(left, max_count);
    return StreamPage{n, from + n >= length};
  }

  Result<std::unique_ptr<DriverSubscription>> SubscribeAll(
      EventSink* sink) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++subscriptions;
    const size_t history = log_.size();
    lock.unlock();
    // Catch-up: what is stored, then live.
    for (size_t p = 0; p < history; ++p) sink->OnEvent(p);
    lock.lock();
    sinks_.push_back(sink);
    return std::unique_ptr<DriverSubscription>(
        new FakeSubscription(this, sink));
  }

  Result<StoreFigures> Stats() override {
    std::lock_guard<std::mutex> lock(mu_);
    return StoreFigures{log_.size(), log_.size() * 300, streams_.size()};
  }

  Result<KillReopen> AppendKillReopen(const std::vector<std::string>& streams,
                                      const std::vector<EventData>& /*pool*/,
                                      uint64_t events) override {
    std::lock_guard<std::mutex> lock(mu_);
    kill_reopen_events.push_back(events);
    for (uint64_t i = 0; i < events; ++i) {
      const std::string& s = streams[i % streams.size()];
      ++streams_[s];
      log_.push_back(s);
    }
    return KillReopen{events, events / 2, 0.001};
  }

  // What the tests read.
  std::vector<AppendCall> calls;
  std::vector<WriteMode> opens;
  std::vector<std::pair<std::string, uint64_t>> stream_reads;
  std::vector<uint64_t> kill_reopen_events;
  int resets = 0;
  int closes = 0;
  int after_loads = 0;
  int new_writers = 0;
  int read_all_passes = 0;
  int unverified_passes = 0;
  int subscriptions = 0;
  size_t max_held = 0;
  int concurrent_writers_ = 1;

  uint64_t stored() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_.size();
  }

 private:
  struct Held {
    std::string stream;
    int64_t expected = 0;
    size_t events = 0;
    AppendSink* sink = nullptr;
    uint64_t tag = 0;
  };

  class FakeWriter : public Writer {
   public:
    FakeWriter(FakeDriver* driver, WriteMode mode)
        : driver_(driver), mode_(mode) {}
    Result<Appended> Append(const std::string& stream, int64_t expected,
                            std::span<const EventData> events) override {
      Result<Appended> r = Appended{};
      {
        std::lock_guard<std::mutex> lock(driver_->mu_);
        driver_->calls.push_back(
            {stream, expected, events.size(), mode_, false});
        r = driver_->AppendLocked(stream, expected, events.size());
      }
      driver_->Deliver(r, events.size());
      return r;
    }

   private:
    FakeDriver* driver_;
    WriteMode mode_;
  };

  class FakeSubscription : public DriverSubscription {
   public:
    FakeSubscription(FakeDriver* driver, EventSink* sink)
        : driver_(driver), sink_(sink) {}
    void Stop() override {
      std::lock_guard<std::mutex> lock(driver_->mu_);
      std::erase(driver_->sinks_, sink_);
    }

   private:
    FakeDriver* driver_;
    EventSink* sink_;
  };

  // Checks the token and stores the events; the token is the stream's
  // last version, as for the SQL stores.
  Result<Appended> AppendLocked(const std::string& stream, int64_t expected,
                                size_t events) {
    if (!open_) return Status::InvalidArgument("append to a closed store");
    uint64_t& length = streams_[stream];
    const int64_t current = static_cast<int64_t>(length) - 1;
    if (expected != current) {
      return Status::WrongExpectedVersion(std::to_string(expected),
                                          length == 0 ? 0 : length - 1, stream);
    }
    const uint64_t position = log_.size();
    for (size_t i = 0; i < events; ++i) log_.push_back(stream);
    length += events;
    return Appended{static_cast<int64_t>(length) - 1, position};
  }

  // Live subscribers receive every acknowledged event.
  void Deliver(const Result<Appended>& r, size_t events) {
    if (!r.ok()) return;
    std::vector<EventSink*> sinks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      sinks = sinks_;
    }
    for (EventSink* sink : sinks) {
      for (uint64_t p = r->position; p < r->position + events; ++p) {
        sink->OnEvent(p);
      }
    }
  }

  const Capabilities caps_;
  const size_t hold_;
  std::mutex mu_;
  bool open_ = false;
  WriteMode mode_ = WriteMode::kMeasured;
  std::vector<std::string> log_;             // stream of each position
  std::map<std::string, uint64_t> streams_;  // events per stream
  std::vector<Held> held_;
  std::vector<EventSink*> sinks_;
};

}  // namespace cairn::tools::bench::testing

#endif  // CAIRN_TESTS_TOOLS_BENCH_FAKE_DRIVER_H_
