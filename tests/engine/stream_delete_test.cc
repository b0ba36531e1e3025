// Copyright (c) Cairn authors.
//
// Soft delete and tombstones: what reads, appends, metadata calls and
// subscriptions see afterwards, optimistic concurrency, reopen and index
// rebuild, and concurrent appends racing a tombstone.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

class StreamDeleteTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(bool rebuild_index = false) {
    Options options = testing::SmallOptions();
    options.rebuild_index = rebuild_index;
    auto opened = Store::Open(dir_.Sub("store"), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void Reopen(bool rebuild_index) {
    ASSERT_TRUE(store_->Close().ok());
    store_.reset();
    Open(rebuild_index);
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StreamDeleteTest, SoftDeletedStreamReadsAsNotFound) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(3)).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(deleted,
                             store_->Delete("s", ExpectedVersion::Exact(2)));
  EXPECT_EQ(deleted.position, GlobalPosition(3));
  EXPECT_TRUE(store_->ReadStream("s", {}).status().IsNotFound());
  CAIRN_ASSERT_OK_AND_ASSIGN(meta, store_->GetStreamMetadata("s"));
  EXPECT_EQ(meta.metadata.truncate_before, kSoftDeletedTruncateBefore);
  // $all still holds the events, and the delete's metadata event.
  CAIRN_ASSERT_OK_AND_ASSIGN(all, store_->ReadAll(testing::AllUpTo(10)));
  ASSERT_EQ(all.events.size(), 4u);
  EXPECT_EQ(all.events[3].stream, "$$s");
  EXPECT_EQ(all.events[3].type, "$metadata");
}

TEST_F(StreamDeleteTest, AppendAfterSoftDeleteContinuesRevisions) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(3)).ok());
  ASSERT_TRUE(store_->Delete("s", ExpectedVersion::Any()).ok());
  // The stream's revisions continue: its revision is still the old last.
  CAIRN_ASSERT_OK_AND_ASSIGN(
      again, store_->Append("s", ExpectedVersion::Exact(2), Events(2)));
  EXPECT_EQ(again.first_revision, StreamRevision(3));
  CAIRN_ASSERT_OK_AND_ASSIGN(read, store_->ReadStream("s", {}));
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_EQ(read.events[0].revision, StreamRevision(3));
  EXPECT_EQ(read.events[1].revision, StreamRevision(4));
  // Survives reopen and an index rebuild.
  Reopen(/*rebuild_index=*/true);
  CAIRN_ASSERT_OK_AND_ASSIGN(after, store_->ReadStream("s", {}));
  ASSERT_EQ(after.events.size(), 2u);
  EXPECT_EQ(after.events[0].revision, StreamRevision(3));
}

TEST_F(StreamDeleteTest, SoftDeleteKeepsOtherMetadata) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(5)).ok());
  ASSERT_TRUE(store_
                  ->SetStreamMetadataJson("s", ExpectedVersion::Any(),
                                          R"({"$maxCount":2,"owner":"ops"})")
                  .ok());
  ASSERT_TRUE(store_->Delete("s", ExpectedVersion::Any()).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(meta, store_->GetStreamMetadata("s"));
  EXPECT_EQ(meta.json,
            R"({"$maxCount":2,"owner":"ops","$tb":9223372036854775807})");
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(3)).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(read, store_->ReadStream("s", {}));
  ASSERT_EQ(read.events.size(), 2u);  // $maxCount still applies
  EXPECT_EQ(read.events[0].revision, StreamRevision(6));
}

TEST_F(StreamDeleteTest, MetadataWriteAfterRecreationKeepsNewEvents) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(2)).ok());
  ASSERT_TRUE(store_->Delete("s", ExpectedVersion::Any()).ok());
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(1)).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(meta, store_->GetStreamMetadata("s"));
  // Writing the metadata back (with the delete's $tb) turns the cut into an
  // ordinary $tb at the first event after the delete.
  ASSERT_TRUE(store_
                  ->SetStreamMetadataJson(
                      "s",
                      ExpectedVersion::Exact(meta.metastream_revision->value()),
                      meta.json)
                  .ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(now, store_->GetStreamMetadata("s"));
  EXPECT_EQ(now.metadata.truncate_before, 2u);
  CAIRN_ASSERT_OK_AND_ASSIGN(read, store_->ReadStream("s", {}));
  ASSERT_EQ(read.events.size(), 1u);
  EXPECT_EQ(read.events[0].revision, StreamRevision(2));
}

