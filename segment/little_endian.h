// Copyright (c) Cairn authors.
//
// Little-endian loads and stores of the segment file formats' integers
// (docs/format.md): the segment header, the durable-end marks and the
// records. Fields sit at arbitrary offsets (records are not aligned), so
// they go through memcpy, or byte by byte on a big-endian host.
#ifndef CAIRN_SEGMENT_LITTLE_ENDIAN_H_
#define CAIRN_SEGMENT_LITTLE_ENDIAN_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cairn::segment {

template <typename T>
void StoreLE(uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::big) {
    for (size_t i = 0; i < sizeof(T); ++i) {
      p[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
    }
  } else {
    std::memcpy(p, &v, sizeof(T));
  }
}

template <typename T>
T LoadLE(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::big) {
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= static_cast<uint64_t>(p[i]) << (8 * i);
    }
    return static_cast<T>(v);
  } else {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
}

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_LITTLE_ENDIAN_H_
