// Copyright (c) Cairn authors.
#include "server/link_events.h"

#include <xxhash.h>

#include <array>
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

void LinkEventToProto(
    std::string_view link_stream, const RecordedEventView& original,
    UuidFormat format,
    event_store::client::streams::ReadResp::ReadEvent::RecordedEvent* out) {
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

}  // namespace cairn::server
