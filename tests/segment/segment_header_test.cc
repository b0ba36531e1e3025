// Copyright (c) Cairn authors.
#include "segment/segment_header.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "segment/checksum.h"
#include "segment/durable_mark.h"

namespace cairn::segment {
namespace {

SegmentHeader Sample() {
  SegmentHeader h;
  h.store_id = 0x0123456789abcdefull;
  h.segment_number = 42;
  h.first_position = 1'000'000;
  h.capacity = 256ull << 20;
  h.created_us = 1'700'000'000'123'456;
  return h;
}

std::vector<uint8_t> Encoded(const SegmentHeader& h) {
  std::vector<uint8_t> bytes(kSegmentHeaderSize, 0xAA);  // dirty on purpose
  EncodeSegmentHeader(h, bytes.data());
  return bytes;
}

TEST(SegmentHeaderTest, RoundTrip) {
  const SegmentHeader h = Sample();
  const std::vector<uint8_t> bytes = Encoded(h);
  SegmentHeader out;
  ASSERT_TRUE(DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out).ok());
  EXPECT_EQ(out.format_version, kSegmentFormatVersion);
  EXPECT_EQ(out.store_id, h.store_id);
  EXPECT_EQ(out.segment_number, h.segment_number);
  EXPECT_EQ(out.first_position, h.first_position);
  EXPECT_EQ(out.capacity, h.capacity);
  EXPECT_EQ(out.created_us, h.created_us);
  EXPECT_EQ(out.Seed(), h.Seed());
}

TEST(SegmentHeaderTest, NegativeCreationTimeRoundTrips) {
  SegmentHeader h = Sample();
  h.created_us = -5;
  const std::vector<uint8_t> bytes = Encoded(h);
  SegmentHeader out;
  ASSERT_TRUE(DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out).ok());
  EXPECT_EQ(out.created_us, -5);
}

TEST(SegmentHeaderTest, LayoutIsLittleEndianAtDocumentedOffsets) {
  const std::vector<uint8_t> bytes = Encoded(Sample());
  EXPECT_EQ(std::memcmp(bytes.data(), "CAIRNSEG", 8), 0);
  EXPECT_EQ(bytes[8], 4);      // format_version
  EXPECT_EQ(bytes[12], 0x00);  // header_size = 4096 = 0x1000
  EXPECT_EQ(bytes[13], 0x10);
  EXPECT_EQ(bytes[16], 0xef);  // store_id, low byte first
  EXPECT_EQ(bytes[23], 0x01);
  EXPECT_EQ(bytes[24], 42);  // segment_number
  for (size_t i = 64; i < kSegmentHeaderSize; ++i) {
    ASSERT_EQ(bytes[i], 0) << "padding byte " << i;
  }
}

TEST(SegmentHeaderTest, SeedIsTheSegmentSeed) {
  const SegmentHeader h = Sample();
  EXPECT_EQ(h.Seed(), SegmentSeed(h.store_id, h.segment_number));
}

bool InMarkSlot(size_t offset) {
  for (const uint32_t slot : kDurableMarkOffsets) {
    if (offset >= slot && offset < slot + kDurableMarkSize) return true;
  }
  return false;
}

TEST(SegmentHeaderTest, EveryFlippedBitIsDetected) {
  const std::vector<uint8_t> good = Encoded(Sample());
  for (size_t i = 0; i < kSegmentHeaderSize; ++i) {
    // The durable-end mark slots carry their own checksums
    // (durable_mark_test.cc).
    if (InMarkSlot(i)) continue;
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> bad = good;
      bad[i] ^= static_cast<uint8_t>(1 << bit);
      SegmentHeader out;
      const Status s = DecodeSegmentHeader(bad.data(), bad.size(), "seg", &out);
      ASSERT_FALSE(s.ok()) << "byte " << i << " bit " << bit;
      if (i >= 8 && i < 12) {
        // A different version number may mean a newer format.
        EXPECT_EQ(s.code(), StatusCode::kNotSupported) << i;
      } else {
        ASSERT_TRUE(s.IsCorruption()) << i << ": " << s.ToString();
        EXPECT_EQ(s.corruption()->file, "seg");
        EXPECT_EQ(s.corruption()->offset, 0u);
      }
    }
  }
}

TEST(SegmentHeaderTest, BadMagicIsCorruption) {
  std::vector<uint8_t> bytes = Encoded(Sample());
  bytes[0] = 'X';
  SegmentHeader out;
  const Status s = DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("magic"), std::string::npos) << s.ToString();
}

TEST(SegmentHeaderTest, BadChecksumIsCorruption) {
  std::vector<uint8_t> bytes = Encoded(Sample());
  bytes[30] ^= 1;
  SegmentHeader out;
  const Status s = DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("checksum"), std::string::npos) << s.ToString();
}

TEST(SegmentHeaderTest, TruncatedIsCorruption) {
  const std::vector<uint8_t> bytes = Encoded(Sample());
  for (size_t size : {size_t{0}, size_t{8}, size_t{64}, size_t{4095}}) {
    SegmentHeader out;
    const Status s = DecodeSegmentHeader(bytes.data(), size, "f", &out);
    ASSERT_TRUE(s.IsCorruption()) << size;
    EXPECT_EQ(s.corruption()->offset, 0u);
  }
}

TEST(SegmentHeaderTest, ZeroedFileIsCorruption) {
  const std::vector<uint8_t> zeros(kSegmentHeaderSize, 0);
  SegmentHeader out;
  EXPECT_TRUE(DecodeSegmentHeader(zeros.data(), zeros.size(), "f", &out)
                  .IsCorruption());
}

