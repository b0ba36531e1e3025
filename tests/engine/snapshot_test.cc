// Copyright (c) Cairn authors.
//
// Snapshots: SaveSnapshot and LoadAggregate, the snapshot stream's
// retention, and every rule that makes a saved snapshot unusable.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

SnapshotData State(std::string data, std::string schema = "State/v1") {
  SnapshotData s;
  s.data = std::move(data);
  s.schema = std::move(schema);
  return s;
}

std::vector<uint64_t> Revisions(const std::vector<RecordedEvent>& events) {
  std::vector<uint64_t> out;
  for (const RecordedEvent& e : events) out.push_back(e.revision.value());
  return out;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t r = first; r <= last; ++r) out.push_back(r);
  return out;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Reopen(testing::SmallOptions());
    ASSERT_TRUE(
        store_->Append("s", ExpectedVersion::NoStream(), Events(10)).ok());
  }
  void Reopen(const Options& options) {
    if (store_) CAIRN_ASSERT_OK(store_->Close());
    store_.reset();
    auto opened = Store::Open(dir_.Sub("store"), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  engine::StoreImpl* impl() {
    return static_cast<engine::StoreImpl*>(store_.get());
  }
  void Save(uint64_t revision, const std::string& data, uint64_t keep = 1,
            const std::string& stream = "s") {
    SaveSnapshotOptions options;
    options.keep = keep;
    auto saved = store_->SaveSnapshot(stream, StreamRevision(revision),
                                      State(data), options);
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  }
  Status SaveStatus(uint64_t revision, const SnapshotData& snapshot,
                    const std::string& stream = "s", uint64_t keep = 1) {
    SaveSnapshotOptions options;
    options.keep = keep;
    return store_
        ->SaveSnapshot(stream, StreamRevision(revision), snapshot, options)
        .status();
  }
  AggregateResult Load(uint64_t max_count = 4096,
                       const std::string& stream = "s") {
    LoadAggregateOptions options;
    options.max_count = max_count;
    auto loaded = store_->LoadAggregate(stream, options);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return loaded.ok() ? std::move(loaded).value() : AggregateResult{};
  }
  Status LoadStatus(const std::string& stream = "s") {
    return store_->LoadAggregate(stream, {}).status();
  }
  void SetMetadata(const std::string& json) {
    auto set = store_->SetStreamMetadataJson("s", ExpectedVersion::Any(), json);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
  }
  // The snapshot events a client reads from "$snapshot-s".
  std::vector<std::string> StoredSnapshots() {
    auto read = store_->ReadStream("$snapshot-s", testing::StreamUpTo(100));
    std::vector<std::string> out;
    if (!read.ok()) return out;
    for (const RecordedEvent& e : read->events) out.push_back(e.data);
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SnapshotTest, LoadReturnsTheSnapshotAndTheEventsAfterIt) {
  SnapshotData state = State("state@5", "Order/v2");
  state.content_type = ContentType::kJson;
  SaveSnapshotOptions options;
  auto saved = store_->SaveSnapshot("s", StreamRevision(5), state, options);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->snapshot_revision, StreamRevision(0));

  AggregateResult loaded = Load();
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(loaded.snapshot->revision, StreamRevision(5));
  EXPECT_EQ(loaded.snapshot->data, "state@5");
  EXPECT_EQ(loaded.snapshot->schema, "Order/v2");
  EXPECT_EQ(loaded.snapshot->content_type, ContentType::kJson);
  EXPECT_EQ(loaded.snapshot->position, saved->position);
  EXPECT_GT(loaded.snapshot->created_us, 0);
  EXPECT_EQ(Revisions(loaded.events), Range(6, 9));
  EXPECT_EQ(loaded.events[0].stream, "s");
  EXPECT_EQ(loaded.last_revision, StreamRevision(9));
  EXPECT_TRUE(loaded.end_of_stream);
  EXPECT_EQ(loaded.next_revision, StreamRevision(10));
}

TEST_F(SnapshotTest, WithoutSnapshotsLoadReturnsEveryEvent) {
  AggregateResult loaded = Load();
  EXPECT_FALSE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), Range(0, 9));
  EXPECT_TRUE(loaded.end_of_stream);
}

TEST_F(SnapshotTest, SnapshotAtTheLastRevisionLeavesNoEvents) {
  Save(9, "state@9");
  AggregateResult loaded = Load();
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(loaded.snapshot->revision, StreamRevision(9));
  EXPECT_TRUE(loaded.events.empty());
  EXPECT_TRUE(loaded.end_of_stream);
  EXPECT_EQ(loaded.next_revision, StreamRevision(10));
}