// The cut that replaces the delete's $tb is where the stream was
// recreated, whatever $maxCount hides: a larger $maxCount written with it
// shows every event since the delete.
TEST_F(StreamDeleteTest, MetadataWriteAfterRecreationIgnoresTheOldMaxCount) {
  ASSERT_TRUE(store_
                  ->SetStreamMetadataJson("s", ExpectedVersion::Any(),
                                          R"({"$maxCount":2})")
                  .ok());
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(5)).ok());
  ASSERT_TRUE(store_->Delete("s", ExpectedVersion::Any()).ok());
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(3)).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(read, store_->ReadStream("s", {}));
  ASSERT_EQ(read.events.size(), 2u);  // $maxCount 2 of revisions 5..7
  ASSERT_TRUE(store_
                  ->SetStreamMetadataJson(
                      "s", ExpectedVersion::Any(),
                      R"({"$maxCount":100,"$tb":9223372036854775807})")
                  .ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(now, store_->GetStreamMetadata("s"));
  EXPECT_EQ(now.metadata.truncate_before, 5u);
  CAIRN_ASSERT_OK_AND_ASSIGN(all, store_->ReadStream("s", {}));
  ASSERT_EQ(all.events.size(), 3u);
  EXPECT_EQ(all.events[0].revision, StreamRevision(5));
}

TEST_F(StreamDeleteTest, DeleteChecksTheExpectedVersion) {
  auto missing = store_->Delete("none", ExpectedVersion::Any());
  ASSERT_TRUE(missing.status().IsWrongExpectedVersion())
      << missing.status().ToString();
  EXPECT_FALSE(missing.status().wrong_expected_version()->actual_revision);
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(3)).ok());
  auto stale = store_->Delete("s", ExpectedVersion::Exact(1));
  ASSERT_TRUE(stale.status().IsWrongExpectedVersion());
  EXPECT_EQ(stale.status().wrong_expected_version()->actual_revision, 2u);
  EXPECT_TRUE(store_->Delete("s", ExpectedVersion::NoStream())
                  .status()
                  .IsWrongExpectedVersion());
  CAIRN_ASSERT_OK_AND_ASSIGN(read, store_->ReadStream("s", {}));
  EXPECT_EQ(read.events.size(), 3u);  // nothing was deleted
  EXPECT_TRUE(
      store_->Delete("s", ExpectedVersion::StreamExists()).status().ok());
}

TEST_F(StreamDeleteTest, StreamWithOnlyMetadataCanBeDeleted) {
  ASSERT_TRUE(
      store_->SetStreamMetadataJson("s", ExpectedVersion::Any(), "{}").ok());
  EXPECT_TRUE(store_->Delete("s", ExpectedVersion::Any()).ok());
}

TEST_F(StreamDeleteTest, TombstoneRefusesEverythingAfterwards) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(2)).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(t,
                             store_->Tombstone("s", ExpectedVersion::Exact(1)));
  EXPECT_EQ(t.position, GlobalPosition(2));
  EXPECT_TRUE(store_->ReadStream("s", {}).status().IsStreamDeleted());
  ReadStreamOptions backward;
  backward.direction = Direction::kBackward;
  EXPECT_TRUE(store_->ReadStream("s", backward).status().IsStreamDeleted());
  auto append = store_->Append("s", ExpectedVersion::Any(), Events(1));
  EXPECT_TRUE(append.status().IsStreamDeleted()) << append.status().ToString();
  EXPECT_TRUE(store_->Append("s", ExpectedVersion::NoStream(), Events(1))
                  .status()
                  .IsStreamDeleted());
  EXPECT_TRUE(
      store_->Delete("s", ExpectedVersion::Any()).status().IsStreamDeleted());
  EXPECT_TRUE(store_->Tombstone("s", ExpectedVersion::Any())
                  .status()
                  .IsStreamDeleted());
  EXPECT_TRUE(store_->GetStreamMetadata("s").status().IsStreamDeleted());
  EXPECT_TRUE(store_->SetStreamMetadataJson("s", ExpectedVersion::Any(), "{}")
                  .status()
                  .IsStreamDeleted());
  // $all keeps the events and shows the tombstone.
  CAIRN_ASSERT_OK_AND_ASSIGN(all, store_->ReadAll(testing::AllUpTo(10)));
  ASSERT_EQ(all.events.size(), 3u);
  EXPECT_EQ(all.events[2].type, "$streamDeleted");
  EXPECT_EQ(all.events[2].revision, StreamRevision(2));
}

TEST_F(StreamDeleteTest, TombstoneSurvivesReopenAndIndexRebuild) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(2)).ok());
  ASSERT_TRUE(store_->Tombstone("s", ExpectedVersion::Any()).ok());
  Reopen(/*rebuild_index=*/false);
  EXPECT_TRUE(store_->ReadStream("s", {}).status().IsStreamDeleted());
  Reopen(/*rebuild_index=*/true);
  EXPECT_TRUE(store_->ReadStream("s", {}).status().IsStreamDeleted());
  // The first refusal reads the tombstone (the replay did not tell the
  // index what it is); the second is answered from the stream cache.
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(1))
                    .status()
                    .IsStreamDeleted());
  }
  EXPECT_TRUE(store_->ReadStream("s", {}).status().IsStreamDeleted());
}

