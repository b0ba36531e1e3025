// Copyright (c) Cairn authors.
//
// Checksums of persisted structures: XXH3-64, always seeded. Record
// checksums are seeded with the segment's identity (SegmentSeed), so a
// record copied from another segment or another store fails verification.
#ifndef CAIRN_SEGMENT_CHECKSUM_H_
#define CAIRN_SEGMENT_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace cairn::segment {

uint64_t Checksum64(const void* data, size_t size, uint64_t seed);

// Checksum64 of bytes given in pieces: Digest() equals Checksum64 of the
// pieces' concatenation with the same seed.
class StreamingChecksum64 {
 public:
  explicit StreamingChecksum64(uint64_t seed);
  ~StreamingChecksum64();
  StreamingChecksum64(const StreamingChecksum64&) = delete;
  StreamingChecksum64& operator=(const StreamingChecksum64&) = delete;

  void Update(const void* data, size_t size);
  uint64_t Digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The seed of every record checksum in segment `segment_number` of the store
// whose random identity is `store_id`. Never 0.
uint64_t SegmentSeed(uint64_t store_id, uint64_t segment_number);

}  // namespace cairn::segment

#endif  // CAIRN_SEGMENT_CHECKSUM_H_
