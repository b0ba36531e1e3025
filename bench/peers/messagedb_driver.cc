// Copyright (c) Cairn authors.
//
// Message DB (the npm package @eventide/message-db: SQL for PostgreSQL),
// installed by bench/peers/run with the package's own install script.
// Appends go through its write_message(id, stream_name, type, data,
// metadata, expected_version) function, as its clients do: a single event
// is one call (autocommit); a batch is BEGIN, one call per event with the
// expected version counting up, COMMIT, sent as one libpq pipeline (one
// round trip). The writers connect as the message_store role the install
// creates, with search_path message_store,public.
//
// write_message takes a transaction-scoped advisory lock on the stream's
// category; every stream here is an "Order-..." stream, so every writer
// queues on the same lock until the holder commits. That is Message DB's
// design (it keeps category reads in order), measured as it is.
//
// read-all reads the category with get_category_messages('Order', position,
// 1000), the function Message DB consumers use.
#include <string>
#include <vector>

#include "bench/peers/driver.h"
#include "bench/peers/pg_conn.h"
#include "bench/peers/pg_family.h"

namespace cairn::peers {
namespace {

constexpr char kWrite[] =
    "SELECT message_store.write_message($1, $2, $3, $4::jsonb, $5::jsonb, "
    "$6::bigint)";

// The pre-load bypasses write_message (one call per event would take
// minutes): the rows it would have written, inserted directly.
constexpr char kLoadInsert[] = R"sql(
INSERT INTO message_store.messages
  (id, stream_name, position, type, data, metadata)
SELECT e.id, $1, $2::bigint + e.n - 1, e.type, e.data, e.metadata
FROM unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
     WITH ORDINALITY AS e(id, type, data, metadata, n)
)sql";

constexpr char kReadPage[] =
    "SELECT global_position, type, data, metadata FROM "
    "message_store.get_category_messages('Order', $1::bigint, 1000)";

class MessageDbWriter : public Writer {
 public:
  MessageDbWriter(std::unique_ptr<PgConn> conn, WriteMode mode)
      : conn_(std::move(conn)), mode_(mode) {}

  Status Init() {
    if (mode_ == WriteMode::kLoad) {
      Status s = conn_->Exec("SET synchronous_commit = off");
      if (!s.ok()) return s;
      return conn_->Prepare("load", kLoadInsert, 6);
    }
    Status s = conn_->Prepare("write", kWrite, 6);
    if (!s.ok()) return s;
    // Batches are pipelined; single writes wait for their own result.
    return Status::Ok();
  }

  Result<Appended> Append(const std::string& stream, int64_t expected,
                          std::span<const EventData> events) override {
    const int64_t n = static_cast<int64_t>(events.size());
    if (mode_ == WriteMode::kLoad) return Load(stream, expected, events);
    if (n == 1) {
      Status s = Write(stream, expected, events[0], /*queue=*/false);
      if (!s.ok()) return s;
      return Appended{expected + 1, 0};
    }
    if (!pipelined_) {
      Status s = conn_->EnterPipeline();
      if (!s.ok()) return s;
      pipelined_ = true;
    }
    Status s = conn_->QueuePlain("BEGIN");
    for (int64_t i = 0; s.ok() && i < n; ++i) {
      s = Write(stream, expected + i, events[static_cast<size_t>(i)],
                /*queue=*/true);
    }
    if (s.ok()) s = conn_->QueuePlain("COMMIT");
    if (s.ok()) s = conn_->SyncAndCollect(static_cast<int>(n) + 2);
    if (!s.ok()) return s;
    return Appended{expected + n, 0};
  }

 private:
  Status Write(const std::string& stream, int64_t expected, const EventData& e,
               bool queue) {
    const std::string id = NewUuid(ThreadRng());
    const std::string version = std::to_string(expected);
    std::vector<const char*> params = {
        id.c_str(),
        stream.c_str(),
        e.type.c_str(),
        e.data.c_str(),
        e.metadata.empty() ? nullptr : e.metadata.c_str(),
        version.c_str()};
    if (queue) return conn_->Queue("write", params);
    if (pipelined_) {
      Status s = conn_->Queue("write", params);
      if (!s.ok()) return s;
      return conn_->SyncAndCollect(1);
    }
    auto r = conn_->Run("write", params);
    return r.ok() ? Status::Ok() : r.status();
  }

  Result<Appended> Load(const std::string& stream, int64_t expected,
                        std::span<const EventData> events) {
    std::vector<std::string> ids, types, data, metadata;
    for (const EventData& e : events) {
      ids.push_back(NewUuid(ThreadRng()));
      types.push_back(e.type);
      data.push_back(e.data);
      metadata.push_back(e.metadata.empty() ? "null" : e.metadata);
    }
    const std::string first = std::to_string(expected + 1);
    const std::string a = PgArray(ids), b = PgArray(types), c = PgArray(data),
                      d = PgArray(metadata);
    auto r = conn_->Run("load", {stream.c_str(), first.c_str(), a.c_str(),
                                 b.c_str(), c.c_str(), d.c_str()});
    if (!r.ok()) return r.status();
    return Appended{expected + static_cast<int64_t>(events.size()), 0};
  }

  std::unique_ptr<PgConn> conn_;
  WriteMode mode_;
  bool pipelined_ = false;
};

class MessageDbDriver : public PgFamilyDriver {
 public:
  MessageDbDriver(std::string admin_conninfo, std::string conninfo, int writers)
      : PgFamilyDriver(
            std::move(admin_conninfo), std::move(conninfo), writers,
            // get_category_messages takes the first position to return.
            {kReadPage, "1", {1, 2, 3}, [](const PGresult* rows, int last) {
               return std::to_string(std::stoll(PQgetvalue(rows, last, 0)) + 1);
             }}) {}

  std::string name() const override { return "messagedb"; }

  std::vector<Setting> Settings() override {
    std::vector<Setting> queries;
    for (const char* query :
         {"SELECT message_store.message_store_version()", "SHOW server_version",
          "SHOW synchronous_commit", "SHOW fsync", "SHOW wal_sync_method",
          "SHOW shared_buffers", "SHOW max_wal_size"}) {
      queries.emplace_back(query, query);
    }
    std::vector<Setting> out;
    AddQueried(queries, &out);
    out.emplace_back("append",
                     "write_message() with expected_version; batch = BEGIN, "
                     "one write_message per event, COMMIT in one pipeline");
    out.emplace_back("locking",
                     "all in category 'Order': write_message's advisory lock "
                     "serialises every writer");
    out.emplace_back("read_all",
                     "get_category_messages('Order', position, 1000)");
    return out;
  }

  Status Reset() override {
    return ExecAdminAndCheckpoint(
        "TRUNCATE message_store.messages RESTART IDENTITY");
  }

 protected:
  Result<std::unique_ptr<Writer>> MakeWriter(std::unique_ptr<PgConn> conn,
                                             WriteMode mode) override {
    auto writer = std::make_unique<MessageDbWriter>(std::move(conn), mode);
    Status s = writer->Init();
    if (!s.ok()) return s;
    return std::unique_ptr<Writer>(std::move(writer));
  }
};

}  // namespace

std::unique_ptr<Driver> NewMessageDbDriver(std::string admin_conninfo,
                                           std::string conninfo,
                                           int concurrent_writers) {
  return std::make_unique<MessageDbDriver>(
      std::move(admin_conninfo), std::move(conninfo), concurrent_writers);
}

}  // namespace cairn::peers
