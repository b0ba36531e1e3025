// Copyright (c) Cairn authors.
//
// Fuzzes recovery's segment scan (segment/segment_scan.h) and the segment
// header decoder. Input: a mode byte, a byte of durable position, then the
// bytes after the segment header. Mode bit 0: records are sealed one after
// another (each at the end of the previous one, lengths as fuzzed), so the
// scan meets long chains of valid records with fuzzed positions, flags and
// synced_offset values, then damage. Mode bit 1: the segment is the last
// one (a torn tail is possible). Mode bit 2: the fuzzed bytes replace the
// segment header too (header decoding). Mode bit 3: sealed records get
// the expected positions (100, 101, ...) first, so the chains are long.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "segment/segment_header.h"
#include "segment/segment_scan.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::segment;
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const uint8_t durable = data[1];
  data += 2;
  size -= 2;
  SegmentHeader header;
  header.store_id = 0x0123456789abcdefull;
  header.segment_number = 3;
  header.first_position = 100;
  header.capacity = kSegmentHeaderSize + size;
  header.created_us = 1700000000000000;
  std::vector<uint8_t> bytes(kSegmentHeaderSize + size);
  EncodeSegmentHeader(header, bytes.data());
  if (mode & 4) {
    std::vector<uint8_t> raw(data, data + size);
    SegmentHeader decoded;
    (void)DecodeSegmentHeader(raw.data(), raw.size(), "fuzz.seg", &decoded);
    return 0;
  }
  std::copy(data, data + size, bytes.begin() + kSegmentHeaderSize);
  const uint64_t seed = header.Seed();
  if (mode & 1) {
    uint64_t position = header.first_position;
    for (size_t at = kSegmentHeaderSize; at < bytes.size();) {
      if ((mode & 8) && bytes.size() - at >= kRecordHeaderSize) {
        std::memcpy(bytes.data() + at + 16, &position, 8);
        ++position;
      }
      const size_t n =
          cairn::fuzz::SealInPlace(bytes.data() + at, bytes.size() - at, seed);
      if (n == 0) break;
      at += n;
    }
  }
  SegmentHeader decoded;
  FUZZ_CHECK(
      DecodeSegmentHeader(bytes.data(), bytes.size(), "fuzz.seg", &decoded)
          .ok());
  SegmentScanOptions options;
  options.is_last = (mode & 2) != 0;
  options.durable_position_end = durable == 0 ? 0 : 100 + durable;
  SegmentScanResult result;
  uint64_t next = header.first_position;
  uint64_t kept = 0;
  uint64_t end = kSegmentHeaderSize;
  cairn::Status s = ScanSegment(
      bytes.data(), bytes.size(), decoded, "fuzz.seg", options,
      [&](std::span<const ScannedRecord> records) {
        FUZZ_CHECK(!records.empty());
        FUZZ_CHECK(records.back().header.IsCommit());
        for (const ScannedRecord& r : records) {
          // Kept records are gapless, in order, back to back, and inside
          // the file.
          FUZZ_CHECK(r.header.position == next);
          FUZZ_CHECK(r.offset == end);
          FUZZ_CHECK(r.offset + r.header.RecordSize() <= bytes.size());
          ++next;
          ++kept;
          end = r.offset + r.header.RecordSize();
        }
      },
      &result);
  if (s.ok()) {
    FUZZ_CHECK(result.next_position == next);
    FUZZ_CHECK(result.records == kept);
    FUZZ_CHECK(result.end_offset == end);
    FUZZ_CHECK(result.end_offset <= bytes.size());
    // Damage in a sealed segment is never a torn tail.
    FUZZ_CHECK(options.is_last || !result.torn_tail);
    // Below the durable watermark nothing may be cut off as torn.
    if (result.torn_tail) {
      FUZZ_CHECK(result.next_position >= options.durable_position_end);
    }
  } else {
    FUZZ_CHECK(s.IsCorruption());
  }
  return 0;
}
