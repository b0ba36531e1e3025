// Copyright (c) Cairn authors.
//
// Scavenged segments (format versions 3 and 5): the copy keeps the chosen
// records at their positions, with gaps (continuations relinked to their
// head, or made heads); the scan of a copy accepts gaps but nothing else a
// sealed segment may not hold.
#include "segment/scavenged_segment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "segment/durable_mark.h"
#include "segment/little_endian.h"
#include "segment/record.h"
#include "tests/segment/segment_test_util.h"

namespace cairn::segment {
namespace {

using testing::SegmentImage;

constexpr char kFile[] = "000000000007.seg";

const uint8_t* Bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

DurableMark ClosedMark(uint64_t end_offset, uint64_t next_position) {
  DurableMark mark;
  mark.sequence = 1;
  mark.end_offset = static_cast<uint32_t>(end_offset);
  mark.flags = kMarkFlagClosed;
  mark.next_position = next_position;
  return mark;
}

// A sealed source: positions 100..109 in appends of 3, 3, 4, closed.
SegmentImage Source() {
  SegmentImage image;
  image.Append(3);
  image.Append(3);
  image.Append(4);
  testing::PutDurableMark(&image,
                          ClosedMark(image.end(), image.next_position()));
  return image;
}

struct Copied {
  uint64_t position;
  std::string bytes;
};

// The records of a scavenged segment, verified.
std::vector<Copied> ScanCopy(const std::string& file_bytes,
                             ScavengedFields* fields = nullptr) {
  std::vector<Copied> out;
  SegmentHeader header;
  ScavengedFields f;
  Status s = ScanScavengedSegment(
      Bytes(file_bytes), file_bytes.size(), kFile,
      [&](const ScannedRecord& r) {
        out.push_back({r.header.position,
                       file_bytes.substr(r.offset, r.header.RecordSize())});
      },
      &header, &f);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (fields) *fields = f;
  return out;
}

// The source's record bytes by position.
std::vector<Copied> SourceRecords(const SegmentImage& image) {
  std::vector<Copied> out;
  SegmentScanResult result;
  const std::string& bytes = const_cast<SegmentImage&>(image).bytes();
  Status s = ScanSegment(
      image.data(), image.size(), image.header(), kFile, {},
      [&](std::span<const ScannedRecord> records) {
        for (const ScannedRecord& r : records) {
          out.push_back({r.header.position,
                         bytes.substr(r.offset, r.header.RecordSize())});
        }
      },
      &result);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

Status Build(const SegmentImage& image, const KeepRecord& keep,
             std::string* out, ScavengeCopyStats* stats,
             uint64_t end_position = 110, uint32_t generation = 1) {
  ScavengedFields fields;
  fields.end_position = end_position;
  fields.generation = generation;
  return BuildScavengedSegment(image.data(), image.size(), image.header(),
                               kFile, fields, keep, out, stats);
}

KeepRecord KeepAll() {
  return [](const ScannedRecord&, const uint8_t*) { return true; };
}

KeepRecord KeepEvenPositions() {
  return [](const ScannedRecord& r, const uint8_t*) {
    return r.header.position % 2 == 0;
  };
}

TEST(ScavengedSegmentTest, KeepsTheChosenRecordsByteForByteWithGaps) {
  SegmentImage image = Source();
  std::string copy;
  ScavengeCopyStats stats;
  ASSERT_TRUE(Build(image, KeepEvenPositions(), &copy, &stats).ok());
  const std::vector<Copied> source = SourceRecords(image);
  ASSERT_EQ(source.size(), 10u);
  ScavengedFields fields;
  const std::vector<Copied> kept = ScanCopy(copy, &fields);
  ASSERT_EQ(kept.size(), 5u);
  uint64_t kept_bytes = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i].position, 100 + 2 * i);
    EXPECT_EQ(kept[i].bytes, source[2 * i].bytes);
    kept_bytes += kept[i].bytes.size();
  }
  EXPECT_EQ(stats.kept_records, 5u);
  EXPECT_EQ(stats.removed_records, 5u);
  EXPECT_EQ(stats.kept_bytes, kept_bytes);
  EXPECT_EQ(stats.kept_bytes + stats.removed_bytes,
            image.end() - kSegmentHeaderSize);
  EXPECT_EQ(copy.size(), kSegmentHeaderSize + kept_bytes);
  EXPECT_EQ(fields.end_position, 110u);
  EXPECT_EQ(fields.generation, 1u);
}

