// Copyright (c) Cairn authors.
//
// Fuzzes the record decoders (segment/record.h) on bytes as they could be
// found in a damaged segment. Input: one mode byte, then the record bytes.
// Mode bit 0 set: the record is sealed first (checksums made valid), so
// the body decoders (lengths, LZ4) are reached with hostile lengths.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "segment/record.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
constexpr uint64_t kSeed = 0x0c172a9a4f01eaabull;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::segment;
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  // An exact-size heap copy, so ASan sees any read past the end.
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (mode & 1) cairn::fuzz::SealInPlace(bytes.data(), bytes.size(), kSeed);
  RecordHeader header;
  const HeaderCheck check =
      DecodeRecordHeader(bytes.data(), bytes.size(), kSeed, &header);
  if (check != HeaderCheck::kOk) return 0;
  // kOk promises the body fits.
  FUZZ_CHECK(header.RecordSize() <= bytes.size());
  if (!VerifyRecordBody(bytes.data(), header, kSeed)) return 0;
  std::string_view stream;
  std::string_view type;
  uint64_t revision = 0;
  const bool key_ok =
      PeekEventKey(bytes.data(), header, &stream, &type, &revision);
  std::string scratch;
  EventFields fields;
  const bool body_ok = DecodeEventBody(bytes.data(), header, &scratch, &fields);
  if (body_ok) {
    // A body that decodes has a key that peeks, and the same one.
    FUZZ_CHECK(key_ok);
    FUZZ_CHECK(fields.stream == stream);
    FUZZ_CHECK(fields.type == type);
    FUZZ_CHECK(fields.revision == revision);
    // Re-encoding what was decoded gives a record that decodes the same.
    std::string again;
    size_t n = EncodeEventRecord(fields, (mode & 2) ? 1 : 0, &again);
    FUZZ_CHECK(n == again.size());
    auto* p = reinterpret_cast<uint8_t*>(again.data());
    SealRecord(p, header.position, fields.revision, 0, true, kSeed);
    RecordHeader h2;
    FUZZ_CHECK(DecodeRecordHeader(p, again.size(), kSeed, &h2) ==
               HeaderCheck::kOk);
    FUZZ_CHECK(VerifyRecordBody(p, h2, kSeed));
    std::string scratch2;
    EventFields f2;
    FUZZ_CHECK(DecodeEventBody(p, h2, &scratch2, &f2));
    FUZZ_CHECK(f2.stream == fields.stream && f2.type == fields.type);
    FUZZ_CHECK(f2.data == fields.data && f2.metadata == fields.metadata);
    FUZZ_CHECK(f2.id == fields.id && f2.revision == fields.revision);
  }
  return 0;
}
