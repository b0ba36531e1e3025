// Copyright (c) Cairn authors.
//
// Fuzzes the record decoders (segment/record.h) on bytes as they could be
// found in a damaged segment. Input: one mode byte, then records back to
// back (a continuation's head is among the records before it). Mode bit 0
// set: each record is sealed first (checksums made valid), so the body
// decoders (lengths, varints, LZ4, head links) are reached with hostile
// values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "segment/record.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace cairn::segment;

constexpr uint64_t kSeed = 0x0c172a9a4f01eaabull;
// Records looked at per input: enough for a head and its continuations.
constexpr int kMaxRecords = 8;

// Decodes the single record at the start of `bytes` with a decoder of its
// own (so a head, or a promoted continuation) into *out.
bool DecodeAlone(const std::string& bytes, std::string* scratch,
                 EventFields* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  RecordHeader h;
  if (DecodeRecordHeader(p, bytes.size(), kSeed, &h) != HeaderCheck::kOk ||
      !VerifyRecordBody(p, h, kSeed)) {
    return false;
  }
  EventDecoder decoder(p, kSeed);
  return decoder.Decode(p, h, scratch, out);
}

bool SameEvent(const EventFields& a, const EventFields& b) {
  return a.stream == b.stream && a.type == b.type && a.data == b.data &&
         a.metadata == b.metadata && a.id == b.id && a.revision == b.revision &&
         a.created_us == b.created_us && a.content_type == b.content_type;
}

// Checks one record that verified: its decoders agree, and it re-encodes
// (as a head, and as a promoted head for a continuation) to the same event.
void CheckRecord(EventDecoder* decoder, const uint8_t* record,
                 const RecordHeader& header, uint8_t mode) {
  std::string_view stream;
  std::string_view type;
  uint64_t revision = 0;
  const bool key_ok =
      decoder->PeekKey(record, header, &stream, &type, &revision);
  std::string scratch;
  EventFields fields;
  const bool body_ok = decoder->Decode(record, header, &scratch, &fields);
  if (!body_ok) return;
  // A body that decodes has a key that peeks, and the same one.
  FUZZ_CHECK(key_ok);
  FUZZ_CHECK(CheckEventBody(record, header));
  FUZZ_CHECK(fields.stream == stream);
  FUZZ_CHECK(fields.type == type);
  FUZZ_CHECK(fields.revision == revision);
  HeadFields own_head;
  FUZZ_CHECK(decoder->Head(record, header, &own_head));
  FUZZ_CHECK(own_head.created_us == fields.created_us);
  FUZZ_CHECK(PeekEventId(record) == fields.id);

  // Re-encoding what was decoded gives a record that decodes the same.
  std::string again;
  const size_t n = EncodeEventRecord(fields, (mode & 2) ? 1 : 0, &again);
  FUZZ_CHECK(n == again.size());
  SealRecord(reinterpret_cast<uint8_t*>(again.data()), header.position,
             fields.revision, 0, true, kSeed);
  std::string scratch2;
  EventFields f2;
  FUZZ_CHECK(DecodeAlone(again, &scratch2, &f2));
  FUZZ_CHECK(SameEvent(f2, fields));

  if (header.type != RecordType::kContinuation) return;
  // A continuation made a head (a scavenge that removed its head) carries
  // the same event, and relinking it to where its head is changes nothing.
  HeadFields head;
  FUZZ_CHECK(decoder->Head(record, header, &head));
  std::string promoted;
  AppendPromotedContinuation(record, header, head, kSeed, &promoted);
  std::string scratch3;
  EventFields f3;
  FUZZ_CHECK(DecodeAlone(promoted, &scratch3, &f3));
  FUZZ_CHECK(SameEvent(f3, fields));
  std::string relinked;
  AppendRelinkedContinuation(record, header, ContinuationBackOffset(record),
                             kSeed, &relinked);
  FUZZ_CHECK(relinked == std::string(reinterpret_cast<const char*>(record),
                                     header.RecordSize()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  // An exact-size heap copy, so ASan sees any read past the end.
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (mode & 1) {
    size_t at = 0;
    for (int i = 0; i < kMaxRecords && at < bytes.size(); ++i) {
      const size_t sealed =
          cairn::fuzz::SealInPlace(bytes.data() + at, bytes.size() - at, kSeed);
      if (sealed == 0) break;
      at += sealed;
    }
  }
  EventDecoder decoder(bytes.data(), kSeed);
  size_t at = 0;
  for (int i = 0; i < kMaxRecords && at < bytes.size(); ++i) {
    RecordHeader header;
    const HeaderCheck check = DecodeRecordHeader(
        bytes.data() + at, bytes.size() - at, kSeed, &header);
    if (check != HeaderCheck::kOk) break;
    // kOk promises the body fits.
    FUZZ_CHECK(header.RecordSize() <= bytes.size() - at);
    if (VerifyRecordBody(bytes.data() + at, header, kSeed)) {
      CheckRecord(&decoder, bytes.data() + at, header, mode);
    }
    at += header.RecordSize();
  }
  return 0;
}