// Events of appends written with continuations, read back from a copy.
struct ReadEvent {
  uint64_t position;
  std::string stream;
  uint64_t revision;
  std::string data;
  RecordType type;
};

std::vector<ReadEvent> ReadCopy(const std::string& file_bytes) {
  std::vector<ReadEvent> out;
  SegmentHeader header;
  ScavengedFields fields;
  EventDecoder decoder(
      Bytes(file_bytes) + kSegmentHeaderSize,
      SegmentHeader{.store_id = 0x5eed5eed12345678ull, .segment_number = 7}
          .Seed());
  std::string scratch;
  Status s = ScanScavengedSegment(
      Bytes(file_bytes), file_bytes.size(), kFile,
      [&](const ScannedRecord& r) {
        EventFields f;
        EXPECT_TRUE(decoder.Decode(Bytes(file_bytes) + r.offset, r.header,
                                   &scratch, &f));
        out.push_back({r.header.position, std::string(f.stream), f.revision,
                       std::string(f.data), r.header.type});
      },
      &header, &fields);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Positions 100..109: stream A's 4 events, then B's 6 (the image counts
// revisions across streams: revision = position - 100).
SegmentImage ContinuationSource() {
  SegmentImage image;
  image.AppendToStream("A", 4);
  image.AppendToStream("B", 6);
  testing::PutDurableMark(&image,
                          ClosedMark(image.end(), image.next_position()));
  return image;
}

TEST(ScavengedSegmentTest, ContinuationsFollowTheirHeadOrBecomeOne) {
  SegmentImage image = ContinuationSource();
  // Removed: A's head (100), B's head and next event (104, 105), and B's
  // 107: A's 101 becomes its head; B's 106 becomes its head and 108, 109
  // name it.
  const std::vector<uint64_t> removed = {100, 104, 105, 107};
  std::string copy;
  ScavengeCopyStats stats;
  ASSERT_TRUE(Build(
                  image,
                  [&](const ScannedRecord& r, const uint8_t*) {
                    return std::find(removed.begin(), removed.end(),
                                     r.header.position) == removed.end();
                  },
                  &copy, &stats)
                  .ok());
  const std::vector<ReadEvent> events = ReadCopy(copy);
  ASSERT_EQ(events.size(), 6u);
  const std::vector<uint64_t> positions = {101, 102, 103, 106, 108, 109};
  for (size_t i = 0; i < events.size(); ++i) {
    const uint64_t p = positions[i];
    EXPECT_EQ(events[i].position, p);
    EXPECT_EQ(events[i].stream, p < 104 ? "A" : "B");
    EXPECT_EQ(events[i].revision, p - 100);
    EXPECT_EQ(events[i].data, "{\"n\":" + std::to_string(p) + "}");
    const bool head = p == 101 || p == 106;
    EXPECT_EQ(events[i].type,
              head ? RecordType::kEvent : RecordType::kContinuation)
        << p;
  }
  EXPECT_EQ(stats.kept_records, 6u);
  EXPECT_EQ(stats.kept_bytes, copy.size() - kSegmentHeaderSize);

  // Scavenged again, removing the new head 106: 108 takes its place.
  std::string again;
  ScavengedFields fields;
  fields.end_position = 110;
  fields.generation = 2;
  SegmentHeader copy_header;
  ScavengedFields copy_fields;
  ASSERT_TRUE(DecodeScavengedSegmentHeader(Bytes(copy), copy.size(), kFile,
                                           &copy_header, &copy_fields)
                  .ok());
  EXPECT_EQ(copy_header.format_version, kScavengedSegmentFormatVersion);
  ASSERT_TRUE(BuildScavengedSegment(
                  Bytes(copy), copy.size(), copy_header, kFile, fields,
                  [](const ScannedRecord& r, const uint8_t*) {
                    return r.header.position != 106;
                  },
                  &again, &stats)
                  .ok());
  const std::vector<ReadEvent> twice = ReadCopy(again);
  ASSERT_EQ(twice.size(), 5u);
  EXPECT_EQ(twice[3].position, 108u);
  EXPECT_EQ(twice[3].type, RecordType::kEvent);
  EXPECT_EQ(twice[3].revision, 8u);
  EXPECT_EQ(twice[4].type, RecordType::kContinuation);
  EXPECT_EQ(twice[4].revision, 9u);
  EXPECT_EQ(twice[4].stream, "B");
}

TEST(ScavengedSegmentTest, AContinuationNamingAnotherHeadIsCorruption) {
  SegmentImage image = ContinuationSource();
  std::string copy;
  ScavengeCopyStats stats;
  ASSERT_TRUE(Build(
                  image,
                  [](const ScannedRecord&, const uint8_t*) { return true; },
                  &copy, &stats)
                  .ok());
  // Point B's last continuation (position 109) at A's head: well formed,
  // checksummed, and still wrong.
  std::vector<uint64_t> offsets;
  SegmentHeader header;
  ScavengedFields fields;
  ASSERT_TRUE(ScanScavengedSegment(
                  Bytes(copy), copy.size(), kFile,
                  [&](const ScannedRecord& r) { offsets.push_back(r.offset); },
                  &header, &fields)
                  .ok());
  ASSERT_EQ(offsets.size(), 10u);
  auto* last = reinterpret_cast<uint8_t*>(copy.data()) + offsets[9];
  StoreLE<uint32_t>(last + kRecordHeaderSize + 16,
                    static_cast<uint32_t>(offsets[9] - offsets[0]));
  SealRecord(last, 109, 0, 0, true, header.Seed());
  Status s = ScanScavengedSegment(Bytes(copy), copy.size(), kFile, nullptr,
                                  &header, &fields);
  ASSERT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_EQ(s.corruption()->offset, offsets[9]);
}

TEST(ScavengedSegmentTest, OrdinaryReadersRefuseVersion3) {
  // A store that does not handle gaps must never list one as a segment.
  SegmentImage image = Source();
  std::string copy;
  ScavengeCopyStats stats;
  ASSERT_TRUE(Build(image, KeepEvenPositions(), &copy, &stats).ok());
  SegmentHeader header;
  Status s = DecodeSegmentHeader(Bytes(copy), copy.size(), kFile, &header);
  EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.ToString();
  // And the scavenged decoder refuses versions 1 and 2.
  ScavengedFields fields;
  s = DecodeScavengedSegmentHeader(image.data(), image.size(), kFile, &header,
                                   &fields);
  EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.ToString();
}

TEST(ScavengedSegmentTest, KeepingNothingLeavesOnlyTheHeader) {
  SegmentImage image = Source();
  std::string copy;
  ScavengeCopyStats stats;
  ASSERT_TRUE(Build(
                  image,
                  [](const ScannedRecord&, const uint8_t*) { return false; },
                  &copy, &stats)
                  .ok());
  EXPECT_EQ(copy.size(), kSegmentHeaderSize);
  EXPECT_TRUE(ScanCopy(copy).empty());
  EXPECT_EQ(stats.removed_records, 10u);
}

TEST(ScavengedSegmentTest, ScavengingACopyAgainKeepsItsGaps) {
  SegmentImage image = Source();
  std::string first;
  ScavengeCopyStats stats;
  ASSERT_TRUE(Build(image, KeepEvenPositions(), &first, &stats).ok());
  SegmentHeader header;
  ScavengedFields fields;
  ASSERT_TRUE(DecodeScavengedSegmentHeader(Bytes(first), first.size(), kFile,
                                           &header, &fields)
                  .ok());
  fields.generation = 2;
  std::string second;
  ASSERT_TRUE(BuildScavengedSegment(
                  Bytes(first), first.size(), header, kFile, fields,
                  [](const ScannedRecord& r, const uint8_t*) {
                    return r.header.position >= 104;
                  },
                  &second, &stats)
                  .ok());
  ScavengedFields again;
  const std::vector<Copied> kept = ScanCopy(second, &again);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].position, 104u);
  EXPECT_EQ(kept[2].position, 108u);
  EXPECT_EQ(again.generation, 2u);
  EXPECT_EQ(stats.removed_records, 2u);
}

