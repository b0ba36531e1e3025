// Copyright (c) Cairn authors.
//
// What the benchmark workloads need of a store. Cairn (cairn_driver.h) and
// the peers of bench/peers (PostgreSQL, Message DB, SQLite, NATS
// JetStream) each implement Driver, and the workloads (workloads.cc, over
// the loops of loops.cc) are written once against it: every store runs the
// same loops with the same events over the same streams.
//
// Optimistic concurrency works with a per-stream "token" the client keeps:
// the stream's last version (no_stream() when it has none) for Cairn and
// the SQL stores, the stream sequence of the subject's last message for
// JetStream. Every append states the token it expects and gets the new one
// back; a store that checks it fails the append on a mismatch, as it would
// for an application.
//
// What a store can do beyond appending and reading everything is in its
// Capabilities; a workload that needs more than a driver offers fails with
// NotSupported before it touches the store.
#ifndef CAIRN_TOOLS_BENCH_DRIVER_H_
#define CAIRN_TOOLS_BENCH_DRIVER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cairn/event.h"
#include "cairn/result.h"
#include "cairn/status.h"

namespace cairn::tools::bench {

// One line of a report's settings, as the store reports it where it can
// (PostgreSQL's SHOW, SQLite's PRAGMA).
using Setting = std::pair<std::string, std::string>;

// What writes are for: the measured appends (with the durability under
// test), or an untimed pre-load (as fast as the store takes it;
// durability does not matter there).
enum class WriteMode { kMeasured, kLoad };

// The outcome of an append the store acknowledged.
struct Appended {
  int64_t token = 0;      // the stream's new token
  uint64_t position = 0;  // global position of the first event, where known
};

// One client connection; used by one thread at a time.
class Writer {
 public:
  virtual ~Writer() = default;
  // Appends `events` to `stream` as one unit (one transaction where the
  // store has them) if the stream's token is `expected`. Returns once the
  // store acknowledged the write.
  virtual Result<Appended> Append(const std::string& stream, int64_t expected,
                                  std::span<const EventData> events) = 0;
};

// Receives the outcomes of asynchronous appends, on a thread of the
// driver's; `tag` is the caller's, handed back unchanged.
class AppendSink {
 public:
  virtual ~AppendSink() = default;
  virtual void AppendDone(uint64_t tag, const Result<Appended>& result) = 0;
};

// One page of a stream read.
struct StreamPage {
  uint64_t events = 0;
  bool end_of_stream = false;
};

// Receives the events of a subscription to everything, on a thread of the
// driver's.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(uint64_t position) = 0;
};

class DriverSubscription {
 public:
  virtual ~DriverSubscription() = default;
  // No OnEvent call runs or follows once this returns.
  virtual void Stop() = 0;
};

struct Capabilities {
  // AppendAsync: one thread keeps many appends in flight.
  bool async_append = false;
  // ReadStream: one stream, a page at a time.
  bool read_stream = false;
  // SubscribeAll and Sync.
  bool subscribe = false;
  // Stats: stored bytes and streams.
  bool stats = false;
  // The store runs inside this process, so the process's memory is the
  // store's (reported) and not the client's.
  bool in_process = false;
  // AppendKillReopen.
  bool kill_reopen = false;
  // ReadAllPass with checksum verification off (the read-all-unverified
  // workload).
  bool unverified_reads = false;

  // Every capability: what Cairn's driver offers.
  static Capabilities All() {
    return {.async_append = true,
            .read_stream = true,
            .subscribe = true,
            .stats = true,
            .in_process = true,
            .kill_reopen = true,
            .unverified_reads = true};
  }
};

// The store as it reports itself.
struct StoreFigures {
  uint64_t events = 0;
  uint64_t bytes = 0;  // stored, headers and names included
  uint64_t streams = 0;
  // Since the store was opened: group commits (one write each), the
  // events they carried, and durability syncs with their total time.
  // Zero where the driver does not know them.
  uint64_t commits = 0;
  uint64_t committed_events = 0;
  uint64_t syncs = 0;
  uint64_t sync_micros = 0;
};

