// Copyright (c) Cairn authors.
#include "segment/segment_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "segment/durable_mark.h"
#include "segment/little_endian.h"
#include "segment/record.h"
#include "tests/segment/segment_test_util.h"

namespace cairn::segment {
namespace {

using testing::MakeEvent;
using testing::SegmentImage;

struct Scan {
  Status status;
  SegmentScanResult result;
  // Positions of each reported append, in order.
  std::vector<std::vector<uint64_t>> appends;
  std::vector<uint64_t> offsets;
};

Scan RunScan(const uint8_t* data, size_t size, const SegmentHeader& header,
             bool is_last, uint64_t durable_position_end = 0) {
  Scan scan;
  SegmentScanOptions options;
  options.is_last = is_last;
  options.durable_position_end = durable_position_end;
  scan.status = ScanSegment(
      data, size, header, "seg", options,
      [&](std::span<const ScannedRecord> records) {
        EXPECT_FALSE(records.empty());
        EXPECT_TRUE(records.back().header.IsCommit());
        std::vector<uint64_t> positions;
        for (const ScannedRecord& r : records) {
          positions.push_back(r.header.position);
          scan.offsets.push_back(r.offset);
        }
        scan.appends.push_back(positions);
      },
      &scan.result);
  return scan;
}

Scan RunScan(const SegmentImage& image, bool is_last,
             uint64_t durable_position_end = 0) {
  return RunScan(image.data(), image.size(), image.header(), is_last,
                 durable_position_end);
}

bool Mentions(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

// Flips one bit of the byte at `offset`.
void Flip(SegmentImage* image, uint64_t offset) {
  image->bytes()[offset] = static_cast<char>(image->bytes()[offset] ^ 0x10);
}

TEST(RecordCandidatesTest, FindsEveryTypeByteInOrder) {
  // Type bytes sit at offset 4 of a candidate: a 1 at byte 9 and a 2 at
  // byte 6 make candidates 5 and 2.
  std::vector<uint8_t> data(64, 0);
  data[6] = 2;
  data[9] = 1;
  data[10] = 2;
  data[40] = 3;  // no record type
  data[63] = 1;  // candidate 59, past `last`
  RecordCandidates candidates(data.data(), 50);
  EXPECT_EQ(candidates.Next(0), 2u);
  EXPECT_EQ(candidates.Next(2), 2u);
  EXPECT_EQ(candidates.Next(3), 5u);
  EXPECT_EQ(candidates.Next(6), 6u);
  EXPECT_EQ(candidates.Next(7), std::nullopt);
  EXPECT_EQ(candidates.Next(51), std::nullopt);
}

TEST(SegmentScanTest, ContinuationsScanWithTheirHead) {
  SegmentImage image;
  image.AppendToStream("A", 3);
  image.AppendToStream("B", 1);
  image.AppendToStream("C", 2);
  Scan scan = RunScan(image, /*is_last=*/false);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_EQ(scan.appends, (std::vector<std::vector<uint64_t>>{
                              {100, 101, 102}, {103}, {104, 105}}));
}

TEST(SegmentScanTest, AContinuationThatDoesNotNameItsAppendsHeadIsBad) {
  SegmentImage image;
  image.AppendToStream("A", 3);
  const uint64_t second = image.AppendToStream("B", 3);
  Scan clean = RunScan(image, false);
  ASSERT_TRUE(clean.status.ok());
  // B's last event names B's second event (a continuation, too close to be
  // a whole head: malformed), then A's head.
  const uint64_t last = clean.offsets[5];
  for (const uint64_t head : {clean.offsets[4], clean.offsets[0]}) {
    auto* p = reinterpret_cast<uint8_t*>(image.bytes().data()) + last;
    StoreLE<uint32_t>(p + kRecordHeaderSize + 16,
                      static_cast<uint32_t>(last - head));
    SealRecord(p, 105, 0, static_cast<uint32_t>(image.synced()), true,
               image.seed());
    Scan scan = RunScan(image, false);
    ASSERT_EQ(scan.status.code(), StatusCode::kCorruption);
    EXPECT_EQ(scan.status.corruption()->offset, second);
    EXPECT_TRUE(Mentions(scan.status, head == clean.offsets[0]
                                          ? "does not name the head"
                                          : "malformed event body"))
        << scan.status.ToString();
  }
}

TEST(SegmentScanTest, AContinuationInAVersionTwoSegmentIsBad) {
  SegmentImage image;
  SegmentHeader v2 = image.header();
  v2.format_version = 2;
  EncodeSegmentHeader(v2, reinterpret_cast<uint8_t*>(image.bytes().data()));
  image.AppendToStream("A", 2);
  Scan scan = RunScan(image.data(), image.size(), v2, false);
  ASSERT_EQ(scan.status.code(), StatusCode::kCorruption);
  EXPECT_TRUE(Mentions(scan.status, "does not name the head"))
      << scan.status.ToString();
}

TEST(SegmentScanTest, NonZeroBytesAreFoundAcrossZeroBlocks) {
  // Sizes around the 4 KiB blocks the helpers compare at a time.
  for (size_t n : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096},
                   size_t{4097}, size_t{3 * 4096 + 5}}) {
    SCOPED_TRACE(n);
    std::vector<uint8_t> bytes(n, 0);
    EXPECT_EQ(FirstNonZero(bytes.data(), n), n);
    EXPECT_EQ(EndOfNonZero(bytes.data(), n), 0u);
    for (size_t at : {size_t{0}, n / 2, n - 1}) {
      if (at >= n) continue;
      std::fill(bytes.begin(), bytes.end(), 0);
      bytes[at] = 7;
      EXPECT_EQ(FirstNonZero(bytes.data(), n), at);
      EXPECT_EQ(EndOfNonZero(bytes.data(), n), at + 1);
    }
  }
  std::vector<uint8_t> two(3 * 4096, 0);
  two[10] = 1;
  two[2 * 4096 + 3] = 1;
  EXPECT_EQ(FirstNonZero(two.data(), two.size()), 10u);
  EXPECT_EQ(EndOfNonZero(two.data(), two.size()), 2u * 4096 + 4);
}

TEST(SegmentScanTest, EmptySegmentIsClean) {
  SegmentImage image(100);
  for (bool is_last : {false, true}) {
    Scan scan = RunScan(image, is_last);
    ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
    EXPECT_EQ(scan.result.end_offset, kSegmentHeaderSize);
    EXPECT_EQ(scan.result.next_position, 100u);
    EXPECT_EQ(scan.result.records, 0u);
    EXPECT_FALSE(scan.result.torn_tail);
    EXPECT_TRUE(scan.appends.empty());
  }
}

TEST(SegmentScanTest, HeaderOnlyFileIsClean) {
  SegmentImage image(0);
  Scan scan = RunScan(image.data(), kSegmentHeaderSize, image.header(), true);
  ASSERT_TRUE(scan.status.ok());
  EXPECT_EQ(scan.result.end_offset, kSegmentHeaderSize);
}

TEST(SegmentScanTest, ShorterThanHeaderIsCorruption) {
  SegmentImage image(0);
  Scan scan = RunScan(image.data(), 100, image.header(), true);
  EXPECT_TRUE(scan.status.IsCorruption());
}

TEST(SegmentScanTest, CleanSegmentReportsEveryAppend) {
  SegmentImage image(100);
  const uint64_t a = image.Append(1);
  const uint64_t b = image.Append(3);
  image.Sync();
  image.Append(2);
  for (bool is_last : {false, true}) {
    Scan scan = RunScan(image, is_last);
    ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
    EXPECT_EQ(scan.result.end_offset, image.end());
    EXPECT_EQ(scan.result.next_position, 106u);
    EXPECT_EQ(scan.result.records, 6u);
    EXPECT_FALSE(scan.result.torn_tail);
    ASSERT_EQ(scan.appends.size(), 3u);
    EXPECT_EQ(scan.appends[0], std::vector<uint64_t>({100}));
    EXPECT_EQ(scan.appends[1], std::vector<uint64_t>({101, 102, 103}));
    EXPECT_EQ(scan.appends[2], std::vector<uint64_t>({104, 105}));
    EXPECT_EQ(scan.offsets[0], a);
    EXPECT_EQ(scan.offsets[1], b);
  }
}

TEST(SegmentScanTest, FullSegmentWithoutTrailingZerosIsClean) {
  SegmentImage image(0);
  image.Append(2);
  image.Append(1);
  Scan scan = RunScan(image.data(), image.end(), image.header(), false);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_EQ(scan.result.end_offset, image.end());
  EXPECT_EQ(scan.result.records, 3u);
}

TEST(SegmentScanTest, CompressedRecordsScan) {
  SegmentImage image(0);
  const std::string big(10'000, 'c');
  image.WriteRecord(MakeEvent("s", "t", big), 0, false);
  image.WriteRecord(MakeEvent("s", "t", big), 1, true);
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_EQ(scan.result.records, 2u);
}

TEST(SegmentScanTest, NoCallbackIsFine) {
  SegmentImage image(0);
  image.Append(2);
  SegmentScanResult result;
  ASSERT_TRUE(ScanSegment(image.data(), image.size(), image.header(), "seg",
                          SegmentScanOptions{}, nullptr, &result)
                  .ok());
  EXPECT_EQ(result.records, 2u);
}

// The last append is torn at every byte: the bytes written so far are kept
// and the rest of the segment is zero (preallocated), or the file simply
// ends there.
TEST(SegmentScanTest, TornLastAppendOfEveryLength) {
  SegmentImage image(100);
  image.Append(2);
  image.Sync();
  const uint64_t kept_end = image.end();
  image.Append(3);
  const std::string full = image.bytes();
  for (uint64_t cut = kept_end + 1; cut < image.end(); ++cut) {
    std::string zero_filled = full;
    std::fill(zero_filled.begin() + static_cast<ptrdiff_t>(cut),
              zero_filled.end(), '\0');
    const bool any_written = std::any_of(
        full.begin() + static_cast<ptrdiff_t>(kept_end),
        full.begin() + static_cast<ptrdiff_t>(cut), [](char c) { return c; });
    for (size_t size : {zero_filled.size(), static_cast<size_t>(cut)}) {
      Scan scan = RunScan(reinterpret_cast<const uint8_t*>(zero_filled.data()),
                          size, image.header(), true);
      ASSERT_TRUE(scan.status.ok()) << cut << ": " << scan.status.ToString();
      EXPECT_EQ(scan.result.end_offset, kept_end) << cut;
      EXPECT_EQ(scan.result.next_position, 102u) << cut;
      EXPECT_EQ(scan.result.records, 2u) << cut;
      EXPECT_EQ(scan.result.torn_tail, any_written) << cut;
      if (any_written) {
        EXPECT_EQ(scan.result.torn_offset, kept_end) << cut;
      }
      EXPECT_EQ(scan.appends.size(), 1u) << cut;
    }
  }
}

// The torn write left garbage instead of zeros after a prefix of the
// append (a sector that held old or random bytes).
TEST(SegmentScanTest, GarbledLastAppendOfEveryPrefix) {
  SegmentImage image(100);
  image.Append(2);
  image.Sync();
  const uint64_t kept_end = image.end();
  image.Append(3);
  std::mt19937 rng(99);
  for (uint64_t cut = kept_end; cut < image.end(); ++cut) {
    std::string garbled = image.bytes();
    for (uint64_t i = cut; i < std::min<uint64_t>(cut + 700, garbled.size());
         ++i) {
      garbled[i] = static_cast<char>(rng() | 1);  // never zero
    }
    Scan scan = RunScan(reinterpret_cast<const uint8_t*>(garbled.data()),
                        garbled.size(), image.header(), true);
    ASSERT_TRUE(scan.status.ok()) << cut << ": " << scan.status.ToString();
    EXPECT_TRUE(scan.result.torn_tail) << cut;
    EXPECT_EQ(scan.result.torn_offset, kept_end);
    EXPECT_EQ(scan.result.end_offset, kept_end);
    EXPECT_EQ(scan.result.next_position, 102u);
  }
}

TEST(SegmentScanTest, PartialAppendIsDropped) {
  SegmentImage image(100);
  image.Append(2);
  const uint64_t kept_end = image.end();
  image.Append(3, /*commit=*/false);  // every record whole, no commit record
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_TRUE(scan.result.torn_tail);
  EXPECT_EQ(scan.result.torn_offset, kept_end);
  EXPECT_EQ(scan.result.end_offset, kept_end);
  EXPECT_EQ(scan.result.next_position, 102u);
  EXPECT_EQ(scan.result.records, 2u);
  EXPECT_EQ(scan.appends.size(), 1u);
}

TEST(SegmentScanTest, PartialAppendInNonLastSegmentIsCorruption) {
  SegmentImage image(100);
  image.Append(2);
  const uint64_t kept_end = image.end();
  image.Append(3, /*commit=*/false);
  Scan scan = RunScan(image, false);
  ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
  EXPECT_EQ(scan.status.corruption()->offset, kept_end);
  EXPECT_EQ(scan.status.corruption()->file, "seg");
  EXPECT_TRUE(Mentions(scan.status, "incomplete append"))
      << scan.status.ToString();
  EXPECT_EQ(scan.result.end_offset, kept_end);
}

TEST(SegmentScanTest, SeveralUnsyncedAppendsMayAllBeTorn) {
  // kInterval durability: appends 2 and 3 were written after the last
  // fdatasync, so damage to append 2 is an ordinary torn tail and append 3
  // goes with it.
  SegmentImage image(0);
  image.Append(1);
  image.Sync();
  const uint64_t kept_end = image.end();
  const uint64_t second = image.Append(2);
  image.Append(2);
  Flip(&image, second + 40);
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_TRUE(scan.result.torn_tail);
  EXPECT_EQ(scan.result.end_offset, kept_end);
  EXPECT_EQ(scan.result.next_position, 1u);
}

TEST(SegmentScanTest, DamageVouchedForByLaterRecordIsCorruption) {
  SegmentImage image(100);
  image.Append(2);
  const uint64_t damaged = image.Append(2);
  image.Sync();     // the damaged append was durable ...
  image.Append(1);  // ... before this one was written
  for (uint64_t at : {damaged + 2, damaged + 20, damaged + 60}) {
    SegmentImage copy = image;
    Flip(&copy, at);
    Scan scan = RunScan(copy, true);
    ASSERT_TRUE(scan.status.IsCorruption()) << at;
    EXPECT_EQ(scan.status.corruption()->offset, damaged);
    EXPECT_TRUE(Mentions(scan.status, "durable data"))
        << scan.status.ToString();
    EXPECT_TRUE(Mentions(
        scan.status, at < damaged + 32 ? "header checksum" : "body checksum"))
        << scan.status.ToString();
    EXPECT_EQ(scan.result.end_offset, damaged);
  }
}

TEST(SegmentScanTest, DamageInFirstAppendVouchedForIsCorruption) {
  SegmentImage image(0);
  image.Append(1);
  image.Sync();
  image.Append(1);
  Flip(&image, kSegmentHeaderSize + 10);
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
  EXPECT_EQ(scan.status.corruption()->offset, kSegmentHeaderSize);
  EXPECT_EQ(scan.result.records, 0u);
}

TEST(SegmentScanTest, ZeroedDurableRecordIsCorruption) {
  // A block of durable data reads back as zeros: the scan stops there as if
  // the segment ended, but a later record proves data followed.
  SegmentImage image(0);
  image.Append(1);
  const uint64_t hole = image.Append(1);
  const uint64_t after = image.end();
  image.Sync();
  image.Append(1);
  std::fill(image.bytes().begin() + static_cast<ptrdiff_t>(hole),
            image.bytes().begin() + static_cast<ptrdiff_t>(after), '\0');
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
  EXPECT_EQ(scan.status.corruption()->offset, hole);
  EXPECT_TRUE(Mentions(scan.status, "after zeroed space"))
      << scan.status.ToString();
}

TEST(SegmentScanTest, DamageBelowDurablePositionIsCorruption) {
  SegmentImage image(100);
  image.Append(2);
  const uint64_t damaged = image.Append(2);  // positions 102, 103
  Flip(&image, damaged + 40);
  // Nothing later vouches, but the watermark says 102 was acknowledged.
  Scan scan = RunScan(image, true, /*durable_position_end=*/103);
  ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
  EXPECT_EQ(scan.status.corruption()->offset, damaged);
  EXPECT_TRUE(Mentions(scan.status, "position 102 was acknowledged durable"))
      << scan.status.ToString();
  // The same damage at or above the durable end is a torn tail.
  scan = RunScan(image, true, /*durable_position_end=*/102);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_TRUE(scan.result.torn_tail);
  EXPECT_EQ(scan.result.next_position, 102u);
}

TEST(SegmentScanTest, MissingDurablePartialAppendIsCorruption) {
  SegmentImage image(100);
  image.Append(1);
  image.Append(2, /*commit=*/false);
  Scan scan = RunScan(image, true, /*durable_position_end=*/102);
  ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
  EXPECT_TRUE(Mentions(scan.status, "acknowledged durable"));
}

TEST(SegmentScanTest, NonLastSegmentWithGarbageAfterRecordsIsCorruption) {
  SegmentImage image(100);
  image.Append(2);
  const uint64_t end = image.end();
  for (uint64_t at : {end, end + 1, end + 31, end + 5000,
                      static_cast<uint64_t>(image.size() - 1)}) {
    SegmentImage copy = image;
    copy.bytes()[at] = 'x';
    Scan scan = RunScan(copy, false);
    ASSERT_TRUE(scan.status.IsCorruption()) << at;
    EXPECT_EQ(scan.status.corruption()->offset, end) << at;
    EXPECT_TRUE(Mentions(scan.status, "not the last"))
        << scan.status.ToString();
    EXPECT_EQ(scan.result.records, 2u);
    // In the last segment the same bytes are a torn tail.
    scan = RunScan(copy, true);
    ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
    EXPECT_TRUE(scan.result.torn_tail);
  }
}

TEST(SegmentScanTest, NonLastSegmentWithBadRecordIsCorruption) {
  SegmentImage image(100);
  image.Append(1);
  const uint64_t bad = image.Append(1);
  Flip(&image, bad + 50);
  Scan scan = RunScan(image, false);
  ASSERT_TRUE(scan.status.IsCorruption());
  EXPECT_EQ(scan.status.corruption()->offset, bad);
  EXPECT_TRUE(Mentions(scan.status, "bad body checksum"))
      << scan.status.ToString();
}

TEST(SegmentScanTest, PositionGapIsCorruption) {
  SegmentImage image(100);
  image.Append(2);
  const uint64_t gap = image.WriteRecord(MakeEvent("s", "t", "d"), 103, true);
  for (bool is_last : {false, true}) {
    Scan scan = RunScan(image, is_last);
    ASSERT_TRUE(scan.status.IsCorruption()) << is_last;
    EXPECT_EQ(scan.status.corruption()->offset, gap);
    EXPECT_TRUE(Mentions(scan.status, "expected position 102, found 103"))
        << scan.status.ToString();
    EXPECT_EQ(scan.result.records, 2u);
  }
}

TEST(SegmentScanTest, FirstRecordMustHaveTheFirstPosition) {
  SegmentImage image(100);
  image.WriteRecord(MakeEvent("s", "t", "d"), 0, true);
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.IsCorruption());
  EXPECT_EQ(scan.status.corruption()->offset, kSegmentHeaderSize);
  EXPECT_TRUE(Mentions(scan.status, "expected position 100, found 0"));
}

TEST(SegmentScanTest, RecordsFromAnotherStoreDoNotVerify) {
  // A segment file of another store put in this directory under the same
  // name: its records fail the seed check, so nothing is kept.
  SegmentImage image(0, 64 * 1024, /*store_id=*/1);
  image.Append(2);
  SegmentHeader other = image.header();
  other.store_id = 2;
  Scan scan = RunScan(image.data(), image.size(), other, false);
  ASSERT_TRUE(scan.status.IsCorruption());
  EXPECT_EQ(scan.status.corruption()->offset, kSegmentHeaderSize);
  EXPECT_TRUE(Mentions(scan.status, "bad header checksum"))
      << scan.status.ToString();
}

TEST(SegmentScanTest, TruncatedRecordMessageNamesTheSizes) {
  SegmentImage image(0);
  image.Append(1);
  const uint64_t second = image.Append(1);
  Scan scan = RunScan(image.data(), second + 40, image.header(), false);
  ASSERT_TRUE(scan.status.IsCorruption());
  EXPECT_TRUE(Mentions(scan.status, "only 8 bytes remain"))
      << scan.status.ToString();
  scan = RunScan(image.data(), second + 20, image.header(), false);
  ASSERT_TRUE(scan.status.IsCorruption());
  EXPECT_TRUE(Mentions(scan.status, "incomplete record header"))
      << scan.status.ToString();
}

TEST(SegmentScanTest, VoucherFarPastTheDamageIsFound) {
  // The search for a vouching record covers the rest of the segment, across
  // noise and zeros, at any byte offset.
  SegmentImage image(0, 1 << 20);
  image.Append(1);
  const uint64_t damaged = image.Append(1);
  image.Sync();
  const uint64_t synced = image.synced();
  Flip(&image, damaged + 5);
  std::string& bytes = image.bytes();
  std::mt19937 rng(5);
  constexpr size_t kVoucherAt = 900 * 1024 + 3;
  for (size_t i = synced; i < kVoucherAt; ++i) {
    bytes[i] = rng() % 2 == 0 ? '\0' : static_cast<char>(rng());
  }
  const std::string voucher =
      testing::SealedRecord(MakeEvent("s", "t", "d"), 7, 0,
                            static_cast<uint32_t>(synced), true, image.seed());
  bytes.replace(kVoucherAt, voucher.size(), voucher);
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
  EXPECT_EQ(scan.status.corruption()->offset, damaged);
  EXPECT_TRUE(Mentions(scan.status, "offset " + std::to_string(kVoucherAt)))
      << scan.status.ToString();
  // Without the voucher the same bytes are a torn tail.
  bytes.replace(kVoucherAt, voucher.size(), std::string(voucher.size(), 'n'));
  scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_TRUE(scan.result.torn_tail);
  EXPECT_EQ(scan.result.end_offset, damaged);
  // A voucher whose synced_offset does not pass the damage vouches for
  // nothing.
  const std::string early =
      testing::SealedRecord(MakeEvent("s", "t", "d"), 7, 0,
                            static_cast<uint32_t>(damaged), true, image.seed());
  bytes.replace(kVoucherAt, early.size(), early);
  scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_TRUE(scan.result.torn_tail);
}

TEST(SegmentScanTest, RecordsOfTheTornAppendDoNotVouch) {
  // Every record of an append written in one go carries the same
  // synced_offset, at or before the append's start, so whole records of a
  // partial append never turn it into corruption.
  SegmentImage image(0);
  image.Append(1);
  image.Sync();
  const uint64_t start = image.Append(5, /*commit=*/false);
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_TRUE(scan.result.torn_tail);
  EXPECT_EQ(scan.result.end_offset, start);
}

}  // namespace
}  // namespace cairn::segment

