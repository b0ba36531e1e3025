// Copyright (c) Cairn authors.
//
// The peers of bench/peers as benchmark Drivers (tools/bench/driver.h):
// PostgreSQL with a hand-written event table, Message DB, SQLite and NATS
// JetStream. They run the workloads of `cairn bench` (tools/bench/
// workloads.cc), the same loops as Cairn's driver, with the same events
// and the same stream spread; this header only makes them.
#ifndef CAIRN_BENCH_PEERS_DRIVER_H_
#define CAIRN_BENCH_PEERS_DRIVER_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "tools/bench/driver.h"
#include "tools/bench/stats.h"

namespace cairn::peers {

using tools::bench::Appended;
using tools::bench::AppendSink;
using tools::bench::Capabilities;
using tools::bench::Driver;
using tools::bench::LatencyHistogram;
using tools::bench::Setting;
using tools::bench::WriteMode;
using tools::bench::Writer;

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
