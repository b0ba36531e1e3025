// Copyright (c) Cairn authors.
//
// Continuation records (segment/record.h): the later events of an append,
// which take their stream, revision and creation time from the append's
// head.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "segment/little_endian.h"
#include "segment/record.h"
#include "tests/segment/segment_test_util.h"

namespace cairn::segment {
namespace {

using testing::MakeEvent;

constexpr uint64_t kSeed = 0x1234567890abcdefull;
constexpr int64_t kCreated = 1'700'000'000'123'456;

uint8_t* U8(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

EventId IdOf(uint8_t fill) {
  std::array<uint8_t, 16> b;
  b.fill(fill);
  return EventId(b);
}

// An append as the writer encodes it: a head, then continuations, sealed
// at positions first_position, ... and revisions first_revision, ...
struct EncodedAppend {
  std::string bytes;
  std::vector<size_t> offsets;  // of each record in `bytes`
};

EncodedAppend Encode(const std::vector<EventFields>& events,
                     uint64_t first_position, uint64_t first_revision,
                     uint32_t threshold = 0) {
  EncodedAppend a;
  for (size_t i = 0; i < events.size(); ++i) {
    EventFields e = events[i];
    e.created_us = kCreated;
    e.id = IdOf(static_cast<uint8_t>(i + 1));
    a.offsets.push_back(a.bytes.size());
    if (i == 0) {
      EncodeEventRecord(e, threshold, &a.bytes);
    } else {
      EncodeContinuationRecord(e, threshold, 0, &a.bytes);
    }
  }
  for (size_t i = 0; i < events.size(); ++i) {
    SealRecord(U8(a.bytes) + a.offsets[i], first_position + i,
               first_revision + i, 0, i + 1 == events.size(), kSeed);
  }
  return a;
}

RecordHeader HeaderAt(const std::string& bytes, size_t offset) {
  RecordHeader h;
  EXPECT_EQ(DecodeRecordHeader(
                reinterpret_cast<const uint8_t*>(bytes.data()) + offset,
                bytes.size() - offset, kSeed, &h),
            HeaderCheck::kOk);
  return h;
}

std::vector<EventFields> ThreeEvents() {
  // EventFields holds views: the data outlives every test.
  static const std::string kLarge(3000, 'z');
  EventFields paid = MakeEvent("ignored", "OrderPaid", R"({"paid":true})");
  paid.content_type = ContentType::kBinary;
  return {MakeEvent("Order-5", "OrderPlaced", R"({"n":1})", R"({"c":1})"), paid,
          MakeEvent("ignored", "OrderShipped", kLarge, R"({"m":2})")};
}

TEST(ContinuationRecordTest, EventsTakeStreamRevisionAndTimeFromTheHead) {
  const std::vector<EventFields> in = ThreeEvents();
  const EncodedAppend a = Encode(in, 40, 7, /*threshold=*/64);
  const auto* base = reinterpret_cast<const uint8_t*>(a.bytes.data());
  EventDecoder decoder(base, kSeed);
  for (size_t i = 0; i < in.size(); ++i) {
    const RecordHeader h = HeaderAt(a.bytes, a.offsets[i]);
    EXPECT_EQ(h.type, i == 0 ? RecordType::kEvent : RecordType::kContinuation);
    EXPECT_EQ(h.IsCommit(), i + 1 == in.size());
    ASSERT_TRUE(VerifyRecordBody(base + a.offsets[i], h, kSeed));
    ASSERT_TRUE(CheckEventBody(base + a.offsets[i], h));
    std::string scratch;
    EventFields got;
    ASSERT_TRUE(decoder.Decode(base + a.offsets[i], h, &scratch, &got)) << i;
    EXPECT_EQ(got.stream, "Order-5");
    EXPECT_EQ(got.revision, 7 + i);
    EXPECT_EQ(got.created_us, kCreated);
    EXPECT_EQ(got.type, in[i].type);
    EXPECT_EQ(got.data, in[i].data);
    EXPECT_EQ(got.metadata, in[i].metadata);
    EXPECT_EQ(got.content_type, in[i].content_type);
    EXPECT_EQ(got.id, IdOf(static_cast<uint8_t>(i + 1)));
    EXPECT_EQ(PeekEventId(base + a.offsets[i]), got.id);
    std::string_view stream;
    std::string_view type;
    uint64_t revision = 0;
    ASSERT_TRUE(
        decoder.PeekKey(base + a.offsets[i], h, &stream, &type, &revision));
    EXPECT_EQ(stream, "Order-5");
    EXPECT_EQ(type, in[i].type);
    EXPECT_EQ(revision, 7 + i);
    HeadFields head;
    ASSERT_TRUE(decoder.Head(base + a.offsets[i], h, &head));
    EXPECT_EQ(head.created_us, kCreated);
  }
  // The third event was compressed, the second not.
  EXPECT_TRUE(HeaderAt(a.bytes, a.offsets[2]).IsCompressed());
  EXPECT_FALSE(HeaderAt(a.bytes, a.offsets[1]).IsCompressed());
}

// Parse finds the parts in place: the type and the stored payload inside
// the record, the head's fields, and the compression of the payload, which
// Decode then undoes.
TEST(ContinuationRecordTest, ParseFindsThePartsInPlace) {
  const std::vector<EventFields> in = ThreeEvents();
  const EncodedAppend a = Encode(in, 40, 7, /*threshold=*/64);
  const auto* base = reinterpret_cast<const uint8_t*>(a.bytes.data());
  EventDecoder decoder(base, kSeed);
  for (size_t i = 0; i < in.size(); ++i) {
    const uint8_t* record = base + a.offsets[i];
    const RecordHeader h = HeaderAt(a.bytes, a.offsets[i]);
    EventParts parts;
    ASSERT_TRUE(decoder.Parse(record, h, &parts)) << i;
    EXPECT_EQ(parts.head.stream, "Order-5");
    EXPECT_EQ(parts.head.position, 40 + i);
    EXPECT_EQ(parts.head.revision, 7 + i);
    EXPECT_EQ(parts.head.created_us, kCreated);
    EXPECT_EQ(std::string_view(parts.type, parts.type_length), in[i].type);
    EXPECT_EQ(parts.metadata_length, in[i].metadata.size());
    EXPECT_EQ(parts.data_length, in[i].data.size());
    EXPECT_EQ(parts.content_type, static_cast<uint8_t>(in[i].content_type));
    EXPECT_EQ(parts.compressed, h.IsCompressed());
    // The payload is the record's last bytes, as stored.
    const auto* end = reinterpret_cast<const char*>(record + h.RecordSize());
    EXPECT_EQ(parts.payload + parts.payload_size, end);
    EXPECT_EQ(parts.type + parts.type_length, parts.payload);
    if (!parts.compressed) {
      EXPECT_EQ(std::string_view(parts.payload, parts.payload_size),
                std::string(in[i].metadata) + std::string(in[i].data));
    } else {
      EXPECT_LT(parts.payload_size, parts.metadata_length + parts.data_length);
      std::string scratch;
      std::string_view raw;
      ASSERT_TRUE(DecompressPayload(parts, &scratch, &raw));
      EXPECT_EQ(raw, std::string(in[i].metadata) + std::string(in[i].data));
    }
  }
  EXPECT_TRUE(HeaderAt(a.bytes, a.offsets[2]).IsCompressed());
}

TEST(ContinuationRecordTest, LayoutMatchesTheGrammar) {
  const std::string data(200, 'd');
  const std::vector<EventFields> in = {
      MakeEvent("Order-5", "A", "x"),
      MakeEvent("ignored", "OrderPaid", data, "{}")};
  const EncodedAppend a = Encode(in, 1, 0);
  const auto* c =
      reinterpret_cast<const uint8_t*>(a.bytes.data()) + a.offsets[1];
  const uint8_t* body = c + kRecordHeaderSize;
  EXPECT_EQ(c[4], static_cast<uint8_t>(RecordType::kContinuation));
  EXPECT_EQ(std::memcmp(body, IdOf(2).bytes().data(), 16), 0);
  EXPECT_EQ(LoadLE<uint32_t>(body + 16), a.offsets[1]);  // back to the head
  EXPECT_EQ(ContinuationBackOffset(c), a.offsets[1]);
  EXPECT_EQ(body[20], static_cast<uint8_t>(ContentType::kJson));
  EXPECT_EQ(body[21], 9);                    // type length, one byte
  EXPECT_EQ(body[22], 2);                    // metadata length
  EXPECT_EQ(body[23], 0x80 | (200 & 0x7f));  // data length 200: two bytes
  EXPECT_EQ(body[24], 200 >> 7);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(body + 25), 9),
            "OrderPaid");
  const RecordHeader h = HeaderAt(a.bytes, a.offsets[1]);
  EXPECT_EQ(h.RecordSize(), ContinuationRecordSize(9, 2, 200));
  EXPECT_EQ(h.RecordSize(), kRecordHeaderSize + 25 + 9 + 2 + 200);
  EXPECT_EQ(HeaderAt(a.bytes, 0).RecordSize(), EventRecordSize(7, 1, 0, 1));
}

// The event size and shape `cairn bench` appends (200 bytes of type, data
// and metadata; "Order-" + a UUID as the stream) in 100-event appends:
// at most 260 stored bytes per event (issue 13's goal).
TEST(ContinuationRecordTest, HundredEventAppendsOfBenchEventsFitTheGoal) {
  const std::string stream = "Order-5f1c0e2a-9b3d-4c1e-8a7f-0123456789ab";
  const std::string type = "OrderPlaced";
  const std::string metadata =
      R"({"correlationId":"5f1c0e2a-9b3d-4c1e-8a7f-0123456789ac",)"
      R"("causationId":"5f1c0e2a-9b3d-4c1e-8a7f-0123456789ad"})";
  ASSERT_EQ(stream.size(), 42u);
  const std::string data(200 - type.size() - metadata.size(), 'd');
  std::vector<EventFields> events(100, MakeEvent(stream, type, data, metadata));
  const EncodedAppend a = Encode(events, 0, 0);
  EXPECT_LE(a.bytes.size(), 100u * 260);
  EXPECT_EQ(a.bytes.size(),
            EventRecordSize(stream.size(), type.size(), metadata.size(),
                            data.size()) +
                99 * ContinuationRecordSize(type.size(), metadata.size(),
                                            data.size()));
}

// The two-event append of docs/format.md's worked example, byte for byte.
TEST(ContinuationRecordTest, TheFormatDocsWorkedExample) {
  constexpr uint64_t kDocSeed = 0x0c172a9a4f01eaabull;
  EventFields paid = MakeEvent("Order-1", "Paid", R"({"y":2})");
  paid.created_us = 1700000000500000;
  paid.id = *EventId::Parse("5f1c0e2a-9b3d-4c1e-8a7f-0123456789ac");
  EventFields shipped = paid;
  shipped.type = "Shipped";
  shipped.data = R"({"z":3})";
  shipped.id = *EventId::Parse("5f1c0e2a-9b3d-4c1e-8a7f-0123456789ad");
  std::string out;
  ASSERT_EQ(EncodeEventRecord(paid, 0, &out), 98u);
  ASSERT_EQ(EncodeContinuationRecord(shipped, 0, 0, &out), 70u);
  SealRecord(U8(out), 1, 1, 4196, false, kDocSeed);
  SealRecord(U8(out) + 98, 2, 2, 4196, true, kDocSeed);
  EXPECT_EQ(LoadLE<uint32_t>(U8(out)), 0xc679e430u);
  EXPECT_EQ(LoadLE<uint64_t>(U8(out) + 24), 0xf5835c36a3744a10ull);
  EXPECT_EQ(LoadLE<uint32_t>(U8(out) + 98), 0x28c68c21u);
  EXPECT_EQ(LoadLE<uint64_t>(U8(out) + 98 + 24), 0xad12e481bfbc55a0ull);
  const uint8_t continuation_body[] = {
      0x5f, 0x1c, 0x0e, 0x2a, 0x9b, 0x3d, 0x4c, 0x1e, 0x8a, 0x7f,
      0x01, 0x23, 0x45, 0x67, 0x89, 0xad, 0x62, 0x00, 0x00, 0x00,
      0x01, 0x07, 0x00, 0x07, 'S',  'h',  'i',  'p',  'p',  'e',
      'd',  '{',  '"',  'z',  '"',  ':',  '3',  '}'};
  EXPECT_EQ(out.substr(98 + kRecordHeaderSize),
            std::string(reinterpret_cast<const char*>(continuation_body),
                        sizeof(continuation_body)));
}

TEST(ContinuationRecordTest, AHeadThatDoesNotCheckOutIsRefused) {
  const std::vector<EventFields> in = ThreeEvents();
  auto refused = [&](const std::function<void(EncodedAppend*)>& damage,
                     bool verify_heads = true) {
    EncodedAppend a = Encode(in, 40, 7);
    damage(&a);
    const auto* base = reinterpret_cast<const uint8_t*>(a.bytes.data());
    const RecordHeader h = HeaderAt(a.bytes, a.offsets[1]);
    EventDecoder decoder(base, kSeed, verify_heads);
    std::string scratch;
    EventFields got;
    HeadFields head;
    const bool decoded = decoder.Decode(base + a.offsets[1], h, &scratch, &got);
    EXPECT_EQ(decoded, decoder.Head(base + a.offsets[1], h, &head));
    return !decoded;
  };
  EXPECT_FALSE(refused([](EncodedAppend*) {}));
  // A damaged head body: refused when heads are verified (a damaged name
  // must not make the event look like another stream's).
  auto flip_head_body = [](EncodedAppend* a) { a->bytes[60] ^= 1; };
  EXPECT_TRUE(refused(flip_head_body));
  EXPECT_FALSE(refused(flip_head_body, /*verify_heads=*/false));
  // A damaged head header.
  EXPECT_TRUE(refused([](EncodedAppend* a) { a->bytes[17] ^= 1; }));
  // A head that ends its append (COMMIT) can have no continuation.
  EXPECT_TRUE(refused([](EncodedAppend* a) {
    SealRecord(U8(a->bytes), 40, 7, 0, true, kSeed);
  }));
  // A head at or after the continuation's position.
  EXPECT_TRUE(refused([](EncodedAppend* a) {
    SealRecord(U8(a->bytes), 41, 7, 0, false, kSeed);
  }));
  // A back offset that leaves the bytes, or lands on the continuation.
  for (const uint32_t back : {0u, 31u, 80u, 100000u}) {
    EXPECT_TRUE(refused([&](EncodedAppend* a) {
      uint8_t* c = U8(a->bytes) + a->offsets[1];
      StoreLE<uint32_t>(c + kRecordHeaderSize + 16, back);
      SealRecord(c, 41, 0, 0, false, kSeed);
    })) << back;
  }
  // A continuation whose head is another continuation.
  EXPECT_TRUE(refused([](EncodedAppend* a) {
    // Event 2 names event 1, a continuation, as its head; look at it.
    uint8_t* c = U8(a->bytes) + a->offsets[2];
    StoreLE<uint32_t>(c + kRecordHeaderSize + 16,
                      static_cast<uint32_t>(a->offsets[2] - a->offsets[1]));
    SealRecord(c, 42, 0, 0, true, kSeed);
    a->offsets[1] = a->offsets[2];
  }));
}

TEST(ContinuationRecordTest, MalformedVarintsAreRefused) {
  const std::vector<EventFields> in = {MakeEvent("S", "A", "x"),
                                       MakeEvent("S", "B", "yy")};
  auto body_ok = [&](const std::function<void(std::string*, size_t)>& edit) {
    EncodedAppend a = Encode(in, 1, 0);
    std::string c = a.bytes.substr(a.offsets[1]);
    edit(&c, c.size());
    // body_length follows the edit; the record is sealed again.
    StoreLE<uint32_t>(U8(c) + 8,
                      static_cast<uint32_t>(c.size() - kRecordHeaderSize));
    SealRecord(U8(c), 2, 0, 0, true, kSeed);
    RecordHeader h;
    if (DecodeRecordHeader(U8(c), c.size(), kSeed, &h) != HeaderCheck::kOk) {
      return false;
    }
    return CheckEventBody(U8(c), h);
  };
  const size_t varints = kRecordHeaderSize + 21;
  EXPECT_TRUE(body_ok([](std::string*, size_t) {}));
  // The type length spelled in two bytes (0x81 0x00): not the shortest
  // form.
  EXPECT_FALSE(body_ok([&](std::string* c, size_t) {
    (*c)[varints] = static_cast<char>(0x81);
    c->insert(varints + 1, 1, '\0');
  }));
  // A varint of six bytes, and one beyond 32 bits.
  EXPECT_FALSE(body_ok([&](std::string* c, size_t) {
    c->replace(varints + 1, 1, "\xff\xff\xff\xff\xff\x01");
  }));
  EXPECT_FALSE(body_ok([&](std::string* c, size_t) {
    c->replace(varints + 1, 1, "\xff\xff\xff\xff\x1f");
  }));
  // Lengths that do not add up to the body.
  EXPECT_FALSE(body_ok([](std::string* c, size_t) { c->push_back('!'); }));
  EXPECT_FALSE(body_ok([](std::string* c, size_t) { c->pop_back(); }));
  // Varints cut off by the end of the body.
  EXPECT_FALSE(body_ok([&](std::string* c, size_t) {
    c->resize(varints + 1);
    (*c)[varints] = static_cast<char>(0x80);
  }));
  // An unknown content type.
  EXPECT_FALSE(body_ok(
      [](std::string* c, size_t) { (*c)[kRecordHeaderSize + 20] = 2; }));
}

TEST(ContinuationRecordTest, PromotedContinuationIsAHeadOfTheSameEvent) {
  const std::vector<EventFields> in = ThreeEvents();
  const EncodedAppend a = Encode(in, 40, 7, /*threshold=*/64);
  const auto* base = reinterpret_cast<const uint8_t*>(a.bytes.data());
  EventDecoder decoder(base, kSeed);
  for (size_t i = 1; i < in.size(); ++i) {
    const RecordHeader h = HeaderAt(a.bytes, a.offsets[i]);
    HeadFields head;
    ASSERT_TRUE(decoder.Head(base + a.offsets[i], h, &head));
    std::string promoted;
    AppendPromotedContinuation(base + a.offsets[i], h, head, kSeed, &promoted);
    const RecordHeader p = HeaderAt(promoted, 0);
    EXPECT_EQ(p.type, RecordType::kEvent);
    EXPECT_EQ(p.position, h.position);
    EXPECT_EQ(p.flags, h.flags);
    ASSERT_TRUE(VerifyRecordBody(U8(promoted), p, kSeed));
    std::string scratch;
    std::string scratch2;
    EventFields want;
    EventFields got;
    ASSERT_TRUE(decoder.Decode(base + a.offsets[i], h, &scratch, &want));
    ASSERT_TRUE(EventDecoder(U8(promoted), kSeed)
                    .Decode(U8(promoted), p, &scratch2, &got));
    EXPECT_EQ(got.stream, want.stream);
    EXPECT_EQ(got.revision, want.revision);
    EXPECT_EQ(got.created_us, want.created_us);
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.data, want.data);
    EXPECT_EQ(got.metadata, want.metadata);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.content_type, want.content_type);
  }
}