TEST_F(StreamDeleteTest, TombstoneChecksTheExpectedVersion) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(2)).ok());
  auto stale = store_->Tombstone("s", ExpectedVersion::Exact(0));
  ASSERT_TRUE(stale.status().IsWrongExpectedVersion());
  EXPECT_EQ(stale.status().wrong_expected_version()->actual_revision, 1u);
  CAIRN_ASSERT_OK_AND_ASSIGN(read, store_->ReadStream("s", {}));
  EXPECT_EQ(read.events.size(), 2u);
  // A name never used can be tombstoned, and never used afterwards.
  ASSERT_TRUE(store_->Tombstone("fresh", ExpectedVersion::NoStream()).ok());
  EXPECT_TRUE(store_->Append("fresh", ExpectedVersion::NoStream(), Events(1))
                  .status()
                  .IsStreamDeleted());
  EXPECT_TRUE(store_->Tombstone("$$s", ExpectedVersion::Any())
                  .status()
                  .IsInvalidArgument());
}

TEST_F(StreamDeleteTest, AppendsInTheSameGroupAsTheTombstoneAreRefused) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(1)).ok());
  // Queued back to back, they are likely sequenced in one group; either
  // way every append after the tombstone is refused.
  std::vector<std::future<Result<AppendResult>>> after;
  std::promise<Result<DeleteResult>> tombstoned;
  std::thread deleter([&] {
    tombstoned.set_value(store_->Tombstone("s", ExpectedVersion::Any()));
  });
  for (int i = 0; i < 20; ++i) {
    after.push_back(
        store_->AppendFuture("s", ExpectedVersion::Any(), Events(1)));
  }
  deleter.join();
  auto t = tombstoned.get_future().get();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (auto& f : after) {
    auto r = f.get();
    if (r.ok()) {
      EXPECT_LT(r->first_position.value(), t->position.value());
    } else {
      EXPECT_TRUE(r.status().IsStreamDeleted()) << r.status().ToString();
    }
  }
  CAIRN_ASSERT_OK_AND_ASSIGN(all, store_->ReadAll(testing::AllUpTo(100)));
  EXPECT_EQ(all.events.back().type, "$streamDeleted");
}

TEST_F(StreamDeleteTest, SubscriptionsSeeDeletesAndATombstoneEndsOne) {
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(2)).ok());
  auto all = std::make_shared<testing::SubscriptionRecorder>();
  CAIRN_ASSERT_OK_AND_ASSIGN(all_sub, store_->Subscribe({}, all));
  auto one = std::make_shared<testing::SubscriptionRecorder>();
  SubscriptionOptions options;
  options.stream = "s";
  CAIRN_ASSERT_OK_AND_ASSIGN(one_sub, store_->Subscribe(options, one));
  ASSERT_TRUE(one->WaitForEvents(2));
  ASSERT_TRUE(store_->Delete("s", ExpectedVersion::Any()).ok());
  ASSERT_TRUE(store_->Tombstone("s", ExpectedVersion::Any()).ok());
  ASSERT_TRUE(all->WaitForEvents(4));
  auto seen = all->events();
  EXPECT_EQ(seen[2].type, "$metadata");
  EXPECT_EQ(seen[3].type, "$streamDeleted");
  ASSERT_TRUE(one->WaitFor([&] { return one->stopped_locked(); }));
  EXPECT_TRUE(one->stop_status().IsStreamDeleted())
      << one->stop_status().ToString();
  EXPECT_EQ(one->events().size(), 2u);
  all_sub->Stop();
}

TEST_F(StreamDeleteTest, ConcurrentWritersAndDeletersAgree) {
  // Appenders, metadata writers and a soft delete race a tombstone on a
  // few streams (run under TSan by CI). Afterwards every stream that was
  // tombstoned refuses appends and its tombstone is its last event.
  constexpr int kStreams = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string stream = "s-" + std::to_string(i % kStreams);
        switch ((t + i) % 4) {
          case 0:
            (void)store_->Append(stream, ExpectedVersion::Any(), Events(1));
            break;
          case 1:
            (void)store_->SetStreamMetadataJson(stream, ExpectedVersion::Any(),
                                                R"({"$maxCount":5})");
            break;
          case 2:
            (void)store_->Delete(stream, ExpectedVersion::Any());
            break;
          default:
            if (i > 20) (void)store_->Tombstone(stream, ExpectedVersion::Any());
            (void)store_->ReadStream(stream, {});
            break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int s = 0; s < kStreams; ++s) {
    std::string stream = "s-" + std::to_string(s);
    auto read = store_->ReadStream(stream, {});
    if (read.status().IsStreamDeleted()) {
      EXPECT_TRUE(store_->Append(stream, ExpectedVersion::Any(), Events(1))
                      .status()
                      .IsStreamDeleted());
    } else if (read.ok()) {
      EXPECT_LE(read->events.size(), 5u);
    } else {
      EXPECT_TRUE(read.status().IsNotFound()) << read.status().ToString();
    }
  }
}

}  // namespace
}  // namespace cairn
