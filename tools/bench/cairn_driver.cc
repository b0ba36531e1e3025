// Copyright (c) Cairn authors.
#include "tools/bench/cairn_driver.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <limits>
#include <utility>

#include "cairn/store_metrics.h"
#include "cairn/subscription.h"
#include "tools/bench/loops.h"
#include "tools/bench/stats.h"
#include "tools/bench/workloads.h"

namespace cairn::tools::bench {
namespace {

// Where the read passes leave what they computed, so no optimiser can
// decide the work was unused.
std::atomic<uint64_t> g_sink{0};

Appended ToAppended(const AppendResult& r) {
  return {static_cast<int64_t>(r.last_revision.value()),
          r.first_position.value()};
}

class CairnWriter : public Writer {
 public:
  explicit CairnWriter(Store* store) : store_(store) {}
  Result<Appended> Append(const std::string& stream, int64_t /*expected*/,
                          std::span<const EventData> events) override {
    auto r = store_->Append(stream, ExpectedVersion::Any(), events);
    if (!r.ok()) return r.status();
    return ToAppended(*r);
  }

 private:
  Store* store_;
};

class Forwarder : public SubscriptionHandler {
 public:
  explicit Forwarder(EventSink* sink) : sink_(sink) {}
  void OnEvent(const RecordedEventView& event) override {
    sink_->OnEvent(event.position.value());
  }

 private:
  EventSink* sink_;
};

class CairnSubscription : public DriverSubscription {
 public:
  explicit CairnSubscription(std::unique_ptr<Subscription> sub)
      : sub_(std::move(sub)) {}
  void Stop() override { sub_->Stop(); }

