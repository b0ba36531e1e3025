// Copyright (c) Cairn authors.
#include "cairn/types.h"

#include <pthread.h>

#include <atomic>
#include <charconv>
#include <random>

#include "cairn/event.h"
#include "cairn/options.h"

namespace cairn {

std::string ExpectedVersion::ToString() const {
  switch (kind_) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no-stream";
    case Kind::kStreamExists:
      return "exists";
    case Kind::kExact:
      return std::to_string(revision_);
  }
  return "?";
}

std::optional<ExpectedVersion> ExpectedVersion::Parse(std::string_view text) {
  if (text == "any") return Any();
  if (text == "no-stream" || text == "no_stream") return NoStream();
  if (text == "exists" || text == "stream-exists" || text == "stream_exists") {
    return StreamExists();
  }
  uint64_t revision = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, revision);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return Exact(revision);
}

namespace {

// Bumped in the child of every fork. A forked child starts with copies of
// its parent's generators, which would repeat the parent's ids; with
// client-side ids a repeated id makes a different event look like a retry
// and be swallowed. Each generator reseeds when the count moves.
std::atomic<uint64_t> fork_generation{0};

void OnForkChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

// Registers OnForkChild once per process, before the first id.
uint64_t ForkGeneration() {
  static const bool registered = [] {
    return pthread_atfork(nullptr, nullptr, &OnForkChild) == 0;
  }();
  (void)registered;
  return fork_generation.load(std::memory_order_relaxed);
}

std::mt19937_64 SeededEngine() {
  std::random_device device;
  std::seed_seq seq{device(), device(), device(), device()};
  return std::mt19937_64(seq);
}

// A per-thread generator seeded from the OS: ids must be unique, not
// secret, and generating one must not take a lock or a syscall (only the
// first id of a thread, and the first after a fork, pay for seeding).
uint64_t NextRandom() {
  struct Generator {
    std::mt19937_64 engine = SeededEngine();
    uint64_t generation = ForkGeneration();
  };
  thread_local Generator generator;
  const uint64_t generation = ForkGeneration();
  if (generator.generation != generation) [[unlikely]] {
    generator.engine = SeededEngine();
    generator.generation = generation;
  }
  return generator.engine();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

EventId EventId::Generate() {
  std::array<uint8_t, 16> bytes;
  uint64_t hi = NextRandom();
  uint64_t lo = NextRandom();
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122
  return EventId(bytes);
}

std::optional<EventId> EventId::Parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  size_t out = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return EventId(bytes);
}

bool EventId::IsNil() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

std::string EventId::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0x0f]);
  }
  return out;
}

RecordedEventView RecordedEvent::View() const {
  RecordedEventView view;
  view.stream = stream;
  view.revision = revision;
  view.position = position;
  view.id = id;
  view.type = type;
  view.data = data;
  view.metadata = metadata;
  view.content_type = content_type;
  view.created_us = created_us;
  view.link_revision = link_revision;
  return view;
}

RecordedEvent RecordedEventView::ToOwned() const {
  RecordedEvent event;
  event.stream = std::string(stream);
  event.revision = revision;
  event.position = position;
  event.id = id;
  event.type = std::string(type);
  event.data = std::string(data);
  event.metadata = std::string(metadata);
  event.content_type = content_type;
  event.created_us = created_us;
  event.link_revision = link_revision;
  return event;
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace cairn
