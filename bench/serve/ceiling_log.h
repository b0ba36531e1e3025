// Copyright (c) Cairn authors.
//
// What the gRPC ceiling server (ceiling_streams.h, ceiling_persistent.h)
// remembers of the appends it was sent: how many events each stream got,
// and one of them as the template of every event a read of that stream, or
// of $all, returns. It stores no event; it is the state of a server whose
// only work is gRPC's, so that the load generator's figures against it are
// the ceiling of what gRPC allows on the machine (docs/benchmarks.md).
#ifndef CAIRN_BENCH_SERVE_CEILING_LOG_H_
#define CAIRN_BENCH_SERVE_CEILING_LOG_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "streams.grpc.pb.h"

namespace cairn::bench::serve {

namespace pb = event_store::client::streams;

// An event as the reads return it: its id, stream and metadata are the
// template's; each read sets the revision and positions.
using CeilingEvent = pb::ReadResp::ReadEvent::RecordedEvent;

// Sets the revision and the positions of the event a read or a persistent
// subscription sends (a ReadEvent of either wire form, whose fields are the
// same): positions distinct and growing, as the server's.
template <typename ReadEvent>
void PlaceEvent(uint64_t revision, ReadEvent* read) {
  const uint64_t position = (revision + 1) * 256;
  auto* event = read->mutable_event();
  event->set_stream_revision(revision);
  event->set_prepare_position(position);
  event->set_commit_position(position);
  read->set_commit_position(position);
}

// Where an append landed: the stream's last revision and the log's count.
struct CeilingAppended {
  uint64_t revision = 0;
  uint64_t position = 0;
};

// Sets what a stored event carries of the proposed message of an append
// (either wire form, whose fields are the same), as the server stores it.
template <typename Proposed>
void FillRecorded(const std::string& stream, const Proposed& proposed,
                  CeilingEvent* event) {
  event->mutable_id()->set_string(proposed.id().string());
  event->mutable_stream_identifier()->set_stream_name(stream);
  *event->mutable_metadata() = proposed.metadata();
  // The server sends the time in .NET ticks: 18 digits.
  (*event->mutable_metadata())["created"] = "639000000000000000";
  event->set_custom_metadata(proposed.custom_metadata());
  event->set_data(proposed.data());
}

// A live subscription to $all (ceiling_streams.cc): it is handed each event
// appended while it is registered.
class CeilingSubscriber {
 public:
  virtual ~CeilingSubscriber() = default;
  // `event` with its stream revision and its position in the log. Called
  // under the log's lock, in the order the appends were counted.
  virtual void Deliver(const CeilingEvent& event, uint64_t revision,
                       uint64_t position) = 0;
};

// A persistent subscription group: the events of its stream are handed out
// once each, in order, to whichever consumer has room.
class CeilingGroup {
 public:
  explicit CeilingGroup(std::string stream) : stream_(std::move(stream)) {}
  const std::string& stream() const { return stream_; }
  // The next revision to hand out, if it is below `count`, else nothing.
  std::optional<uint64_t> Take(uint64_t count);

 private:
  const std::string stream_;
  std::mutex mu_;
  uint64_t next_ = 0;
};

// Thread-safe: gRPC runs the calls' reactions on its own threads. Memory is
// one template event per stream (the load generator's streams, 10 000 by
// default), one entry per group and one per live subscriber.
class CeilingLog {
 public:
  // Counts `events` more events of `stream`; the first append to a stream
  // makes `sample` (its first event) the stream's template.
  template <typename Proposed>
  CeilingAppended Append(const std::string& stream, uint64_t events,
                         const Proposed& sample) {
    std::lock_guard<std::mutex> lock(mu_);
    Stream& s = TemplatedLocked(stream, sample);
    s.events += events;
    total_ += events;
    return {s.events - 1, total_};
  }

  // Counts the proposed messages of one append (a non-empty range of
  // either wire form) as Append does, and hands each, in order, to every
  // registered subscriber, under the log's lock: subscribers see the
  // appends in the order they were counted.
  template <typename Range>
  CeilingAppended AppendAndDeliver(const std::string& stream,
                                   const Range& events) {
    std::lock_guard<std::mutex> lock(mu_);
    Stream& s = TemplatedLocked(stream, *events.begin());
    CeilingEvent recorded;
    for (const auto& proposed : events) {
      ++s.events;
      ++total_;
      if (subscribers_.empty()) continue;
      FillRecorded(stream, proposed, &recorded);
      for (CeilingSubscriber* subscriber : subscribers_) {
        subscriber->Deliver(recorded, s.events - 1, total_);
      }
    }
    return {s.events - 1, total_};
  }

  // Registers a subscriber until RemoveSubscriber, which returns once no
  // delivery to it runs. It gets the events of the appends counted after
  // this: an append keeps its messages for delivery only when a subscriber
  // was registered as it began (HasSubscribers).
  void AddSubscriber(CeilingSubscriber* subscriber);
  void RemoveSubscriber(CeilingSubscriber* subscriber);
  bool HasSubscribers() const {
    return subscriber_count_.load(std::memory_order_acquire) > 0;
  }

  // The events of a stream (0 if it has none), and its template.
  uint64_t StreamEvents(const std::string& stream,
                        std::shared_ptr<const CeilingEvent>* event);
  // The events of the whole log, and the template of the newest stream.
  uint64_t AllEvents(std::shared_ptr<const CeilingEvent>* event);

  // Creates a group on `stream`; false if one of that name exists.
  bool CreateGroup(const std::string& stream, const std::string& group);
  std::shared_ptr<CeilingGroup> FindGroup(const std::string& stream,
                                          const std::string& group);

 private:
  struct Stream {
    uint64_t events = 0;
    std::shared_ptr<CeilingEvent> event;
  };

  // The stream, whose template `sample` becomes if it has no event yet.
  template <typename Proposed>
  Stream& TemplatedLocked(const std::string& stream, const Proposed& sample) {
    Stream& s = streams_[stream];
    if (s.events == 0) {
      s.event = std::make_shared<CeilingEvent>();
      FillRecorded(stream, sample, s.event.get());
      last_ = s.event;
    }
    return s;
  }

  std::mutex mu_;
  std::unordered_map<std::string, Stream> streams_;
  std::shared_ptr<CeilingEvent> last_;
  uint64_t total_ = 0;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<CeilingGroup>>
      groups_;
  std::vector<CeilingSubscriber*> subscribers_;
  std::atomic<size_t> subscriber_count_{0};
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_CEILING_LOG_H_
