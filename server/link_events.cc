// Copyright (c) Cairn authors.
#include "server/link_events.h"

#include <xxhash.h>

#include <array>
#include <charconv>
#include <cstring>

#include "server/system_streams.h"

namespace cairn::server {

EventId LinkEventId(std::string_view link_stream, uint64_t link_revision) {
  std::string key(link_stream);
  for (int i = 0; i < 8; ++i) {
    key.push_back(static_cast<char>(link_revision >> (8 * i)));
  }
  XXH128_canonical_t digest;
  XXH128_canonicalFromHash(&digest, XXH3_128bits(key.data(), key.size()));
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), digest.digest, bytes.size());
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x80);  // version 8
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC variant
  return EventId(bytes);
}

std::string LinkEventData(const RecordedEventView& original) {
  std::string data = std::to_string(original.revision.value());
  data.push_back('@');
  data.append(original.stream);
  return data;
}

template <typename WireRecordedEvent>
void LinkEventToProto(std::string_view link_stream,
                      const RecordedEventView& original, UuidFormat format,
                      WireRecordedEvent* out) {
  const uint64_t link_revision = original.link_revision->value();
  const std::string data = LinkEventData(original);
  RecordedEventView link;
  link.stream = link_stream;
  link.revision = StreamRevision(link_revision);
  link.position = original.position;
  link.id = LinkEventId(link_stream, link_revision);
  link.type = kLinkEventType;
  link.data = data;
  link.content_type = ContentType::kBinary;
  link.created_us = original.created_us;
  RecordedEventToProto(link, format, out);
}

std::optional<RecordedEvent> ResolveLink(Store& store, std::string_view data) {
  const size_t at = data.find('@');
  if (at == std::string_view::npos || at + 1 >= data.size()) {
    return std::nullopt;
  }
  uint64_t revision = 0;
  auto [end, error] = std::from_chars(data.data(), data.data() + at, revision);
  if (error != std::errc() || end != data.data() + at) return std::nullopt;
  ReadStreamOptions options;
  options.from = StreamRevision(revision);
  options.max_count = 1;
  Result<ReadStreamResult> result =
      store.ReadStream(data.substr(at + 1), options);
  if (!result.ok() || result.value().events.empty() ||
      result.value().events.front().revision.value() != revision) {
    return std::nullopt;
  }
  return std::move(result.value().events.front());
}

template <typename WireReadEvent>
void ReadEventToProto(Store& store, std::string_view read_stream,
                      bool resolve_links, UuidFormat format,
                      const RecordedEventView& event, WireReadEvent* out) {
  out->set_commit_position(event.position.value());
  if (event.link_revision) {
    // An event of a $ce-/$et- stream: the store gives the original, the
    // client sees the link, resolved if it asked for that.
    if (resolve_links) {
      RecordedEventToProto(event, format, out->mutable_event());
      LinkEventToProto(read_stream, event, format, out->mutable_link());
    } else {
      out->clear_link();
      LinkEventToProto(read_stream, event, format, out->mutable_event());
    }
    return;
  }
  if (resolve_links && event.type == kLinkEventType) {
    if (std::optional<RecordedEvent> target = ResolveLink(store, event.data)) {
      RecordedEventToProto(target->View(), format, out->mutable_event());
      RecordedEventToProto(event, format, out->mutable_link());
      return;
    }
  }
  out->clear_link();
  RecordedEventToProto(event, format, out->mutable_event());
}

template void LinkEventToProto(std::string_view, const RecordedEventView&,
                               UuidFormat, StreamsRecordedEvent*);
template void LinkEventToProto(std::string_view, const RecordedEventView&,
                               UuidFormat, PersistentRecordedEvent*);
template void ReadEventToProto(
    Store&, std::string_view, bool, UuidFormat, const RecordedEventView&,
    event_store::client::streams::ReadResp::ReadEvent*);
template void ReadEventToProto(
    Store&, std::string_view, bool, UuidFormat, const RecordedEventView&,
    event_store::client::persistent_subscriptions::ReadResp::ReadEvent*);

}  // namespace cairn::server
