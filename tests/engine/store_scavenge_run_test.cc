// Copyright (c) Cairn authors.
//
// Store::Scavenge end to end: what it removes and keeps, that the removed
// bytes are gone from every file, that reads, appends and reopens agree
// afterwards, its errors, and power loss at every step of a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/scavenge_file.h"
#include "engine/src/store_impl.h"
#include "index/manifest.h"
#include "index/table.h"
#include "segment/segment_header.h"
#include "testing/fault_injection_file_system.h"
#include "testing/file_system_wrapper.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

Options ScavengeOptionsForTest() {
  Options options = testing::SmallOptions();
  options.compression_threshold = 0;  // markers stay findable in the files
  return options;
}

// Events of `stream` in the whole of $all, by position.
std::map<uint64_t, std::string> EventsInAll(Store& store,
                                            const std::string& stream) {
  std::map<uint64_t, std::string> out;
  auto all = store.ReadAll(testing::AllUpTo(100000));
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  if (!all.ok()) return out;
  uint64_t previous = 0;
  bool first = true;
  for (const RecordedEvent& e : all->events) {
    EXPECT_TRUE(first || e.position.value() > previous);
    first = false;
    previous = e.position.value();
    if (e.stream == stream) out[e.position.value()] = e.data;
  }
  return out;
}

class StoreScavengeRunTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto opened = Store::Open(dir(), ScavengeOptionsForTest());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  std::string dir() const { return dir_.Sub("store"); }
  ScavengeResult Scavenge(const ScavengeOptions& options = {}) {
    auto result = store_->Scavenge(options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : ScavengeResult{};
  }
  // Five events of "gone", tombstoned, and four of "kept".
  void TombstoneFiveKeepFour() {
    ASSERT_TRUE(
        store_->Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
    ASSERT_TRUE(store_->Tombstone("gone", ExpectedVersion::Any()).ok());
    ASSERT_TRUE(
        store_->Append("kept", ExpectedVersion::NoStream(), Events(4)).ok());
  }
  // Two scavenges of TombstoneFiveKeepFour's streams (the first removes
  // the five events, the second nothing) while another thread appends
  // three events at a time to "live" and calls `also` after each; how many
  // it appended.
  size_t ScavengeTwiceWhileAppending(const std::function<void()>& also = {}) {
    std::atomic<bool> done{false};
    std::atomic<size_t> appended{0};
    std::thread writer([&] {
      while (!done.load()) {
        auto r = store_->Append("live", ExpectedVersion::Any(), Events(3));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        appended.fetch_add(3);
        if (also) also();
      }
    });
    EXPECT_EQ(Scavenge().events_removed, 5u);
    EXPECT_EQ(Scavenge().events_removed, 0u);
    done.store(true);
    writer.join();
    return appended.load();
  }
  // Through `store`, or the fixture's store if null.
  void ExpectKeptAndGone(Store* store = nullptr) {
    Store& s = store != nullptr ? *store : *store_;
    auto kept = s.ReadStream("kept", ReadStreamOptions{});
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    ASSERT_EQ(kept->events.size(), 4u);
    for (uint64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(kept->events[i].revision.value(), i);
    }
    EXPECT_TRUE(
        s.ReadStream("gone", ReadStreamOptions{}).status().IsStreamDeleted());
  }

  // `n` events of 100 KiB to "filler": three fill a test segment.
  void AppendFiller(int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<EventData> big = {testing::Event(
          "F", std::string(100 * 1024, 'f'), EventId::Generate())};
      auto r = store_->Append("filler", ExpectedVersion::Any(), big);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  // A read-only handle on the store's directory.
  std::unique_ptr<Store> OpenFollower(Options options) {
    options.read_only = true;
    auto opened = Store::Open(dir(), options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  // TombstoneFiveKeepFour through the writer, synced, and a follower
  // opened with `options` that has read it.
  std::unique_ptr<Store> KeepFourAndFollow(const Options& options) {
    TombstoneFiveKeepFour();
    EXPECT_TRUE(store_->Sync().ok());
    std::unique_ptr<Store> follower = OpenFollower(options);
    if (follower != nullptr) ExpectKeptAndGone(follower.get());
    return follower;
  }
  // $all from `follower` has the writer's events, by position.
  void ExpectTheWritersAll(Store* follower) {
    auto from_follower = follower->ReadAll(testing::AllUpTo(1000));
    ASSERT_TRUE(from_follower.ok()) << from_follower.status().ToString();
    auto from_writer = store_->ReadAll(testing::AllUpTo(1000));
    ASSERT_TRUE(from_writer.ok()) << from_writer.status().ToString();
    ASSERT_EQ(from_follower->events.size(), from_writer->events.size());
    for (size_t i = 0; i < from_writer->events.size(); ++i) {
      EXPECT_EQ(from_follower->events[i].position,
                from_writer->events[i].position);
    }
  }

  // A read-only follower opened before a scavenge reads the kept streams
  // while the writer scavenges and appends, and then reads what the writer
  // reads. `with_snapshot`: a snapshot of a stream tombstoned before the
  // run too, which the run erases (the follower reads it as not found).
  void FollowerReadsAcrossARun(bool with_snapshot) {
    Options options = ScavengeOptionsForTest();
    options.index_memtable_events = 16;  // the follower adopts tables soon
    store_.reset();
    auto writer = Store::Open(dir(), options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    store_ = std::move(writer).value();
    TombstoneFiveKeepFour();
    if (with_snapshot) {
      ASSERT_TRUE(
          store_->Append("person", ExpectedVersion::NoStream(), Events(2))
              .ok());
      SnapshotData snapshot;
      snapshot.data = "state";
      ASSERT_TRUE(store_
                      ->SaveSnapshot("person", StreamRevision(1), snapshot,
                                     SaveSnapshotOptions{})
                      .ok());
      ASSERT_TRUE(store_->Tombstone("person", ExpectedVersion::Any()).ok());
    }
    ASSERT_TRUE(store_->Sync().ok());
    std::unique_ptr<Store> follower = OpenFollower(options);
    ASSERT_NE(follower, nullptr);

    ExpectKeptAndGone(follower.get());  // its segments are mapped now
    if (with_snapshot) {
      // Read before the run: the follower's stream cache knows it.
      auto saved =
          follower->ReadStream("$snapshot-person", ReadStreamOptions{});
      ASSERT_TRUE(saved.ok()) << saved.status().ToString();
      ASSERT_EQ(saved->events.size(), 1u);
    }

    EXPECT_EQ(Scavenge().events_removed, with_snapshot ? 8u : 5u);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(
          store_->Append("more", ExpectedVersion::Any(), Events(5)).ok());
      // Each read may adopt the writer's newer tables.
      ExpectKeptAndGone(follower.get());
    }
    static_cast<engine::StoreImpl*>(store_.get())->WaitIndexIdle();
    ExpectKeptAndGone(follower.get());
    if (with_snapshot) {
      EXPECT_TRUE(follower->ReadStream("$snapshot-person", ReadStreamOptions{})
                      .status()
                      .IsNotFound());
    }
    auto more = follower->ReadStream("more", testing::StreamUpTo(1000));
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    EXPECT_EQ(more->events.size(), 100u);
    ExpectTheWritersAll(follower.get());
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreScavengeRunTest, RemovesATombstonedStreamAndKeepsPositions) {
  TombstoneFiveKeepFour();
  const auto kept_before = EventsInAll(*store_, "kept");
  ASSERT_EQ(EventsInAll(*store_, "gone").size(), 6u);  // with the tombstone

  const ScavengeResult result = Scavenge();
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.events_removed, 5u);
  EXPECT_GE(result.parts_rewritten, 1u);
  EXPECT_GT(result.bytes_reclaimed(), 0u);
  EXPECT_GE(result.events_examined, 10u);

  ExpectKeptAndGone();
  EXPECT_EQ(EventsInAll(*store_, "kept"), kept_before);
  EXPECT_EQ(EventsInAll(*store_, "gone").size(), 1u);  // the tombstone
  // Appends go on after the stream's last revision.
  auto appended = store_->Append("kept", ExpectedVersion::Exact(3), Events(1));
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();

  Reopen();
  auto kept = store_->ReadStream("kept", ReadStreamOptions{});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->events.size(), 5u);
  EXPECT_EQ(EventsInAll(*store_, "gone").size(), 1u);
  // Nothing is left to remove.
  EXPECT_EQ(Scavenge().events_removed, 0u);
}

TEST_F(StoreScavengeRunTest, AnIndexRebuiltAfterAScavengeReadsTheSame) {
  TombstoneFiveKeepFour();
  ASSERT_EQ(Scavenge().events_removed, 5u);
  store_.reset();
  std::filesystem::remove_all(std::filesystem::path(dir()) / "index");
  Reopen();
  ExpectKeptAndGone();
  EXPECT_EQ(EventsInAll(*store_, "gone").size(), 1u);
}

// A log whose last events were removed, and an index rebuilt from it whose
// in-memory table fills exactly at the last kept event: the replay ends by
// skipping the hole into a new in-memory table that holds no entries. A
// run must still find the tables covering everything sealed. (The rule
// keeps every stream's last event, so here a planner that removes a whole
// stream writes the segment.) Without tables over the hole the run would
// wait for them until Close.
TEST_F(StoreScavengeRunTest, ARunAfterAReplayThatEndsInAHole) {
  Options options = ScavengeOptionsForTest();
  options.index_memtable_events = 4;
  store_.reset();
  auto opened = Store::Open(dir(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
  ASSERT_TRUE(
      store_->Append("kept", ExpectedVersion::NoStream(), Events(4)).ok());
  ASSERT_TRUE(
      store_->Append("gone", ExpectedVersion::NoStream(), Events(3)).ok());
  Scavenge();  // seals segment 0, removing nothing
  auto* impl = static_cast<engine::StoreImpl*>(store_.get());
  engine::ScavengePlanner planner(
      [](std::string_view stream)
          -> Result<std::optional<engine::StreamRetention>> {
        if (stream != "gone") return std::optional<engine::StreamRetention>();
        engine::StreamRetention retention;
        retention.erase_all = true;
        return std::optional<engine::StreamRetention>(retention);
      },
      16);
  segment::ScavengeCopyStats stats;
  auto unit = impl->WriteScavengedUnit(0, &planner, &stats);
  ASSERT_TRUE(unit.ok()) << unit.status().ToString();
  ASSERT_EQ(stats.removed_records, 3u);
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  // The commit: the copy under its final name, which the open lists.
  const std::string path =
      dir() + "/" +
      segment::ScavengedSegmentFileName(unit->number, unit->generation);
  std::filesystem::rename(path + engine::kScavengeWriteSuffix, path);

  options.rebuild_index = true;
  opened = Store::Open(dir(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
  impl = static_cast<engine::StoreImpl*>(store_.get());
  impl->WaitIndexIdle();
  const index::IndexStats replayed = impl->IndexStatsForTest();
  ASSERT_EQ(replayed.checkpoint, 4u);
  ASSERT_EQ(replayed.next_position, 7u);
  ASSERT_EQ(replayed.memtable_entries, 0u);

  const ScavengeResult result = Scavenge();
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.events_removed, 0u);
  EXPECT_EQ(impl->IndexStatsForTest().checkpoint, 7u);

  options.rebuild_index = false;
  store_.reset();
  opened = Store::Open(dir(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
  auto kept = store_->ReadStream("kept", ReadStreamOptions{});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->events.size(), 4u);
  auto appended = store_->Append("kept", ExpectedVersion::Exact(3), Events(1));
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(appended->first_position.value(), 7u);
  EXPECT_FALSE(Scavenge().stopped);
}

TEST_F(StoreScavengeRunTest, RetentionAndTruncationRemoveOlderEvents) {
  ASSERT_TRUE(
      store_->Append("capped", ExpectedVersion::NoStream(), Events(10)).ok());
  ASSERT_TRUE(store_
                  ->SetStreamMetadataJson("capped", ExpectedVersion::Any(),
                                          R"({"$maxCount":2})")
                  .ok());
  ASSERT_TRUE(
      store_->Append("cut", ExpectedVersion::NoStream(), Events(6)).ok());
  ASSERT_TRUE(
      store_
          ->SetStreamMetadataJson("cut", ExpectedVersion::Any(), R"({"$tb":4})")
          .ok());
  const ScavengeResult result = Scavenge();
  EXPECT_EQ(result.events_removed, 8u + 4u);
  auto capped = store_->ReadStream("capped", ReadStreamOptions{});
  ASSERT_TRUE(capped.ok()) << capped.status().ToString();
  ASSERT_EQ(capped->events.size(), 2u);
  EXPECT_EQ(capped->events[0].revision.value(), 8u);
  auto cut = store_->ReadStream("cut", ReadStreamOptions{});
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  ASSERT_EQ(cut->events.size(), 2u);
  EXPECT_EQ(cut->events[0].revision.value(), 4u);
  EXPECT_EQ(EventsInAll(*store_, "capped").size(), 2u);
  EXPECT_EQ(EventsInAll(*store_, "cut").size(), 2u);
  Reopen();
  EXPECT_EQ(EventsInAll(*store_, "capped").size(), 2u);
}

TEST_F(StoreScavengeRunTest, ReadsAcrossRemovedRevisionsReachTheEnd) {
  ASSERT_TRUE(
      store_->Append("order-1", ExpectedVersion::NoStream(), Events(10)).ok());
  ASSERT_TRUE(store_
                  ->SetStreamMetadataJson("order-1", ExpectedVersion::Any(),
                                          R"({"$maxCount":2})")
                  .ok());
  ASSERT_EQ(Scavenge().events_removed, 8u);
  for (Direction direction : {Direction::kForward, Direction::kBackward}) {
    SCOPED_TRACE(direction == Direction::kForward ? "forward" : "backward");
    // The category stream keeps its revisions: 8 and 9 are left.
    ReadStreamOptions options = testing::StreamUpTo(100);
    options.direction = direction;
    auto category = store_->ReadStream("$ce-order", options);
    ASSERT_TRUE(category.ok()) << category.status().ToString();
    ASSERT_EQ(category->events.size(), 2u);
    EXPECT_TRUE(category->end_of_stream);
    auto stream = store_->ReadStream("order-1", options);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    ASSERT_EQ(stream->events.size(), 2u);
    EXPECT_TRUE(stream->end_of_stream);
  }
}

// Every byte of every file under `root`, concatenated per file.
std::vector<std::pair<std::string, std::string>> AllFiles(
    const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    out.emplace_back(entry.path().string(),
                     std::string(std::istreambuf_iterator<char>(in), {}));
  }
  return out;
}

std::vector<std::string> FilesHolding(const std::string& root,
                                      const std::string& needle) {
  std::vector<std::string> holders;
  for (const auto& [path, bytes] : AllFiles(root)) {
    if (bytes.find(needle) != std::string::npos) holders.push_back(path);
  }
  return holders;
}

TEST_F(StoreScavengeRunTest, ErasureIsPhysical) {
  const EventId id = EventId::Generate();
  const std::string id_bytes(id.bytes().begin(), id.bytes().end());
  EventData secret = testing::Event("MarkerTypeQ7", "MarkerDataQ7", id);
  secret.metadata = "MarkerMetaQ7";
  std::vector<EventData> batch = {secret};
  ASSERT_TRUE(
      store_->Append("person-1", ExpectedVersion::NoStream(), batch).ok());
  ASSERT_TRUE(
      store_->Append("person-1", ExpectedVersion::Any(), Events(3)).ok());
  SnapshotData snapshot;
  snapshot.data = "MarkerSnapQ7";
  snapshot.schema = "v1";
  ASSERT_TRUE(store_
                  ->SaveSnapshot("person-1", StreamRevision(3), snapshot,
                                 SaveSnapshotOptions{})
                  .ok());
  ASSERT_TRUE(
      store_->Append("other", ExpectedVersion::NoStream(), Events(3)).ok());
  ASSERT_TRUE(store_->Sync().ok());
  static_cast<engine::StoreImpl*>(store_.get())->WaitIndexIdle();
  const std::vector<std::string> markers = {
      "MarkerTypeQ7", "MarkerDataQ7", "MarkerMetaQ7", "MarkerSnapQ7", id_bytes};
  for (const std::string& marker : markers) {
    EXPECT_FALSE(FilesHolding(dir(), marker).empty())
        << "the search must find what is there";
  }
  ASSERT_TRUE(store_->Tombstone("person-1", ExpectedVersion::Any()).ok());
  const ScavengeResult result = Scavenge();
  EXPECT_GE(result.events_removed, 5u);
  // The snapshot stream lost every event, its last one included: it reads
  // as not found at once, whatever the stream cache knew of it.
  EXPECT_TRUE(store_->ReadStream("$snapshot-person-1", ReadStreamOptions{})
                  .status()
                  .IsNotFound());
  auto revision = store_->GetStreamRevision("$snapshot-person-1");
  ASSERT_TRUE(revision.ok()) << revision.status().ToString();
  EXPECT_FALSE(revision->has_value());
  store_.reset();  // closed: everything written out
  for (const std::string& marker : markers) {
    const auto holders = FilesHolding(dir(), marker);
    EXPECT_TRUE(holders.empty()) << holders.front();
  }
  Reopen();
  auto other = store_->ReadStream("other", ReadStreamOptions{});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->events.size(), 3u);
  EXPECT_TRUE(store_->ReadStream("person-1", ReadStreamOptions{})
                  .status()
                  .IsStreamDeleted());
}

TEST_F(StoreScavengeRunTest, AppendsAndReadsGoOnWhileItRuns) {
  TombstoneFiveKeepFour();
  const size_t appended = ScavengeTwiceWhileAppending([&] {
    auto kept = store_->ReadStream("kept", ReadStreamOptions{});
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    ASSERT_EQ(kept->events.size(), 4u);
  });
  ExpectKeptAndGone();
  auto live = store_->ReadStream("live", testing::StreamUpTo(1 << 20));
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  ASSERT_EQ(live->events.size(), appended);
  for (size_t i = 0; i < live->events.size(); ++i) {
    ASSERT_EQ(live->events[i].revision.value(), i);
  }
}

TEST_F(StoreScavengeRunTest, SubscriptionsFollowTheLogAcrossARun) {
  TombstoneFiveKeepFour();
  // Small batches: the $all subscription reads the segments a run replaces
  // in several steps, catching up while the run goes on.
  SubscriptionOptions all_options;
  all_options.batch_size = 2;
  auto all_recorder = std::make_shared<testing::SubscriptionRecorder>();
  auto all = store_->Subscribe(all_options, all_recorder);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  SubscriptionOptions live_options;
  live_options.stream = "live";
  auto live_recorder = std::make_shared<testing::SubscriptionRecorder>();
  auto live = store_->Subscribe(live_options, live_recorder);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  const size_t n = ScavengeTwiceWhileAppending();
  ASSERT_TRUE(live_recorder->WaitForEvents(n));
  const std::vector<RecordedEvent> live_events = live_recorder->events();
  ASSERT_EQ(live_events.size(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(live_events[i].revision.value(), i);
  }
  auto count_live = [&] {
    size_t count = 0;
    for (const RecordedEvent& e : all_recorder->events_locked()) {
      if (e.stream == "live") ++count;
    }
    return count;
  };
  ASSERT_TRUE(all_recorder->WaitFor([&] { return count_live() >= n; }));
  // In log order, every kept and live event once, and no error.
  const std::vector<RecordedEvent> all_events = all_recorder->events();
  size_t kept = 0;
  size_t live_seen = 0;
  for (size_t i = 0; i < all_events.size(); ++i) {
    if (i > 0) {
      ASSERT_GT(all_events[i].position.value(),
                all_events[i - 1].position.value());
    }
    if (all_events[i].stream == "kept") ++kept;
    if (all_events[i].stream == "live") ++live_seen;
  }
  EXPECT_EQ(kept, 4u);
  EXPECT_EQ(live_seen, n);
  EXPECT_FALSE(all_recorder->stopped());
  EXPECT_FALSE(live_recorder->stopped());
}

// A reader in another process (here a read-only handle) that is open
// across a run: its tables and its segments may change at different times
// (it adopts the writer's tables when its own memory fills), and reads
// answer right whichever of the two it has.
TEST_F(StoreScavengeRunTest, AReadOnlyFollowerReadsAcrossARun) {
  FollowerReadsAcrossARun(/*with_snapshot=*/false);
}

// With a few more events in the scavenged segment (a snapshot stream, a
// tombstone), the follower adopts the writer's rewritten tables while the
// segment it follows is the one the run sealed and replaced
// (docs/reliability.md, bug 6).
TEST_F(StoreScavengeRunTest, AFollowerReadsAcrossARunOfMoreStreams) {
  FollowerReadsAcrossARun(/*with_snapshot=*/true);
}

// The other order: the follower's segment is gone (its mapping evicted
// and the file replaced) while it still has the tables from before the
// run, whose offsets are into the old file.
TEST_F(StoreScavengeRunTest, AFollowerWithOldTablesReadsTheNewSegments) {
  TombstoneFiveKeepFour();
  AppendFiller(3);  // a second sealed segment: reading it evicts the first
  Options one_open = ScavengeOptionsForTest();
  one_open.max_open_segments = 1;
  std::unique_ptr<Store> follower = OpenFollower(one_open);
  ASSERT_NE(follower, nullptr);

  ExpectKeptAndGone(follower.get());
  EXPECT_EQ(Scavenge().events_removed, 5u);
  auto filler = follower->ReadStream("filler", ReadStreamOptions{});
  ASSERT_TRUE(filler.ok()) << filler.status().ToString();
  ExpectKeptAndGone(follower.get());
  auto all = follower->ReadAll(testing::AllUpTo(1000));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
}

// The follower's last segment is not mapped (its one open segment is
// another) when the writer seals and scavenges it: the file it follows is
// gone, and its offsets into it no longer apply. It takes the writer's
// tables and the new file, and follows the log on from there.
TEST_F(StoreScavengeRunTest, AFollowerWhoseSegmentWasScavengedFollowsOn) {
  TombstoneFiveKeepFour();
  AppendFiller(3);  // the third starts segment 1
  ASSERT_TRUE(
      store_->Append("gone2", ExpectedVersion::NoStream(), Events(5)).ok());
  ASSERT_TRUE(store_->Tombstone("gone2", ExpectedVersion::Any()).ok());
  ASSERT_TRUE(
      store_->Append("kept2", ExpectedVersion::NoStream(), Events(4)).ok());
  ASSERT_TRUE(store_->Sync().ok());
  Options one_open = ScavengeOptionsForTest();
  one_open.max_open_segments = 1;
  std::unique_ptr<Store> follower = OpenFollower(one_open);
  ASSERT_NE(follower, nullptr);
  // Reading segment 0 evicts the mapping of segment 1, the last.
  ExpectKeptAndGone(follower.get());
  // Appended past where the follower listed segment 1: in the new file,
  // its old end offset falls inside these records.
  ASSERT_TRUE(
      store_->Append("kept3", ExpectedVersion::NoStream(), Events(20)).ok());

  EXPECT_EQ(Scavenge().events_removed, 10u);
  ASSERT_TRUE(store_->Append("more", ExpectedVersion::Any(), Events(5)).ok());
  ASSERT_TRUE(store_->Sync().ok());
  ExpectKeptAndGone(follower.get());
  for (const auto& [stream, count] :
       std::vector<std::pair<std::string, size_t>>{
           {"kept2", 4}, {"kept3", 20}, {"more", 5}}) {
    auto read = follower->ReadStream(stream, ReadStreamOptions{});
    ASSERT_TRUE(read.ok()) << stream << ": " << read.status().ToString();
    EXPECT_EQ(read->events.size(), count) << stream;
  }
  EXPECT_TRUE(follower->ReadStream("gone2", ReadStreamOptions{})
                  .status()
                  .IsStreamDeleted());
  ExpectTheWritersAll(follower.get());
}

// The follower lists nothing while the writer fills two segments and
// scavenges both. The second is new to it and complete, listed whole in
// its new generation; the writer's tables cover it (a scavenge waits for
// them), so its records do not go into the follower's memory, which stays
// within its bound.
TEST_F(StoreScavengeRunTest, AFollowerListsASegmentScavengedBeforeItSawIt) {
  Options options = ScavengeOptionsForTest();
  options.index_memtable_events = 16;  // the bound: a few times this
  store_.reset();
  auto writer = Store::Open(dir(), options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  store_ = std::move(writer).value();
  std::unique_ptr<Store> follower = KeepFourAndFollow(options);
  ASSERT_NE(follower, nullptr);

  AppendFiller(3);  // the third starts segment 1
  ASSERT_TRUE(
      store_->Append("gone2", ExpectedVersion::NoStream(), Events(5)).ok());
  ASSERT_TRUE(store_->Tombstone("gone2", ExpectedVersion::Any()).ok());
  for (int i = 0; i < 30; ++i) {  // 300 records in segment 1
    ASSERT_TRUE(
        store_->Append("many", ExpectedVersion::Any(), Events(10)).ok());
  }
  EXPECT_EQ(Scavenge().events_removed, 10u);
  static_cast<engine::StoreImpl*>(store_.get())->WaitIndexIdle();

  ExpectKeptAndGone(follower.get());
  auto many = follower->ReadStream("many", testing::StreamUpTo(1000));
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(many->events.size(), 300u);
  const index::IndexStats stats =
      static_cast<engine::StoreImpl*>(follower.get())->IndexStatsForTest();
  EXPECT_LE(stats.memtable_entries,
            index::PersistentIndex::kFollowerMemTables * 16);
  ExpectTheWritersAll(follower.get());
}

// A run renames its segment files into place before it lists its
// tables. A follower that adopts the writer's tables in between gets
// tables with the old files' offsets and the entries of the new files.
// Here the writer fails to list the tables (after the commit point, so
// its store fails and the window stays open); the follower's reads stay
// exact, finding each record by its position.
TEST_F(StoreScavengeRunTest, AFollowerReadsBetweenTheFilesAndTheTablesOfARun) {
  store_.reset();
  io::FaultInjectionFileSystem faulty(io::PosixFileSystem(), 1);
  Options options = ScavengeOptionsForTest();
  options.index_memtable_events = 16;  // the follower adopts tables soon
  auto writer = engine::StoreImpl::Open(&faulty, dir(), options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  store_ = std::move(writer).value();
  std::unique_ptr<Store> follower = KeepFourAndFollow(options);
  ASSERT_NE(follower, nullptr);
  ASSERT_TRUE(store_->Append("more", ExpectedVersion::Any(), Events(40)).ok());

  ScavengeOptions scavenge;
  bool armed = false;
  scavenge.progress = [&](const ScavengeProgress&) {
    if (armed) return;
    armed = true;  // planned: the next stream index listing is the run's
    io::FaultRule rule;
    rule.op = io::FaultOp::kRename;
    rule.path_suffix = "/index/MANIFEST.tmp";
    faulty.AddRule(rule);
  };
  auto failed = store_->Scavenge(scavenge);
  ASSERT_TRUE(failed.status().IsIOError()) << failed.status().ToString();
  ASSERT_EQ(faulty.faults_injected(), 1u);

  ExpectKeptAndGone(follower.get());
  auto more = follower->ReadStream("more", testing::StreamUpTo(1000));
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_EQ(more->events.size(), 40u);
  auto all = follower->ReadAll(testing::AllUpTo(1000));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  size_t kept = 0;
  for (const RecordedEvent& e : all->events) {
    if (e.stream == "kept") ++kept;
  }
  EXPECT_EQ(kept, 4u);
  follower.reset();
  (void)store_->Close();  // failed: the error is the listing's
}

TEST_F(StoreScavengeRunTest, OneRunAtATimeAndStopEndsIt) {
  TombstoneFiveKeepFour();
  EXPECT_TRUE(store_->StopScavenge().IsNotFound());
  ScavengeOptions options;
  int calls = 0;
  options.progress = [&](const ScavengeProgress& progress) {
    if (calls++ != 0) return;
    EXPECT_EQ(progress.parts_done, 0u);
    EXPECT_GE(progress.parts_total, 1u);
    EXPECT_TRUE(store_->Scavenge(ScavengeOptions{}).status().IsLocked());
    EXPECT_TRUE(store_->StopScavenge().ok());
  };
  const ScavengeResult stopped = Scavenge(options);
  EXPECT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.events_removed, 0u);
  ExpectKeptAndGone();
  // A new run carries on.
  EXPECT_EQ(Scavenge().events_removed, 5u);
}

TEST_F(StoreScavengeRunTest, ManySmallBatchesCommitEachPart) {
  for (int i = 0; i < 6; ++i) {
    std::string stream("s");  // appended: GCC bug 105651 (-Wrestrict)
    stream += std::to_string(i);
    ASSERT_TRUE(
        store_->Append(stream, ExpectedVersion::NoStream(), Events(3)).ok());
    ASSERT_TRUE(store_->Tombstone(stream, ExpectedVersion::Any()).ok());
    std::vector<EventData> big = {
        testing::Event("F", std::string(100 * 1024, 'f'), EventId::Generate())};
    ASSERT_TRUE(store_->Append("filler", ExpectedVersion::Any(), big).ok());
  }
  ScavengeOptions options;
  options.max_memory_bytes = 1;  // one part per batch
  uint64_t progress_calls = 0;
  options.progress = [&](const ScavengeProgress&) { ++progress_calls; };
  const ScavengeResult result = Scavenge(options);
  EXPECT_EQ(result.events_removed, 18u);
  EXPECT_GE(result.parts_rewritten, 2u);
  EXPECT_EQ(progress_calls, result.parts_rewritten + 1);
  Reopen();
  for (int i = 0; i < 6; ++i) {
    std::string stream("s");  // appended: GCC bug 105651 (-Wrestrict)
    stream += std::to_string(i);
    EXPECT_EQ(EventsInAll(*store_, stream).size(), 1u);
  }
  auto filler = store_->ReadStream("filler", ReadStreamOptions{});
  ASSERT_TRUE(filler.ok()) << filler.status().ToString();
  EXPECT_EQ(filler->events.size(), 6u);
}

TEST_F(StoreScavengeRunTest, AThrottleOutsideOneToAHundredChangesNothing) {
  TombstoneFiveKeepFour();
  for (uint32_t percent : {0u, 101u}) {
    ScavengeOptions options;
    options.throttle_percent = percent;
    const Status refused = store_->Scavenge(options).status();
    EXPECT_TRUE(refused.IsInvalidArgument()) << refused.ToString();
    // The check a server makes up front answers the same.
    EXPECT_EQ(options.Validate().ToString(), refused.ToString());
    EXPECT_NE(
        refused.ToString().find("throttle_percent must be 1 to 100, not " +
                                std::to_string(percent)),
        std::string::npos)
        << refused.ToString();
  }
  for (uint32_t percent : {ScavengeOptions::kMinThrottlePercent,
                           ScavengeOptions::kMaxThrottlePercent}) {
    ScavengeOptions options;
    options.throttle_percent = percent;
    EXPECT_TRUE(options.Validate().ok()) << percent;
  }
  EXPECT_EQ(EventsInAll(*store_, "gone").size(), 6u);  // 5 and the tombstone
  EXPECT_EQ(Scavenge().events_removed, 5u);
}

TEST_F(StoreScavengeRunTest, AThrottledRunInSmallPiecesRemovesTheSame) {
  TombstoneFiveKeepFour();
  AppendFiller(4);  // parts of several pieces
  ScavengeOptions options;
  options.throttle_percent = 50;
  options.bytes_per_sync = 4096;
  const ScavengeResult result = Scavenge(options);
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.events_removed, 5u);
  // It rested at least as long as it worked on the parts.
  EXPECT_GT(result.rested_us, 0u);
  EXPECT_LE(result.rested_us, result.duration_us);
  ExpectKeptAndGone();
  Reopen();
  ExpectKeptAndGone();
  EXPECT_EQ(EventsInAll(*store_, "gone").size(), 1u);  // the tombstone
  // The plan rests too: a run with nothing left to rewrite still does.
  const ScavengeResult again = Scavenge(options);
  EXPECT_EQ(again.parts_rewritten, 0u);
  EXPECT_GT(again.rested_us, 0u);
  // Unthrottled runs never rest.
  EXPECT_EQ(Scavenge().rested_us, 0u);
}

TEST_F(StoreScavengeRunTest, AReadOnlyOpenCannotScavenge) {
  TombstoneFiveKeepFour();
  Options options = ScavengeOptionsForTest();
  options.read_only = true;
  auto reader = Store::Open(dir(), options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(
      (*reader)->Scavenge(ScavengeOptions{}).status().IsInvalidArgument());
}

TEST_F(StoreScavengeRunTest, AClosedStoreRefusesAScavenge) {
  ASSERT_TRUE(store_->Close().ok());
  EXPECT_TRUE(store_->Scavenge(ScavengeOptions{}).status().IsClosed());
}

// Runs `round` on a fresh in-memory disk for crash_at = 1, 2, ...: a round
// arms the power loss at its crash_at-th mutation and sets `finished` when
// its run ended before it, which makes it the last round.
void ForEachCrashPoint(
    const std::function<void(io::FaultInjectionFileSystem& fs,
                             uint64_t crash_at, bool* finished)>& round) {
  for (uint64_t crash_at = 1;; ++crash_at) {
    std::string trace("crash at mutation ");  // appended: GCC bug 105651
    trace += std::to_string(crash_at);
    SCOPED_TRACE(trace);
    io::MemoryFileSystem memory;
    io::FaultInjectionFileSystem fs(&memory, crash_at);
    bool finished = false;
    round(fs, crash_at, &finished);
    if (finished || ::testing::Test::HasFatalFailure()) return;
    ASSERT_LT(crash_at, 400u) << "the scavenge never finished";
  }
}

// With kInterval durability, a tombstone appended after the run planned is
// visible to the run before it is durable, and the run removes the
// stream's events for it. A power loss at any step of the run must leave
// the stream either deleted or whole: never its events gone without its
// tombstone.
TEST(ScavengeRunDurabilityTest, RemovalsRestOnlyOnDurableEvents) {
  Options options = ScavengeOptionsForTest();
  options.durability = Durability::kInterval;
  options.sync_interval = std::chrono::hours(1);  // only explicit syncs
  const std::string dir = "/store";
  ForEachCrashPoint([&](io::FaultInjectionFileSystem& fs, uint64_t crash_at,
                        bool* finished) {
    fs.set_crash_options(io::CrashOptions::LoseUnsynced());
    {
      CAIRN_ASSERT_OK_AND_ASSIGN(store,
                                 engine::StoreImpl::Open(&fs, dir, options));
      ASSERT_TRUE(
          store->Append("late", ExpectedVersion::NoStream(), Events(5)).ok());
      // "early" makes the sealed segment worth rewriting.
      ASSERT_TRUE(
          store->Append("early", ExpectedVersion::NoStream(), Events(5)).ok());
      ASSERT_TRUE(store->Tombstone("early", ExpectedVersion::Any()).ok());
      ASSERT_TRUE(store->Sync().ok());
      ScavengeOptions scavenge;
      bool tombstoned = false;
      // Called once the run has planned, before it writes: "late" is
      // tombstoned (not durable), then the power fails at the crash_at-th
      // mutation from there on.
      scavenge.progress = [&](const ScavengeProgress&) {
        if (tombstoned) return;
        tombstoned = true;
        EXPECT_TRUE(store->Tombstone("late", ExpectedVersion::Any()).ok());
        fs.CrashAtMutation(crash_at, "");
      };
      auto result = store->Scavenge(scavenge);
      ASSERT_TRUE(tombstoned);
      *finished = !fs.DisarmCrash();
      if (*finished) {
        ASSERT_TRUE(result.ok()) << result.status().ToString();
        EXPECT_EQ(result->events_removed, 10u);
        fs.Crash();  // before any timed sync or Close
      }
    }
    fs.PowerOn();
    CAIRN_ASSERT_OK_AND_ASSIGN(store,
                               engine::StoreImpl::Open(&fs, dir, options));
    auto late = store->ReadStream("late", ReadStreamOptions{});
    if (late.ok()) {
      EXPECT_EQ(late->events.size(), 5u) << "events removed, tombstone lost";
    } else {
      EXPECT_TRUE(late.status().IsStreamDeleted()) << late.status().ToString();
    }
  });
}

// Five events of "gone", tombstoned (removable), and four of "kept".
void TombstoneFiveKeepFour(Store& store) {
  ASSERT_TRUE(
      store.Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
  ASSERT_TRUE(store.Tombstone("gone", ExpectedVersion::Any()).ok());
  ASSERT_TRUE(
      store.Append("kept", ExpectedVersion::NoStream(), Events(4)).ok());
}

// Fails the directory fsync that follows the rename of DIR/SCAVENGE (the
// commit point), once.
class CommitSyncFails final : public io::FileSystemWrapper {
 public:
  explicit CommitSyncFails(io::FileSystem* target)
      : FileSystemWrapper(target) {}
  Status Rename(const std::string& from, const std::string& to) override {
    if (to.ends_with(std::string("/") + engine::kScavengeFileName)) {
      armed_ = true;
    }
    return FileSystemWrapper::Rename(from, to);
  }
  Status SyncDir(const std::string& path) override {
    if (armed_.exchange(false)) {
      return Status::IOError("injected directory fsync failure", EIO);
    }
    return FileSystemWrapper::SyncDir(path);
  }

 private:
  std::atomic<bool> armed_{false};
};

// A failed directory fsync at the commit point leaves the commit's fate to
// the disk: the writer stops without removing the rewritten files, so an
// open that finds DIR/SCAVENGE finishes the batch rather than refusing the
// store for the files the commit names.
TEST(ScavengeRunDurabilityTest, AFailedCommitSyncKeepsTheCommitsFiles) {
  io::MemoryFileSystem memory;
  CommitSyncFails fs(&memory);
  const std::string dir = "/store";
  {
    CAIRN_ASSERT_OK_AND_ASSIGN(
        store, engine::StoreImpl::Open(&fs, dir, ScavengeOptionsForTest()));
    TombstoneFiveKeepFour(*store);
    auto result = store->Scavenge(ScavengeOptions{});
    EXPECT_TRUE(result.status().IsIOError()) << result.status().ToString();
    EXPECT_TRUE(store->Sync().IsReadOnly());
  }
  // Every name survived (no power loss): the commit is durable.
  CAIRN_ASSERT_OK_AND_ASSIGN(
      store, engine::StoreImpl::Open(&memory, dir, ScavengeOptionsForTest()));
  EXPECT_EQ(EventsInAll(*store, "gone").size(), 1u);
  auto kept = store->ReadStream("kept", ReadStreamOptions{});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->events.size(), 4u);
}

// A batch that fails before its commit point (a full disk as its SCAVENGE
// file is written) leaves no staged index table behind: scavenges failing
// again and again do not pile them up until the next open.
TEST(ScavengeRunDurabilityTest, AFailureBeforeTheCommitRemovesTheStagedTables) {
  io::MemoryFileSystem memory;
  io::FaultInjectionFileSystem fs(&memory, 1);
  const std::string dir = "/store";
  CAIRN_ASSERT_OK_AND_ASSIGN(
      store, engine::StoreImpl::Open(&fs, dir, ScavengeOptionsForTest()));
  TombstoneFiveKeepFour(*store);
  // Table files no manifest lists.
  auto unlisted = [&] {
    size_t n = 0;
    for (const char* sub : {"/store/index", "/store/index/links"}) {
      index::Manifest manifest;
      EXPECT_TRUE(index::ReadManifest(&memory, sub, &manifest).ok()) << sub;
      std::set<uint64_t> listed;
      for (const index::ManifestTable& t : manifest.tables) {
        listed.insert(t.number);
      }
      auto names = memory.ListDir(sub);
      EXPECT_TRUE(names.ok()) << sub;
      if (!names.ok()) continue;
      for (const std::string& name : *names) {
        auto number = index::ParseTableFileName(name);
        n += number && !listed.contains(*number) ? 1 : 0;
      }
    }
    return n;
  };
  io::FaultRule rule =
      io::FaultRule::Always(io::FaultOp::kWrite, io::FaultError::kNoSpace);
  rule.path_suffix = std::string("/") + engine::kScavengeFileName +
                     engine::kScavengeTempSuffix;
  fs.AddRule(rule);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto result = store->Scavenge(ScavengeOptions{});
    EXPECT_TRUE(result.status().IsNoSpace()) << result.status().ToString();
    EXPECT_EQ(unlisted(), 0u) << "attempt " << attempt;
  }
  fs.ClearFaults();
  auto result = store->Scavenge(ScavengeOptions{});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->events_removed, 5u);
}

// Hands every `.scv` file the store opens to Wrap().
class ScvFileWrapper : public io::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override {
    auto file = FileSystemWrapper::OpenFile(path, mode);
    if (!file.ok() || !path.ends_with(engine::kScavengeWriteSuffix)) {
      return file;
    }
    return Wrap(std::move(file).value());
  }

 protected:
  virtual std::unique_ptr<io::File> Wrap(std::unique_ptr<io::File> file) = 0;
};

// A file system that reports success but stores a `.scv` file's bytes
// with one bit changed: in every write of records (at 4096 or above), or
// in the write of the header region (at 0).
class ScvWritesLie final : public ScvFileWrapper {
 public:
  ScvWritesLie(io::FileSystem* target, bool header)
      : ScvFileWrapper(target), header_(header) {}

 private:
  std::unique_ptr<io::File> Wrap(std::unique_ptr<io::File> file) override {
    return std::make_unique<LyingFile>(std::move(file), header_);
  }
  class LyingFile final : public io::FileWrapper {
   public:
    LyingFile(std::unique_ptr<io::File> target, bool header)
        : FileWrapper(std::move(target)), header_(header) {}
    Status Write(uint64_t offset, const void* data, size_t size) override {
      if ((offset == 0) != header_ || size == 0) {
        return FileWrapper::Write(offset, data, size);
      }
      std::string changed(static_cast<const char*>(data), size);
      changed[size / 2] = static_cast<char>(changed[size / 2] ^ 0x10);
      return FileWrapper::Write(offset, changed.data(), size);
    }

   private:
    bool header_;
  };
  bool header_;
};

// A scavenge commits only a file that holds the bytes it checked: one that
// the disk stored otherwise fails the run with Corruption before the
// commit point, and the store reads as before.
TEST(ScavengeRunDurabilityTest, AFileThatDiffersFromTheCopyIsNotCommitted) {
  for (bool header : {false, true}) {
    SCOPED_TRACE(header ? "a changed header" : "changed records");
    io::MemoryFileSystem memory;
    ScvWritesLie fs(&memory, header);
    const std::string dir = "/store";
    CAIRN_ASSERT_OK_AND_ASSIGN(
        store, engine::StoreImpl::Open(&fs, dir, ScavengeOptionsForTest()));
    TombstoneFiveKeepFour(*store);
    auto result = store->Scavenge(ScavengeOptions{});
    EXPECT_TRUE(result.status().IsCorruption()) << result.status().ToString();
    EXPECT_FALSE(memory.Exists(io::JoinPath(dir, engine::kScavengeFileName)));
    auto names = memory.ListDir(dir);
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names) {
      EXPECT_FALSE(name.ends_with(engine::kScavengeWriteSuffix)) << name;
    }
    EXPECT_EQ(EventsInAll(*store, "gone").size(), 6u);
    auto kept = store->ReadStream("kept", ReadStreamOptions{});
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(kept->events.size(), 4u);
    // The writer goes on: the failure was the scavenge's, not the log's.
    EXPECT_TRUE(store->Append("kept", ExpectedVersion::Any(), Events(1)).ok());
  }
}

// Counts the bytes written to `.scv` files since their last fdatasync,
// and, when asked to, fails the directory fsync that the thread which
// created the first `.scv` file (the scavenging one) makes next, and
// counts that thread's directory fsyncs after it. Other threads (the
// segment preparer) are left alone.
class ScvSyncWatch final : public ScvFileWrapper {
 public:
  ScvSyncWatch(io::FileSystem* target, bool fail_dir_sync)
      : ScvFileWrapper(target), fail_dir_sync_(fail_dir_sync) {}
  Status SyncDir(const std::string& path) override {
    if (std::this_thread::get_id() != scavenging_) {
      return FileSystemWrapper::SyncDir(path);
    }
    if (failed_) ++syncs_after_failure_;
    if (armed_) {
      armed_ = false;
      failed_ = true;
      return Status::IOError("injected directory fsync failure", EIO);
    }
    return FileSystemWrapper::SyncDir(path);
  }

  uint64_t max_unsynced_ = 0;
  std::vector<uint64_t> synced_runs_;  // bytes each fdatasync covered
  int syncs_after_failure_ = 0;

 private:
  std::unique_ptr<io::File> Wrap(std::unique_ptr<io::File> file) override {
    if (fail_dir_sync_ && !failed_ &&
        std::this_thread::get_id() == scavenging_) {
      armed_ = true;
    }
    return std::make_unique<Counting>(std::move(file), this);
  }
  class Counting final : public io::FileWrapper {
   public:
    Counting(std::unique_ptr<io::File> target, ScvSyncWatch* watch)
        : FileWrapper(std::move(target)), watch_(watch) {}
    Status Write(uint64_t offset, const void* data, size_t size) override {
      unsynced_ += size;
      watch_->max_unsynced_ = std::max(watch_->max_unsynced_, unsynced_);
      return FileWrapper::Write(offset, data, size);
    }
    Status Sync() override {
      watch_->synced_runs_.push_back(unsynced_);
      unsynced_ = 0;
      return FileWrapper::Sync();
    }

   private:
    ScvSyncWatch* watch_;
    uint64_t unsynced_ = 0;
  };
  bool fail_dir_sync_;
  const std::thread::id scavenging_ = std::this_thread::get_id();
  bool armed_ = false;
  bool failed_ = false;
};

// Five events of "gone", tombstoned, and "kept" events of 1 KiB enough
// for a copy of many 4 KiB runs.
void TombstoneFiveKeepForty(Store& store) {
  ASSERT_TRUE(
      store.Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
  ASSERT_TRUE(store.Tombstone("gone", ExpectedVersion::Any()).ok());
  for (int i = 0; i < 40; ++i) {
    std::vector<EventData> one;
    one.push_back(testing::Event("K", std::string(1024, 'k')));
    ASSERT_TRUE(store.Append("kept", ExpectedVersion::Any(), one).ok());
  }
}

// bytes_per_sync bounds the scavenge's unsynced bytes exactly, also below
// the size of the pieces it makes its copies in.
TEST(ScavengeRunDurabilityTest, NoMoreThanBytesPerSyncIsEverUnsynced) {
  io::MemoryFileSystem memory;
  ScvSyncWatch fs(&memory, /*fail_dir_sync=*/false);
  CAIRN_ASSERT_OK_AND_ASSIGN(
      store, engine::StoreImpl::Open(&fs, "/store", ScavengeOptionsForTest()));
  TombstoneFiveKeepForty(*store);
  ScavengeOptions options;
  options.bytes_per_sync = 4096;
  auto result = store->Scavenge(options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->events_removed, 5u);
  ASSERT_GE(fs.synced_runs_.size(), 10u);
  EXPECT_LE(fs.max_unsynced_, 4096u);
  // Every fdatasync but a file's last covers exactly bytes_per_sync.
  EXPECT_EQ(std::count(fs.synced_runs_.begin(), fs.synced_runs_.end(),
                       uint64_t{4096}),
            static_cast<std::ptrdiff_t>(fs.synced_runs_.size()) - 1);
}

// A failed fsync of the store's directory after a `.scv` file was created
// stops the writer and is never retried: the failure may have lost a
// segment's entry as well. The next open finds the store as it was.
TEST(ScavengeRunDurabilityTest, AFailedDirectoryFsyncStopsTheWriter) {
  io::MemoryFileSystem memory;
  ScvSyncWatch fs(&memory, /*fail_dir_sync=*/true);
  const std::string dir = "/store";
  {
    CAIRN_ASSERT_OK_AND_ASSIGN(
        store, engine::StoreImpl::Open(&fs, dir, ScavengeOptionsForTest()));
    TombstoneFiveKeepForty(*store);
    auto result = store->Scavenge(ScavengeOptions{});
    EXPECT_TRUE(result.status().IsIOError()) << result.status().ToString();
    EXPECT_TRUE(store->Sync().IsReadOnly());
    EXPECT_TRUE(store->Append("kept", ExpectedVersion::Any(), Events(1))
                    .status()
                    .IsReadOnly());
  }
  EXPECT_EQ(fs.syncs_after_failure_, 0);
  CAIRN_ASSERT_OK_AND_ASSIGN(
      store, engine::StoreImpl::Open(&memory, dir, ScavengeOptionsForTest()));
  EXPECT_EQ(EventsInAll(*store, "gone").size(), 6u);
  auto kept = store->ReadStream("kept", ReadStreamOptions{});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->events.size(), 40u);
  auto names = memory.ListDir(dir);
  ASSERT_TRUE(names.ok());
  for (const std::string& name : *names) {
    EXPECT_FALSE(name.ends_with(engine::kScavengeWriteSuffix)) << name;
  }
}

// Power loss at every mutation of a run: the store opens with the kept
// events readable and, once the commit point was reached, without the
// removed ones; a new run finishes the job.
TEST(ScavengeRunCrashTest,
     PowerLossAtEveryStepLosesNothingAndResurrectsNothing) {
  Options options = ScavengeOptionsForTest();
  const std::string dir = "/store";
  // Crashes after the commit point whose scavenge the reopen finished.
  int committed_crashes = 0;
  ForEachCrashPoint([&](io::FaultInjectionFileSystem& fs, uint64_t crash_at,
                        bool* finished) {
    {
      CAIRN_ASSERT_OK_AND_ASSIGN(store,
                                 engine::StoreImpl::Open(&fs, dir, options));
      ASSERT_TRUE(
          store->Append("gone", ExpectedVersion::NoStream(), Events(5)).ok());
      ASSERT_TRUE(store->Tombstone("gone", ExpectedVersion::Any()).ok());
      ASSERT_TRUE(
          store->Append("kept", ExpectedVersion::NoStream(), Events(4)).ok());
      ASSERT_TRUE(store->Sync().ok());
      fs.CrashAtMutation(crash_at, "");
      // Pieces smaller than a part: power also fails between them.
      ScavengeOptions in_pieces;
      in_pieces.bytes_per_sync = 512;
      auto result = store->Scavenge(in_pieces);
      *finished = !fs.DisarmCrash();
      if (*finished) {
        ASSERT_TRUE(result.ok()) << result.status().ToString();
        EXPECT_EQ(result->events_removed, 5u);
      }
    }
    if (!*finished) fs.Crash();
    fs.PowerOn();
    bool removed = false;
    {
      CAIRN_ASSERT_OK_AND_ASSIGN(store,
                                 engine::StoreImpl::Open(&fs, dir, options));
      EXPECT_FALSE(fs.Exists(io::JoinPath(dir, engine::kScavengeFileName)));
      auto kept = store->ReadStream("kept", ReadStreamOptions{});
      ASSERT_TRUE(kept.ok()) << kept.status().ToString();
      EXPECT_EQ(kept->events.size(), 4u);
      const size_t gone = EventsInAll(*store, "gone").size();
      EXPECT_TRUE(gone == 6 || gone == 1) << gone;
      removed = gone == 1;
      if (*finished) {
        EXPECT_TRUE(removed);
      } else if (removed) {
        ++committed_crashes;
      }
      auto again = store->Scavenge(ScavengeOptions{});
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_EQ(again->events_removed, removed ? 0u : 5u);
      EXPECT_EQ(EventsInAll(*store, "gone").size(), 1u);
    }
    CAIRN_ASSERT_OK_AND_ASSIGN(store,
                               engine::StoreImpl::Open(&fs, dir, options));
    EXPECT_EQ(EventsInAll(*store, "gone").size(), 1u);
    auto kept = store->ReadStream("kept", ReadStreamOptions{});
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(kept->events.size(), 4u);
  });
  EXPECT_GT(committed_crashes, 0) << "no crash fell after the commit point";
}

}  // namespace
}  // namespace cairn
