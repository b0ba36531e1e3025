// Copyright (c) Cairn authors.
//
// A thin RAII layer over libpq for the PostgreSQL and Message DB drivers:
// one connection, prepared statements, results freed on scope exit, errors
// as Status with the server's message and SQLSTATE.
#ifndef CAIRN_BENCH_PEERS_PG_CONN_H_
#define CAIRN_BENCH_PEERS_PG_CONN_H_

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"

namespace cairn::peers {

struct PgResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

class PgConn {
 public:
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& conninfo);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs `sql` (no parameters, any number of statements).
  Status Exec(const std::string& sql);
  // The first column of the first row of `sql`, as text.
  Result<std::string> QueryValue(const std::string& sql);
  Status Prepare(const std::string& name, const std::string& sql, int params);
  // Runs a prepared statement with text parameters (nullptr = NULL); the
  // result must be a command or rows.
  Result<PgResult> Run(const std::string& name,
                       const std::vector<const char*>& params);

  // Pipeline mode (libpq 14+): queue statements, then Sync, then collect
  // one result per queued statement.
  Status EnterPipeline();
  Status Queue(const std::string& name, const std::vector<const char*>& params);
  Status QueuePlain(const std::string& sql);
  // Sends the queued statements and reads `count` results and the sync;
  // the first error wins (the server skips the rest of the pipeline).
  Status SyncAndCollect(int count);

  PGconn* raw() { return conn_; }

 private:
  explicit PgConn(PGconn* conn) : conn_(conn) {}
  Status Error(const std::string& what, const PGresult* result);

  PGconn* conn_;
};

// Reads a whole table through the prepared statement `name`, which takes
// one key and returns the next page of rows in key order (keyset
// pagination). Starts at `first_key`; `next_key` gives the key of the page
// after the one whose last row is `last_row`. Touches columns
// `payload_columns` of every row (what a consumer would read) into *sink.
// Returns the rows read.
Result<uint64_t> ReadAllPages(
    PgConn* conn, const std::string& name, std::string first_key,
    const std::vector<int>& payload_columns,
    const std::function<std::string(const PGresult*, int last_row)>& next_key,
    uint64_t* sink);

// `values` as a PostgreSQL array literal of text ("{\"a\",\"b\"}").
std::string PgArray(const std::vector<std::string>& values);

// SQLSTATE of a unique violation: a concurrent writer took the version.
inline constexpr char kPgUniqueViolation[] = "23505";

}  // namespace cairn::peers

#endif  // CAIRN_BENCH_PEERS_PG_CONN_H_