TEST(ScavengedSegmentTest, AnEndBelowTheSourceIsRefused) {
  SegmentImage image = Source();
  std::string copy;
  ScavengeCopyStats stats;
  Status s = Build(image, KeepEvenPositions(), &copy, &stats, 109);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST(ScavengedSegmentTest, ADamagedSourceFailsTheCopy) {
  SegmentImage image = Source();
  image.bytes()[kSegmentHeaderSize + 60] ^= 0x01;  // first record's body
  std::string copy;
  ScavengeCopyStats stats;
  Status s = Build(image, KeepEvenPositions(), &copy, &stats);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(ScavengedSegmentTest, AReusedBufferHoldsExactlyTheNewCopy) {
  // A scavenge builds every unit's copy into one string: a smaller copy
  // after a larger one must not keep any of the larger one's bytes.
  SegmentImage image = Source();
  ScavengeCopyStats stats;
  std::string fresh;
  ASSERT_TRUE(Build(image, KeepEvenPositions(), &fresh, &stats).ok());
  std::string reused;
  ASSERT_TRUE(Build(
                  image,
                  [](const ScannedRecord&, const uint8_t*) { return true; },
                  &reused, &stats)
                  .ok());
  ASSERT_GT(reused.size(), fresh.size());
  ASSERT_TRUE(Build(image, KeepEvenPositions(), &reused, &stats).ok());
  EXPECT_EQ(reused, fresh);
  EXPECT_EQ(ScanCopy(reused).size(), 5u);
}

// Collects what StreamScavengedSegment hands on, checking the order the
// sink's contract gives: records in increasing offsets, the header last.
class RecordingSink : public ScavengedCopySink {
 public:
  Status Write(uint64_t offset, const uint8_t* bytes, size_t size) override {
    EXPECT_FALSE(header_written_) << "a write after the header";
    if (offset == 0) {
      EXPECT_EQ(size, kSegmentHeaderSize);
      header_written_ = true;
      file_.replace(0, size, reinterpret_cast<const char*>(bytes), size);
    } else {
      EXPECT_EQ(offset, file_.size());
      // The records reported since the last piece are this piece's.
      for (uint64_t at : pending_kept_) {
        EXPECT_GE(at, offset);
        EXPECT_LT(at, offset + size);
      }
      file_.append(reinterpret_cast<const char*>(bytes), size);
      piece_sizes_.push_back(size);
    }
    pending_kept_.clear();
    ++writes_;
    return writes_ == fail_at_write_ ? Status::IOError("disk full")
                                     : Status::Ok();
  }
  void Kept(const ScannedRecord& r) override {
    EXPECT_GE(r.offset, file_.size()) << "a record reported after its piece";
    kept_.emplace_back(r.header.position, r.offset);
    pending_kept_.push_back(r.offset);
  }

  std::string file_ = std::string(kSegmentHeaderSize, '\0');
  std::vector<size_t> piece_sizes_;
  std::vector<std::pair<uint64_t, uint64_t>> kept_;  // position, offset
  bool header_written_ = false;
  std::vector<uint64_t> pending_kept_;
  int writes_ = 0;
  int fail_at_write_ = 0;  // 1-based; 0: never
};

Status Stream(const SegmentImage& image, const KeepRecord& keep,
              size_t piece_size, RecordingSink* sink, uint64_t* copy_size,
              std::string* piece_buffer = nullptr) {
  ScavengedFields fields;
  fields.end_position = 110;
  fields.generation = 1;
  std::string piece;
  ScavengedCopyOutput output;
  output.file = "000000000007.g0001.seg.scv";
  output.piece_size = piece_size;
  output.piece = piece_buffer != nullptr ? piece_buffer : &piece;
  output.sink = sink;
  ScavengeCopyStats stats;
  return StreamScavengedSegment(image.data(), image.size(), image.header(),
                                kFile, fields, keep, output, &stats, copy_size);
}

TEST(ScavengedSegmentTest, AStreamedCopyComesInPiecesWithTheHeaderLast) {
  SegmentImage image = ContinuationSource();
  std::string whole;
  ScavengeCopyStats stats;
  const KeepRecord keep = [](const ScannedRecord& r, const uint8_t*) {
    return r.header.position != 100 && r.header.position != 105;
  };
  ASSERT_TRUE(Build(image, keep, &whole, &stats).ok());
  // The copy's contents are what the tests above check (through Build,
  // which streams it in one piece); here the same copy comes in pieces of
  // one byte (each record a piece), of a few records, and one for all.
  for (size_t piece_size : {size_t{1}, size_t{200}, size_t{1} << 20}) {
    RecordingSink sink;
    uint64_t copy_size = 0;
    std::string piece;
    Status s = Stream(image, keep, piece_size, &sink, &copy_size, &piece);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(sink.header_written_);
    EXPECT_EQ(sink.file_, whole) << "piece size " << piece_size;
    EXPECT_EQ(copy_size, whole.size());
    // Every piece but the last reaches the piece size, and ends at the
    // first record that makes it do so: without its last record it is
    // below the piece size.
    uint64_t piece_start = kSegmentHeaderSize;
    size_t k = 0;
    for (size_t i = 0; i < sink.piece_sizes_.size(); ++i) {
      const uint64_t piece_end = piece_start + sink.piece_sizes_[i];
      uint64_t last = piece_start;
      while (k < sink.kept_.size() && sink.kept_[k].second < piece_end) {
        last = sink.kept_[k++].second;
      }
      if (i + 1 < sink.piece_sizes_.size()) {
        EXPECT_GE(sink.piece_sizes_[i], piece_size);
      }
      EXPECT_LT(last - piece_start, piece_size);
      piece_start = piece_end;
    }
    EXPECT_EQ(k, sink.kept_.size());
    if (piece_size == 1) {
      EXPECT_EQ(sink.piece_sizes_.size(), 8u);
    } else {
      // Reserved to two pieces, the buffer does not move for records no
      // larger than a piece: a second copy through it keeps it in place.
      EXPECT_GE(piece.capacity(), 2 * piece_size);
      const char* const before = piece.data();
      RecordingSink again;
      ASSERT_TRUE(
          Stream(image, keep, piece_size, &again, &copy_size, &piece).ok());
      EXPECT_EQ(piece.data(), before);
      EXPECT_EQ(again.file_, whole);
    }
    // The kept records as a scan of the file finds them.
    std::vector<std::pair<uint64_t, uint64_t>> scanned;
    SegmentHeader header;
    ScavengedFields fields;
    ASSERT_TRUE(ScanScavengedSegment(
                    Bytes(whole), whole.size(), kFile,
                    [&](const ScannedRecord& r) {
                      scanned.emplace_back(r.header.position, r.offset);
                    },
                    &header, &fields)
                    .ok());
    EXPECT_EQ(sink.kept_, scanned);
  }
}

TEST(ScavengedSegmentTest, AFailedWriteEndsTheStreamedCopy) {
  SegmentImage image = Source();
  for (int fail_at : {1, 3, 11}) {
    RecordingSink sink;
    sink.fail_at_write_ = fail_at;
    uint64_t copy_size = 0;
    // Ten records, one piece each, then the header: write 11.
    Status s = Stream(image, KeepAll(), 1, &sink, &copy_size);
    EXPECT_TRUE(s.IsIOError()) << fail_at << ": " << s.ToString();
    EXPECT_EQ(sink.writes_, fail_at);
  }
}

class ScavengedDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SegmentImage image = Source();
    ScavengeCopyStats stats;
    ASSERT_TRUE(Build(image, KeepEvenPositions(), &copy_, &stats).ok());
  }
  Status Scan() {
    SegmentHeader header;
    ScavengedFields fields;
    return ScanScavengedSegment(Bytes(copy_), copy_.size(), kFile, {}, &header,
                                &fields);
  }
  std::string copy_;
};

