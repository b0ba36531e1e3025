// Copyright (c) Cairn authors.
#include "bench/peers/driver.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

namespace cairn::peers {
namespace {

void RandomBytes(std::mt19937_64& rng, unsigned char out[16]) {
  const uint64_t hi = rng();
  const uint64_t lo = rng();
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    out[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
  out[6] = static_cast<unsigned char>((out[6] & 0x0F) | 0x40);  // version 4
  out[8] = static_cast<unsigned char>((out[8] & 0x3F) | 0x80);  // RFC 4122
}

}  // namespace

std::string NewUuid(std::mt19937_64& rng) {
  unsigned char b[16];
  RandomBytes(rng, b);
  char text[37];
  std::snprintf(text, sizeof(text),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                "%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
}

std::string NewUuidBytes(std::mt19937_64& rng) {
  unsigned char b[16];
  RandomBytes(rng, b);
  return std::string(reinterpret_cast<const char*>(b), sizeof(b));
}

std::mt19937_64& ThreadRng() {
  thread_local std::mt19937_64 rng(
      static_cast<uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count()) ^
      std::hash<std::thread::id>()(std::this_thread::get_id()));
  return rng;
}

}  // namespace cairn::peers
