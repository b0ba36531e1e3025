// Copyright (c) Cairn authors.
//
// The wall clock the store stamps events and segments with. Events' created
// times and $maxAge (store_retention.cc) must read the same clock.
#ifndef CAIRN_ENGINE_SRC_WALL_CLOCK_H_
#define CAIRN_ENGINE_SRC_WALL_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace cairn::engine {

// Microseconds since the Unix epoch.
inline int64_t WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_WALL_CLOCK_H_
