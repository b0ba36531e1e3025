// Copyright (c) Cairn authors.
//
// The ack log shared by cairn_crash_writer (which writes it) and the kill
// loop driver (which reads it after a SIGKILL). One line per fact, each
// written with a single write() so a kill leaves at most a partial last
// line, which the reader ignores:
//   T <key> <stream> <id> <id>...   about to append these events (in order)
//   A <key> <first_position> <first_revision>   acknowledged (durable)
//   R <key>                          rejected (nothing written)
// <key> is the first event id. An append with a T line and neither A nor R
// was in flight when the writer died: its outcome is unknown. The page
// cache survives SIGKILL, so a plain write() per line is enough (this log
// is not meant to survive a power loss).
#ifndef CAIRN_TESTS_RELIABILITY_ACK_LOG_H_
#define CAIRN_TESTS_RELIABILITY_ACK_LOG_H_

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/cairn.h"
#include "tests/reliability/oracle.h"

namespace cairn::reliability {

// The payload of an event, derived from its id so the log need not carry
// it: 1 to 40 copies of the id's text.
inline std::string DataFor(const EventId& id) {
  std::string text = id.ToString();
  std::string out;
  for (int i = 0; i <= id.bytes()[3] % 40; ++i) out += text;
  return out;
}

// Adds the appends described by `log` (the ack log's contents) to
// `attempts`, keyed by first id in `index`. Returns false with a message
// on a malformed complete line.
inline bool ParseAckLog(std::string_view log, std::vector<Attempt>* attempts,
                        std::map<std::string, size_t>* index,
                        std::string* error) {
  size_t begin = 0;
  while (begin < log.size()) {
    const size_t end = log.find('\n', begin);
    if (end == std::string_view::npos) break;  // a line cut by the kill
    std::istringstream line{std::string(log.substr(begin, end - begin))};
    begin = end + 1;
    std::string kind;
    std::string key;
    line >> kind >> key;
    if (kind == "T") {
      Attempt a;
      line >> a.stream;
      for (std::string text; line >> text;) {
        auto id = EventId::Parse(text);
        if (!id) {
          *error = "bad id in ack log: " + text;
          return false;
        }
        a.ids.push_back(*id);
        a.data.push_back(DataFor(*id));
      }
      if (a.ids.empty() || a.ids[0].ToString() != key) {
        *error = "bad T line for " + key;
        return false;
      }
      index->emplace(key, attempts->size());
      attempts->push_back(std::move(a));
      continue;
    }
    auto it = index->find(key);
    if (it == index->end()) {
      *error = "ack log line for an unknown append: " + key;
      return false;
    }
    Attempt& a = (*attempts)[it->second];
    if (kind == "A") {
      line >> a.first_position >> a.first_revision;
      if (!line) {
        *error = "bad A line for " + key;
        return false;
      }
      a.state = Attempt::State::kAcked;
    } else if (kind == "R") {
      a.state = Attempt::State::kRejected;
    } else {
      *error = "unknown ack log line kind: " + kind;
      return false;
    }
  }
  return true;
}

}  // namespace cairn::reliability

#endif  // CAIRN_TESTS_RELIABILITY_ACK_LOG_H_
