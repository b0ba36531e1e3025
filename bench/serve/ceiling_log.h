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

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

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
// default) and one entry per group.
class CeilingLog {
 public:
  // Counts `events` more events of `stream`; the first append to a stream
  // makes `sample` (its first event) the stream's template.
  template <typename Proposed>
  CeilingAppended Append(const std::string& stream, uint64_t events,
                         const Proposed& sample) {
    std::lock_guard<std::mutex> lock(mu_);
    Stream& s = streams_[stream];
    if (s.events == 0) {
      s.event = std::make_shared<CeilingEvent>();
      s.event->mutable_id()->set_string(sample.id().string());
      s.event->mutable_stream_identifier()->set_stream_name(stream);
      for (const auto& [key, value] : sample.metadata()) {
        (*s.event->mutable_metadata())[key] = value;
      }
      // The server sends the time in .NET ticks: 18 digits.
      (*s.event->mutable_metadata())["created"] = "639000000000000000";
      s.event->set_custom_metadata(sample.custom_metadata());
      s.event->set_data(sample.data());
      last_ = s.event;
    }
    s.events += events;
    total_ += events;
    return {s.events - 1, total_};
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

  std::mutex mu_;
  std::unordered_map<std::string, Stream> streams_;
  std::shared_ptr<CeilingEvent> last_;
  uint64_t total_ = 0;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<CeilingGroup>>
      groups_;
};

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_CEILING_LOG_H_