 private:
  std::unique_ptr<Subscription> sub_;
};

const char* DurabilityName(Durability d) {
  switch (d) {
    case Durability::kGroupCommit:
      return "group";
    case Durability::kInterval:
      return "interval";
    case Durability::kNone:
      return "none";
  }
  return "?";
}

}  // namespace

CairnDriver::CairnDriver(std::string dir, Durability durability,
                         bool category_and_type_streams)
    : dir_(std::move(dir)),
      durability_(durability),
      category_and_type_streams_(category_and_type_streams) {}

CairnDriver::~CairnDriver() { (void)Close(); }

std::string CairnDriver::durability() const {
  return std::string("Durability ") + DurabilityName(durability_) +
         (durability_ == Durability::kGroupCommit
              ? ": acknowledged after fdatasync"
              : "");
}

std::vector<Setting> CairnDriver::Settings() {
  std::vector<Setting> settings = {
      {"durability", DurabilityName(durability_)},
      {"category_and_type_streams",
       category_and_type_streams_ ? "true" : "false"}};
  if (index_cache_streams_ != 0) {
    settings.emplace_back("index_cache_streams",
                          std::to_string(index_cache_streams_));
  }
  return settings;
}

Capabilities CairnDriver::capabilities() const { return Capabilities::All(); }

Options CairnDriver::OptionsFor(WriteMode mode) const {
  Options options;
  options.durability =
      mode == WriteMode::kLoad ? Durability::kNone : durability_;
  options.category_and_type_streams = category_and_type_streams_;
  if (index_cache_streams_ != 0) {
    options.index_cache_streams = index_cache_streams_;
  }
  return options;
}

Status CairnDriver::OpenWith(const Options& options) {
  if (store_ != nullptr) return Status::InvalidArgument("store already open");
  auto store = Store::Open(dir_, options);
  if (!store.ok()) return store.status();
  store_ = std::move(store.value());
  return Status::Ok();
}

Status CairnDriver::Reset() {
  Status s = Close();
  if (!s.ok()) return s;
  std::error_code error;
  std::filesystem::remove_all(dir_, error);
  if (error) return Status::IOError("cannot remove " + dir_, error.value());
  return Status::Ok();
}

Status CairnDriver::Open(WriteMode mode) { return OpenWith(OptionsFor(mode)); }

Result<std::unique_ptr<Writer>> CairnDriver::NewWriter(WriteMode /*mode*/) {
  if (store_ == nullptr) return Status::InvalidArgument("store not open");
  return std::unique_ptr<Writer>(new CairnWriter(store_.get()));
}

Status CairnDriver::AfterLoad() {
  Status s = Close();
  if (!s.ok()) return s;
  return Open(WriteMode::kMeasured);
}

Status CairnDriver::Close() {
  if (store_ == nullptr) return Status::Ok();
  Status s = store_->Close();
  store_.reset();
  return s;
}

Result<uint64_t> CairnDriver::ReadAllPass(uint64_t /*total*/) {
  return Pass(/*verify_checksums=*/true);
}

Result<uint64_t> CairnDriver::ReadAllPassUnverified(uint64_t /*total*/) {
  return Pass(/*verify_checksums=*/false);
}

Result<uint64_t> CairnDriver::Pass(bool verify_checksums) {
  ReadAllOptions options;
  options.max_count = std::numeric_limits<uint64_t>::max();
  options.verify_checksums = verify_checksums;
  uint64_t events = 0;
  uint64_t bytes = 0;
  auto next = store_->VisitAll(options, [&](const RecordedEventView& event) {
    // Touch what a consumer would, so the pass can not skip decoding.
    ++events;
    bytes += event.data.size() + event.metadata.size() + event.type.size();
    return true;
  });
  if (!next.ok()) return next.status();
  g_sink.fetch_add(bytes, std::memory_order_relaxed);
  return events;
}

void CairnDriver::AppendAsync(const std::string& stream, int64_t /*expected*/,
                              std::vector<EventData> events, AppendSink* sink,
                              uint64_t tag) {
  // Captures two words, so std::function keeps it inline: no allocation
  // of the benchmark's own per append.
  store_->AppendAsync(stream, ExpectedVersion::Any(), std::move(events),
                      [sink, tag](const Result<AppendResult>& r) {
                        if (r.ok()) {
                          sink->AppendDone(tag, ToAppended(*r));
                        } else {
                          sink->AppendDone(tag, r.status());
                        }
                      });
}

Result<StreamPage> CairnDriver::ReadStream(const std::string& stream,
                                           uint64_t from, uint64_t max_count) {
  ReadStreamOptions options;
  options.from = StreamRevision(from);
  options.max_count = max_count;
  auto read = store_->ReadStream(stream, options);
  if (!read.ok()) return read.status();
  return StreamPage{read->events.size(), read->end_of_stream};
}

Result<std::unique_ptr<DriverSubscription>> CairnDriver::SubscribeAll(
    EventSink* sink) {
  auto sub = store_->Subscribe(SubscriptionOptions{},
                               std::make_shared<Forwarder>(sink));
  if (!sub.ok()) return sub.status();
  return std::unique_ptr<DriverSubscription>(
      new CairnSubscription(std::move(sub.value())));
}

Status CairnDriver::Sync() { return store_->Sync(); }

Result<StoreFigures> CairnDriver::Stats() {
  auto stats = store_->GetStats();
  if (!stats.ok()) return stats.status();
  const StoreActivity& a = stats->activity;
  return StoreFigures{.events = stats->events,
                      .bytes = stats->bytes,
                      .streams = stats->streams,
                      .commits = a.group_commit_events.count,
                      .committed_events = a.group_commit_events.sum,
                      .syncs = a.sync_micros.count,
                      .sync_micros = a.sync_micros.sum};
}

Result<KillReopen> CairnDriver::AppendKillReopen(
    const std::vector<std::string>& streams, const std::vector<EventData>& pool,
    uint64_t events) {
  Status s = Close();
  if (!s.ok()) return s;
  int fds[2];
  if (pipe(fds) != 0) return Status::IOError("pipe failed");
  // The parent holds no store (and so no store thread) here: the child
  // starts from a single-threaded copy.
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::IOError("fork failed");
  }
  if (pid == 0) {
    close(fds[0]);
    CairnDriver child(dir_, Durability::kGroupCommit,
                      category_and_type_streams_);
    AppendTotals totals;
    Status c = child.Open(WriteMode::kMeasured);
    if (c.ok()) {
      c = LoadEvents(&child, streams, pool, events, kBatchEvents,
                     WriteMode::kMeasured, nullptr, "", &totals);
    }
    const char done = c.ok() ? 1 : 0;
    if (write(fds[1], &done, 1) != 1) _exit(1);
    for (;;) pause();  // until killed, store open
  }
  close(fds[1]);
  char done = 0;
  const ssize_t got = read(fds[0], &done, 1);
  close(fds[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  if (got != 1 || done != 1) {
    return Status::IOError("the writer to be killed failed to append");
  }
  KillReopen out;
  out.appended_events = events;
  Options options = OptionsFor(WriteMode::kMeasured);
  options.open_progress = [&](const OpenProgress& p) {
    out.replayed_events = p.events;
  };
  const int64_t start = NowNanos();
  s = OpenWith(options);
  if (!s.ok()) return s;
  out.open_seconds = Seconds(NowNanos() - start);
  s = Close();
  if (!s.ok()) return s;
  return out;
}

}  // namespace cairn::tools::bench