TEST_F(ScavengedDamageTest, ABodyByteIsCorruption) {
  copy_[kSegmentHeaderSize + 60] ^= 0x01;
  EXPECT_TRUE(Scan().IsCorruption());
}

TEST_F(ScavengedDamageTest, TheEndPositionIsCoveredByTheChecksum) {
  copy_[64] ^= 0x01;
  EXPECT_TRUE(Scan().IsCorruption());
}

TEST_F(ScavengedDamageTest, ATruncatedFileIsCorruption) {
  copy_.resize(copy_.size() - 1);
  EXPECT_TRUE(Scan().IsCorruption());
}

TEST_F(ScavengedDamageTest, BytesAfterTheLastRecordAreCorruption) {
  copy_.append(64, '\0');
  EXPECT_TRUE(Scan().IsCorruption());
}

TEST_F(ScavengedDamageTest, AMissingMarkIsCorruption) {
  for (const uint32_t slot : kDurableMarkOffsets) {
    std::fill(copy_.begin() + slot, copy_.begin() + slot + kDurableMarkSize,
              '\0');
  }
  EXPECT_TRUE(Scan().IsCorruption());
}

// A version-3 file assembled from records at the given positions.
std::string Assemble(const std::vector<uint64_t>& positions,
                     uint64_t end_position) {
  SegmentHeader header = Source().header();
  std::string bytes(kSegmentHeaderSize, '\0');
  for (const uint64_t p : positions) {
    bytes += testing::SealedRecord(testing::MakeEvent("s", "t", "{}"), p, 0,
                                   kSegmentHeaderSize, true, header.Seed());
  }
  header.capacity = bytes.size();
  ScavengedFields fields;
  fields.end_position = end_position;
  auto* out = reinterpret_cast<uint8_t*>(bytes.data());
  EncodeScavengedSegmentHeader(header, fields, out);
  EncodeDurableMark(ClosedMark(bytes.size(), end_position), header.Seed(),
                    out + DurableMarkOffset(1));
  return bytes;
}

Status ScanAssembled(const std::string& bytes) {
  SegmentHeader header;
  ScavengedFields fields;
  return ScanScavengedSegment(Bytes(bytes), bytes.size(), kFile, {}, &header,
                              &fields);
}

TEST(ScavengedPositionsTest, GapsPassRepeatsAndDisorderDoNot) {
  EXPECT_TRUE(ScanAssembled(Assemble({100, 103, 109}, 110)).ok());
  EXPECT_TRUE(ScanAssembled(Assemble({100, 103, 103}, 110)).IsCorruption());
  EXPECT_TRUE(ScanAssembled(Assemble({103, 101}, 110)).IsCorruption());
  // Before the segment's first position, or at or past its end.
  EXPECT_TRUE(ScanAssembled(Assemble({99}, 110)).IsCorruption());
  EXPECT_TRUE(ScanAssembled(Assemble({110}, 110)).IsCorruption());
}

}  // namespace
}  // namespace cairn::segment
