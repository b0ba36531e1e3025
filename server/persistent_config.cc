// Copyright (c) Cairn authors.
#include "server/persistent_config.h"

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

namespace cairn::server {

using nlohmann::json;

namespace {

Status NotAConfig(std::string_view why) {
  std::string message = "not a persistent subscription config: ";
  message += why;
  return Status::InvalidArgument(message);
}

std::string Iso8601(int64_t us) {
  std::time_t seconds = static_cast<std::time_t>(us / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) {
    return {};
  }
  return text;
}

json FilterToJson(const PersistentDefinition& d) {
  if (d.stream_prefix.empty() && d.type_prefix.empty()) return nullptr;
  const bool by_stream = !d.stream_prefix.empty();
  return {{"Context", by_stream ? "StreamId" : "EventType"},
          {"Type", "Prefix"},
          {"Data", json::array({by_stream ? d.stream_prefix : d.type_prefix})}};
}

json EntryToJson(const PersistentDefinition& d) {
  const int64_t start = d.start ? static_cast<int64_t>(*d.start) : -1;
  return {{"Stream", d.stream},
          {"Group", d.group},
          {"Filter", FilterToJson(d)},
          {"ResolveLinkTos", d.resolve_links},
          {"CheckPointAfter", d.checkpoint_after_ms},
          {"ExtraStatistics", d.extra_statistics},
          {"HistoryBufferSize", d.history_buffer_size},
          {"LiveBufferSize", d.live_buffer_size},
          {"MaxCheckPointCount", d.max_checkpoint_count},
          {"MinCheckPointCount", d.min_checkpoint_count},
          {"MaxRetryCount", d.max_retry_count},
          {"ReadBatchSize", d.read_batch_size},
          {"MaxSubscriberCount", d.max_subscriber_count},
          {"MessageTimeout", d.message_timeout_ms},
          {"NamedConsumerStrategy", d.strategy},
          {"CairnEndAt", d.end_at},
          {"StartFrom", d.all() ? 0 : start},
          {"StartPosition", d.all() ? json(StartFromText(d)) : json(nullptr)}};
}

// "C:<n>/P:<n>" -> n; -1 (the end) -> nullopt.
Result<std::optional<uint64_t>> ParsePosition(std::string_view text) {
  if (text == "C:-1/P:-1") return std::optional<uint64_t>();
  const size_t slash = text.find('/');
  if (text.substr(0, 2) != "C:" || slash == std::string_view::npos) {
    return NotAConfig("StartPosition is not C:<n>/P:<n>");
  }
  uint64_t position = 0;
  const char* begin = text.data() + 2;
  const char* end = text.data() + slash;
  auto [at, error] = std::from_chars(begin, end, position);
  if (error != std::errc() || at != end) {
    return NotAConfig("StartPosition is not C:<n>/P:<n>");
  }
  return std::optional<uint64_t>(position);
}

Status ReadInt(const json& entry, const char* key, int32_t* out) {
  auto it = entry.find(key);
  if (it == entry.end()) return Status::Ok();  // the default stays
  if (!it->is_number_integer()) {
    return NotAConfig(std::string(key) + " is not an integer");
  }
  const int64_t value = it->get<int64_t>();
  if (value < 0 || value > std::numeric_limits<int32_t>::max()) {
    return NotAConfig(std::string(key) + " is out of range");
  }
  *out = static_cast<int32_t>(value);
  return Status::Ok();
}

Status ReadBool(const json& entry, const char* key, bool* out) {
  auto it = entry.find(key);
  if (it == entry.end()) return Status::Ok();
  if (!it->is_boolean()) return NotAConfig(std::string(key) + " is no bool");
  *out = it->get<bool>();
  return Status::Ok();
}

Status ReadFilter(const json& entry, PersistentDefinition* d) {
  auto it = entry.find("Filter");
  if (it == entry.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return NotAConfig("Filter is not an object");
  auto context = it->find("Context");
  auto data = it->find("Data");
  if (context == it->end() || !context->is_string() || data == it->end() ||
      !data->is_array() || data->size() != 1 || !(*data)[0].is_string()) {
    return NotAConfig("Filter is not one prefix");
  }
  const std::string prefix = (*data)[0].get<std::string>();
  if (context->get<std::string>() == "StreamId") {
    d->stream_prefix = prefix;
  } else {
    d->type_prefix = prefix;
  }
  return Status::Ok();
}

Result<PersistentDefinition> EntryFromJson(const json& entry) {
  if (!entry.is_object()) return NotAConfig("an entry is not an object");
  PersistentDefinition d;
  auto stream = entry.find("Stream");
  auto group = entry.find("Group");
  if (stream == entry.end() || !stream->is_string() || group == entry.end() ||
      !group->is_string()) {
    return NotAConfig("an entry has no Stream or Group");
  }
  d.stream = stream->get<std::string>();
  d.group = group->get<std::string>();
  for (const auto& [key, field] :
       {std::pair{"CheckPointAfter", &d.checkpoint_after_ms},
        std::pair{"HistoryBufferSize", &d.history_buffer_size},
        std::pair{"LiveBufferSize", &d.live_buffer_size},
        std::pair{"MaxCheckPointCount", &d.max_checkpoint_count},
        std::pair{"MinCheckPointCount", &d.min_checkpoint_count},
        std::pair{"MaxRetryCount", &d.max_retry_count},
        std::pair{"ReadBatchSize", &d.read_batch_size},
        std::pair{"MaxSubscriberCount", &d.max_subscriber_count},
        std::pair{"MessageTimeout", &d.message_timeout_ms}}) {
    if (Status s = ReadInt(entry, key, field); !s.ok()) return s;
  }
  if (Status s = ReadBool(entry, "ResolveLinkTos", &d.resolve_links); !s.ok()) {
    return s;
  }
  if (Status s = ReadBool(entry, "ExtraStatistics", &d.extra_statistics);
      !s.ok()) {
    return s;
  }
  if (auto it = entry.find("CairnEndAt"); it != entry.end()) {
    if (!it->is_number_unsigned()) return NotAConfig("CairnEndAt");
    d.end_at = it->get<uint64_t>();
  }
  if (auto it = entry.find("NamedConsumerStrategy"); it != entry.end()) {
    if (!it->is_string()) return NotAConfig("NamedConsumerStrategy");
    d.strategy = it->get<std::string>();
  }
  if (Status s = ReadFilter(entry, &d); !s.ok()) return s;
  if (d.all()) {
    auto it = entry.find("StartPosition");
    if (it != entry.end() && it->is_string()) {
      auto start = ParsePosition(it->get<std::string>());
      if (!start.ok()) return start.status();
      d.start = *start;
    }
  } else if (auto it = entry.find("StartFrom"); it != entry.end()) {
    if (!it->is_number_integer()) return NotAConfig("StartFrom");
    const int64_t start = it->get<int64_t>();
    d.start = start < 0 ? std::nullopt
                        : std::optional<uint64_t>(static_cast<uint64_t>(start));
  }
  return d;
}

}  // namespace

std::string PersistentConfigToJson(
    const std::vector<PersistentDefinition>& definitions,
    std::string_view updated_by, int64_t now_us) {
  json entries = json::array();
  for (const PersistentDefinition& d : definitions) {
    entries.push_back(EntryToJson(d));
  }
  json out = {{"Version", "2"},
              {"Updated", Iso8601(now_us)},
              {"UpdatedBy", std::string(updated_by)},
              {"Entries", std::move(entries)}};
  // Names are checked UTF-8; replace keeps dump() from failing regardless.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<PersistentDefinition>> PersistentConfigFromJson(
    std::string_view text) {
  json in = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object()) return NotAConfig("not a JSON object");
  std::vector<PersistentDefinition> definitions;
  auto entries = in.find("Entries");
  if (entries == in.end() || entries->is_null()) return definitions;
  if (!entries->is_array()) return NotAConfig("Entries is not an array");
  for (const json& entry : *entries) {
    auto d = EntryFromJson(entry);
    if (!d.ok()) return d.status();
    definitions.push_back(std::move(d.value()));
  }
  return definitions;
}

}  // namespace cairn::server
