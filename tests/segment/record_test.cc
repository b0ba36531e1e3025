// Copyright (c) Cairn authors.
#include "segment/record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "segment/checksum.h"
#include "tests/segment/segment_test_util.h"

namespace cairn::segment {
namespace {

using testing::MakeEvent;
using testing::SealedRecord;

constexpr uint64_t kSeed = 0x1234567890abcdefull;

const uint8_t* U8(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}
uint8_t* U8(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

EventId SampleId() {
  std::array<uint8_t, 16> b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(0xA0 + i);
  return EventId(b);
}

// Decodes a sealed record from a buffer of exactly its size (so an
// out-of-bounds read is caught by the sanitizers) and checks every field.
void ExpectRoundTrip(const EventFields& in, uint32_t threshold,
                     bool expect_compressed) {
  EventFields event = in;
  event.id = SampleId();
  event.created_us = -123456789;  // signed on purpose
  std::string out = "prefix";     // encoding appends
  const size_t size = EncodeEventRecord(event, threshold, &out);
  ASSERT_EQ(out.size(), 6 + size);
  std::string rec = out.substr(6);
  SealRecord(U8(rec), 77, 5, 4096, true, kSeed);

  RecordHeader h;
  ASSERT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
            HeaderCheck::kOk);
  EXPECT_EQ(h.RecordSize(), rec.size());
  EXPECT_EQ(h.type, RecordType::kEvent);
  EXPECT_EQ(h.position, 77u);
  EXPECT_EQ(h.synced_offset, 4096u);
  EXPECT_TRUE(h.IsCommit());
  EXPECT_EQ(h.IsCompressed(), expect_compressed);
  ASSERT_TRUE(VerifyRecordBody(U8(rec), h, kSeed));

  std::vector<uint8_t> exact(rec.begin(), rec.end());
  std::string scratch;
  EventFields got;
  ASSERT_TRUE(EventDecoder(exact.data(), kSeed)
                  .Decode(exact.data(), h, &scratch, &got));
  EXPECT_EQ(got.stream, in.stream);
  EXPECT_EQ(got.type, in.type);
  EXPECT_EQ(got.data, in.data);
  EXPECT_EQ(got.metadata, in.metadata);
  EXPECT_EQ(got.id, SampleId());
  EXPECT_EQ(got.revision, 5u);
  EXPECT_EQ(got.created_us, -123456789);
  EXPECT_EQ(got.content_type, in.content_type);

  std::string_view stream;
  std::string_view type;
  uint64_t revision = 0;
  ASSERT_TRUE(EventDecoder(exact.data(), kSeed)
                  .PeekKey(exact.data(), h, &stream, &type, &revision));
  EXPECT_EQ(stream, in.stream);
  EXPECT_EQ(type, in.type);
  EXPECT_EQ(revision, 5u);
}

TEST(RecordTest, RoundTripSmall) {
  ExpectRoundTrip(MakeEvent("Order-1", "Placed", R"({"x":1})"), 0, false);
}

TEST(RecordTest, RoundTripEmptyDataAndMetadata) {
  ExpectRoundTrip(MakeEvent("s", "t", "", ""), 0, false);
  ExpectRoundTrip(MakeEvent("s", "t", "", ""), 1, false);
  ExpectRoundTrip(MakeEvent("s", "t", "", "meta only"), 0, false);
  ExpectRoundTrip(MakeEvent("s", "t", "data only", ""), 0, false);
}

TEST(RecordTest, RoundTripBinaryBytes) {
  std::string data = RandomBytes(300, 1);
  data[0] = '\0';
  data[299] = '\0';
  const std::string metadata("\0\1\2\0", 4);
  EventFields e = MakeEvent("bin", "Blob", data, metadata);
  e.content_type = ContentType::kBinary;
  ExpectRoundTrip(e, 0, false);
}

TEST(RecordTest, RoundTripCompressed) {
  const std::string data(100'000, 'z');
  const std::string meta = R"({"correlation":"abc","causation":"def"})";
  ExpectRoundTrip(MakeEvent("Order-1", "Placed", data, meta), 4096, true);
  ExpectRoundTrip(MakeEvent("Order-1", "Placed", data, ""), 4096, true);
  ExpectRoundTrip(MakeEvent("Order-1", "Placed", "", data), 4096, true);
  ExpectRoundTrip(MakeEvent("Order-1", "Placed", data, meta), 1, true);
}

TEST(RecordTest, CompressionShrinksTheRecord) {
  const std::string data(100'000, 'z');
  std::string plain;
  std::string packed;
  EncodeEventRecord(MakeEvent("s", "t", data), 0, &plain);
  EncodeEventRecord(MakeEvent("s", "t", data), 4096, &packed);
  EXPECT_LT(packed.size() * 10, plain.size());
}

TEST(RecordTest, NoCompressionBelowThresholdOrWhenDisabled) {
  const std::string data(5000, 'z');
  ExpectRoundTrip(MakeEvent("s", "t", data), 0, false);
  ExpectRoundTrip(MakeEvent("s", "t", data), 5001, false);
  ExpectRoundTrip(MakeEvent("s", "t", data), 5000, true);  // at threshold
  // metadata counts toward the threshold
  ExpectRoundTrip(MakeEvent("s", "t", data.substr(0, 2500), data.substr(2500)),
                  5000, true);
}

TEST(RecordTest, IncompressiblePayloadIsStoredPlain) {
  ExpectRoundTrip(MakeEvent("s", "t", RandomBytes(50'000, 2)), 64, false);
}

TEST(RecordTest, RoundTripLargePayload) {
  std::string data = RandomBytes(4 << 20, 3);
  // Half random, half repetitive: compresses, but not trivially.
  std::memset(data.data() + (2 << 20), 'q', 2 << 20);
  ExpectRoundTrip(MakeEvent("big", "Large", data, RandomBytes(1000, 4)), 4096,
                  true);
  ExpectRoundTrip(MakeEvent("big", "Large", data), 0, false);
}

TEST(RecordTest, RoundTripLongNames) {
  const std::string stream(65535, 's');
  const std::string type(65535, 't');
  ExpectRoundTrip(MakeEvent(stream, type, "d", "m"), 0, false);
}

TEST(RecordTest, EncodeAppendsToExistingBuffer) {
  std::string out;
  const size_t a = EncodeEventRecord(MakeEvent("a", "A", "1"), 0, &out);
  const size_t b =
      EncodeEventRecord(MakeEvent("b", "B", std::string(9000, 'x')), 16, &out);
  ASSERT_EQ(out.size(), a + b);
  SealRecord(U8(out), 0, 0, 4096, false, kSeed);
  SealRecord(U8(out) + a, 1, 0, 4096, true, kSeed);
  RecordHeader h1;
  RecordHeader h2;
  ASSERT_EQ(DecodeRecordHeader(U8(out), out.size(), kSeed, &h1),
            HeaderCheck::kOk);
  EXPECT_EQ(h1.RecordSize(), a);
  EXPECT_FALSE(h1.IsCommit());
  ASSERT_EQ(DecodeRecordHeader(U8(out) + a, out.size() - a, kSeed, &h2),
            HeaderCheck::kOk);
  EXPECT_EQ(h2.RecordSize(), b);
  EXPECT_TRUE(h2.IsCommit());
  EXPECT_TRUE(h2.IsCompressed());
  EXPECT_TRUE(VerifyRecordBody(U8(out), h1, kSeed));
  EXPECT_TRUE(VerifyRecordBody(U8(out) + a, h2, kSeed));
}

TEST(RecordTest, SealCanBeRepeated) {
  // The writer seals again if it has to re-sequence a record.
  std::string rec =
      SealedRecord(MakeEvent("s", "t", "d"), 1, 2, 4096, true, kSeed);
  SealRecord(U8(rec), 9, 8, 5000, false, kSeed);
  RecordHeader h;
  ASSERT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
            HeaderCheck::kOk);
  EXPECT_EQ(h.position, 9u);
  EXPECT_EQ(h.synced_offset, 5000u);
  EXPECT_FALSE(h.IsCommit());
  ASSERT_TRUE(VerifyRecordBody(U8(rec), h, kSeed));
  std::string_view stream;
  std::string_view type;
  uint64_t revision = 0;
  ASSERT_TRUE(EventDecoder(U8(rec), kSeed)
                  .PeekKey(U8(rec), h, &stream, &type, &revision));
  EXPECT_EQ(revision, 8u);
}

TEST(RecordTest, LayoutMatchesTheGrammar) {
  std::string rec =
      SealedRecord(MakeEvent("Order-1", "Placed", R"({"x":1})"),
                   0x0102030405060708ull, 3, 0x11223344, true, kSeed);
  const uint8_t* p = U8(rec);
  EXPECT_EQ(p[4], 1);     // type
  EXPECT_EQ(p[5], 0x02);  // flags: commit
  EXPECT_EQ(p[6] | p[7], 0);
  EXPECT_EQ(p[8], 48 + 7 + 6 + 7);  // body_length
  EXPECT_EQ(p[12], 0x44);           // synced_offset, little-endian
  EXPECT_EQ(p[16], 0x08);           // position, little-endian
  EXPECT_EQ(p[23], 0x01);
  EXPECT_EQ(p[32], 3);       // revision
  EXPECT_EQ(p[32 + 32], 1);  // content type json
  EXPECT_EQ(p[32 + 34], 7);  // stream length
  EXPECT_EQ(p[32 + 36], 6);  // type length
  EXPECT_EQ(p[32 + 44], 7);  // data length
  EXPECT_EQ(rec.substr(80), "Order-1Placed{\"x\":1}");
  uint32_t header_checksum;
  std::memcpy(&header_checksum, p, 4);
  EXPECT_EQ(header_checksum,
            static_cast<uint32_t>(Checksum64(p + 4, 28, kSeed)));
  uint64_t body_checksum;
  std::memcpy(&body_checksum, p + 24, 8);
  EXPECT_EQ(body_checksum, Checksum64(p + 32, rec.size() - 32, kSeed));
}

TEST(RecordHeaderTest, EveryFlippedHeaderBitIsBad) {
  const std::string good =
      SealedRecord(MakeEvent("s", "t", "data"), 5, 0, 4096, true, kSeed);
  for (size_t i = 0; i < kRecordHeaderSize; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      RecordHeader h;
      EXPECT_EQ(DecodeRecordHeader(U8(bad), bad.size(), kSeed, &h),
                HeaderCheck::kBad)
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(RecordHeaderTest, EveryFlippedBodyBitFailsTheBodyChecksum) {
  const std::string good =
      SealedRecord(MakeEvent("s", "t", "data", "m"), 5, 0, 4096, true, kSeed);
  for (size_t i = kRecordHeaderSize; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      RecordHeader h;
      ASSERT_EQ(DecodeRecordHeader(U8(bad), bad.size(), kSeed, &h),
                HeaderCheck::kOk);
      EXPECT_FALSE(VerifyRecordBody(U8(bad), h, kSeed))
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(RecordHeaderTest, WrongSeedIsBad) {
  const std::string rec =
      SealedRecord(MakeEvent("s", "t", "d"), 5, 0, 4096, true, kSeed);
  RecordHeader h;
  EXPECT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed + 1, &h),
            HeaderCheck::kBad);
  // Even with a forged header, the body checksum still depends on the seed.
  ASSERT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
            HeaderCheck::kOk);
  EXPECT_FALSE(VerifyRecordBody(U8(rec), h, kSeed + 1));
  // Records of another segment of the same store do not verify either.
  EXPECT_EQ(DecodeRecordHeader(U8(rec), rec.size(), SegmentSeed(1, 2), &h),
            HeaderCheck::kBad);
}

TEST(RecordHeaderTest, ZeroedSpaceIsZero) {
  const std::string zeros(100, '\0');
  RecordHeader h;
  for (size_t n = 0; n <= zeros.size(); ++n) {
    EXPECT_EQ(DecodeRecordHeader(U8(zeros), n, kSeed, &h), HeaderCheck::kZero)
        << n;
  }
  // Zeros in the header decide, whatever follows.
  std::string mixed(32, '\0');
  mixed += "garbage";
  EXPECT_EQ(DecodeRecordHeader(U8(mixed), mixed.size(), kSeed, &h),
            HeaderCheck::kZero);
}

TEST(RecordHeaderTest, ShortInputIsTruncated) {
  const std::string rec =
      SealedRecord(MakeEvent("s", "t", "data"), 5, 0, 4096, true, kSeed);
  RecordHeader h;
  for (size_t n = 1; n < rec.size(); ++n) {
    // A copy of exactly n bytes, so reading past it would be caught.
    std::vector<uint8_t> cut(rec.begin(), rec.begin() + n);
    const bool all_zero =
        std::all_of(cut.begin(), cut.end(), [](uint8_t b) { return b == 0; });
    EXPECT_EQ(DecodeRecordHeader(cut.data(), n, kSeed, &h),
              all_zero ? HeaderCheck::kZero : HeaderCheck::kTruncated)
        << n;
  }
  EXPECT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
            HeaderCheck::kOk);
}

TEST(RecordHeaderTest, InvalidFieldsWithValidChecksumAreBad) {
  const std::string good =
      SealedRecord(MakeEvent("s", "t", "data"), 5, 0, 4096, true, kSeed);
  auto reseal_and_check = [&](auto mutate) {
    std::string rec = good;
    mutate(U8(rec));
    SealRecord(U8(rec), 5, 0, 4096, true, kSeed);
    RecordHeader h;
    return DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h);
  };
  EXPECT_EQ(reseal_and_check([](uint8_t*) {}), HeaderCheck::kOk);
  EXPECT_EQ(reseal_and_check([](uint8_t* p) { p[4] = 0; }), HeaderCheck::kBad);
  // Type 2 (a continuation) is valid in itself; 3 is no type.
  EXPECT_EQ(reseal_and_check([](uint8_t* p) { p[4] = 3; }), HeaderCheck::kBad);
  EXPECT_EQ(reseal_and_check([](uint8_t* p) { p[5] |= 0x04; }),
            HeaderCheck::kBad);
  EXPECT_EQ(reseal_and_check([](uint8_t* p) { p[5] |= 0x80; }),
            HeaderCheck::kBad);
  EXPECT_EQ(reseal_and_check([](uint8_t* p) { p[6] = 1; }), HeaderCheck::kBad);
  EXPECT_EQ(reseal_and_check([](uint8_t* p) { p[7] = 1; }), HeaderCheck::kBad);
  // body_length below the fixed body (SealRecord then hashes fewer bytes,
  // which stay inside the record).
  EXPECT_EQ(reseal_and_check([](uint8_t* p) { p[8] = 47; }), HeaderCheck::kBad);
}

TEST(RecordHeaderTest, BodyPastAvailableIsTruncated) {
  std::string rec =
      SealedRecord(MakeEvent("s", "t", "data"), 5, 0, 4096, true, kSeed);
  // A header claiming a 4 GiB body must not be trusted to fit.
  rec.resize(32);
  std::memset(U8(rec) + 8, 0xff, 4);
  const uint32_t sum =
      static_cast<uint32_t>(Checksum64(U8(rec) + 4, 28, kSeed));
  std::memcpy(U8(rec), &sum, 4);
  RecordHeader h;
  EXPECT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
            HeaderCheck::kTruncated);
  EXPECT_EQ(h.body_length, 0xffffffffu);
}

// A record whose body fields are rewritten and resealed: checksums are
// valid, so only the length checks stand between the decoder and the bytes.
class MalformedBodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = SealedRecord(MakeEvent("stream", "type", "data-bytes", "meta"), 1,
                         0, 4096, true, kSeed);
  }
  template <typename T>
  static void Put(std::string& rec, size_t body_offset, T v) {
    std::memcpy(rec.data() + 32 + body_offset, &v, sizeof(T));
  }
  // Reseals and decodes from an exact-size copy; true if either decoder
  // accepted the body.
  static bool Accepted(std::string rec, bool* peek_ok = nullptr) {
    SealRecord(U8(rec), 1, 0, 4096, true, kSeed);
    RecordHeader h;
    EXPECT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
              HeaderCheck::kOk);
    EXPECT_TRUE(VerifyRecordBody(U8(rec), h, kSeed));
    std::vector<uint8_t> exact(rec.begin(), rec.end());
    std::string scratch;
    EventFields f;
    const bool decoded =
        EventDecoder(exact.data(), kSeed).Decode(exact.data(), h, &scratch, &f);
    std::string_view s;
    std::string_view t;
    uint64_t r;
    const bool peeked =
        EventDecoder(exact.data(), kSeed).PeekKey(exact.data(), h, &s, &t, &r);
    if (peek_ok != nullptr) *peek_ok = peeked;
    // Peek checks a subset of what decoding checks.
    if (decoded) {
      EXPECT_TRUE(peeked);
    }
    return decoded || peeked;
  }
  std::string base_;
};

TEST_F(MalformedBodyTest, BaseIsAccepted) { EXPECT_TRUE(Accepted(base_)); }

TEST_F(MalformedBodyTest, StreamLengthPastBody) {
  std::string rec = base_;
  Put<uint16_t>(rec, 34, 0xffff);
  EXPECT_FALSE(Accepted(rec));
}

TEST_F(MalformedBodyTest, TypeLengthPastBody) {
  std::string rec = base_;
  Put<uint16_t>(rec, 36, 0xffff);
  EXPECT_FALSE(Accepted(rec));
}

TEST_F(MalformedBodyTest, LengthsMustAddUpExactly) {
  for (int delta : {-1, 1}) {
    std::string rec = base_;
    Put<uint32_t>(rec, 44, static_cast<uint32_t>(10 + delta));  // data_length
    EXPECT_FALSE(Accepted(rec)) << delta;
    rec = base_;
    Put<uint32_t>(rec, 40, static_cast<uint32_t>(4 + delta));  // metadata
    EXPECT_FALSE(Accepted(rec)) << delta;
    rec = base_;
    Put<uint16_t>(rec, 34, static_cast<uint16_t>(6 + delta));  // stream
    EXPECT_FALSE(Accepted(rec)) << delta;
  }
  // Moving bytes between the fields keeps the total, and is accepted: the
  // format cannot tell (the checksum vouches for the writer's intent).
  std::string rec = base_;
  Put<uint32_t>(rec, 40, 5);
  Put<uint32_t>(rec, 44, 9);
  EXPECT_TRUE(Accepted(rec));
}

TEST_F(MalformedBodyTest, HugeLengthsDoNotOverflow) {
  std::string rec = base_;
  Put<uint32_t>(rec, 40, 0xffffffffu);
  Put<uint32_t>(rec, 44, 0xffffffffu);
  EXPECT_FALSE(Accepted(rec));
  rec[5] |= kFlagCompressed;
  EXPECT_FALSE(Accepted(rec));
}

TEST_F(MalformedBodyTest, UnknownContentTypeOrReservedBits) {
  std::string rec = base_;
  rec[32 + 32] = 7;
  EXPECT_FALSE(Accepted(rec));
  rec = base_;
  rec[32 + 33] = 1;
  EXPECT_FALSE(Accepted(rec));
  rec = base_;
  Put<uint16_t>(rec, 38, 1);
  EXPECT_FALSE(Accepted(rec));
}

TEST_F(MalformedBodyTest, CompressedFlagOnPlainPayload) {
  std::string rec = base_;
  rec[5] |= kFlagCompressed;
  bool peek_ok = false;
  // "data-bytes"+"meta" is not an LZ4 block that yields 14 bytes; peeking
  // does not decompress, so only decoding can notice.
  SealRecord(U8(rec), 1, 0, 4096, true, kSeed);
  RecordHeader h;
  ASSERT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
            HeaderCheck::kOk);
  std::string scratch;
  EventFields f;
  EXPECT_FALSE(EventDecoder(U8(rec), kSeed).Decode(U8(rec), h, &scratch, &f));
  Accepted(rec, &peek_ok);
  EXPECT_TRUE(peek_ok);
}

