// Copyright (c) Cairn authors.
#include "server/persistent_settings.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "cairn/text.h"
#include "server/persistent_errors.h"

namespace cairn::server {

namespace persistent = event_store::client::persistent_subscriptions;

namespace {

constexpr size_t kMaxNameBytes = 200;
constexpr int64_t kTicksPerMs = 10000;
// The deprecated Settings.revision's "end" (a .NET ulong -1).
constexpr uint64_t kEndRevision = std::numeric_limits<uint64_t>::max();

constexpr std::array<std::pair<std::string_view, ConsumerStrategy>, 5>
    kStrategies = {{
        {"DispatchToSingle", ConsumerStrategy::kDispatchToSingle},
        {"RoundRobin", ConsumerStrategy::kRoundRobin},
        {"Pinned", ConsumerStrategy::kPinned},
        {"PinnedByCorrelation", ConsumerStrategy::kPinnedByCorrelation},
        {"OrderedByStream", ConsumerStrategy::kOrderedByStream},
    }};

RpcError Invalid(std::string_view field, std::string_view why) {
  std::string message(field);
  message += ' ';
  message += why;
  return BadRequest(std::move(message));
}

RpcError CheckCount(std::string_view field, int32_t value, int32_t minimum) {
  if (value < minimum || value > kMaxSettingCount) {
    std::string why = "must be ";
    why += std::to_string(minimum);
    why += "..";
    why += std::to_string(kMaxSettingCount);
    return Invalid(field, why);
  }
  return Ok();
}

// Milliseconds from the ms or ticks form of a oneof; nullopt: not set.
std::variant<std::optional<int32_t>, RpcError> Millis(std::string_view field,
                                                      bool has_ms, int32_t ms,
                                                      bool has_ticks,
                                                      int64_t ticks) {
  if (has_ms) {
    if (ms < 0) return Invalid(field, "must not be negative");
    return std::optional<int32_t>(ms);
  }
  if (has_ticks) {
    if (ticks < 0 ||
        ticks / kTicksPerMs > std::numeric_limits<int32_t>::max()) {
      return Invalid(field, "must be 0..2^31 ms");
    }
    return std::optional<int32_t>(static_cast<int32_t>(ticks / kTicksPerMs));
  }
  return std::optional<int32_t>();
}

// The settings both Create and Update carry.
template <typename Settings>
RpcError ReadSettings(const Settings& in, PersistentDefinition* out) {
  out->resolve_links = in.resolve_links();
  out->extra_statistics = in.extra_statistics();
  out->max_retry_count = in.max_retry_count();
  out->min_checkpoint_count = in.min_checkpoint_count();
  out->max_checkpoint_count = in.max_checkpoint_count();
  out->max_subscriber_count = in.max_subscriber_count();
  out->live_buffer_size = in.live_buffer_size();
  out->read_batch_size = in.read_batch_size();
  out->history_buffer_size = in.history_buffer_size();
  for (const auto& [field, value, minimum] :
       {std::tuple{"max_retry_count", out->max_retry_count, 0},
        std::tuple{"min_checkpoint_count", out->min_checkpoint_count, 0},
        std::tuple{"max_checkpoint_count", out->max_checkpoint_count, 0},
        std::tuple{"max_subscriber_count", out->max_subscriber_count, 0},
        std::tuple{"live_buffer_size", out->live_buffer_size, 1},
        std::tuple{"read_batch_size", out->read_batch_size, 1},
        std::tuple{"history_buffer_size", out->history_buffer_size, 1}}) {
    if (RpcError bad = CheckCount(field, value, minimum); !IsOk(bad)) {
      return bad;
    }
  }
  if (out->min_checkpoint_count > out->max_checkpoint_count) {
    return Invalid("min_checkpoint_count",
                   "must not be above max_checkpoint_count");
  }
  using Timeout = typename Settings::MessageTimeoutCase;
  using After = typename Settings::CheckpointAfterCase;
  auto timeout =
      Millis("message_timeout",
             in.message_timeout_case() == Timeout::kMessageTimeoutMs,
             in.message_timeout_ms(),
             in.message_timeout_case() == Timeout::kMessageTimeoutTicks,
             in.message_timeout_ticks());
  if (auto* bad = std::get_if<RpcError>(&timeout)) return *bad;
  auto after =
      Millis("checkpoint_after",
             in.checkpoint_after_case() == After::kCheckpointAfterMs,
             in.checkpoint_after_ms(),
             in.checkpoint_after_case() == After::kCheckpointAfterTicks,
             in.checkpoint_after_ticks());
  if (auto* bad = std::get_if<RpcError>(&after)) return *bad;
  out->message_timeout_ms = std::get<std::optional<int32_t>>(timeout).value_or(
      out->message_timeout_ms);
  out->checkpoint_after_ms = std::get<std::optional<int32_t>>(after).value_or(
      out->checkpoint_after_ms);
  return Ok();
}

// The deprecated enum's name (KurrentDB: the enum's, for any value).
template <typename Enum>
std::string EnumStrategy(Enum value) {
  switch (static_cast<int>(value)) {
    case 0:
      return "DispatchToSingle";
    case 1:
      return "RoundRobin";
    case 2:
      return "Pinned";
    default:
      return std::to_string(static_cast<int>(value));
  }
}

// The stream form of Create and Update, current or deprecated.
template <typename Options>
RpcError ReadStreamOptions(const Options& options, PersistentDefinition* out) {
  using Case = typename Options::StreamOptionCase;
  if (options.stream_option_case() == Case::kStream) {
    const auto& stream = options.stream();
    out->stream = stream.stream_identifier().stream_name();
    using Revision =
        typename std::remove_cvref_t<decltype(stream)>::RevisionOptionCase;
    switch (stream.revision_option_case()) {
      case Revision::kRevision:
        out->start = stream.revision();
        break;
      case Revision::kEnd:
        out->start = std::nullopt;
        break;
      default:
        out->start = 0;
        break;
    }
    return Ok();
  }
  // The deprecated form: stream_identifier and settings.revision.
  out->stream = options.stream_identifier().stream_name();
  const uint64_t revision = options.settings().revision();
  out->start =
      revision == kEndRevision ? std::nullopt : std::make_optional(revision);
  return Ok();
}

template <typename AllOptions>
void ReadAllStart(const AllOptions& all, PersistentDefinition* out) {
  out->stream = std::string(kAllStream);
  using Start = typename AllOptions::AllOptionCase;
  switch (all.all_option_case()) {
    case Start::kPosition:
      out->start = all.position().commit_position();
      break;
    case Start::kEnd:
      out->start = std::nullopt;
      break;
    default:
      out->start = 0;
      break;
  }
}

RpcError ReadFilter(const persistent::CreateReq::AllOptions& all,
                    PersistentDefinition* out) {
  if (all.filter_option_case() != persistent::CreateReq::AllOptions::kFilter) {
    return Ok();
  }
  const auto& filter = all.filter();
  using Filter = persistent::CreateReq::AllOptions::FilterOptions;
  const bool by_stream = filter.filter_case() == Filter::kStreamIdentifier;
  const auto& expression =
      by_stream ? filter.stream_identifier() : filter.event_type();
  if (!expression.regex().empty()) {
    return Invalid("filter",
                   "must be a prefix: regular expressions are not "
                   "supported");
  }
  if (expression.prefix_size() > 1) {
    return Invalid("filter", "must be one prefix");
  }
  if (expression.prefix_size() == 1) {
    (by_stream ? out->stream_prefix : out->type_prefix) = expression.prefix(0);
  }
  return Ok();
}

// The checks every definition passes, after its fields were read.
RpcError Finish(const PersistentDefinition& definition) {
  if (RpcError bad = CheckNames(definition.stream, definition.group);
      !IsOk(bad)) {
    return bad;
  }
  if (!StrategyNamed(definition.strategy)) {
    return PersistentSubscriptionFailed(
        definition.stream, definition.group,
        "Consumer strategy " + definition.strategy + " does not exist.");
  }
  return Ok();
}

RpcError AllOverStreamForm(const PersistentDefinition& definition) {
  return PersistentSubscriptionFailed(
      definition.stream, definition.group,
      "Persistent subscriptions to $all are only supported over gRPC with "
      "the $all options.");
}

// What Create and Update share: the group, where it starts and the
// settings.
template <typename Request>
std::variant<PersistentDefinition, RpcError> ParseCommon(
    const Request& request) {
  const auto& options = request.options();
  using Options = std::remove_cvref_t<decltype(options)>;
  PersistentDefinition definition;
  definition.group = options.group_name();
  if (options.stream_option_case() == Options::kAll) {
    ReadAllStart(options.all(), &definition);
  } else {
    (void)ReadStreamOptions(options, &definition);
    if (definition.stream == kAllStream) return AllOverStreamForm(definition);
  }
  if (RpcError bad = ReadSettings(options.settings(), &definition);
      !IsOk(bad)) {
    return bad;
  }
  return definition;
}

}  // namespace

RpcError CheckNames(std::string_view stream, std::string_view group) {
  if (stream.empty() || stream.size() > kMaxNameBytes ||
      !IsUtf8Text(stream, /*controls=*/false)) {
    return Invalid("stream", "must be 1..200 bytes of UTF-8");
  }
  if (group.empty() || group.size() > kMaxNameBytes ||
      !IsUtf8Text(group, /*controls=*/false)) {
    return Invalid("group_name", "must be 1..200 bytes of UTF-8");
  }
  // "<stream>::<group>" keys the definition: with "::" in the group, two
  // definitions would share a key (consumer_group_names.cc).
  if (group.find("::") != std::string_view::npos) {
    return Invalid("group_name", "must not contain '::'");
  }
  return Ok();
}

std::variant<PersistentDefinition, RpcError> ParseCreate(
    const persistent::CreateReq& request) {
  auto parsed = ParseCommon(request);
  auto* definition = std::get_if<PersistentDefinition>(&parsed);
  if (definition == nullptr) return parsed;
  const auto& options = request.options();
  if (definition->all()) {
    if (RpcError bad = ReadFilter(options.all(), definition); !IsOk(bad)) {
      return bad;
    }
  }
  definition->strategy =
      options.settings().consumer_strategy().empty()
          ? EnumStrategy(options.settings().named_consumer_strategy())
          : options.settings().consumer_strategy();
  if (RpcError bad = Finish(*definition); !IsOk(bad)) return bad;
  return parsed;
}

std::variant<PersistentDefinition, RpcError> ParseUpdate(
    const persistent::UpdateReq& request) {
  auto parsed = ParseCommon(request);
  auto* definition = std::get_if<PersistentDefinition>(&parsed);
  if (definition == nullptr) return parsed;
  definition->strategy =
      EnumStrategy(request.options().settings().named_consumer_strategy());
  if (RpcError bad = Finish(*definition); !IsOk(bad)) return bad;
  return parsed;
}

std::optional<ConsumerStrategy> StrategyNamed(std::string_view name) {
  for (const auto& [known, strategy] : kStrategies) {
    if (known == name) return strategy;
  }
  return std::nullopt;
}

ConsumerGroupOptions GroupOptions(const PersistentDefinition& definition) {
  ConsumerGroupOptions options;
  if (!definition.all()) options.stream = definition.stream;
  const uint64_t start = definition.start.value_or(definition.end_at);
  if (definition.all()) {
    options.from_position = GlobalPosition(start);
  } else {
    options.from_revision = StreamRevision(start);
  }
  options.stream_prefix = definition.stream_prefix;
  options.type_prefix = definition.type_prefix;
  options.strategy = StrategyNamed(definition.strategy)
                         .value_or(ConsumerStrategy::kRoundRobin);
  options.max_members = static_cast<uint32_t>(definition.max_subscriber_count);
  options.max_in_flight = static_cast<uint32_t>(definition.read_batch_size);
  options.read_batch_size = static_cast<uint32_t>(definition.read_batch_size);
  options.max_buffered = static_cast<uint32_t>(definition.history_buffer_size +
                                               definition.live_buffer_size);
  options.checkpoint_every =
      std::chrono::milliseconds(definition.checkpoint_after_ms);
  options.min_checkpoint_count =
      static_cast<uint32_t>(definition.min_checkpoint_count);
  options.max_checkpoint_count =
      static_cast<uint32_t>(definition.max_checkpoint_count);
  options.message_timeout =
      std::chrono::milliseconds(definition.message_timeout_ms);
  options.max_retry_count = static_cast<uint32_t>(definition.max_retry_count);
  return options;
}

std::string StartFromText(const PersistentDefinition& definition) {
  std::string at = definition.start ? std::to_string(*definition.start) : "-1";
  if (!definition.all()) return at;
  return "C:" + at + "/P:" + at;
}

}  // namespace cairn::server
