// Copyright (c) Cairn authors.
//
// The oracle every reliability test checks a recovered store against.
// Clients record each append they attempt (stream, ids, payloads) and what
// they learnt about it: acknowledged (with its revisions and positions),
// rejected (nothing was written: a version conflict), or unknown (an I/O
// error or a crash: it may or may not have landed). After recovery:
//  - positions are gapless from 0 and revisions contiguous from 0 per
//    stream;
//  - every event in the log belongs to an attempted, not rejected, append
//    and appears once; appends appear whole, in order, at consecutive
//    positions (atomicity; this covers unknown appends: wholly present or
//    wholly absent);
//  - every acknowledged append is present at its acknowledged positions
//    with its acknowledged revisions, stream and payload;
//  - each category and event-type stream (`$ce-`, `$et-`) holds exactly
//    the log's events of its category or type, in position order, with
//    gapless revisions of its own (unless the store keeps none).
#ifndef CAIRN_TESTS_RELIABILITY_ORACLE_H_
#define CAIRN_TESTS_RELIABILITY_ORACLE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "index/link_streams.h"

namespace cairn::reliability {

struct Attempt {
  enum class State : uint8_t { kUnknown, kAcked, kRejected };
  std::string stream;
  std::vector<EventId> ids;
  std::vector<std::string> data;  // per event; empty vector: not checked
  State state = State::kUnknown;
  uint64_t first_position = 0;  // kAcked only
  uint64_t first_revision = 0;  // kAcked only
};

struct OracleReport {
  uint64_t log_events = 0;
  uint64_t acked_appends = 0;
  uint64_t acked_events = 0;  // acknowledged events found where promised
  uint64_t unknown_present = 0;
  uint64_t unknown_absent = 0;
  // Empty when every check passed; else the first problems found.
  std::string error;
  bool ok() const { return error.empty(); }
};

// The category and event-type streams of `store` against `log` (every
// event, in position order). Reports problems through `fail`.
template <typename Fail>
void CheckLinkStreams(Store* store, const std::vector<RecordedEvent>& log,
                      Fail&& fail) {
  std::map<std::string, std::vector<uint64_t>> expected;
  for (const RecordedEvent& e : log) {
    index::LinkStreamNames names = index::LinkStreamsOf(e.stream, e.type);
    if (!names.category.empty()) {
      expected[names.category].push_back(e.position.value());
    }
    if (!names.type.empty()) expected[names.type].push_back(e.position.value());
  }
  for (const auto& [name, positions] : expected) {
    ReadStreamOptions options;
    options.max_count = UINT64_MAX;
    auto read = store->ReadStream(name, options);
    if (!read.ok() && read.status().code() == StatusCode::kNotSupported) {
      return;  // the store keeps no category and event-type streams
    }
    if (!read.ok()) {
      fail("reading " + name + ": " + read.status().ToString());
      continue;
    }
    if (read->events.size() != positions.size()) {
      fail(name + " holds " + std::to_string(read->events.size()) +
           " events, the log " + std::to_string(positions.size()));
      continue;
    }
    for (size_t i = 0; i < positions.size(); ++i) {
      const RecordedEvent& e = read->events[i];
      if (e.position.value() != positions[i] ||
          e.link_revision != StreamRevision(i)) {
        fail(name + " revision " + std::to_string(i) + " is position " +
             std::to_string(e.position.value()) + ", expected " +
             std::to_string(positions[i]));
        break;
      }
    }
  }
}

// Every event of the log, in position order.
inline Result<std::vector<RecordedEvent>> ReadWholeLog(Store* store) {
  std::vector<RecordedEvent> log;
  ReadAllOptions all;
  all.max_count = UINT64_MAX;
  auto visited = store->VisitAll(all, [&](const RecordedEventView& e) {
    log.push_back(e.ToOwned());
    return true;
  });
  if (!visited.ok()) return visited.status();
  return log;
}

inline OracleReport CheckOracle(Store* store,
                                const std::vector<Attempt>& attempts) {
  OracleReport report;
  auto fail = [&](const std::string& what) {
    if (report.error.size() < 2000) report.error += what + "\n";
  };
  // Which attempt (and event within it) each id belongs to.
  std::map<EventId, std::pair<size_t, size_t>> owner;
  for (size_t a = 0; a < attempts.size(); ++a) {
    for (size_t i = 0; i < attempts[a].ids.size(); ++i) {
      owner[attempts[a].ids[i]] = {a, i};
    }
  }
  auto read = ReadWholeLog(store);
  if (!read.ok()) {
    fail("reading the log: " + read.status().ToString());
    return report;
  }
  const std::vector<RecordedEvent>& log = *read;
  report.log_events = log.size();

  std::map<std::string, uint64_t> next_revision;
  std::vector<uint64_t> found_at(attempts.size(), UINT64_MAX);
  for (size_t p = 0; p < log.size(); ++p) {
    const RecordedEvent& e = log[p];
    if (e.position.value() != p) {
      fail("position " + std::to_string(e.position.value()) + " at index " +
           std::to_string(p) + ": positions are not gapless");
    }
    uint64_t& rev = next_revision[e.stream];
    if (e.revision.value() != rev) {
      fail("stream " + e.stream + " has revision " +
           std::to_string(e.revision.value()) + " at position " +
           std::to_string(p) + ", expected " + std::to_string(rev));
    }
    rev = e.revision.value() + 1;
  }
  CheckLinkStreams(store, log, fail);
  for (size_t p = 0; p < log.size();) {
    auto it = owner.find(log[p].id);
    if (it == owner.end()) {
      fail("position " + std::to_string(p) + " holds event " +
           log[p].id.ToString() + ", which no client appended");
      ++p;
      continue;
    }
    const auto [a, index] = it->second;
    const Attempt& attempt = attempts[a];
    if (index != 0) {
      fail("position " + std::to_string(p) + " starts in the middle of an " +
           "append (event " + std::to_string(index) + " of " +
           std::to_string(attempt.ids.size()) + "): append not atomic");
    }
    if (found_at[a] != UINT64_MAX) {
      fail("append of " + attempt.ids[0].ToString() + " appears twice, at " +
           std::to_string(found_at[a]) + " and " + std::to_string(p));
    }
    if (attempt.state == Attempt::State::kRejected) {
      fail("a rejected append is in the log at position " + std::to_string(p));
    }
    found_at[a] = p;
    for (size_t i = index; i < attempt.ids.size(); ++i, ++p) {
      if (p >= log.size() || log[p].id != attempt.ids[i]) {
        fail("append of " + attempt.ids[0].ToString() + " is cut short at " +
             "event " + std::to_string(i) + ": append not atomic");
        break;
      }
      if (log[p].stream != attempt.stream) {
        fail("event at " + std::to_string(p) + " is in stream " +
             log[p].stream + ", appended to " + attempt.stream);
      }
      if (!attempt.data.empty() && log[p].data != attempt.data[i]) {
        fail("event at " + std::to_string(p) + " has other data than " +
             "appended");
      }
    }
  }
  for (size_t a = 0; a < attempts.size(); ++a) {
    const Attempt& attempt = attempts[a];
    const bool present = found_at[a] != UINT64_MAX;
    switch (attempt.state) {
      case Attempt::State::kUnknown:
        ++(present ? report.unknown_present : report.unknown_absent);
        break;
      case Attempt::State::kRejected:
        break;
      case Attempt::State::kAcked: {
        ++report.acked_appends;
        if (!present) {
          fail("acknowledged append of " + attempt.ids[0].ToString() + " to " +
               attempt.stream + " at position " +
               std::to_string(attempt.first_position) + " is lost");
          break;
        }
        if (found_at[a] != attempt.first_position) {
          fail("acknowledged append at position " +
               std::to_string(attempt.first_position) + " is at " +
               std::to_string(found_at[a]));
          break;
        }
        if (log[found_at[a]].revision.value() != attempt.first_revision) {
          fail("acknowledged append at position " +
               std::to_string(attempt.first_position) + " has revision " +
               std::to_string(log[found_at[a]].revision.value()) +
               ", acknowledged " + std::to_string(attempt.first_revision));
        }
        report.acked_events += attempt.ids.size();
        break;
      }
    }
  }
  return report;
}

}  // namespace cairn::reliability

#endif  // CAIRN_TESTS_RELIABILITY_ORACLE_H_
