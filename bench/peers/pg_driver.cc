// Copyright (c) Cairn authors.
//
// PostgreSQL with the event table most teams write by hand: a bigserial
// global position, a client-made uuid id (unique: idempotency), the stream
// id and version with a unique (stream_id, version) constraint, the type,
// jsonb data and metadata, a created timestamp.
//
// An append is one INSERT ... SELECT whose WHERE clause is the version
// check (the stream's current max version must equal the expected one);
// the statement is its own transaction (autocommit), and when two writers
// race past the check the unique constraint rejects the second. One round
// trip per append, single or batch (the batch's rows travel as arrays and
// are unnested by the server).
#include <cstdio>
#include <string>
#include <vector>

#include "bench/peers/driver.h"
#include "bench/peers/pg_conn.h"
#include "bench/peers/pg_family.h"

namespace cairn::peers {
namespace {

constexpr char kSchema[] = R"sql(
DROP TABLE IF EXISTS events;
CREATE TABLE events (
  position   bigserial PRIMARY KEY,
  id         uuid NOT NULL UNIQUE,
  stream_id  text NOT NULL,
  version    bigint NOT NULL,
  type       text NOT NULL,
  data       jsonb NOT NULL,
  metadata   jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, version)
);
)sql";

// $1 stream, $2 expected version (-1: none), $3 id, $4 type, $5 data,
// $6 metadata.
constexpr char kAppendOne[] = R"sql(
INSERT INTO events (id, stream_id, version, type, data, metadata)
SELECT $3::uuid, $1, $2::bigint + 1, $4, $5::jsonb, $6::jsonb
WHERE coalesce((SELECT max(version) FROM events WHERE stream_id = $1), -1)
      = $2::bigint
)sql";

// The same with arrays of ids, types, data and metadata.
constexpr char kAppendMany[] = R"sql(
INSERT INTO events (id, stream_id, version, type, data, metadata)
SELECT e.id, $1, $2::bigint + e.n, e.type, e.data, e.metadata
FROM unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
     WITH ORDINALITY AS e(id, type, data, metadata, n)
WHERE coalesce((SELECT max(version) FROM events WHERE stream_id = $1), -1)
      = $2::bigint
)sql";

// Keyset pagination over the global order.
constexpr char kReadPage[] = R"sql(
SELECT position, id, stream_id, version, type, data, metadata
FROM events WHERE position > $1 ORDER BY position LIMIT 1000
)sql";

class PgWriter : public Writer {
 public:
  explicit PgWriter(std::unique_ptr<PgConn> conn) : conn_(std::move(conn)) {}

  Status Init(WriteMode mode) {
    if (mode == WriteMode::kLoad) {
      // The pre-load only has to be fast; what is measured is the reads.
      Status s = conn_->Exec("SET synchronous_commit = off");
      if (!s.ok()) return s;
    }
    Status s = conn_->Prepare("append_one", kAppendOne, 6);
    if (s.ok()) s = conn_->Prepare("append_many", kAppendMany, 6);
    return s;
  }

  Result<Appended> Append(const std::string& stream, int64_t expected,
                          std::span<const EventData> events) override {
    const std::string version = std::to_string(expected);
    auto r = Send(stream, version, events);
    if (!r.ok()) return r.status();
    const std::string rows = PQcmdTuples(r->get());
    if (rows != std::to_string(events.size())) {
      return Status::WrongExpectedVersion(version, std::nullopt,
                                          "events: version check failed");
    }
    return Appended{expected + static_cast<int64_t>(events.size()), 0};
  }

 private:
  Result<PgResult> Send(const std::string& stream, const std::string& version,
                        std::span<const EventData> events) {
    if (events.size() == 1) {
      const std::string id = NewUuid(ThreadRng());
      const EventData& e = events[0];
      return conn_->Run(
          "append_one",
          {stream.c_str(), version.c_str(), id.c_str(), e.type.c_str(),
           e.data.c_str(), e.metadata.empty() ? nullptr : e.metadata.c_str()});
    }
    ids_.clear();
    types_.clear();
    data_.clear();
    metadata_.clear();
    for (const EventData& e : events) {
      ids_.push_back(NewUuid(ThreadRng()));
      types_.push_back(e.type);
      data_.push_back(e.data);
      metadata_.push_back(e.metadata.empty() ? "null" : e.metadata);
    }
    const std::string ids = PgArray(ids_);
    const std::string types = PgArray(types_);
    const std::string data = PgArray(data_);
    const std::string metadata = PgArray(metadata_);
    return conn_->Run("append_many",
                      {stream.c_str(), version.c_str(), ids.c_str(),
                       types.c_str(), data.c_str(), metadata.c_str()});
  }

  std::unique_ptr<PgConn> conn_;
  std::vector<std::string> ids_, types_, data_, metadata_;
};

class PgDriver : public PgFamilyDriver {
 public:
  PgDriver(std::string conninfo, int writers)
      : PgFamilyDriver(
            conninfo, conninfo, writers,
            // Type, data and metadata: what a consumer would
            // touch. The key is the last position read.
            {kReadPage, "0", {4, 5, 6}, [](const PGresult* rows, int last) {
               return std::string(PQgetvalue(rows, last, 0));
             }}) {}

  std::string name() const override { return "postgresql"; }

  std::vector<Setting> Settings() override {
    std::vector<Setting> queries;
    for (const char* name :
         {"server_version", "synchronous_commit", "fsync", "wal_sync_method",
          "full_page_writes", "commit_delay", "shared_buffers", "wal_buffers",
          "max_wal_size", "checkpoint_timeout", "max_connections",
          "wal_level"}) {
      queries.emplace_back(name, std::string("SHOW ") + name);
    }
    std::vector<Setting> out;
    AddQueried(queries, &out);
    out.emplace_back("append",
                     "one INSERT ... SELECT per append (autocommit), version "
                     "check in its WHERE clause, unique (stream_id, version)");
    out.emplace_back("read_all",
                     "keyset pagination, 1000 rows per query, text results");
    return out;
  }

  Status Reset() override {
    return ExecAdminAndCheckpoint(
        std::string("SET client_min_messages = warning;") + kSchema);
  }

 protected:
  Result<std::unique_ptr<Writer>> MakeWriter(std::unique_ptr<PgConn> conn,
                                             WriteMode mode) override {
    auto writer = std::make_unique<PgWriter>(std::move(conn));
    Status s = writer->Init(mode);
    if (!s.ok()) return s;
    return std::unique_ptr<Writer>(std::move(writer));
  }
};

}  // namespace

std::unique_ptr<Driver> NewPostgresDriver(std::string conninfo,
                                          int concurrent_writers) {
  return std::make_unique<PgDriver>(std::move(conninfo), concurrent_writers);
}

}  // namespace cairn::peers