TEST(SegmentHeaderTest, UnknownVersionIsNotSupported) {
  SegmentHeader h = Sample();
  h.format_version = kScavengedSegmentFormatVersion + 1;  // a future one
  const std::vector<uint8_t> bytes = Encoded(h);
  SegmentHeader out;
  const Status s = DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out);
  EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.ToString();
  ScavengedFields fields;
  EXPECT_EQ(
      DecodeAnySegmentHeader(bytes.data(), bytes.size(), "f", &out, &fields)
          .code(),
      StatusCode::kNotSupported);
  // Version 3, a scavenged segment of an older build, is not an ordinary
  // one.
  h.format_version = kOldestScavengedSegmentFormatVersion;
  const std::vector<uint8_t> v3 = Encoded(h);
  EXPECT_EQ(DecodeSegmentHeader(v3.data(), v3.size(), "f", &out).code(),
            StatusCode::kNotSupported);
}

TEST(SegmentHeaderTest, VersionOneStaysReadableAndHasNoMarkSlots) {
  SegmentHeader h = Sample();
  h.format_version = 1;
  std::vector<uint8_t> bytes = Encoded(h);
  SegmentHeader out;
  ASSERT_TRUE(DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out).ok());
  EXPECT_EQ(out.format_version, 1u);
  EXPECT_FALSE(HasDurableMarks(out));
  // Version 1 padding is all zero, where version 2 keeps its marks.
  bytes[kDurableMarkOffsets[0]] = 1;
  EXPECT_TRUE(DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out)
                  .IsCorruption());
  std::vector<uint8_t> v2 = Encoded(Sample());
  v2[kDurableMarkOffsets[0]] = 1;
  EXPECT_TRUE(DecodeSegmentHeader(v2.data(), v2.size(), "f", &out).ok());
}

TEST(SegmentHeaderTest, LongerInputIsAccepted) {
  // Callers may pass the whole mapped segment.
  std::vector<uint8_t> bytes = Encoded(Sample());
  bytes.resize(3 * kSegmentHeaderSize, 0x5A);
  SegmentHeader out;
  EXPECT_TRUE(DecodeSegmentHeader(bytes.data(), bytes.size(), "f", &out).ok());
}

TEST(SegmentFileNameTest, FormatsTwelveDigits) {
  EXPECT_EQ(SegmentFileName(0), "000000000000.seg");
  EXPECT_EQ(SegmentFileName(42), "000000000042.seg");
  EXPECT_EQ(SegmentFileName(999'999'999'999ull), "999999999999.seg");
}

TEST(SegmentFileNameTest, ParseRoundTrips) {
  for (uint64_t n : {0ull, 1ull, 42ull, 1'000'000ull, 999'999'999'999ull}) {
    auto parsed = ParseSegmentFileName(SegmentFileName(n));
    ASSERT_TRUE(parsed.has_value()) << n;
    EXPECT_EQ(*parsed, n);
  }
}

TEST(SegmentFileNameTest, ParseRejectsOtherNames) {
  for (const char* name :
       {"", "42.seg", "00000000042.seg", "0000000000042.seg",
        "00000000004a.seg", "000000000042.SEG", "000000000042.seg.tmp",
        "000000000042", "+00000000042.seg", " 00000000042.seg",
        "-00000000001.seg", "000000000042.sega", "LOCK", "watermark",
        "000000000042,seg"}) {
    EXPECT_FALSE(ParseSegmentFileName(name).has_value()) << name;
  }
}

TEST(SegmentFileNameTest, ScavengedNamesCarryNumberAndGeneration) {
  EXPECT_EQ(ScavengedSegmentFileName(3, 1), "000000000003.g0001.seg");
  EXPECT_EQ(SegmentFileName(SegmentFileId{3, 1}), "000000000003.g0001.seg");
  EXPECT_EQ(SegmentFileName(SegmentFileId{3, 0}), "000000000003.seg");
  auto parsed = ParseScavengedSegmentFileName("000000000042.g0017.seg");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, (SegmentFileId{42, 17}));
  EXPECT_EQ(ParseAnySegmentFileName("000000000042.g0017.seg"),
            (SegmentFileId{42, 17}));
  EXPECT_EQ(ParseAnySegmentFileName("000000000042.seg"),
            (SegmentFileId{42, 0}));
  // An original segment's name is not a scavenged one's.
  EXPECT_FALSE(ParseSegmentFileName("000000000042.g0017.seg").has_value());
  // The 10 000th rewrite of a segment and later ones have more digits,
  // and their names parse back, up to the largest generation.
  for (uint32_t generation : {9999u, 10000u, 123456u, UINT32_MAX}) {
    const std::string name = ScavengedSegmentFileName(7, generation);
    EXPECT_EQ(ParseScavengedSegmentFileName(name),
              (SegmentFileId{7, generation}))
        << name;
  }
  EXPECT_EQ(ScavengedSegmentFileName(7, 10000), "000000000007.g10000.seg");
}

TEST(SegmentFileNameTest, OtherNamesAreNotScavengedSegments) {
  for (const char* name :
       {"000000000003.seg", "000000000003.g0001.seg.scv",
        "000000000003.g0000.seg", "00000000003x.g0001.seg",
        "000000000003.g001x.seg", "000000000003.h0001.seg", "SCAVENGE",
        // A second spelling of generation 10000, one past a u32, too long.
        "000000000003.g010000.seg", "000000000003.g4294967296.seg",
        "000000000003.g12345678901.seg", "000000000003.g001.seg"}) {
    EXPECT_FALSE(ParseScavengedSegmentFileName(name).has_value()) << name;
  }
  EXPECT_FALSE(ParseAnySegmentFileName("000000000003.g0001.seg.scv"));
  EXPECT_FALSE(ParseAnySegmentFileName("000000000003.g0000.seg"));
}

}  // namespace
}  // namespace cairn::segment