TEST_F(MalformedBodyTest, CompressedSizeMismatch) {
  std::string good = SealedRecord(MakeEvent("s", "t", std::string(5000, 'k')),
                                  1, 0, 4096, true, kSeed, 64);
  ASSERT_TRUE(good[5] & kFlagCompressed);
  for (int delta : {-1, 1, 1000}) {
    std::string rec = good;
    Put<uint32_t>(rec, 44, static_cast<uint32_t>(5000 + delta));
    std::string scratch;
    EventFields f;
    SealRecord(U8(rec), 1, 0, 4096, true, kSeed);
    RecordHeader h;
    ASSERT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
              HeaderCheck::kOk);
    EXPECT_FALSE(EventDecoder(U8(rec), kSeed).Decode(U8(rec), h, &scratch, &f))
        << delta;
  }
  // A claimed size beyond what LZ4 could produce is refused before any
  // allocation.
  std::string rec = good;
  Put<uint32_t>(rec, 44, 0x7E000000u);
  EXPECT_FALSE(Accepted(rec));
}

// Seeded random damage to sealed records, resealed so that the length
// checks are what is exercised. Any outcome is fine except a crash or an
// out-of-bounds read (run under -DCAIRN_SANITIZE=ON to see those).
TEST(RecordFuzzTest, RandomMutationsNeverReadOutOfBounds) {
  std::mt19937 rng(20240601);
  const std::string big(3000, 'r');
  const std::vector<std::string> seeds = {
      SealedRecord(MakeEvent("s", "t", "d"), 0, 0, 4096, true, kSeed),
      SealedRecord(MakeEvent("Order-1", "Placed", "{}", "{\"m\":2}"), 0, 0,
                   4096, true, kSeed),
      SealedRecord(MakeEvent("s", "t", big, big), 0, 0, 4096, true, kSeed, 64),
  };
  int decoded = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string rec = seeds[rng() % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      // Mostly the fixed body fields, sometimes anywhere in the body.
      const size_t span = (rng() % 4 == 0) ? rec.size() - 32 : 48;
      rec[32 + rng() % span] = static_cast<char>(rng());
    }
    if (rng() % 8 == 0) rec[5] ^= kFlagCompressed;
    if (rng() % 8 == 0) rec.resize(32 + 48 + rng() % (rec.size() - 80 + 1));
    // Keep body_length consistent with the buffer, as a sealed record is.
    const uint32_t body = static_cast<uint32_t>(rec.size() - 32);
    std::memcpy(rec.data() + 8, &body, 4);
    SealRecord(U8(rec), 0, 0, 4096, true, kSeed);
    RecordHeader h;
    ASSERT_EQ(DecodeRecordHeader(U8(rec), rec.size(), kSeed, &h),
              HeaderCheck::kOk);
    std::vector<uint8_t> exact(rec.begin(), rec.end());
    std::string scratch;
    EventFields f;
    if (EventDecoder(exact.data(), kSeed)
            .Decode(exact.data(), h, &scratch, &f)) {
      ++decoded;
      EXPECT_EQ(f.metadata.size() + f.data.size(),
                h.IsCompressed() ? scratch.size()
                                 : h.body_length - kEventBodyFixedSize -
                                       f.stream.size() - f.type.size());
    }
    std::string_view s;
    std::string_view t;
    uint64_t r;
    (void)EventDecoder(exact.data(), kSeed)
        .PeekKey(exact.data(), h, &s, &t, &r);
  }
  EXPECT_GT(decoded, 0);
}

TEST(RecordFuzzTest, RandomHeadersAreRejected) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> bytes(32 + rng() % 64);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    RecordHeader h;
    const HeaderCheck c =
        DecodeRecordHeader(bytes.data(), bytes.size(), kSeed, &h);
    // A random header passes a 32-bit checksum with odds of 2^-32.
    EXPECT_NE(c, HeaderCheck::kOk);
  }
}

}  // namespace
}  // namespace cairn::segment
