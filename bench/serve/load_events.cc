// Copyright (c) Cairn authors.
#include "bench/serve/load_events.h"

#include <charconv>
#include <cstdio>

namespace cairn::bench::serve {
namespace {

constexpr std::string_view kSentKey = "{\"sent_ns\":";
constexpr std::string_view kAlphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

}  // namespace

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string RandomUuid(std::mt19937_64& rng) {
  const uint64_t hi = (rng() & ~0xf000ULL) | 0x4000ULL;
  const uint64_t lo = (rng() & ~(3ULL << 62)) | (2ULL << 62);
  char text[37];
  (void)std::snprintf(text, sizeof(text), "%08x-%04x-%04x-%04x-%012llx",
                      static_cast<unsigned>(hi >> 32),
                      static_cast<unsigned>((hi >> 16) & 0xffff),
                      static_cast<unsigned>(hi & 0xffff),
                      static_cast<unsigned>(lo >> 48),
                      static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return std::string(text, 36);
}

std::string EventData(int64_t sent_ns, size_t event_size,
                      std::mt19937_64& rng) {
  std::string data(kSentKey);
  data += std::to_string(sent_ns);
  data += ",\"pad\":\"";
  const size_t target =
      event_size > kEventType.size() ? event_size - kEventType.size() : 0;
  // Random letters and digits, so compression gains no more than on real
  // data; two bytes are left for the closing `"}`.
  while (data.size() + 2 < target) {
    data += kAlphabet[rng() % kAlphabet.size()];
  }
  data += "\"}";
  return data;
}

std::optional<int64_t> SentNanos(std::string_view data) {
  if (data.substr(0, kSentKey.size()) != kSentKey) return std::nullopt;
  data.remove_prefix(kSentKey.size());
  int64_t value = 0;
  auto [end, error] =
      std::from_chars(data.data(), data.data() + data.size(), value);
  if (error != std::errc()) return std::nullopt;
  return value;
}

}  // namespace cairn::bench::serve
