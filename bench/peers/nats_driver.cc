// Copyright (c) Cairn authors.
//
// NATS JetStream (nats-server, C client nats.c). One JetStream stream
// EVENTS over the subjects events.>, file storage; an event stream is the
// subject "events.<stream name>". An event is one message: the data is the
// payload, the type and metadata travel as headers (Event-Type,
// Event-Metadata), the event id as Nats-Msg-Id (JetStream's duplicate
// window: its idempotency). Optimistic concurrency is the
// Nats-Expected-Last-Subject-Sequence header: the stream sequence of the
// subject's last message, 0 for an empty subject.
//
// single     js_PublishMsg, waiting for the ack
// concurrent one connection, asynchronous publishes (js_PublishMsgAsync)
//            with at most `in_flight` unacknowledged; each ack records the
//            latency and the subject's new sequence
// batch      100 asynchronous publishes to one subject, then waiting for
//            all acks. JetStream 2.9 has no multi-message transaction: the
//            batch is NOT atomic, and only its first message carries the
//            expected sequence (the later ones' sequences are not known
//            until acked)
// read-all   an ordered push consumer over events.> from the first message
//
// Durability: nats-server 2.9 acknowledges a publish once it is written to
// its files, without fsync; it syncs every 2 minutes. The per-write sync
// (`sync_interval: always`) only exists from nats-server 2.10; 2.9.10
// refuses the setting. Its figures are therefore NOT at equal durability.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/peers/driver.h"

namespace cairn::peers {
namespace {

using tools::bench::NowNanos;

constexpr char kStream[] = "EVENTS";
constexpr char kSubjects[] = "events.>";
constexpr char kSubjectPrefix[] = "events.";
constexpr int64_t kWaitMs = 60'000;

Status NatsError(const std::string& what, natsStatus s,
                 jsErrCode code = static_cast<jsErrCode>(0),
                 const char* text = nullptr) {
  std::string message = "nats: " + what + ": " + natsStatus_GetText(s);
  if (code != 0) {
    message +=
        " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  }
  if (text != nullptr) message += std::string(" ") + text;
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0')
    message += std::string(" [") + last + "]";
  return Status::IOError(message);
}

// A connection and its JetStream context, with an ack handler for the
// asynchronous publishes that forwards to `on_ack`.
class Client {
 public:
  using AckFn = void (*)(void* self, natsMsg* msg, jsPubAck* pa,
                         jsPubAckErr* pae);

  ~Client() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
  }

  Status Connect(const std::string& url, int64_t max_pending, AckFn on_ack,
                 void* self) {
    on_ack_ = on_ack;
    self_ = self;
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
    // Large writes go out at once instead of waiting for the flusher.
    if (s == NATS_OK) s = natsOptions_SetIOBufSize(opts, 1 << 20);
    if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return NatsError("connect " + url, s);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = kWaitMs;
    jo.PublishAsync.MaxPending = max_pending;
    jo.PublishAsync.StallWait = kWaitMs;
    if (on_ack != nullptr) {
      jo.PublishAsync.AckHandler = &Client::Ack;
      jo.PublishAsync.AckHandlerClosure = this;
    }
    s = natsConnection_JetStream(&js_, nc_, &jo);
    if (s != NATS_OK) return NatsError("JetStream context", s);
    return Status::Ok();
  }

  jsCtx* js() { return js_; }

 private:
  static void Ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
                  void* closure) {
    auto* client = static_cast<Client*>(closure);
    client->on_ack_(client->self_, msg, pa, pae);
    natsMsg_Destroy(msg);
  }

  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  AckFn on_ack_ = nullptr;
  void* self_ = nullptr;
};

// A message for `stream` carrying `event`, expecting `expected` as the
// subject's last sequence (< 0: no expectation).
Result<natsMsg*> MakeMsg(const std::string& stream, const EventData& event,
                         int64_t expected) {
  natsMsg* msg = nullptr;
  const std::string subject = kSubjectPrefix + stream;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, event.data.data(),
                     static_cast<int>(event.data.size()));
  const std::string id = NewUuid(ThreadRng());
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
  if (s == NATS_OK && expected >= 0) {
    // Set by hand: the client's ExpectLastSubjectSeq option treats 0 as
    // unset, but 0 is how an append says "the stream must be empty".
    s = natsMsgHeader_Set(msg, "Nats-Expected-Last-Subject-Sequence",
                          std::to_string(expected).c_str());
  }
  if (s == NATS_OK)
    s = natsMsgHeader_Set(msg, "Event-Type", event.type.c_str());
  if (s == NATS_OK && !event.metadata.empty()) {
    s = natsMsgHeader_Set(msg, "Event-Metadata", event.metadata.c_str());
  }
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    return NatsError("message", s);
  }
  return msg;
}

class NatsWriter : public Writer {
 public:
  Status Init(const std::string& url) {
    return client_.Connect(url, 4096, &NatsWriter::OnAck, this);
  }

