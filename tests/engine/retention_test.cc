// Copyright (c) Cairn authors.
//
// Retention on reads: $maxCount, $maxAge and $tb hide events from
// ReadStream and stream subscriptions at once, with nothing removed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

std::vector<uint64_t> Revisions(const ReadStreamResult& read) {
  std::vector<uint64_t> out;
  for (const RecordedEvent& e : read.events) out.push_back(e.revision.value());
  return out;
}

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir_.Sub("store"), testing::SmallOptions());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    ASSERT_TRUE(
        store_->Append("s", ExpectedVersion::NoStream(), Events(10)).ok());
  }
  void SetMetadata(const std::string& json) {
    auto set = store_->SetStreamMetadataJson("s", ExpectedVersion::Any(), json);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
  }
  ReadStreamResult Read(Direction direction,
                        std::optional<uint64_t> from = std::nullopt,
                        uint64_t max_count = 100) {
    ReadStreamOptions o;
    o.direction = direction;
    if (from) o.from = StreamRevision(*from);
    o.max_count = max_count;
    auto read = store_->ReadStream("s", o);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    return read.ok() ? std::move(read).value() : ReadStreamResult{};
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(RetentionTest, MaxCountOneKeepsTheNewestEvent) {
  SetMetadata(R"({"$maxCount":1})");
  auto forward = Read(Direction::kForward);
  EXPECT_EQ(Revisions(forward), std::vector<uint64_t>{9});
  EXPECT_TRUE(forward.end_of_stream);
  EXPECT_EQ(forward.last_revision, StreamRevision(9));
  EXPECT_EQ(Revisions(Read(Direction::kBackward)), std::vector<uint64_t>{9});
  // A new event pushes the old one out.
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Exact(9), Events(1)).ok());
  EXPECT_EQ(Revisions(Read(Direction::kForward)), std::vector<uint64_t>{10});
}

TEST_F(RetentionTest, MetadataSetAfterAReadAppliesAtOnce) {
  // The first read finds that "s" has no metadata (the index caches that);
  // the metadata written next must hide events on the very next read.
  EXPECT_EQ(Read(Direction::kForward).events.size(), 10u);
  SetMetadata(R"({"$maxCount":2})");
  EXPECT_EQ(Revisions(Read(Direction::kForward)),
            (std::vector<uint64_t>{8, 9}));
}

TEST_F(RetentionTest, MaxCountZeroIsRefused) {
  auto set = store_->SetStreamMetadataJson("s", ExpectedVersion::Any(),
                                           R"({"$maxCount":0})");
  EXPECT_TRUE(set.status().IsInvalidArgument());
  EXPECT_EQ(Read(Direction::kForward).events.size(), 10u);
}

TEST_F(RetentionTest, MaxCountLargerThanTheStreamHidesNothing) {
  SetMetadata(R"({"$maxCount":1000})");
  EXPECT_EQ(Read(Direction::kForward).events.size(), 10u);
}