TEST(ContinuationRecordTest, RelinkedContinuationNamesItsNewHead) {
  const std::vector<EventFields> in = ThreeEvents();
  const EncodedAppend a = Encode(in, 40, 7);
  // The copy a scavenge makes when it removes event 1: the head, then
  // event 2 linked back to it.
  std::string copy = a.bytes.substr(0, a.offsets[1]);
  const auto* base = reinterpret_cast<const uint8_t*>(a.bytes.data());
  const RecordHeader h2 = HeaderAt(a.bytes, a.offsets[2]);
  AppendRelinkedContinuation(base + a.offsets[2], h2,
                             static_cast<uint32_t>(copy.size()), kSeed, &copy);
  const RecordHeader r = HeaderAt(copy, a.offsets[1]);
  EXPECT_EQ(r.type, RecordType::kContinuation);
  EXPECT_EQ(r.position, 42u);
  ASSERT_TRUE(VerifyRecordBody(U8(copy) + a.offsets[1], r, kSeed));
  EXPECT_EQ(ContinuationBackOffset(U8(copy) + a.offsets[1]), a.offsets[1]);
  std::string scratch;
  EventFields got;
  ASSERT_TRUE(EventDecoder(U8(copy), kSeed)
                  .Decode(U8(copy) + a.offsets[1], r, &scratch, &got));
  EXPECT_EQ(got.stream, "Order-5");
  EXPECT_EQ(got.revision, 9u);
  EXPECT_EQ(got.data, in[2].data);
  // Relinking to where the head already is copies the bytes as they are.
  std::string same;
  AppendRelinkedContinuation(base + a.offsets[2], h2,
                             ContinuationBackOffset(base + a.offsets[2]), kSeed,
                             &same);
  EXPECT_EQ(same, a.bytes.substr(a.offsets[2]));
}