namespace cairn::segment {
namespace {

TEST(SegmentScanStopTest, StopsAtPositionWithoutLookingFurther) {
  // A reader beside a live writer: damage past the published durable
  // position is not its business (it may be a write in progress), even
  // when a later record would vouch for it.
  testing::SegmentImage image(0);
  image.Append(2);
  const uint64_t second = image.Append(2);
  image.Sync();
  image.Append(1);
  image.bytes()[second + 40] =
      static_cast<char>(image.bytes()[second + 40] ^ 1);
  SegmentScanOptions options;
  options.is_last = true;
  options.stop_at_position = 2;
  SegmentScanResult result;
  int appends = 0;
  Status s = ScanSegment(
      image.data(), image.size(), image.header(), "seg", options,
      [&](std::span<const ScannedRecord>) { ++appends; }, &result);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(appends, 1);
  EXPECT_EQ(result.next_position, 2u);
  EXPECT_EQ(result.end_offset, second);
  EXPECT_FALSE(result.torn_tail);
  // Without the stop, the same image is corruption.
  options.stop_at_position = UINT64_MAX;
  EXPECT_TRUE(ScanSegment(image.data(), image.size(), image.header(), "seg",
                          options, nullptr, &result)
                  .IsCorruption());
}

// Durable-end marks (segment/durable_mark.h): records below a mark were
// durable, so damage there is corruption even in the last segment, with no
// later record and no watermark to vouch for it.
void PutMark(SegmentImage* image, uint64_t sequence, uint64_t end,
             uint64_t next_position) {
  DurableMark mark;
  mark.sequence = sequence;
  mark.end_offset = static_cast<uint32_t>(end);
  mark.next_position = next_position;
  testing::PutDurableMark(image, mark);
}

// Two synced appends (two records, then `last_records`) marked durable up
// to their end; returns the offset of the second append.
uint64_t MarkTwoSyncedAppends(SegmentImage* image, int last_records) {
  image->Append(2);
  image->Sync();
  const uint64_t last = image->Append(last_records);
  image->Sync();
  PutMark(image, 1, image->end(), image->next_position());
  return last;
}

TEST(SegmentScanMarkTest, DamageToTheMarkedLastAppendIsCorruption) {
  SegmentImage image;
  const uint64_t last = MarkTwoSyncedAppends(&image, 1);
  for (uint64_t at : {last, last + 5, last + 40, image.end() - 1}) {
    SCOPED_TRACE(at);
    SegmentImage damaged = image;
    Flip(&damaged, at);
    Scan scan = RunScan(damaged, /*is_last=*/true);
    ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
    EXPECT_EQ(scan.status.corruption()->offset, last);
    EXPECT_TRUE(Mentions(scan.status, "durable-end mark"))
        << scan.status.ToString();
    // Without the mark the same bytes are a torn tail.
    SegmentHeader v1 = damaged.header();
    v1.format_version = 1;
    Scan unmarked = RunScan(damaged.data(), damaged.size(), v1, true);
    ASSERT_TRUE(unmarked.status.ok()) << unmarked.status.ToString();
    EXPECT_TRUE(unmarked.result.torn_tail);
  }
}

TEST(SegmentScanMarkTest, MarkedAppendsThatVanishedAreCorruption) {
  SegmentImage image;
  const uint64_t last = MarkTwoSyncedAppends(&image, 2);
  std::fill(image.bytes().begin() + static_cast<ptrdiff_t>(last),
            image.bytes().begin() + static_cast<ptrdiff_t>(image.end()), '\0');
  Scan scan = RunScan(image, /*is_last=*/true);
  ASSERT_TRUE(scan.status.IsCorruption()) << scan.status.ToString();
  EXPECT_EQ(scan.status.corruption()->offset, last);
}

TEST(SegmentScanMarkTest, TornTailPastTheMarkIsStillATornTail) {
  SegmentImage image;
  image.Append(2);
  image.Sync();
  PutMark(&image, 1, image.end(), image.next_position());
  const uint64_t torn = image.Append(3, /*commit=*/false);
  Scan scan = RunScan(image, /*is_last=*/true);
  ASSERT_TRUE(scan.status.ok()) << scan.status.ToString();
  EXPECT_TRUE(scan.result.torn_tail);
  EXPECT_EQ(scan.result.end_offset, torn);
}

TEST(SegmentScanMarkTest, AMarkOffTheAppendBoundariesIsCorruption) {
  SegmentImage image;
  image.Append(2);
  const uint64_t end = image.end();
  image.Append(1);
  PutMark(&image, 1, end - 3, 102);
  EXPECT_TRUE(RunScan(image, true).status.IsCorruption());
  PutMark(&image, 2, end, 107);  // the wrong position at a boundary
  Scan scan = RunScan(image, true);
  ASSERT_TRUE(scan.status.IsCorruption());
  EXPECT_EQ(scan.status.corruption()->offset, end);
  PutMark(&image, 3, end, 102);
  EXPECT_TRUE(RunScan(image, true).status.ok());
}

TEST(SegmentScanMarkTest, AReaderStoppingEarlyChecksNoMark) {
  SegmentImage image;
  image.Append(2);
  const uint64_t first_end = image.end();
  image.Append(2);
  PutMark(&image, 1, image.end(), image.next_position());
  SegmentScanOptions options;
  options.is_last = true;
  options.stop_at_position = 102;
  SegmentScanResult result;
  Status s = ScanSegment(image.data(), image.size(), image.header(), "seg",
                         options, nullptr, &result);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(result.end_offset, first_end);
}

TEST(SegmentScanMarkTest, AGivenMarkIsCheckedInsteadOfTheSlots) {
  SegmentImage image;
  const uint64_t last = MarkTwoSyncedAppends(&image, 1);
  SegmentImage damaged = image;
  Flip(&damaged, last + 5);
  // The slots' mark is not read: the mark the caller read earlier (none,
  // or one at the first append) decides what the damage is.
  const std::optional<DurableMark> none;
  DurableMark earlier;
  earlier.sequence = 1;
  earlier.end_offset = static_cast<uint32_t>(last);
  earlier.next_position = 102;
  const std::optional<DurableMark> older = earlier;
  for (const std::optional<DurableMark>* given : {&none, &older}) {
    SegmentScanOptions options;
    options.is_last = true;
    options.known_mark = given;
    SegmentScanResult result;
    Status s = ScanSegment(damaged.data(), damaged.size(), damaged.header(),
                           "seg", options, nullptr, &result);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(result.torn_tail);
    EXPECT_EQ(result.end_offset, last);
  }
  // A given mark past the damage makes it corruption, with no slot set.
  SegmentImage unmarked = damaged;
  std::fill(unmarked.bytes().begin() + kDurableMarkOffsets[0],
            unmarked.bytes().begin() + kDurableMarkOffsets[1] +
                static_cast<ptrdiff_t>(kDurableMarkSize),
            '\0');
  ASSERT_FALSE(
      NewestDurableMark(unmarked.data(), unmarked.size(), unmarked.header()));
  const std::optional<DurableMark> newest =
      NewestDurableMark(image.data(), image.size(), image.header());
  ASSERT_TRUE(newest);
  SegmentScanOptions options;
  options.is_last = true;
  options.known_mark = &newest;
  SegmentScanResult result;
  Status s = ScanSegment(unmarked.data(), unmarked.size(), unmarked.header(),
                         "seg", options, nullptr, &result);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(s.corruption()->offset, last);
}

}  // namespace
}  // namespace cairn::segment