TEST_F(RetentionTest, TruncateBeforeHidesLowerRevisions) {
  SetMetadata(R"({"$tb":4})");
  EXPECT_EQ(Revisions(Read(Direction::kForward, 0, 3)),
            (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_EQ(Revisions(Read(Direction::kBackward, 5)),
            (std::vector<uint64_t>{5, 4}));
  auto below = Read(Direction::kBackward, 2);
  EXPECT_TRUE(below.events.empty());
  EXPECT_TRUE(below.end_of_stream);
}

TEST_F(RetentionTest, TruncateBeforeBeyondTheEndHidesEverything) {
  SetMetadata(R"({"$tb":50})");
  auto forward = Read(Direction::kForward);
  EXPECT_TRUE(forward.events.empty());
  EXPECT_TRUE(forward.end_of_stream);
  EXPECT_EQ(forward.last_revision, StreamRevision(9));
  EXPECT_TRUE(Read(Direction::kBackward).events.empty());
  // The stream still exists: appends continue its revisions.
  auto next = store_->Append("s", ExpectedVersion::Exact(9), Events(1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first_revision, StreamRevision(10));
}

TEST_F(RetentionTest, TheStrictestRuleWins) {
  SetMetadata(R"({"$tb":2,"$maxCount":3})");
  EXPECT_EQ(Revisions(Read(Direction::kForward)),
            (std::vector<uint64_t>{7, 8, 9}));
  SetMetadata(R"({"$tb":8,"$maxCount":5})");
  EXPECT_EQ(Revisions(Read(Direction::kForward)),
            (std::vector<uint64_t>{8, 9}));
}

TEST_F(RetentionTest, BackwardPagingStopsAtTheCutoff) {
  SetMetadata(R"({"$maxCount":4})");
  auto first = Read(Direction::kBackward, std::nullopt, 3);
  EXPECT_EQ(Revisions(first), (std::vector<uint64_t>{9, 8, 7}));
  EXPECT_FALSE(first.end_of_stream);
  auto second = Read(Direction::kBackward, 6, 3);
  EXPECT_EQ(Revisions(second), std::vector<uint64_t>{6});
  EXPECT_TRUE(second.end_of_stream);
}

TEST_F(RetentionTest, MaxAgeJudgesEachEventsCreatedTime) {
  CAIRN_ASSERT_OK_AND_ASSIGN(stored, store_->ReadStream("s", {}));
  std::vector<int64_t> created;
  for (const RecordedEvent& e : stored.events) created.push_back(e.created_us);
  ASSERT_TRUE(store_->Append("t", ExpectedVersion::Any(), Events(1)).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(later, store_->ReadStream("t", {}));
  const int64_t newest = later.events[0].created_us;
  SetMetadata(R"({"$maxAge":10})");
  auto* impl = static_cast<engine::StoreImpl*>(store_.get());
  // Now is 10 s after the fifth event was created: events created before
  // it are older than 10 s.
  impl->SetRetentionClockForTest(created[4] + 10'000'000);
  std::vector<uint64_t> expected;
  for (uint64_t r = 0; r < 10; ++r) {
    if (created[r] >= created[4]) expected.push_back(r);
  }
  EXPECT_EQ(Revisions(Read(Direction::kForward)), expected);
  std::vector<uint64_t> reversed(expected.rbegin(), expected.rend());
  EXPECT_EQ(Revisions(Read(Direction::kBackward)), reversed);
  // Long after every event: nothing is readable, the stream still exists.
  impl->SetRetentionClockForTest(newest + 11'000'000);
  auto none = Read(Direction::kForward);
  EXPECT_TRUE(none.events.empty());
  EXPECT_TRUE(none.end_of_stream);
  // Right when they were written: all of them.
  impl->SetRetentionClockForTest(newest);
  EXPECT_EQ(Read(Direction::kForward).events.size(), 10u);
}

TEST_F(RetentionTest, MetadataStreamsReadAsTheirNewestEvent) {
  // KurrentDB's implicit $maxCount of 1 for metadata streams: the older
  // versions are unreadable (and a scavenge removes them).
  SetMetadata(R"({"$maxCount":1})");
  SetMetadata(R"({"$maxCount":2})");
  CAIRN_ASSERT_OK_AND_ASSIGN(meta, store_->ReadStream("$$s", {}));
  ASSERT_EQ(meta.events.size(), 1u);
  EXPECT_EQ(meta.events[0].revision, StreamRevision(1));
  EXPECT_EQ(meta.events[0].data, R"({"$maxCount":2})");
}

TEST_F(RetentionTest, RetentionHoldsAcrossReopen) {
  SetMetadata(R"({"$maxCount":2})");
  CAIRN_ASSERT_OK(store_->Close());
  store_.reset();
  Options rebuild = testing::SmallOptions();
  rebuild.rebuild_index = true;
  auto opened = Store::Open(dir_.Sub("store"), rebuild);
  ASSERT_TRUE(opened.ok());
  store_ = std::move(opened).value();
  EXPECT_EQ(Revisions(Read(Direction::kForward)),
            (std::vector<uint64_t>{8, 9}));
}

TEST_F(RetentionTest, StreamSubscriptionSkipsHiddenEvents) {
  SetMetadata(R"({"$maxCount":3})");
  auto recorder = std::make_shared<testing::SubscriptionRecorder>();
  SubscriptionOptions options;
  options.stream = "s";
  CAIRN_ASSERT_OK_AND_ASSIGN(sub, store_->Subscribe(options, recorder));
  ASSERT_TRUE(
      recorder->WaitFor([&] { return !recorder->caught_up_locked().empty(); }));
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Exact(9), Events(1)).ok());
  ASSERT_TRUE(recorder->WaitForEvents(4));
  std::vector<uint64_t> revisions;
  for (const RecordedEvent& e : recorder->events()) {
    revisions.push_back(e.revision.value());
  }
  EXPECT_EQ(revisions, (std::vector<uint64_t>{7, 8, 9, 10}));
  sub->Stop();
}

}  // namespace
}  // namespace cairn
