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
// A Writer's append: one event is js_PublishMsg, waiting for the ack; a
//            batch is asynchronous publishes to one subject, then waiting
//            for all acks. JetStream 2.9 has no multi-message transaction:
//            the batch is NOT atomic, and only its first message carries
//            the expected sequence (the later ones' sequences are not
//            known until acked)
// AppendAsync (concurrent, pre-loads): one shared connection,
//            asynchronous publishes (js_PublishMsgAsync); the append is
//            done when the acks of all its messages are in
// ReadAllPass an ordered push consumer over events.> from the first message
//
// Durability: nats-server 2.9 acknowledges a publish once it is written to
// its files, without fsync; it syncs every 2 minutes. The per-write sync
// (`sync_interval: always`) only exists from nats-server 2.10; 2.9.10
// refuses the setting. Its figures are therefore NOT at equal durability.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/peers/driver.h"

namespace cairn::peers {
namespace {

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

// A message for `stream` carrying `event` with the id `id`, expecting
// `expected` as the subject's last sequence (< 0: no expectation).
Result<natsMsg*> MakeMsg(const std::string& stream, const EventData& event,
                         int64_t expected, const std::string& id) {
  natsMsg* msg = nullptr;
  const std::string subject = kSubjectPrefix + stream;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, event.data.data(),
                     static_cast<int>(event.data.size()));
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

  Result<Appended> Append(const std::string& stream, int64_t expected,
                          std::span<const EventData> events) override {
    if (events.size() == 1) {
      auto msg = MakeMsg(stream, events[0], expected, NewUuid(ThreadRng()));
      if (!msg.ok()) return msg.status();
      jsPubAck* pa = nullptr;
      jsErrCode code = static_cast<jsErrCode>(0);
      natsStatus s = js_PublishMsg(&pa, client_.js(), *msg, nullptr, &code);
      natsMsg_Destroy(*msg);
      if (s != NATS_OK) return NatsError("publish", s, code);
      const int64_t seq = static_cast<int64_t>(pa->Sequence);
      jsPubAck_Destroy(pa);
      return Appended{seq, 0};
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_seq_ = 0;
      error_ = Status::Ok();
    }
    for (size_t i = 0; i < events.size(); ++i) {
      auto msg = MakeMsg(stream, events[i], i == 0 ? expected : -1,
                         NewUuid(ThreadRng()));
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
    return Appended{last_seq_, 0};
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

// Driver::AppendAsync: one connection shared by every asynchronous append;
// the acks come back on the client's thread, matched to their append by
// the message id.
class AsyncAppender {
 public:
  Status Connect(const std::string& url) {
    return client_.Connect(url, kAsyncMaxPending, &AsyncAppender::OnAck, this);
  }

  void Append(const std::string& stream, int64_t expected,
              const std::vector<EventData>& events, AppendSink* sink,
              uint64_t tag) {
    auto pending = std::make_shared<Pending>();
    pending->sink = sink;
    pending->tag = tag;
    pending->left = events.size();
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string id = NewUuid(ThreadRng());
      Status st;
      auto msg = MakeMsg(stream, events[i], i == 0 ? expected : -1, id);
      if (msg.ok()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          by_id_.emplace(id, pending);
        }
        natsMsg* m = *msg;
        natsStatus ps = js_PublishMsgAsync(client_.js(), &m, nullptr);
        natsMsg_Destroy(m);  // no-op once the library took it
        if (ps != NATS_OK) st = NatsError("publish async", ps);
      } else {
        st = msg.status();
      }
      if (!st.ok()) {
        // This message and the rest are never sent: count them done.
        std::unique_lock<std::mutex> lock(mu_);
        by_id_.erase(id);
        if (pending->error.ok()) pending->error = st;
        pending->left -= events.size() - i;
        if (pending->left == 0) {
          lock.unlock();
          Finish(*pending);
        }
        return;
      }
    }
  }

 private:
  // Enough for the pre-loads' 64 appends of 100 events in flight.
  static constexpr int64_t kAsyncMaxPending = 1 << 16;

  struct Pending {
    AppendSink* sink = nullptr;
    uint64_t tag = 0;
    size_t left = 0;  // messages not acknowledged yet
    int64_t last_seq = 0;
    Status error;
  };

  static void Finish(const Pending& p) {
    if (p.error.ok()) {
      p.sink->AppendDone(p.tag, Appended{p.last_seq, 0});
    } else {
      p.sink->AppendDone(p.tag, p.error);
    }
  }

  static void OnAck(void* self, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) {
    auto* appender = static_cast<AsyncAppender*>(self);
    const char* id = nullptr;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    std::shared_ptr<Pending> pending;
    {
      std::lock_guard<std::mutex> lock(appender->mu_);
      auto it = appender->by_id_.find(id != nullptr ? id : "");
      if (it == appender->by_id_.end()) return;
      pending = std::move(it->second);
      appender->by_id_.erase(it);
      if (pa != nullptr) {
        pending->last_seq =
            std::max(pending->last_seq, static_cast<int64_t>(pa->Sequence));
      } else if (pending->error.ok()) {
        pending->error =
            pae != nullptr
                ? NatsError("publish ack", pae->Err, pae->ErrCode, pae->ErrText)
                : Status::IOError("nats: publish ack without outcome");
      }
      if (--pending->left != 0) return;
    }
    Finish(*pending);
  }

  Client client_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Pending>> by_id_;
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
    out.emplace_back("concurrent",
                     "one connection, asynchronous publishes (AppendAsync)");
    out.emplace_back("batch",
                     "100 asynchronous publishes to one subject, then wait "
                     "for all acks; not atomic, only the first carries the "
                     "expected sequence");
    out.emplace_back("read_all", "ordered push consumer over events.>");
    return out;
  }

  Status Reset() override {
    Status closed = Close();
    if (!closed.ok()) return closed;
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

  Result<std::unique_ptr<Writer>> NewWriter(WriteMode /*mode*/) override {
    auto writer = std::make_unique<NatsWriter>();
    Status s = writer->Init(url_);
    if (!s.ok()) return s;
    return std::unique_ptr<Writer>(std::move(writer));
  }

  Capabilities capabilities() const override {
    Capabilities c;
    c.async_append = true;
    return c;
  }
  int load_writers() const override { return 2; }

  void AppendAsync(const std::string& stream, int64_t expected,
                   std::vector<EventData> events, AppendSink* sink,
                   uint64_t tag) override {
    if (appender_ == nullptr) {
      auto appender = std::make_unique<AsyncAppender>();
      Status st = appender->Connect(url_);
      if (!st.ok()) {
        sink->AppendDone(tag, st);
        return;
      }
      appender_ = std::move(appender);
    }
    appender_->Append(stream, expected, events, sink, tag);
  }

  // Every asynchronous append has completed by the time a workload
  // closes: the connection can go.
  Status Close() override {
    appender_.reset();
    reader_.reset();
    return Status::Ok();
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
  std::unique_ptr<AsyncAppender> appender_;
  std::unique_ptr<Client> reader_;
  uint64_t sink_ = 0;
};

}  // namespace

std::unique_ptr<Driver> NewNatsDriver(std::string url) {
  return std::make_unique<NatsDriver>(std::move(url));
}

}  // namespace cairn::peers
