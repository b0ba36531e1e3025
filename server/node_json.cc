// Copyright (c) Cairn authors.
#include "server/node_json.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "server/info_services.h"

namespace cairn::server {

namespace {

// Builds one JSON object, member by member. Strings are escaped as JSON
// requires: quote, backslash and control characters.
class JsonObject {
 public:
  JsonObject& Number(std::string_view key, uint64_t value) {
    return Raw(key, std::to_string(value));
  }
  // The shortest text that reads back as `value` (finite values only).
  JsonObject& Real(std::string_view key, double value) {
    std::array<char, 32> text{};
    const char* end =
        std::to_chars(text.data(), text.data() + text.size(), value).ptr;
    return Raw(key, std::string_view(text.data(),
                                     static_cast<size_t>(end - text.data())));
  }
  JsonObject& Bool(std::string_view key, bool value) {
    return Raw(key, value ? "true" : "false");
  }
  JsonObject& String(std::string_view key, std::string_view value) {
    return Raw(key, Quote(value));
  }
  // `json` is already valid JSON (an object or an array).
  JsonObject& Raw(std::string_view key, std::string_view json) {
    text_.push_back(text_.empty() ? '{' : ',');
    text_.append(Quote(key)).push_back(':');
    text_.append(json);
    return *this;
  }
  std::string Done() {
    if (text_.empty()) text_.push_back('{');
    text_.push_back('}');
    return std::move(text_);
  }

  static std::string Quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out.append("\\u00");
        out.push_back(kHex[(c >> 4) & 0xF]);
        out.push_back(kHex[c & 0xF]);
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
    return out;
  }

 private:
  std::string text_;
};

std::string NumberArray(const std::vector<uint64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(std::to_string(values[i]));
  }
  out.push_back(']');
  return out;
}

std::string HistogramJson(const HistogramSnapshot& h) {
  return JsonObject()
      .Raw("upperBounds", NumberArray(h.upper_bounds))
      .Raw("cumulativeCounts", NumberArray(h.cumulative_counts))
      .Number("count", h.count)
      .Number("sum", h.sum)
      .Done();
}

std::string IndexJson(const StoreIndexStats& index) {
  return JsonObject()
      .Number("tables", index.tables)
      .Number("tableBytes", index.table_bytes)
      .Number("memoryEntries", index.memory_entries)
      .Number("flushes", index.flushes)
      .Number("merges", index.merges)
      .Number("cacheHits", index.cache_hits)
      .Number("cacheMisses", index.cache_misses)
      .String("backgroundError", index.background_error)
      .Done();
}

std::string ActivityJson(const StoreActivity& a) {
  return JsonObject()
      .Number("appends", a.appends)
      .Number("eventsWritten", a.events_written)
      .Number("bytesWritten", a.bytes_written)
      .Raw("syncMicros", HistogramJson(a.sync_micros))
      .Raw("groupCommitEvents", HistogramJson(a.group_commit_events))
      .Number("streamReads", a.stream_reads)
      .Number("categoryOrTypeReads", a.link_stream_reads)
      .Number("allReads", a.all_reads)
      .Number("subscriptionEvents", a.subscription_events)
      .Number("subscriptions", a.subscriptions)
      .Number("subscriptionLagMax", a.subscription_lag_max)
      .Number("subscriptionLagSum", a.subscription_lag_sum)
      .Done();
}

std::string ServerJson(const ServerFigures& server) {
  std::string calls = "[";
  for (const CallMetrics::Count& count : server.calls) {
    if (calls.size() > 1) calls.push_back(',');
    calls.append(JsonObject()
                     .String("method", count.method)
                     .String("code", StatusCodeName(count.code))
                     .Number("calls", count.calls)
                     .Done());
  }
  calls.push_back(']');
  JsonObject out;
  out.Raw("calls", calls);
  if (server.open_connections) {
    out.Number("openConnections", *server.open_connections);
  }
  if (server.process) {
    const ProcessFigures& p = *server.process;
    out.Raw("process", JsonObject()
                           .Real("cpuSeconds", p.cpu_seconds)
                           .Number("residentMemoryBytes", p.resident_bytes)
                           .Number("virtualMemoryBytes", p.virtual_bytes)
                           .Number("openFds", p.open_fds)
                           .Number("maxFds", p.max_fds)
                           .Number("threads", p.threads)
                           .Real("startTimeSeconds", p.start_time_seconds)
                           .Done());
  }
  return out.Done();
}

// ISO 8601 in UTC with microseconds, as .NET writes a DateTime.
std::string IsoTime(int64_t micros) {
  const auto seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  // The buffer holds any date; the length returned is not needed.
  (void)std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                      utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                      utc.tm_hour, utc.tm_min, utc.tm_sec,
                      static_cast<int>(micros % 1000000));
  return text;
}

}  // namespace

std::string StatsJson(const StoreStats& store, const ServerFigures& server) {
  const std::string store_json =
      JsonObject()
          .Number("events", store.events)
          .Number("streams", store.streams)
          .Number("segments", store.segments)
          .Number("bytes", store.bytes)
          .Number("durablePositionEnd", store.durable_position_end.value())
          .Number("indexCheckpoint", store.index_checkpoint.value())
          .Raw("index", IndexJson(store.index))
          .Done();
  return JsonObject()
      .Raw("store", store_json)
      .Raw("activity", ActivityJson(store.activity))
      .Raw("server", ServerJson(server))
      .Done();
}

std::string GossipJson(const GossipNode& node) {
  // One member, the leader. Positions are Cairn's (event counts); Cairn
  // has no epochs, so the epoch is the zero one at position 0.
  const uint64_t durable = node.store.durable_position_end.value();
  const std::string member =
      JsonObject()
          .String("instanceId", node.instance_id.ToString())
          .String("timeStamp", IsoTime(node.now_micros))
          .String("state", "Leader")
          .Bool("isAlive", true)
          .String("httpEndPointIp", node.host)
          .Number("httpEndPointPort", node.port)
          .Number("lastCommitPosition", durable)
          .Number("writerCheckpoint", node.store.events)
          .Number("chaserCheckpoint", durable)
          .Number("epochPosition", 0)
          .Number("epochNumber", 0)
          .String("epochId", EventId().ToString())
          .Number("nodePriority", 0)
          .Bool("isReadOnlyReplica", false)
          .String("esVersion", kProtocolVersion)
          .Done();
  return JsonObject()
      .Raw("members", "[" + member + "]")
      .String("serverIp", node.host)
      .Number("serverPort", node.port)
      .Done();
}

}  // namespace cairn::server
