// Copyright (c) Cairn authors.
//
// SQLite 3 with the same event table as the PostgreSQL driver (the global
// position is the rowid: INTEGER PRIMARY KEY, which only grows while
// nothing is deleted; ids are 16-byte blobs; data and metadata are JSON
// text, which SQLite stores without parsing), in WAL mode with
// synchronous=FULL: every commit fsyncs the WAL before it returns.
//
// An append is BEGIN IMMEDIATE (take the write lock at once), the version
// check (SELECT max(version) for the stream), one INSERT per event, COMMIT.
// SQLite has one writer at a time; `concurrent` runs N threads with a
// connection each and busy_timeout, so they queue on the write lock (N is
// a flag; bench/peers/run picks the faster of the settings it tried, see
// docs/benchmarks.md).
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bench/peers/driver.h"

namespace cairn::peers {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE events (
  position   INTEGER PRIMARY KEY,
  id         BLOB NOT NULL UNIQUE,
  stream_id  TEXT NOT NULL,
  version    INTEGER NOT NULL,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL,
  metadata   TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()),
  UNIQUE (stream_id, version)
);
)sql";

// Page cache per connection (negative: KiB), in the spirit of the
// PostgreSQL server's shared_buffers.
constexpr char kPragmas[] =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
    "PRAGMA cache_size = -262144; PRAGMA busy_timeout = 60000;";

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
        nullptr);
    auto out = std::unique_ptr<Db>(new Db(db));
    if (rc != SQLITE_OK) return out->Error("open " + path);
    return out;
  }
  ~Db() {
    for (sqlite3_stmt* st : statements_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) !=
        SQLITE_OK) {
      std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      return Status::IOError("sqlite: " + sql + ": " + text);
    }
    return Status::Ok();
  }
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st,
                           nullptr) != SQLITE_OK) {
      return Error("prepare " + sql);
    }
    statements_.push_back(st);
    return st;
  }
  Status Error(const std::string& what) {
    return Status::IOError("sqlite: " + what + ": " + sqlite3_errmsg(db_));
  }
  Result<std::string> PragmaValue(const std::string& pragma) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, ("PRAGMA " + pragma).c_str(), -1, &st,
                           nullptr) != SQLITE_OK) {
      return Error(pragma);
    }
    std::string value;
    if (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(st, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(st);
    return value;
  }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::vector<sqlite3_stmt*> statements_;
};

