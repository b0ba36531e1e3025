// Copyright (c) Cairn authors.
//
// RecordLocator over a log written by a store: records found by position
// (walking headers), by an indexed offset, and, for a read-only handle, by
// position again where the offset is another file generation's.
#include "engine/src/record_locator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/io/file_system.h"
#include "engine/src/segment_log.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using engine::MappedSegment;
using engine::RecordLocator;
using engine::SegmentLog;

class RecordLocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = testing::SmallOptions();
    options_.compression_threshold = 0;
    auto store = Store::Open(dir(), options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 0; i < 10; ++i) {
      std::string stream("s");  // appended: GCC bug 105651 (-Wrestrict)
      stream += std::to_string(i % 3);
      std::vector<EventData> events = testing::Events(3);
      auto r = (*store)->Append(stream, ExpectedVersion::Any(), events);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      for (size_t k = 0; k < events.size(); ++k) {
        ids_[r->first_position.value() + k] = events[k].id;
        streams_[r->first_position.value() + k] = stream;
      }
    }
    CAIRN_ASSERT_OK((*store)->Close());
    auto log = SegmentLog::Open(io::PosixFileSystem(), dir(), options_,
                                /*writable=*/false, 0);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log.value());
    CAIRN_ASSERT_OK(log_->Replay(
        SegmentLog::ReplayStart{}, 0, std::numeric_limits<uint64_t>::max(),
        [&](const MappedSegment&,
            std::span<const segment::ScannedRecord> records) {
          for (const segment::ScannedRecord& r : records) {
            offsets_[r.header.position] = r.offset;
          }
        },
        nullptr));
    ASSERT_EQ(offsets_.size(), 30u);
  }
  std::string dir() const { return dir_.Sub("store"); }

  testing::TempDir dir_;
  Options options_;
  std::unique_ptr<SegmentLog> log_;
  std::map<uint64_t, uint64_t> offsets_;  // position -> offset
  std::map<uint64_t, EventId> ids_;
  std::map<uint64_t, std::string> streams_;
};

TEST_F(RecordLocatorTest, LocatesEveryPositionByWalkingItsHeaders) {
  RecordLocator locator(log_.get(), dir(), /*read_only=*/false);
  for (const auto& [position, offset] : offsets_) {
    auto location = locator.Locate(position);
    ASSERT_TRUE(location.ok()) << location.status().ToString();
    EXPECT_EQ(location->offset, offset);
    EXPECT_EQ(location->position, position);
  }
  std::vector<RecordLocator::Location> range;
  CAIRN_ASSERT_OK(locator.LocateRange(4, 20, &range));
  ASSERT_EQ(range.size(), 17u);
  for (const RecordLocator::Location& at : range) {
    EXPECT_EQ(at.offset, offsets_.at(at.position));
  }
  EXPECT_TRUE(locator.Locate(30).status().IsCorruption());
}

TEST_F(RecordLocatorTest, AnIndexedOffsetGivesTheRecordAndItsKeys) {
  RecordLocator locator(log_.get(), dir(), /*read_only=*/false);
  for (const auto& [position, offset] : offsets_) {
    segment::RecordHeader header;
    MappedSegment pin;
    auto record = locator.VerifiedRecordAt(position, offset, &header, &pin);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(header.position, position);
    auto name = locator.StreamNameAt(position, offset);
    ASSERT_TRUE(name.ok()) << name.status().ToString();
    EXPECT_EQ(*name, streams_.at(position));
    auto id = locator.EventIdAt(position, offset);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_EQ(*id, ids_.at(position));
  }
}

// The writer's offsets are its own: one that does not hold the position's
// record is damage. A read-only handle's may be another generation's, and
// it finds the record by its position instead.
TEST_F(RecordLocatorTest, AWrongOffsetIsCorruptionUnlessReadOnly) {
  RecordLocator writer(log_.get(), dir(), /*read_only=*/false);
  RecordLocator reader(log_.get(), dir(), /*read_only=*/true);
  for (uint64_t position = 0; position < 29; ++position) {
    const uint64_t wrong = offsets_.at(position + 1);
    segment::RecordHeader header;
    MappedSegment pin;
    EXPECT_TRUE(writer.RecordAt(position, wrong, &header, &pin)
                    .status()
                    .IsCorruption());
    auto found = reader.RecordAt(position, wrong, &header, &pin);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(header.position, position);
    EXPECT_EQ(*found, pin.data() + offsets_.at(position));
    // Inside a record, where no header verifies.
    EXPECT_TRUE(
        writer.RecordAt(position, offsets_.at(position) + 8, &header, &pin)
            .status()
            .IsCorruption());
    found = reader.RecordAt(position, offsets_.at(position) + 8, &header, &pin);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(header.position, position);
  }
}

}  // namespace
}  // namespace cairn
