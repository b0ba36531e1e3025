// Copyright (c) Cairn authors.
#include "engine/src/parked_stream.h"

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cairn/subscription.h"
#include "engine/src/stream_metadata.h"

namespace cairn {

std::string ParkedStreamName(std::string_view group) {
  return ParkedStreamName(group, "$all");
}

std::string ParkedStreamName(std::string_view group, std::string_view stream) {
  std::string name = "$persistentsubscription-";
  name += stream;
  name += "::";
  name += group;
  name += "-parked";
  return name;
}

namespace engine {
namespace {

// KurrentDB writes Added as a .NET DateTime in ISO 8601, UTC.
std::string Iso8601(int64_t us) {
  std::time_t seconds = static_cast<std::time_t>(us / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char head[32];
  // Both fit their buffers for any year of four digits; a failure (a
  // year beyond that) leaves the field empty rather than wrong.
  if (std::strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &utc) == 0) {
    return {};
  }
  char out[48];
  if (std::snprintf(out, sizeof out, "%s.%06lldZ", head,
                    static_cast<long long>(us % 1000000)) < 0) {
    return {};
  }
  return out;
}

}  // namespace

EventData ParkedLink(const RecordedEvent& event,
                     std::optional<std::string_view> subscribed,
                     std::string_view reason, int64_t added_us) {
  const bool through_link = subscribed && event.link_revision;
  const uint64_t revision =
      through_link ? event.link_revision->value() : event.revision.value();
  EventData link;
  link.type = std::string(kLinkEventType);
  link.data = std::to_string(revision) + "@" +
              (through_link ? std::string(*subscribed) : event.stream);
  nlohmann::ordered_json meta;
  meta["Added"] = Iso8601(added_us);
  // dump() below replaces invalid UTF-8 rather than failing on it.
  meta["Reason"] = std::string(reason);
  meta["SubscriptionEventNumber"] = revision;
  link.metadata =
      meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  link.content_type = ContentType::kJson;
  return link;
}

std::optional<LinkTarget> ParseLinkTarget(std::string_view data) {
  const size_t at = data.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == data.size()) {
    return std::nullopt;
  }
  LinkTarget target;
  auto [end, error] =
      std::from_chars(data.data(), data.data() + at, target.revision);
  if (error != std::errc() || end != data.data() + at) return std::nullopt;
  target.stream = std::string(data.substr(at + 1));
  return target;
}

Result<ParkedRange> ParkedRangeOf(Store& store, const std::string& parked) {
  ReadStreamOptions first;
  first.max_count = 1;
  auto read = store.ReadStream(parked, first);
  if (read.status().IsNotFound()) return ParkedRange{};
  if (!read.ok()) return read.status();
  ParkedRange range;
  range.end = read->last_revision.value() + 1;
  range.first =
      read->events.empty() ? range.end : read->events[0].revision.value();
  return range;
}

Result<std::vector<ParkedEntry>> ReadParked(Store& store,
                                            const std::string& parked,
                                            uint64_t from, uint64_t max) {
  std::vector<ParkedEntry> entries;
  ReadStreamOptions options;
  options.from = StreamRevision(from);
  options.max_count = max;
  auto links = store.ReadStream(parked, options);
  if (links.status().IsNotFound()) return entries;
  if (!links.ok()) return links.status();
  for (const RecordedEvent& link : links->events) {
    ParkedEntry entry{link.revision.value(), std::nullopt};
    auto target = ParseLinkTarget(link.data);
    if (link.type == kLinkEventType && target) {
      ReadStreamOptions one;
      one.from = StreamRevision(target->revision);
      one.max_count = 1;
      auto event = store.ReadStream(target->stream, one);
      // A stream deleted or truncated since leaves nothing to deliver;
      // damage is reported.
      if (!event.ok() && !event.status().IsNotFound() &&
          !event.status().IsStreamDeleted()) {
        return event.status();
      }
      // A category or event-type stream answers the event its link
      // revision points at.
      if (event.ok() && !event->events.empty()) {
        const RecordedEvent& e = event->events[0];
        if ((e.link_revision ? *e.link_revision : e.revision).value() ==
            target->revision) {
          entry.event = std::move(event->events[0]);
        }
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Status TruncateParked(Store& store, const std::string& parked,
                      uint64_t truncate_before) {
  auto current = store.GetStreamMetadata(parked);
  if (!current.ok()) return current.status();
  auto json = WithTruncateBefore(current->json, truncate_before);
  if (!json.ok()) return json.status();
  const ExpectedVersion expected =
      current->metastream_revision
          ? ExpectedVersion::Exact(current->metastream_revision->value())
          : ExpectedVersion::NoStream();
  auto written = store.SetStreamMetadataJson(parked, expected, *json);
  return written.status();
}

}  // namespace engine
}  // namespace cairn