class SqliteWriter : public Writer {
 public:
  explicit SqliteWriter(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  Status Init(WriteMode mode) {
    Status s = db_->Exec(kPragmas);
    // The pre-load only has to be fast; what is measured is the reads.
    if (s.ok() && mode == WriteMode::kLoad) {
      s = db_->Exec("PRAGMA synchronous = OFF");
    }
    if (!s.ok()) return s;
    for (auto [slot, sql] :
         {std::pair{&begin_, "BEGIN IMMEDIATE"}, std::pair{&commit_, "COMMIT"},
          std::pair{&rollback_, "ROLLBACK"},
          std::pair{&version_,
                    "SELECT coalesce(max(version), -1) FROM events "
                    "WHERE stream_id = ?1"},
          std::pair{&insert_,
                    "INSERT INTO events (id, stream_id, version, type, data, "
                    "metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"}}) {
      auto st = db_->Prepare(sql);
      if (!st.ok()) return st.status();
      *slot = *st;
    }
    return Status::Ok();
  }

  Result<Appended> Append(const std::string& stream, int64_t expected,
                          std::span<const EventData> events) override {
    if (!Step(begin_)) return db_->Error("BEGIN IMMEDIATE");
    Status s = Insert(stream, expected, events);
    if (s.ok() && !Step(commit_)) s = db_->Error("COMMIT");
    if (!s.ok()) {
      Step(rollback_);
      return s;
    }
    return Appended{expected + static_cast<int64_t>(events.size()), 0};
  }

 private:
  // Runs a statement without rows to completion.
  static bool Step(sqlite3_stmt* st) {
    const int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
  }

  Status Insert(const std::string& stream, int64_t expected,
                std::span<const EventData> events) {
    sqlite3_bind_text(version_, 1, stream.data(),
                      static_cast<int>(stream.size()), SQLITE_STATIC);
    int64_t current = -2;
    if (sqlite3_step(version_) == SQLITE_ROW) {
      current = sqlite3_column_int64(version_, 0);
    }
    sqlite3_reset(version_);
    if (current != expected) {
      return Status::WrongExpectedVersion(std::to_string(expected),
                                          static_cast<uint64_t>(current),
                                          "sqlite events");
    }
    int64_t version = expected;
    for (const EventData& e : events) {
      const std::string id = NewUuidBytes(ThreadRng());
      ++version;
      sqlite3_bind_blob(insert_, 1, id.data(), static_cast<int>(id.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_text(insert_, 2, stream.data(),
                        static_cast<int>(stream.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 3, version);
      sqlite3_bind_text(insert_, 4, e.type.data(),
                        static_cast<int>(e.type.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 5, e.data.data(),
                        static_cast<int>(e.data.size()), SQLITE_STATIC);
      if (e.metadata.empty()) {
        sqlite3_bind_null(insert_, 6);
      } else {
        sqlite3_bind_text(insert_, 6, e.metadata.data(),
                          static_cast<int>(e.metadata.size()), SQLITE_STATIC);
      }
      if (!Step(insert_)) return db_->Error("INSERT");
    }
    return Status::Ok();
  }

  std::unique_ptr<Db> db_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* version_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

class SqliteDriver : public Driver {
 public:
  SqliteDriver(std::string path, int writers)
      : path_(std::move(path)), writers_(writers) {}

  std::string name() const override { return "sqlite"; }
  std::string durability() const override {
    return "commit returns after the WAL fsync (journal_mode=WAL, "
           "synchronous=FULL)";
  }

  std::vector<Setting> Settings() override {
    std::vector<Setting> out;
    out.emplace_back("version", sqlite3_libversion());
    auto db = Db::Open(path_);
    if (db.ok() && (*db)->Exec(kPragmas).ok()) {
      for (const char* pragma :
           {"journal_mode", "synchronous", "cache_size", "busy_timeout",
            "wal_autocheckpoint", "page_size"}) {
        auto value = (*db)->PragmaValue(pragma);
        if (value.ok()) out.emplace_back(pragma, *value);
      }
    }
    out.emplace_back("concurrent_connections", std::to_string(writers_));
    out.emplace_back("append",
                     "BEGIN IMMEDIATE, SELECT max(version) check, one INSERT "
                     "per event, COMMIT");
    out.emplace_back("read_all", "keyset pagination, 1000 rows per query");
    return out;
  }

  Status Reset() override {
    reader_.reset();
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_ + suffix, ignored);
    }
    auto db = Db::Open(path_);
    if (!db.ok()) return db.status();
    Status s = (*db)->Exec(kPragmas);
    if (s.ok()) s = (*db)->Exec(kSchema);
    return s;
  }

  Result<std::unique_ptr<Writer>> NewWriter(WriteMode mode) override {
    auto db = Db::Open(path_);
    if (!db.ok()) return db.status();
    auto writer = std::make_unique<SqliteWriter>(std::move(db.value()));
    Status s = writer->Init(mode);
    if (!s.ok()) return s;
    return std::unique_ptr<Writer>(std::move(writer));
  }

  // Plain SQL: appends and passes over everything, nothing more.
  Capabilities capabilities() const override { return {}; }
  int concurrent_writers() const override { return writers_; }
  // One writer at a time anyway.
  int load_writers() const override { return 1; }

  Result<uint64_t> ReadAllPass(uint64_t /*total*/) override {
    if (reader_ == nullptr) {
      auto db = Db::Open(path_);
      if (!db.ok()) return db.status();
      Status s = (*db)->Exec(kPragmas);
      if (!s.ok()) return s;
      auto st = (*db)->Prepare(
          "SELECT position, id, stream_id, version, type, data, metadata "
          "FROM events WHERE position > ?1 ORDER BY position LIMIT 1000");
      if (!st.ok()) return st.status();
      read_page_ = *st;
      reader_ = std::move(db.value());
    }
    uint64_t events = 0;
    uint64_t bytes = 0;
    int64_t after = 0;
    for (;;) {
      sqlite3_bind_int64(read_page_, 1, after);
      int n = 0;
      int rc;
      while ((rc = sqlite3_step(read_page_)) == SQLITE_ROW) {
        after = sqlite3_column_int64(read_page_, 0);
        // Touch what a consumer would: type, data, metadata.
        for (int column : {4, 5, 6}) {
          sqlite3_column_text(read_page_, column);
          bytes +=
              static_cast<uint64_t>(sqlite3_column_bytes(read_page_, column));
        }
        ++n;
      }
      sqlite3_reset(read_page_);
      if (rc != SQLITE_DONE) return reader_->Error("read page");
      if (n == 0) break;
      events += static_cast<uint64_t>(n);
    }
    sink_ += bytes;
    return events;
  }

 private:
  std::string path_;
  int writers_;
  std::unique_ptr<Db> reader_;
  sqlite3_stmt* read_page_ = nullptr;
  uint64_t sink_ = 0;
};

}  // namespace

std::unique_ptr<Driver> NewSqliteDriver(std::string path,
                                        int concurrent_writers) {
  return std::make_unique<SqliteDriver>(std::move(path), concurrent_writers);
}

}  // namespace cairn::peers
