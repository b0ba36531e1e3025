// Copyright (c) Cairn authors.
//
// LogIndexer over the log of a closed store: every scanned append reaches
// the stream index and the link index once, and records that do not
// continue one stream, or a position missing outside a scavenged segment,
// are Corruption rather than a wrong index.
#include "engine/src/log_indexer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/io/file_system.h"
#include "engine/src/record_locator.h"
#include "engine/src/segment_log.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using engine::LogIndexer;
using engine::MappedSegment;
using engine::RecordLocator;
using engine::SegmentLog;

// One visit of the log's replay: an append's records.
struct Visit {
  MappedSegment segment;
  std::vector<segment::ScannedRecord> records;
};

class LogIndexerTest : public ::testing::Test {
 protected:
  // Ten appends of three events, to s0, s1, s2, s0, ...: positions 0-29.
  void SetUp() override {
    options_ = testing::SmallOptions();
    auto store = Store::Open(dir_.Sub("store"), options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 0; i < 10; ++i) {
      std::string stream("s");  // appended: GCC bug 105651 (-Wrestrict)
      stream += std::to_string(i % 3);
      auto r =
          (*store)->Append(stream, ExpectedVersion::Any(), testing::Events(3));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    CAIRN_ASSERT_OK((*store)->Close());
    auto log = SegmentLog::Open(io::PosixFileSystem(), dir_.Sub("store"),
                                options_, /*writable=*/false, 0);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log.value());
    locator_ = std::make_unique<RecordLocator>(log_.get(), dir_.Sub("store"),
                                               /*read_only=*/true);
    CAIRN_ASSERT_OK(log_->Replay(
        SegmentLog::ReplayStart{}, 0, std::numeric_limits<uint64_t>::max(),
        [&](const MappedSegment& segment,
            std::span<const segment::ScannedRecord> records) {
          visits_.push_back(
              Visit{segment, std::vector(records.begin(), records.end())});
        },
        nullptr));
    ASSERT_EQ(visits_.size(), 10u);
    // Fresh indexes elsewhere, which list tables only below durable_.
    index::IndexOptions index_options;
    index::NameReader names = [this](uint64_t position, uint32_t offset) {
      return locator_->StreamNameAt(position, offset);
    };
    auto index = index::PersistentIndex::Open(
        io::PosixFileSystem(), dir_.Sub("index"), log_->store_id(), 0,
        index_options, names, &durable_);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(index.value());
    index::EventKeyReader keys = [this](uint64_t position, uint32_t offset) {
      return locator_->EventKeyAt(position, offset);
    };
    auto links =
        index::LinkIndex::Open(io::PosixFileSystem(), dir_.Sub("links"),
                               log_->store_id(), 0, index_options, keys);
    ASSERT_TRUE(links.ok()) << links.status().ToString();
    links_ = std::move(links.value());
  }

  testing::TempDir dir_;
  Options options_;
  std::unique_ptr<SegmentLog> log_;
  std::unique_ptr<RecordLocator> locator_;
  std::vector<Visit> visits_;
  std::atomic<uint64_t> durable_{std::numeric_limits<uint64_t>::max()};
  // Destroyed before the locator their readers use.
  std::unique_ptr<index::PersistentIndex> index_;
  std::unique_ptr<index::LinkIndex> links_;
};

TEST_F(LogIndexerTest, EveryAppendReachesBothIndexes) {
  LogIndexer indexer(log_.get(), index_.get(), links_.get());
  for (const Visit& v : visits_) {
    CAIRN_ASSERT_OK(indexer.Add(v.segment, v.records));
  }
  EXPECT_EQ(index_->next_position(), 30u);
  EXPECT_EQ(links_->next_position(), 30u);
  for (const auto& [stream, last] :
       {std::pair<std::string, uint64_t>{"s0", 11}, {"s1", 8}, {"s2", 8}}) {
    auto revision = index_->LastRevision(stream);
    ASSERT_TRUE(revision.ok()) << revision.status().ToString();
    EXPECT_EQ(*revision, std::optional<uint64_t>(last)) << stream;
  }
  // Every event has type "E": the type stream holds all thirty.
  auto by_type = links_->LastRevision("$et-E");
  ASSERT_TRUE(by_type.ok()) << by_type.status().ToString();
  EXPECT_EQ(*by_type, std::optional<uint64_t>(29));
  CAIRN_ASSERT_OK(indexer.SkipToEnd(30));  // no scavenged segment: nothing
  EXPECT_EQ(index_->next_position(), 30u);
}

TEST_F(LogIndexerTest, AnAppendAlreadyIndexedIsSkipped) {
  LogIndexer indexer(log_.get(), index_.get(), nullptr);
  CAIRN_ASSERT_OK(indexer.Add(visits_[0].segment, visits_[0].records));
  CAIRN_ASSERT_OK(indexer.Add(visits_[0].segment, visits_[0].records));
  // A replay that starts inside an append: its tail only is new.
  CAIRN_ASSERT_OK(indexer.Add(
      visits_[1].segment,
      std::span<const segment::ScannedRecord>(visits_[1].records).first(1)));
  CAIRN_ASSERT_OK(indexer.Add(visits_[1].segment, visits_[1].records));
  EXPECT_EQ(index_->next_position(), 6u);
  auto revision = index_->LastRevision("s1");
  ASSERT_TRUE(revision.ok()) << revision.status().ToString();
  EXPECT_EQ(*revision, std::optional<uint64_t>(2));
}

TEST_F(LogIndexerTest, RecordsThatDoNotContinueOneStreamAreCorruption) {
  LogIndexer indexer(log_.get(), index_.get(), links_.get());
  ASSERT_EQ(visits_[0].segment->path, visits_[1].segment->path);
  // Two appends of different streams, passed as one.
  std::vector<segment::ScannedRecord> mixed = visits_[0].records;
  mixed.insert(mixed.end(), visits_[1].records.begin(),
               visits_[1].records.end());
  Status s = indexer.Add(visits_[0].segment, mixed);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("does not continue"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(index_->next_position(), 0u);  // nothing indexed
}

TEST_F(LogIndexerTest, APositionMissingOutsideAScavengedSegmentIsCorruption) {
  LogIndexer indexer(log_.get(), index_.get(), links_.get());
  // Positions 0-2 are in an original segment: only a scavenge removes
  // positions, and only from the segments it rewrote.
  Status s = indexer.Add(visits_[1].segment, visits_[1].records);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("outside a scavenged segment"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(index_->next_position(), 0u);
}

}  // namespace
}  // namespace cairn
