// Copyright (c) Cairn authors.
#include "server/read_request.h"

#include <limits>
#include <utility>

namespace cairn::server {

using ReadOptions = event_store::client::streams::ReadReq::Options;

namespace {

// Search windows the filter's checkpoint interval multiplies (the
// protocol's default window is 32 events).
constexpr uint64_t kDefaultWindow = 32;

std::variant<EventFilter, RpcError> ParseFilter(
    const ReadOptions::FilterOptions& filter) {
  const ReadOptions::FilterOptions::Expression* expression = nullptr;
  EventFilter::Target target = EventFilter::Target::kStream;
  switch (filter.filter_case()) {
    case ReadOptions::FilterOptions::kStreamIdentifier:
      expression = &filter.stream_identifier();
      break;
    case ReadOptions::FilterOptions::kEventType:
      expression = &filter.event_type();
      target = EventFilter::Target::kType;
      break;
    default:
      return BadRequest("a filter needs a stream or an event type expression");
  }
  std::optional<std::regex> regex;
  if (!expression->regex().empty()) {
    if (expression->regex().size() > kMaxFilterRegexLength) {
      return BadRequest("the filter's regular expression is longer than " +
                        std::to_string(kMaxFilterRegexLength) + " bytes");
    }
    try {
      // libstdc++'s default matcher backtracks: a client's expression
      // such as (a|aa)*c takes exponential time on a long stream name.
      // The polynomial mode matches without backtracking (and refuses
      // back-references, which need it).
      regex.emplace(
          expression->regex(),
          std::regex::ECMAScript | std::regex_constants::__polynomial);
    } catch (const std::regex_error& e) {
      return BadRequest("the filter's regular expression is invalid: " +
                        std::string(e.what()));
    }
  }
  if (static_cast<size_t>(expression->prefix_size()) > kMaxFilterPrefixes) {
    return BadRequest("a filter takes at most " +
                      std::to_string(kMaxFilterPrefixes) + " prefixes");
  }
  size_t prefix_bytes = 0;
  for (const std::string& prefix : expression->prefix()) {
    prefix_bytes += prefix.size();
  }
  if (prefix_bytes > kMaxFilterPrefixBytes) {
    return BadRequest("a filter's prefixes hold more than " +
                      std::to_string(kMaxFilterPrefixBytes) + " bytes");
  }
  std::vector<std::string> prefixes(expression->prefix().begin(),
                                    expression->prefix().end());
  if (!regex && prefixes.empty()) {
    return BadRequest("a filter needs a regular expression or a prefix");
  }
  return EventFilter(target, std::move(prefixes), std::move(regex));
}

}  // namespace

bool EventFilter::Matches(const RecordedEventView& event) const {
  const std::string_view subject =
      target_ == Target::kStream ? event.stream : event.type;
  if (regex_) {
    return std::regex_search(subject.begin(), subject.end(), *regex_);
  }
  for (const std::string& prefix : prefixes_) {
    if (subject.starts_with(prefix)) return true;
  }
  return false;
}

std::variant<ReadPlan, RpcError> ParseReadRequest(
    const event_store::client::streams::ReadReq& request) {
  if (!request.has_options()) return BadRequest("Read needs options");
  const ReadOptions& options = request.options();
  ReadPlan plan;

  switch (options.uuid_option().content_case()) {
    case ReadOptions::UUIDOption::kString:
      plan.uuid = UuidFormat::kString;
      break;
    case ReadOptions::UUIDOption::kStructured:
      plan.uuid = UuidFormat::kStructured;
      break;
    default:
      return BadRequest("Read needs a uuid_option");
  }

  switch (options.read_direction()) {
    case ReadOptions::Forwards:
      plan.direction = Direction::kForward;
      break;
    case ReadOptions::Backwards:
      plan.direction = Direction::kBackward;
      break;
    default:
      return BadRequest("unknown read direction");
  }
  plan.resolve_links = options.resolve_links();

  switch (options.stream_option_case()) {
    case ReadOptions::kStream: {
      const ReadOptions::StreamOptions& stream = options.stream();
      plan.stream = stream.stream_identifier().stream_name();
      if (plan.stream.empty()) return BadRequest("the stream name is empty");
      switch (stream.revision_option_case()) {
        case ReadOptions::StreamOptions::kRevision:
          // u64::MAX is how the protocol spells the end (-1): a
          // subscription from it is live only, where "after the point"
          // would wrap to the start.
          if (stream.revision() == std::numeric_limits<uint64_t>::max()) {
            plan.start = ReadPlan::Start::kEnd;
            break;
          }
          plan.start = ReadPlan::Start::kPoint;
          plan.point = stream.revision();
          break;
        case ReadOptions::StreamOptions::kStart:
          plan.start = ReadPlan::Start::kStart;
          break;
        case ReadOptions::StreamOptions::kEnd:
          plan.start = ReadPlan::Start::kEnd;
          break;
        default:
          return BadRequest("a stream read needs a revision, start or end");
      }
      break;
    }
    case ReadOptions::kAll: {
      plan.all = true;
      const ReadOptions::AllOptions& all = options.all();
      switch (all.all_option_case()) {
        case ReadOptions::AllOptions::kPosition:
          if (all.position().commit_position() <
              all.position().prepare_position()) {
            return BadRequest("Trying to read from an invalid position.");
          }
          // (u64::MAX, u64::MAX) is the end, as for a stream revision.
          if (all.position().commit_position() ==
              std::numeric_limits<uint64_t>::max()) {
            plan.start = ReadPlan::Start::kEnd;
            break;
          }
          plan.start = ReadPlan::Start::kPoint;
          plan.point = all.position().commit_position();
          break;
        case ReadOptions::AllOptions::kStart:
          plan.start = ReadPlan::Start::kStart;
          break;
        case ReadOptions::AllOptions::kEnd:
          plan.start = ReadPlan::Start::kEnd;
          break;
        default:
          return BadRequest("an $all read needs a position, start or end");
      }
      break;
    }
    default:
      return BadRequest("Read needs a stream or $all");
  }

  switch (options.count_option_case()) {
    case ReadOptions::kCount:
      plan.count = options.count();
      break;
    case ReadOptions::kSubscription:
      plan.subscription = true;
      if (plan.direction != Direction::kForward) {
        return BadRequest(
            "The combination of a subscription and a backwards read is "
            "invalid");
      }
      break;
    default:
      return BadRequest("Read needs a count or a subscription");
  }

  if (options.filter_option_case() == ReadOptions::kFilter) {
    if (!plan.all) {
      return BadRequest(
          "The combination of a stream read and a filter is invalid");
    }
    const ReadOptions::FilterOptions& filter = options.filter();
    std::variant<EventFilter, RpcError> parsed = ParseFilter(filter);
    if (auto* error = std::get_if<RpcError>(&parsed)) return *error;
    plan.filter.emplace(std::move(std::get<EventFilter>(parsed)));
    const uint64_t window =
        filter.window_case() == ReadOptions::FilterOptions::kMax &&
                filter.max() > 0
            ? filter.max()
            : kDefaultWindow;
    if (plan.subscription && filter.checkpointintervalmultiplier() == 0) {
      return BadRequest("the checkpoint interval multiplier must not be 0");
    }
    plan.checkpoint_interval = window * filter.checkpointintervalmultiplier();
  }
  return plan;
}

}  // namespace cairn::server
