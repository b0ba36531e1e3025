// Copyright (c) Cairn authors.
//
// What cairn_peer_bench needs of a peer store. Each peer (PostgreSQL with a
// hand-written event table, Message DB, SQLite, NATS JetStream) implements
// Driver; the workloads in workloads.cc are written once against it, so
// every peer runs exactly the same loop, the same events and the same
// stream spread as `cairn bench`.
//
// Optimistic concurrency works with a per-stream "token" the client keeps:
// the stream's last version (-1 for no stream) for the SQL stores, the
// stream sequence of the subject's last message (0 for none) for
// JetStream. Every append states the token it expects and gets the new one
// back; a mismatch is an error, as it would be for an application.
#ifndef CAIRN_BENCH_PEERS_DRIVER_H_
#define CAIRN_BENCH_PEERS_DRIVER_H_

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cairn/event.h"
#include "cairn/result.h"
#include "cairn/status.h"
#include "tools/bench/stats.h"

namespace cairn::peers {

using tools::bench::LatencyHistogram;

// One line of a report's settings: what was configured, as the peer
// reports it where it can (PostgreSQL's SHOW, SQLite's PRAGMA).
using Setting = std::pair<std::string, std::string>;

// What a writer is for: the measured appends (durable, acknowledged after
// commit) or the untimed pre-load of read-all (as fast as the peer can
// take it; durability does not matter there).
enum class WriterMode { kDurable, kLoad };

// One client connection; used by one thread at a time.
class Writer {
 public:
  virtual ~Writer() = default;
  // Appends `events` to `stream` as one unit (one transaction where the
  // peer has them) if the stream's token is `expected`; returns the new
  // token. Returns only once the peer acknowledged the write.
  virtual Result<int64_t> Append(const std::string& stream, int64_t expected,
                                 std::span<const EventData> events) = 0;
};

// What the concurrent workload asks of a driver that runs it itself
// (asynchronous clients: JetStream).
struct ConcurrentSpec {
  const std::vector<std::string>* streams = nullptr;
  const std::vector<EventData>* pool = nullptr;
  uint64_t in_flight = 256;
  double seconds = 5;
};

struct ConcurrentOutcome {
  uint64_t events = 0;
  double seconds = 0;
  LatencyHistogram latency_ns;
};

class Driver {
 public:
  virtual ~Driver() = default;

  virtual std::string name() const = 0;
  // How durable an acknowledged append is, in words, for the report.
  virtual std::string durability() const = 0;
  // Settings for the report; may ask the peer.
  virtual std::vector<Setting> Settings() = 0;
  // The token of a stream with no events.
  virtual int64_t no_stream() const { return -1; }

  // Empties the store: each workload starts from nothing.
  virtual Status Reset() = 0;
  virtual Result<std::unique_ptr<Writer>> NewWriter(WriterMode mode) = 0;

  // concurrent: worker threads, each with its own Writer, that the shared
  // runner uses unless the driver runs the workload itself.
  virtual int concurrent_writers() const = 0;
  virtual bool runs_concurrent() const { return false; }
  virtual Status RunConcurrent(const ConcurrentSpec& /*spec*/,
                               ConcurrentOutcome* /*out*/) {
    return Status::NotSupported("concurrent is run by the shared runner");
  }
  // Threads the read-all pre-load uses.
  virtual int load_writers() const { return 2; }
  // After the pre-load, before the reads: what a live system's background
  // maintenance would have done by then (PostgreSQL's autovacuum: planner
  // statistics, visibility map).
  virtual Status AfterLoad() { return Status::Ok(); }

  // One pass over every event in global order, `total` of them; returns
  // how many it saw.
  virtual Result<uint64_t> ReadAllPass(uint64_t total) = 0;
};

// A random (version 4) UUID, as text.
std::string NewUuid(std::mt19937_64& rng);
// The same as 16 bytes.
std::string NewUuidBytes(std::mt19937_64& rng);

// A generator seeded from the clock and the thread, for event ids.
std::mt19937_64& ThreadRng();

std::unique_ptr<Driver> NewPostgresDriver(std::string conninfo,
                                          int concurrent_writers);
std::unique_ptr<Driver> NewMessageDbDriver(std::string admin_conninfo,
                                           std::string conninfo,
                                           int concurrent_writers);
std::unique_ptr<Driver> NewSqliteDriver(std::string path,
                                        int concurrent_writers);
std::unique_ptr<Driver> NewNatsDriver(std::string url);

}  // namespace cairn::peers

#endif  // CAIRN_BENCH_PEERS_DRIVER_H_
