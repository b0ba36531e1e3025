// Copyright (c) Cairn authors.
//
// What the PostgreSQL and Message DB drivers share: a cluster reached with
// libpq, writers with a connection each (`writers` of them for
// `concurrent`, two for pre-loads), VACUUM ANALYZE after a pre-load (what
// autovacuum would have done by then: planner statistics, visibility
// map), and a pass over everything as keyset pagination through one
// prepared statement. Each driver brings its schema, its writer and its
// read query.
#ifndef CAIRN_BENCH_PEERS_PG_FAMILY_H_
#define CAIRN_BENCH_PEERS_PG_FAMILY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/peers/driver.h"
#include "bench/peers/pg_conn.h"

namespace cairn::peers {

class PgFamilyDriver : public Driver {
 public:
  // How ReadAllPass pages through everything: `sql` takes one key ($1)
  // and returns the next page in key order; the first key; the columns a
  // consumer would touch; the key after a page whose last row is given.
  struct ReadAll {
    std::string sql;
    std::string first_key;
    std::vector<int> payload_columns;
    std::function<std::string(const PGresult*, int last_row)> next_key;
  };

  // `admin_conninfo` owns the tables (Reset, AfterLoad); writers and the
  // reader connect with `conninfo`.
  PgFamilyDriver(std::string admin_conninfo, std::string conninfo, int writers,
                 ReadAll read_all);

  std::string durability() const override;
  // Plain SQL: appends and passes over everything, nothing more.
  Capabilities capabilities() const override { return {}; }
  int concurrent_writers() const override { return writers_; }
  int load_writers() const override { return 2; }

  Result<std::unique_ptr<Writer>> NewWriter(WriteMode mode) override;
  Status AfterLoad() override;
  Result<uint64_t> ReadAllPass(uint64_t total) override;

 protected:
  // A writer over its own connection.
  virtual Result<std::unique_ptr<Writer>> MakeWriter(
      std::unique_ptr<PgConn> conn, WriteMode mode) = 0;
  // Runs `sql`, then a CHECKPOINT (so a workload starts with no dirty
  // pages of the last one to flush), on an admin connection.
  Status ExecAdminAndCheckpoint(const std::string& sql);
  // Settings as the server answers them: a key and its query each; then
  // the client library and the writer connections.
  void AddQueried(const std::vector<Setting>& key_queries,
                  std::vector<Setting>* out);
  int writers() const { return writers_; }

 private:
  const std::string admin_conninfo_;
  const std::string conninfo_;
  const int writers_;
  const ReadAll read_all_;
  std::unique_ptr<PgConn> reader_;
  uint64_t sink_ = 0;
};

}  // namespace cairn::peers

#endif  // CAIRN_BENCH_PEERS_PG_FAMILY_H_