  Result<int64_t> Append(const std::string& stream, int64_t expected,
                         std::span<const EventData> events) override {
    if (events.size() == 1) {
      auto msg = MakeMsg(stream, events[0], expected);
      if (!msg.ok()) return msg.status();
      jsPubAck* pa = nullptr;
      jsErrCode code = static_cast<jsErrCode>(0);
      natsStatus s = js_PublishMsg(&pa, client_.js(), *msg, nullptr, &code);
      natsMsg_Destroy(*msg);
      if (s != NATS_OK) return NatsError("publish", s, code);
      const int64_t seq = static_cast<int64_t>(pa->Sequence);
      jsPubAck_Destroy(pa);
      return seq;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_seq_ = 0;
      error_ = Status::Ok();
    }
    for (size_t i = 0; i < events.size(); ++i) {
      auto msg = MakeMsg(stream, events[i], i == 0 ? expected : -1);
      if (!msg.ok()) return msg.status();
      natsMsg* m = *msg;
      natsStatus s = js_PublishMsgAsync(client_.js(), &m, nullptr);
      natsMsg_Destroy(m);  // no-op once the library took it
      if (s != NATS_OK) return NatsError("publish async", s);
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = kWaitMs;
    natsStatus s = js_PublishAsyncComplete(client_.js(), &wait);
    if (s != NATS_OK) return NatsError("publish async complete", s);
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    return last_seq_;
  }

 private:
  static void OnAck(void* self, natsMsg*, jsPubAck* pa, jsPubAckErr* pae) {
    auto* writer = static_cast<NatsWriter*>(self);
    std::lock_guard<std::mutex> lock(writer->mu_);
    if (pa != nullptr) {
      writer->last_seq_ =
          std::max(writer->last_seq_, static_cast<int64_t>(pa->Sequence));
    } else if (pae != nullptr && writer->error_.ok()) {
      writer->error_ =
          NatsError("publish ack", pae->Err, pae->ErrCode, pae->ErrText);
    }
  }

  Client client_;
  std::mutex mu_;
  int64_t last_seq_ = 0;
  Status error_;
};

// The concurrent workload: one connection, `in_flight` asynchronous
// publishes outstanding.
class ConcurrentRun {
 public:
  explicit ConcurrentRun(const ConcurrentSpec& spec) : spec_(spec) {
    const auto& streams = *spec.streams;
    index_.reserve(streams.size());
    for (size_t i = 0; i < streams.size(); ++i) {
      index_.emplace(kSubjectPrefix + streams[i], i);
    }
    last_seq_.assign(streams.size(), 0);
    start_ns_.assign(streams.size(), 0);
    busy_.assign(streams.size(), false);
  }

  Status Run(const std::string& url, ConcurrentOutcome* out) {
    Client client;
    Status st = client.Connect(url, static_cast<int64_t>(spec_.in_flight) * 2,
                               &ConcurrentRun::OnAck, this);
    if (!st.ok()) return st;
    const auto& streams = *spec_.streams;
    const auto& pool = *spec_.pool;
    const int64_t start = NowNanos();
    const int64_t deadline = start + static_cast<int64_t>(spec_.seconds * 1e9);
    uint64_t i = 0;
    for (;; ++i) {
      const size_t s = i % streams.size();
      int64_t expected;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return in_flight_ < spec_.in_flight; });
        if (!error_.ok()) break;
        if (busy_[s]) continue;  // its last publish is not acked yet
        ++in_flight_;
        busy_[s] = true;
        expected = last_seq_[s];
      }
      const int64_t now = NowNanos();
      if (now >= deadline) {
        std::lock_guard<std::mutex> lock(mu_);
        --in_flight_;
        busy_[s] = false;
        break;
      }
      auto msg = MakeMsg(streams[s], pool[i % pool.size()], expected);
      if (!msg.ok()) return msg.status();
      {
        std::lock_guard<std::mutex> lock(mu_);
        start_ns_[s] = now;
      }
      natsMsg* m = *msg;
      natsStatus ps = js_PublishMsgAsync(client.js(), &m, nullptr);
      natsMsg_Destroy(m);
      if (ps != NATS_OK) return NatsError("publish async", ps);
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = kWaitMs;
    natsStatus ws = js_PublishAsyncComplete(client.js(), &wait);
    if (ws != NATS_OK) return NatsError("publish async complete", ws);
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    out->events = acked_;
    out->seconds =
        static_cast<double>(std::max(last_done_, start) - start) / 1e9;
    out->latency_ns = latency_;
    return Status::Ok();
  }

 private:
  static void OnAck(void* self, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) {
    auto* run = static_cast<ConcurrentRun*>(self);
    const int64_t end = NowNanos();
    auto it = run->index_.find(natsMsg_GetSubject(msg));
    std::lock_guard<std::mutex> lock(run->mu_);
    if (it != run->index_.end()) {
      const size_t s = it->second;
      run->busy_[s] = false;
      if (pa != nullptr) {
        run->last_seq_[s] = static_cast<int64_t>(pa->Sequence);
        run->latency_.Record(static_cast<uint64_t>(end - run->start_ns_[s]));
        ++run->acked_;
        run->last_done_ = std::max(run->last_done_, end);
      }
    }
    if (pae != nullptr && run->error_.ok()) {
      run->error_ =
          NatsError("publish ack", pae->Err, pae->ErrCode, pae->ErrText);
    }
    --run->in_flight_;
    run->cv_.notify_one();
  }

  const ConcurrentSpec& spec_;
  std::unordered_map<std::string, size_t> index_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t in_flight_ = 0;
  std::vector<int64_t> last_seq_;
  std::vector<int64_t> start_ns_;
  std::vector<bool> busy_;
  uint64_t acked_ = 0;
  int64_t last_done_ = 0;
  LatencyHistogram latency_;
  Status error_;
};

