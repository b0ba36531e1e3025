// Copyright (c) Cairn authors.
//
// Cairn as a benchmark Driver: a Store in a directory of its own, through
// the public API only, as an application would see it. Measured appends
// use the durability under test; pre-loads use kNone, and AfterLoad
// closes and reopens the store, so the reads start from a store as a
// restarted application would find it. Appends state
// ExpectedVersion::Any(): Cairn looks up the stream's last revision to
// number the events either way.
#ifndef CAIRN_TOOLS_BENCH_CAIRN_DRIVER_H_
#define CAIRN_TOOLS_BENCH_CAIRN_DRIVER_H_

#include <memory>
#include <string>
#include <vector>

#include "cairn/options.h"
#include "cairn/store.h"
#include "tools/bench/driver.h"

namespace cairn::tools::bench {

class CairnDriver : public Driver {
 public:
  // `dir` is the store's directory (created on Open; Reset removes it).
  // `durability` is that of the measured appends; `category_and_type_streams`
  // goes to Options.
  CairnDriver(std::string dir, Durability durability,
              bool category_and_type_streams);
  ~CairnDriver() override;

  // Options::index_cache_streams of the stores it opens (0: the default).
  void set_index_cache_streams(uint64_t streams) {
    index_cache_streams_ = streams;
  }

  std::string name() const override { return "cairn"; }
  std::string durability() const override;
  std::vector<Setting> Settings() override;
  Capabilities capabilities() const override;

  Status Reset() override;
  Status Open(WriteMode mode) override;
  Result<std::unique_ptr<Writer>> NewWriter(WriteMode mode) override;
  Status AfterLoad() override;
  Status Close() override;

  Result<uint64_t> ReadAllPass(uint64_t total) override;
  Result<uint64_t> ReadAllPassUnverified(uint64_t total) override;
  void AppendAsync(const std::string& stream, int64_t expected,
                   std::vector<EventData> events, AppendSink* sink,
                   uint64_t tag) override;
  Result<StreamPage> ReadStream(const std::string& stream, uint64_t from,
                                uint64_t max_count) override;
  Result<std::unique_ptr<DriverSubscription>> SubscribeAll(
      EventSink* sink) override;
  Status Sync() override;
  Result<StoreFigures> Stats() override;
  Result<KillReopen> AppendKillReopen(const std::vector<std::string>& streams,
                                      const std::vector<EventData>& pool,
                                      uint64_t events) override;

 private:
  Options OptionsFor(WriteMode mode) const;
  Status OpenWith(const Options& options);
  Result<uint64_t> Pass(bool verify_checksums);

  const std::string dir_;
  const Durability durability_;
  const bool category_and_type_streams_;
  uint64_t index_cache_streams_ = 0;
  std::unique_ptr<Store> store_;
};

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_CAIRN_DRIVER_H_
