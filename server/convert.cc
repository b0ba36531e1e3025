// Copyright (c) Cairn authors.
#include "server/convert.h"

#include <array>
#include <charconv>
#include <chrono>

namespace cairn::server {

namespace {

// The structured form holds bytes 0-7 and 8-15 of the canonical UUID, each
// read as a big-endian 64-bit integer.
uint64_t ReadBigEndian(const std::array<uint8_t, 16>& bytes, size_t at) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | bytes[at + i];
  return value;
}

void WriteBigEndian(uint64_t value, std::array<uint8_t, 16>& bytes, size_t at) {
  for (size_t i = 0; i < 8; ++i) {
    bytes[at + 7 - i] = static_cast<uint8_t>(value & 0xff);
    value >>= 8;
  }
}

}  // namespace

std::optional<EventId> EventIdFromProto(const event_store::client::UUID& uuid) {
  switch (uuid.value_case()) {
    case event_store::client::UUID::kString:
      return EventId::Parse(uuid.string());
    case event_store::client::UUID::kStructured: {
      std::array<uint8_t, 16> bytes{};
      WriteBigEndian(
          static_cast<uint64_t>(uuid.structured().most_significant_bits()),
          bytes, 0);
      WriteBigEndian(
          static_cast<uint64_t>(uuid.structured().least_significant_bits()),
          bytes, 8);
      return EventId(bytes);
    }
    default:
      return std::nullopt;
  }
}

void EventIdToProto(const EventId& id, UuidFormat format,
                    event_store::client::UUID* out) {
  if (format == UuidFormat::kString) {
    out->set_string(id.ToString());
    return;
  }
  auto* structured = out->mutable_structured();
  structured->set_most_significant_bits(
      static_cast<int64_t>(ReadBigEndian(id.bytes(), 0)));
  structured->set_least_significant_bits(
      static_cast<int64_t>(ReadBigEndian(id.bytes(), 8)));
}

int64_t TicksFromMicros(int64_t micros) { return micros * 10; }

void NowToTimestamp(google::protobuf::Timestamp* out) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

template <typename WireRecordedEvent>
void RecordedEventToProto(const RecordedEventView& event, UuidFormat format,
                          WireRecordedEvent* out) {
  // Every field is assigned in place, so that a message reused for the
  // next event keeps its strings' and map nodes' memory.
  EventIdToProto(event.id, format, out->mutable_id());
  out->mutable_stream_identifier()->mutable_stream_name()->assign(event.stream);
  out->set_stream_revision(event.revision.value());
  out->set_prepare_position(event.position.value());
  out->set_commit_position(event.position.value());
  auto& metadata = *out->mutable_metadata();
  metadata["type"].assign(event.type);
  std::array<char, 24> ticks{};
  const auto printed = std::to_chars(ticks.data(), ticks.data() + ticks.size(),
                                     TicksFromMicros(event.created_us));
  metadata["created"].assign(ticks.data(), printed.ptr);
  metadata["content-type"].assign(event.content_type == ContentType::kJson
                                      ? kJsonContentType
                                      : kBinaryContentType);
  out->mutable_custom_metadata()->assign(event.metadata);
  out->mutable_data()->assign(event.data);
}

template void RecordedEventToProto(const RecordedEventView&, UuidFormat,
                                   StreamsRecordedEvent*);
template void RecordedEventToProto(const RecordedEventView&, UuidFormat,
                                   PersistentRecordedEvent*);

}  // namespace cairn::server