class NatsDriver : public Driver {
 public:
  explicit NatsDriver(std::string url) : url_(std::move(url)) {}

  std::string name() const override { return "jetstream"; }
  std::string durability() const override {
    return "ack after the write to the server's files, NOT fsynced "
           "(nats-server "
           "2.9 syncs every 2 min; sync_interval: always needs 2.10)";
  }
  int64_t no_stream() const override { return 0; }

  std::vector<Setting> Settings() override {
    std::vector<Setting> out;
    out.emplace_back("client", std::string("nats.c ") + nats_GetVersion());
    out.emplace_back("stream",
                     "EVENTS, subjects events.>, file storage, one replica, "
                     "default 2 min duplicate window");
    out.emplace_back("append",
                     "one message per event, Nats-Msg-Id = event id, "
                     "Nats-Expected-Last-Subject-Sequence");
    out.emplace_back("concurrent", "one connection, asynchronous publishes");
    out.emplace_back("batch",
                     "100 asynchronous publishes to one subject, then wait "
                     "for all acks; not atomic, only the first carries the "
                     "expected sequence");
    out.emplace_back("read_all", "ordered push consumer over events.>");
    return out;
  }

  Status Reset() override {
    Client client;
    Status st = client.Connect(url_, 1, nullptr, nullptr);
    if (!st.ok()) return st;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_DeleteStream(client.js(), kStream, nullptr, &code);
    if (s != NATS_OK && s != NATS_NOT_FOUND) {
      return NatsError("delete stream", s, code);
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char* subjects[] = {kSubjects};
    cfg.Name = kStream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsStreamInfo* info = nullptr;
    s = js_AddStream(&info, client.js(), &cfg, nullptr, &code);
    if (s != NATS_OK) return NatsError("add stream", s, code);
    jsStreamInfo_Destroy(info);
    return Status::Ok();
  }

  Result<std::unique_ptr<Writer>> NewWriter(WriterMode /*mode*/) override {
    auto writer = std::make_unique<NatsWriter>();
    Status s = writer->Init(url_);
    if (!s.ok()) return s;
    return std::unique_ptr<Writer>(std::move(writer));
  }

  int concurrent_writers() const override { return 1; }
  bool runs_concurrent() const override { return true; }
  Status RunConcurrent(const ConcurrentSpec& spec,
                       ConcurrentOutcome* out) override {
    ConcurrentRun run(spec);
    return run.Run(url_, out);
  }

  Result<uint64_t> ReadAllPass(uint64_t total) override {
    if (reader_ == nullptr) {
      reader_ = std::make_unique<Client>();
      Status st = reader_->Connect(url_, 1, nullptr, nullptr);
      if (!st.ok()) {
        reader_.reset();
        return st;
      }
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription* sub = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s =
        js_SubscribeSync(&sub, reader_->js(), kSubjects, nullptr, &so, &code);
    if (s != NATS_OK) return NatsError("ordered consumer", s, code);
    natsSubscription_SetPendingLimits(sub, -1, -1);
    uint64_t events = 0;
    uint64_t bytes = 0;
    while (events < total) {
      natsMsg* msg = nullptr;
      s = natsSubscription_NextMsg(&msg, sub, kWaitMs);
      if (s != NATS_OK) break;
      // Touch what a consumer would: type, data, metadata.
      const char* type = nullptr;
      const char* metadata = nullptr;
      natsMsgHeader_Get(msg, "Event-Type", &type);
      natsMsgHeader_Get(msg, "Event-Metadata", &metadata);
      bytes += static_cast<uint64_t>(natsMsg_GetDataLength(msg)) +
               (type != nullptr ? std::string_view(type).size() : 0) +
               (metadata != nullptr ? std::string_view(metadata).size() : 0);
      natsMsg_Destroy(msg);
      ++events;
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    if (s != NATS_OK) return NatsError("next message", s);
    sink_ += bytes;
    return events;
  }

 private:
  std::string url_;
  std::unique_ptr<Client> reader_;
  uint64_t sink_ = 0;
};

}  // namespace

std::unique_ptr<Driver> NewNatsDriver(std::string url) {
  return std::make_unique<NatsDriver>(std::move(url));
}

}  // namespace cairn::peers
