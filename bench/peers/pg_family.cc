// Copyright (c) Cairn authors.
#include "bench/peers/pg_family.h"

#include <utility>

namespace cairn::peers {

PgFamilyDriver::PgFamilyDriver(std::string admin_conninfo, std::string conninfo,
                               int writers, ReadAll read_all)
    : admin_conninfo_(std::move(admin_conninfo)),
      conninfo_(std::move(conninfo)),
      writers_(writers),
      read_all_(std::move(read_all)) {}

std::string PgFamilyDriver::durability() const {
  return "commit acknowledged after the WAL fsync (synchronous_commit=on, "
         "fsync=on)";
}

Result<std::unique_ptr<Writer>> PgFamilyDriver::NewWriter(WriteMode mode) {
  auto conn = PgConn::Connect(conninfo_);
  if (!conn.ok()) return conn.status();
  return MakeWriter(std::move(conn.value()), mode);
}

Status PgFamilyDriver::AfterLoad() {
  auto conn = PgConn::Connect(admin_conninfo_);
  if (!conn.ok()) return conn.status();
  return (*conn)->Exec("VACUUM ANALYZE");
}

Result<uint64_t> PgFamilyDriver::ReadAllPass(uint64_t /*total*/) {
  if (reader_ == nullptr) {
    auto conn = PgConn::Connect(conninfo_);
    if (!conn.ok()) return conn.status();
    Status s = (*conn)->Prepare("read_page", read_all_.sql, 1);
    if (!s.ok()) return s;
    reader_ = std::move(conn.value());
  }
  return ReadAllPages(reader_.get(), "read_page", read_all_.first_key,
                      read_all_.payload_columns, read_all_.next_key, &sink_);
}

Status PgFamilyDriver::ExecAdminAndCheckpoint(const std::string& sql) {
  reader_.reset();
  auto conn = PgConn::Connect(admin_conninfo_);
  if (!conn.ok()) return conn.status();
  Status s = (*conn)->Exec(sql);
  if (s.ok()) s = (*conn)->Exec("CHECKPOINT");
  return s;
}

void PgFamilyDriver::AddQueried(const std::vector<Setting>& key_queries,
                                std::vector<Setting>* out) {
  auto conn = PgConn::Connect(conninfo_);
  if (!conn.ok()) return;
  for (const auto& [key, query] : key_queries) {
    auto value = (*conn)->QueryValue(query);
    if (value.ok()) out->emplace_back(key, *value);
  }
  out->emplace_back("client", "libpq " + std::to_string(PQlibVersion()));
  out->emplace_back("concurrent_connections", std::to_string(writers_));
}

}  // namespace cairn::peers