// AppendKillReopen's figures.
struct KillReopen {
  uint64_t appended_events = 0;  // acknowledged before the kill
  uint64_t replayed_events = 0;  // recovered by the open after it
  double open_seconds = 0;
};

class Driver {
 public:
  virtual ~Driver() = default;

  virtual std::string name() const = 0;
  // How durable an acknowledged measured append is, in words.
  virtual std::string durability() const = 0;
  // Settings for the report; may ask the store.
  virtual std::vector<Setting> Settings() = 0;
  virtual Capabilities capabilities() const = 0;
  // The token of a stream with no events.
  virtual int64_t no_stream() const { return -1; }
  // Client threads (one Writer each) for `concurrent` where the driver has
  // no AppendAsync, and for pre-loads.
  virtual int concurrent_writers() const { return 1; }
  virtual int load_writers() const { return 1; }

  // Empties the store: each workload starts from nothing.
  virtual Status Reset() = 0;
  // Opens the store for writes of `mode` (before the writers are made).
  virtual Status Open(WriteMode /*mode*/) { return Status::Ok(); }
  virtual Result<std::unique_ptr<Writer>> NewWriter(WriteMode mode) = 0;
  // After a pre-load, before the reads: the store as a running system
  // would find it. Cairn closes and reopens (the reopen's time is
  // reported); PostgreSQL runs what autovacuum would have done by then.
  virtual Status AfterLoad() { return Status::Ok(); }
  // Closes what Open opened.
  virtual Status Close() { return Status::Ok(); }

  // One pass over every event in global order, `total` of them; returns
  // how many it saw.
  virtual Result<uint64_t> ReadAllPass(uint64_t total) = 0;
  // Capabilities::unverified_reads: the same pass without verifying the
  // records' checksums.
  virtual Result<uint64_t> ReadAllPassUnverified(uint64_t /*total*/) {
    return Status::NotSupported(name() + ": ReadAllPassUnverified");
  }

  // Capabilities::async_append: appends `events` to `stream` if its token
  // is `expected`, and calls sink->AppendDone(tag, ...) once it is
  // acknowledged or failed. `events` is taken by value: a driver that
  // appends moves it into the store (the default ignores it).
  virtual void AppendAsync(
      const std::string& /*stream*/, int64_t /*expected*/,
      // NOLINTNEXTLINE(performance-unnecessary-value-param)
      std::vector<EventData> /*events*/, AppendSink* sink, uint64_t tag) {
    sink->AppendDone(tag, Status::NotSupported(name() + ": AppendAsync"));
  }
  // Capabilities::read_stream: up to `max_count` events of `stream` from
  // revision `from`.
  virtual Result<StreamPage> ReadStream(const std::string& /*stream*/,
                                        uint64_t /*from*/,
                                        uint64_t /*max_count*/) {
    return Status::NotSupported(name() + ": ReadStream");
  }
  // Capabilities::subscribe: a live subscription to everything, from the
  // first event.
  virtual Result<std::unique_ptr<DriverSubscription>> SubscribeAll(
      EventSink* /*sink*/) {
    return Status::NotSupported(name() + ": SubscribeAll");
  }
  // Capabilities::subscribe: makes everything appended so far durable, so
  // that subscribers (which see only durable events) receive it.
  virtual Status Sync() { return Status::Ok(); }
  // Capabilities::stats.
  virtual Result<StoreFigures> Stats() {
    return Status::NotSupported(name() + ": Stats");
  }
  // Capabilities::kill_reopen: with the store closed, a child process
  // opens it, appends `events` events of `pool` in 100-event appends
  // round-robin over `streams`, and is killed with SIGKILL once they are
  // acknowledged; then the open that recovers is timed (and closed again).
  virtual Result<KillReopen> AppendKillReopen(
      const std::vector<std::string>& /*streams*/,
      const std::vector<EventData>& /*pool*/, uint64_t /*events*/) {
    return Status::NotSupported(name() + ": AppendKillReopen");
  }
};

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_DRIVER_H_