TEST_F(SnapshotTest, LongTailsLoadInParts) {
  Save(2, "state@2");
  AggregateResult loaded = Load(/*max_count=*/3);
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), Range(3, 5));
  EXPECT_FALSE(loaded.end_of_stream);
  EXPECT_EQ(loaded.next_revision, StreamRevision(6));
  ReadStreamOptions rest;
  rest.from = loaded.next_revision;
  auto read = store_->ReadStream("s", rest);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(Revisions(read->events), Range(6, 9));
}

TEST_F(SnapshotTest, BadInputIsRefusedAndChangesNothing) {
  // Beyond the stream's end: InvalidArgument (documented in store.h).
  EXPECT_TRUE(SaveStatus(10, State("x")).IsInvalidArgument());
  EXPECT_TRUE(SaveStatus(~uint64_t{0}, State("x")).IsInvalidArgument());
  EXPECT_TRUE(SaveStatus(0, State("x"), "s", /*keep=*/0).IsInvalidArgument());
  EXPECT_TRUE(SaveStatus(0, State("x", "bad\nschema")).IsInvalidArgument());
  EXPECT_TRUE(
      SaveStatus(0, State("x", std::string(1025, 'v'))).IsInvalidArgument());
  // A '$' stream is an ordinary stream for snapshots ("$s" does not exist);
  // snapshot and metadata streams have no snapshots of their own.
  EXPECT_TRUE(SaveStatus(0, State("x"), "$s").IsNotFound());
  EXPECT_TRUE(SaveStatus(0, State("x"), "$snapshot-s").IsInvalidArgument());
  EXPECT_TRUE(SaveStatus(0, State("x"), "$$s").IsInvalidArgument());
  EXPECT_TRUE(SaveStatus(0, State("x"), "").IsInvalidArgument());
  EXPECT_TRUE(SaveStatus(0, State("x"), "$ce-s").IsInvalidArgument());
  EXPECT_TRUE(SaveStatus(0, State("x"), "missing").IsNotFound());
  EXPECT_TRUE(store_->ReadStream("$snapshot-s", {}).status().IsNotFound());
  EXPECT_TRUE(store_->ReadStream("$$$snapshot-s", {}).status().IsNotFound());

  EXPECT_TRUE(LoadStatus("missing").IsNotFound());
  EXPECT_TRUE(LoadStatus("$snapshot-s").IsInvalidArgument());
  LoadAggregateOptions zero;
  zero.max_count = 0;
  EXPECT_TRUE(store_->LoadAggregate("s", zero).status().IsInvalidArgument());
}

TEST_F(SnapshotTest, OversizedSnapshotsAreRefused) {
  Options small = testing::SmallOptions();
  small.max_event_size = 1024;
  Reopen(small);
  EXPECT_TRUE(SaveStatus(1, State(std::string(2048, 'x'))).IsInvalidArgument());
  EXPECT_TRUE(StoredSnapshots().empty());
  Save(1, std::string(512, 'x'));
}

TEST_F(SnapshotTest, SnapshotStreamNamesMustFitARecord) {
  Options options = testing::SmallOptions();
  options.max_stream_name_length = 65535;
  Reopen(options);
  const std::string longest(65535 - 5, 'n');  // "$snapshot-" does not fit
  ASSERT_TRUE(
      store_->Append(longest, ExpectedVersion::NoStream(), Events(1)).ok());
  EXPECT_TRUE(SaveStatus(0, State("x"), longest).IsInvalidArgument());
  auto read = store_->ReadStream(longest, {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 1u);
}

TEST_F(SnapshotTest, KeepSetsTheSnapshotStreamsMaxCount) {
  Save(1, "a");
  Save(2, "b");
  EXPECT_EQ(StoredSnapshots(), std::vector<std::string>{"b"});
  auto meta = store_->ReadStream("$$$snapshot-s", {});
  ASSERT_TRUE(meta.ok());
  ASSERT_EQ(meta->events.size(), 1u);  // written once, not per save
  EXPECT_EQ(meta->events[0].data, R"({"$maxCount":1})");

  Save(3, "c", /*keep=*/3);
  Save(4, "d", /*keep=*/3);
  Save(5, "e", /*keep=*/3);
  Save(6, "f", /*keep=*/3);
  EXPECT_EQ(StoredSnapshots(), (std::vector<std::string>{"d", "e", "f"}));
  EXPECT_EQ(Load().snapshot->data, "f");
  // Going back to 1 hides the older ones at once.
  Save(7, "g");
  EXPECT_EQ(StoredSnapshots(), std::vector<std::string>{"g"});
}

TEST_F(SnapshotTest, TheNewestSavedSnapshotWinsOverAHigherRevision) {
  Save(8, "state@8", /*keep=*/2);
  Save(4, "state@4", /*keep=*/2);  // e.g. a new schema, rebuilt
  EXPECT_EQ(Load().snapshot->data, "state@4");
}

TEST_F(SnapshotTest, TruncateBeforeInvalidatesLowerSnapshots) {
  Save(3, "state@3");
  SetMetadata(R"({"$tb":5})");
  AggregateResult loaded = Load();
  EXPECT_FALSE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), Range(5, 9));
  EXPECT_TRUE(SaveStatus(4, State("x")).IsInvalidArgument());
  Save(5, "state@5");
  loaded = Load();
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(loaded.snapshot->revision, StreamRevision(5));
  EXPECT_EQ(Revisions(loaded.events), Range(6, 9));
}

