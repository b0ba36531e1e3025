// Copyright (c) Cairn authors.
#include "bench/peers/pg_conn.h"

namespace cairn::peers {

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::IOError("PostgreSQL connect (" + conninfo + "): " + message);
  }
  return std::unique_ptr<PgConn>(new PgConn(conn));
}

PgConn::~PgConn() { PQfinish(conn_); }

Status PgConn::Error(const std::string& what, const PGresult* result) {
  std::string message = what + ": ";
  if (result != nullptr) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state != nullptr) message += std::string("SQLSTATE ") + state + " ";
    message += PQresultErrorMessage(result);
  } else {
    message += PQerrorMessage(conn_);
  }
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return Status::IOError(message);
}

Status PgConn::Exec(const std::string& sql) {
  PgResult r(PQexec(conn_, sql.c_str()));
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return Error(sql, r.get());
  }
  return Status::Ok();
}

Result<std::string> PgConn::QueryValue(const std::string& sql) {
  PgResult r(PQexec(conn_, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return Error(sql, r.get());
  if (PQntuples(r.get()) < 1) return std::string();
  return std::string(PQgetvalue(r.get(), 0, 0));
}

Status PgConn::Prepare(const std::string& name, const std::string& sql,
                       int params) {
  PgResult r(PQprepare(conn_, name.c_str(), sql.c_str(), params, nullptr));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    return Error("prepare " + name, r.get());
  }
  return Status::Ok();
}

Result<PgResult> PgConn::Run(const std::string& name,
                             const std::vector<const char*>& params) {
  PgResult r(PQexecPrepared(conn_, name.c_str(),
                            static_cast<int>(params.size()), params.data(),
                            nullptr, nullptr, 0));
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return Error(name, r.get());
  }
  return r;
}

Status PgConn::EnterPipeline() {
  if (PQenterPipelineMode(conn_) != 1) return Error("pipeline mode", nullptr);
  return Status::Ok();
}

Status PgConn::Queue(const std::string& name,
                     const std::vector<const char*>& params) {
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                          params.data(), nullptr, nullptr, 0) != 1) {
    return Error("queue " + name, nullptr);
  }
  return Status::Ok();
}

Status PgConn::QueuePlain(const std::string& sql) {
  if (PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr,
                        nullptr, 0) != 1) {
    return Error("queue " + sql, nullptr);
  }
  return Status::Ok();
}

Status PgConn::SyncAndCollect(int count) {
  if (PQpipelineSync(conn_) != 1) return Error("pipeline sync", nullptr);
  Status first;
  for (int i = 0; i < count; ++i) {
    // Each queued statement yields its result(s), then a null.
    while (PGresult* raw = PQgetResult(conn_)) {
      PgResult r(raw);
      const ExecStatusType st = PQresultStatus(raw);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && first.ok()) {
        first = Error("pipelined statement", raw);
      }
    }
  }
  PgResult sync(PQgetResult(conn_));
  if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC && first.ok()) {
    first = Error("pipeline sync result", sync.get());
  }
  return first;
}

Result<uint64_t> ReadAllPages(
    PgConn* conn, const std::string& name, std::string first_key,
    const std::vector<int>& payload_columns,
    const std::function<std::string(const PGresult*, int last_row)>& next_key,
    uint64_t* sink) {
  uint64_t rows_read = 0;
  uint64_t bytes = 0;
  std::string key = std::move(first_key);
  for (;;) {
    auto r = conn->Run(name, {key.c_str()});
    if (!r.ok()) return r.status();
    const PGresult* rows = r->get();
    const int n = PQntuples(rows);
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      for (int column : payload_columns) {
        bytes += static_cast<uint64_t>(PQgetlength(rows, i, column));
      }
    }
    rows_read += static_cast<uint64_t>(n);
    key = next_key(rows, n - 1);
  }
  *sink += bytes;
  return rows_read;
}

std::string PgArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace cairn::peers
