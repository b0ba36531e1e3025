// Copyright (c) Cairn authors.
//
// A Streams.Read request, checked and reduced to what Cairn executes: a
// stream or $all, direction, where to start, how many events or a
// subscription, the filter and the id format. Every combination the
// protocol rejects is refused here with INVALID_ARGUMENT.
#ifndef CAIRN_SERVER_READ_REQUEST_H_
#define CAIRN_SERVER_READ_REQUEST_H_

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cairn/event.h"
#include "cairn/types.h"
#include "server/convert.h"
#include "server/rpc_error.h"
#include "streams.pb.h"

namespace cairn::server {

// A filter of $all reads: on the stream name or the event type, by any of
// several prefixes or by an unanchored regular expression (which wins).
class EventFilter {
 public:
  enum class Target { kStream, kType };
  EventFilter(Target target, std::vector<std::string> prefixes,
              std::optional<std::regex> regex)
      : target_(target),
        prefixes_(std::move(prefixes)),
        regex_(std::move(regex)) {}
  bool Matches(const RecordedEventView& event) const;

 private:
  Target target_;
  std::vector<std::string> prefixes_;
  std::optional<std::regex> regex_;
};

struct ReadPlan {
  enum class Start { kStart, kEnd, kPoint };

  bool all = false;
  std::string stream;  // when !all
  Direction direction = Direction::kForward;
  bool resolve_links = false;
  bool subscription = false;
  uint64_t count = 0;  // when !subscription
  Start start = Start::kStart;
  // The revision (stream) or position ($all) of Start::kPoint.
  uint64_t point = 0;
  std::optional<EventFilter> filter;
  // Filtered reads: a checkpoint every this many examined events (0: none).
  uint64_t checkpoint_interval = 0;
  UuidFormat uuid = UuidFormat::kString;
};

// Longest regular expression a filter accepts (std::regex compiles it
// into memory proportional to its length).
inline constexpr size_t kMaxFilterRegexLength = 1024;
// A filter's prefixes: each event is checked against every one, and the
// call holds them all, so both their number and their bytes are bounded.
inline constexpr size_t kMaxFilterPrefixes = 1024;
inline constexpr size_t kMaxFilterPrefixBytes = 64 * 1024;

std::variant<ReadPlan, RpcError> ParseReadRequest(
    const event_store::client::streams::ReadReq& request);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_READ_REQUEST_H_