TEST_F(SnapshotTest, MaxCountHidingEventsAfterASnapshotInvalidatesIt) {
  Save(3, "state@3");
  SetMetadata(R"({"$maxCount":3})");  // revisions 7..9 readable
  AggregateResult loaded = Load();
  EXPECT_FALSE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), Range(7, 9));
  EXPECT_TRUE(SaveStatus(5, State("x")).IsInvalidArgument());
  Save(6, "state@6");  // every event after it is readable
  loaded = Load();
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), Range(7, 9));
}

TEST_F(SnapshotTest, MaxAgeHidingEventsAfterASnapshotFallsBackToAnOlderOne) {
  Save(9, "state@9", /*keep=*/2);
  Save(5, "state@5", /*keep=*/2);  // newest saved
  SetMetadata(R"({"$maxAge":60})");
  // An hour later every event is older than $maxAge.
  impl()->SetRetentionClockForTest(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count() +
      int64_t{3600} * 1'000'000);
  AggregateResult loaded = Load();
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(loaded.snapshot->data, "state@9");
  EXPECT_TRUE(loaded.events.empty());
}

TEST_F(SnapshotTest, SoftDeleteInvalidatesSnapshotsFromBeforeIt) {
  Save(5, "state@5");
  ASSERT_TRUE(store_->Delete("s", ExpectedVersion::Any()).ok());
  EXPECT_TRUE(LoadStatus().IsNotFound());
  EXPECT_TRUE(SaveStatus(5, State("x")).IsNotFound());
  ASSERT_TRUE(store_->Append("s", ExpectedVersion::Any(), Events(3)).ok());
  AggregateResult loaded = Load();
  EXPECT_FALSE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), Range(10, 12));
  EXPECT_TRUE(SaveStatus(9, State("x")).IsInvalidArgument());
  Save(11, "state@11");
  loaded = Load();
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), std::vector<uint64_t>{12});
}

TEST_F(SnapshotTest, TombstonedStreamsHaveNoSnapshots) {
  Save(5, "state@5");
  ASSERT_TRUE(store_->Tombstone("s", ExpectedVersion::Any()).ok());
  EXPECT_TRUE(LoadStatus().IsStreamDeleted());
  EXPECT_TRUE(SaveStatus(5, State("x")).IsStreamDeleted());
  // Nor through the internal path, which the commit thread checks.
  EXPECT_TRUE(impl()
                  ->AppendSnapshotForTest("s", 5, State("x"), 1)
                  .status()
                  .IsStreamDeleted());
}

TEST_F(SnapshotTest, SnapshotsBeyondTheStreamsEndAreIgnored) {
  Save(4, "state@4", /*keep=*/2);
  ASSERT_TRUE(impl()->AppendSnapshotForTest("s", 50, State("bogus"), 2).ok());
  AggregateResult loaded = Load();
  ASSERT_TRUE(loaded.snapshot.has_value());
  EXPECT_EQ(loaded.snapshot->data, "state@4");
  EXPECT_EQ(Revisions(loaded.events), Range(5, 9));
  // With only that one, the load starts at the first event.
  ASSERT_TRUE(impl()->AppendSnapshotForTest("s", 60, State("bogus"), 1).ok());
  loaded = Load();
  EXPECT_FALSE(loaded.snapshot.has_value());
  EXPECT_EQ(Revisions(loaded.events), Range(0, 9));
}