TEST(ContinuationRecordTest, EveryFlippedBitOfAnAppendIsCaught) {
  // Damage anywhere in an append's bytes fails a checksum of the record it
  // lands in, or (through the head) of every continuation's decode.
  const std::vector<EventFields> in = ThreeEvents();
  const EncodedAppend clean = Encode(in, 40, 7);
  for (size_t byte = 0; byte < clean.bytes.size(); ++byte) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::string damaged = clean.bytes;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      const auto* base = reinterpret_cast<const uint8_t*>(damaged.data());
      EventDecoder decoder(base, kSeed);
      bool any_refused = false;
      for (size_t i = 0; i < in.size(); ++i) {
        RecordHeader h;
        const size_t at = clean.offsets[i];
        std::string scratch;
        EventFields got;
        if (DecodeRecordHeader(base + at, damaged.size() - at, kSeed, &h) !=
                HeaderCheck::kOk ||
            !VerifyRecordBody(base + at, h, kSeed) ||
            !decoder.Decode(base + at, h, &scratch, &got)) {
          any_refused = true;
          continue;
        }
        // What still decodes is exactly what was written.
        EXPECT_EQ(got.stream, "Order-5");
        EXPECT_EQ(got.revision, 7 + i);
        EXPECT_EQ(got.data, in[i].data);
      }
      EXPECT_TRUE(any_refused) << "byte " << byte << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace cairn::segment