TEST_F(SnapshotTest, SnapshotStreamsAreReadOnlyForClientsAndInNoLinkStream) {
  ASSERT_TRUE(store_
                  ->Append("Order-1", ExpectedVersion::NoStream(),
                           {testing::Event("Placed")})
                  .ok());
  SaveSnapshotOptions options;
  ASSERT_TRUE(
      store_
          ->SaveSnapshot("Order-1", StreamRevision(0), State("order"), options)
          .ok());
  auto ce = store_->ReadStream("$ce-Order", {});
  ASSERT_TRUE(ce.ok()) << ce.status().ToString();
  ASSERT_EQ(ce->events.size(), 1u);
  EXPECT_EQ(ce->events[0].type, "Placed");
  EXPECT_TRUE(store_->ReadStream("$et-$snapshot", {}).status().IsNotFound());
  EXPECT_TRUE(store_->ReadStream("$ce-$snapshot", {}).status().IsNotFound());

  // Clients read them...
  auto stored = store_->ReadStream("$snapshot-Order-1", {});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->events.size(), 1u);
  EXPECT_EQ(stored->events[0].type, "$snapshot");
  EXPECT_EQ(stored->events[0].data, "order");
  EXPECT_EQ(stored->events[0].metadata,
            R"({"revision":0,"schema":"State/v1"})");
  // ...but write them only through SaveSnapshot.
  EXPECT_TRUE(store_
                  ->Append("$snapshot-Order-1", ExpectedVersion::Any(),
                           {testing::Event("$snapshot")})
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store_
                  ->SetStreamMetadataJson("$snapshot-Order-1",
                                          ExpectedVersion::Any(), "{}")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store_->Tombstone("$snapshot-Order-1", ExpectedVersion::Any())
                  .status()
                  .IsInvalidArgument());
}

TEST_F(SnapshotTest, SnapshotsSurviveReopenAndIndexRebuild) {
  Save(6, "state@6", /*keep=*/2);
  Save(7, "state@7", /*keep=*/2);
  Save(8, "state@8", /*keep=*/2);
  for (bool rebuild : {false, true}) {
    Options options = testing::SmallOptions();
    options.rebuild_index = rebuild;
    Reopen(options);
    AggregateResult loaded = Load();
    ASSERT_TRUE(loaded.snapshot.has_value());
    EXPECT_EQ(loaded.snapshot->data, "state@8");
    EXPECT_EQ(Revisions(loaded.events), std::vector<uint64_t>{9});
    EXPECT_EQ(StoredSnapshots(),
              (std::vector<std::string>{"state@7", "state@8"}));
  }
}

TEST_F(SnapshotTest, ConcurrentAppendsSavesAndLoadsStayConsistent) {
  constexpr int kAppends = 200;
  constexpr int kSaves = 50;
  constexpr int kLoads = 200;
  std::atomic<bool> failed{false};
  std::thread appender([&] {
    for (int i = 0; i < kAppends; ++i) {
      if (!store_->Append("s", ExpectedVersion::Any(), Events(1)).ok()) {
        failed = true;
      }
    }
  });
  std::thread saver([&] {
    for (int i = 0; i < kSaves; ++i) {
      auto last = store_->GetStreamRevision("s");
      if (!last.ok() || !last->has_value()) {
        failed = true;
        continue;
      }
      const uint64_t r = (*last)->value();
      SaveSnapshotOptions options;
      options.keep = 2;
      if (!store_
               ->SaveSnapshot("s", StreamRevision(r),
                              State("state@" + std::to_string(r)), options)
               .ok()) {
        failed = true;
      }
    }
  });
  std::vector<std::string> problems;
  for (int i = 0; i < kLoads; ++i) {
    LoadAggregateOptions options;
    options.max_count = 64;
    auto loaded = store_->LoadAggregate("s", options);
    if (!loaded.ok()) {
      problems.push_back(loaded.status().ToString());
      continue;
    }
    uint64_t next = 0;
    if (loaded->snapshot) {
      const uint64_t r = loaded->snapshot->revision.value();
      if (loaded->snapshot->data != "state@" + std::to_string(r)) {
        problems.push_back("snapshot data " + loaded->snapshot->data +
                           " at revision " + std::to_string(r));
      }
      next = r + 1;
    }
    for (const RecordedEvent& e : loaded->events) {
      if (e.revision.value() != next) {
        problems.push_back("revision " + std::to_string(e.revision.value()) +
                           " where " + std::to_string(next) + " was due");
      }
      next = e.revision.value() + 1;
    }
    if (loaded->next_revision.value() != next) {
      problems.push_back("next_revision " +
                         std::to_string(loaded->next_revision.value()));
    }
  }
  appender.join();
  saver.join();
  EXPECT_FALSE(failed.load());
  EXPECT_TRUE(problems.empty()) << problems.front();
  AggregateResult final_load = Load();
  ASSERT_TRUE(final_load.snapshot.has_value());
  EXPECT_TRUE(final_load.end_of_stream);
  EXPECT_EQ(final_load.last_revision, StreamRevision(9 + kAppends));
}

}  // namespace
}  // namespace cairn
