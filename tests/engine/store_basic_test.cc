// Copyright (c) Cairn authors.
//
// The public API end to end on the POSIX file system: appends, stream and
// global reads, filters, stats, persistence across reopen, segment rolling.
#include <gtest/gtest.h>

#include <fstream>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;
using testing::Events;

class StoreBasicTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore(
      const Options& options = testing::SmallOptions()) {
    auto store = Store::Open(dir_.Sub("store"), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  testing::TempDir dir_;
};

TEST_F(StoreBasicTest, AppendThenReadStream) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto events = Events(3, "OrderPlaced");
  auto r = store->Append("Order-1", ExpectedVersion::NoStream(), events);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_revision, StreamRevision(0));
  EXPECT_EQ(r->last_revision, StreamRevision(2));
  EXPECT_EQ(r->first_position, GlobalPosition(0));
  EXPECT_EQ(r->last_position, GlobalPosition(2));
  EXPECT_FALSE(r->idempotent_replay);

  auto read = store->ReadStream("Order-1", {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->events.size(), 3u);
  EXPECT_TRUE(read->end_of_stream);
  EXPECT_EQ(read->last_revision, StreamRevision(2));
  for (int i = 0; i < 3; ++i) {
    const RecordedEvent& e = read->events[i];
    EXPECT_EQ(e.stream, "Order-1");
    EXPECT_EQ(e.revision, StreamRevision(i));
    EXPECT_EQ(e.position, GlobalPosition(i));
    EXPECT_EQ(e.id, events[i].id);
    EXPECT_EQ(e.type, "OrderPlaced");
    EXPECT_EQ(e.data, events[i].data);
    EXPECT_GT(e.created_us, 0);
  }
}

TEST_F(StoreBasicTest, GeneratesIdsWhenAbsent) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<EventData> events = {Event("A"), Event("B")};
  ASSERT_TRUE(store->Append("s", ExpectedVersion::Any(), events).ok());
  auto read = store->ReadStream("s", {});
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->events[0].id.IsNil());
  EXPECT_NE(read->events[0].id, read->events[1].id);
}

TEST_F(StoreBasicTest, ReadStreamBackwardAndPaging) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Append("s", ExpectedVersion::Any(), Events(10)).ok());
  ReadStreamOptions backward;
  backward.direction = Direction::kBackward;
  backward.max_count = 4;
  auto page = store->ReadStream("s", backward);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 4u);
  EXPECT_EQ(page->events[0].revision, StreamRevision(9));
  EXPECT_EQ(page->events[3].revision, StreamRevision(6));
  EXPECT_FALSE(page->end_of_stream);

  backward.from = StreamRevision(2);
  page = store->ReadStream("s", backward);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 3u);
  EXPECT_EQ(page->events[2].revision, StreamRevision(0));
  EXPECT_TRUE(page->end_of_stream);

  ReadStreamOptions forward;
  forward.from = StreamRevision(8);
  auto tail = store->ReadStream("s", forward);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->events.size(), 2u);
  EXPECT_TRUE(tail->end_of_stream);

  forward.from = StreamRevision(50);
  tail = store->ReadStream("s", forward);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->events.empty());
  EXPECT_TRUE(tail->end_of_stream);
}

// One ReadStream of "s": the revisions it returned and whether it reached
// the end (an error fails the test and reads as an empty end).
struct Page {
  std::vector<uint64_t> revisions;
  bool end_of_stream = true;
  friend bool operator==(const Page&, const Page&) = default;
};
Page ReadPage(Store& store, const ReadStreamOptions& options) {
  auto read = store.ReadStream("s", options);
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  Page page;
  if (!read.ok()) return page;
  for (const RecordedEvent& e : read->events) {
    page.revisions.push_back(e.revision.value());
  }
  page.end_of_stream = read->end_of_stream;
  return page;
}

// max_bytes stops a read at the event that reaches it (data, metadata and
// type bytes), in both directions, and pages on from there; one event
// larger than the budget is still returned.
TEST_F(StoreBasicTest, ReadStreamStopsAtMaxBytes) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<EventData> events;
  for (int i = 0; i < 10; ++i) {
    EventData e = Event("E", std::string(999, static_cast<char>('a' + i)));
    e.metadata = std::string(i == 4 ? 5000 : 0, 'm');
    events.push_back(std::move(e));
  }
  ASSERT_TRUE(store->Append("s", ExpectedVersion::Any(), events).ok());

  // Forward, 2500 bytes a page: events are 1000 bytes, and 6000 for #4.
  ReadStreamOptions forward;
  forward.max_bytes = 2500;
  std::vector<std::vector<uint64_t>> pages;
  for (;;) {
    Page page = ReadPage(*store, forward);
    pages.push_back(page.revisions);
    if (page.end_of_stream) break;
    ASSERT_FALSE(page.revisions.empty());
    forward.from = StreamRevision(page.revisions.back() + 1);
  }
  EXPECT_EQ(pages, (std::vector<std::vector<uint64_t>>{
                       {0, 1, 2}, {3, 4}, {5, 6, 7}, {8, 9}}));

  ReadStreamOptions backward;
  backward.direction = Direction::kBackward;
  backward.max_bytes = 1;
  EXPECT_EQ(ReadPage(*store, backward), (Page{{9}, false}));
  backward.from = StreamRevision(5);
  backward.max_bytes = 6000;
  EXPECT_EQ(ReadPage(*store, backward), (Page{{5, 4}, false}));
  backward.from = StreamRevision(1);
  EXPECT_EQ(ReadPage(*store, backward), (Page{{1, 0}, true}));

  // 0 is no limit.
  Page all = ReadPage(*store, {});
  EXPECT_EQ(all.revisions.size(), 10u);
  EXPECT_TRUE(all.end_of_stream);
}

// A byte-bounded read of any max_count takes the index in chunks (1024
// entries): a budget of 2000 three-byte events spans two chunks.
TEST_F(StoreBasicTest, ReadStreamWithMaxBytesSpansIndexChunks) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->Append("s", ExpectedVersion::Any(), Events(1000)).ok());
  }
  // The budget the first 2000 events reach exactly.
  uint64_t event_bytes = 0;
  {
    ReadStreamOptions all;
    all.max_count = UINT64_MAX;
    auto read = store->ReadStream("s", all);
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->events.size(), 3000u);
    EXPECT_TRUE(read->end_of_stream);
    for (size_t i = 0; i < 2000; ++i) {
      const RecordedEvent& e = read->events[i];
      event_bytes += e.type.size() + e.data.size() + e.metadata.size();
    }
  }
  ReadStreamOptions read;
  read.max_count = UINT64_MAX;
  read.max_bytes = event_bytes;
  Page first = ReadPage(*store, read);
  ASSERT_EQ(first.revisions.size(), 2000u);
  EXPECT_FALSE(first.end_of_stream);
  EXPECT_EQ(first.revisions.back(), 1999u);
  read.from = StreamRevision(2000);
  Page rest = ReadPage(*store, read);
  EXPECT_EQ(rest.revisions.size(), 1000u);
  EXPECT_TRUE(rest.end_of_stream);
}

TEST_F(StoreBasicTest, MissingStreamIsNotFound) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto read = store->ReadStream("nope", {});
  EXPECT_TRUE(read.status().IsNotFound());
  auto rev = store->GetStreamRevision("nope");
  ASSERT_TRUE(rev.ok());
  EXPECT_FALSE(rev->has_value());
}

TEST_F(StoreBasicTest, ReadAllInterleavesStreamsInCommitOrder) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 20; ++i) {
    std::string stream =
        (i % 2 == 0 ? "Order-" : "User-") + std::to_string(i % 3);
    ASSERT_TRUE(store
                    ->Append(stream, ExpectedVersion::Any(),
                             {Event(i % 2 == 0 ? "Placed" : "Renamed")})
                    .ok());
  }
  auto all = store->ReadAll({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 20u);
  EXPECT_FALSE(all->next_position.has_value());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(all->events[i].position, GlobalPosition(i));
  }

  ReadAllOptions filtered;
  filtered.stream_prefix = "Order-";
  all = store->ReadAll(filtered);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->events.size(), 10u);
  for (const auto& e : all->events) EXPECT_EQ(e.stream.rfind("Order-", 0), 0u);

  filtered.stream_prefix.clear();
  filtered.type_prefix = "Ren";
  filtered.max_count = 3;
  all = store->ReadAll(filtered);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 3u);
  EXPECT_EQ(all->events[2].position, GlobalPosition(5));
  ASSERT_TRUE(all->next_position.has_value());
  EXPECT_EQ(*all->next_position, GlobalPosition(6));

  ReadAllOptions backward;
  backward.direction = Direction::kBackward;
  backward.max_count = 5;
  all = store->ReadAll(backward);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 5u);
  EXPECT_EQ(all->events[0].position, GlobalPosition(19));
  EXPECT_EQ(all->events[4].position, GlobalPosition(15));
  ASSERT_TRUE(all->next_position.has_value());
  EXPECT_EQ(*all->next_position, GlobalPosition(14));
}

TEST_F(StoreBasicTest, PersistsAcrossReopenAndRollsSegments) {
  Options options = testing::SmallOptions();
  std::vector<EventData> written;
  {
    auto store = OpenStore(options);
    ASSERT_NE(store, nullptr);
    // ~1 KiB events over 256 KiB segments: several segments.
    for (int i = 0; i < 1000; ++i) {
      EventData e =
          Event("Big", std::string(1000, static_cast<char>('a' + i % 26)),
                EventId::Generate());
      written.push_back(e);
      auto r = store->Append("s-" + std::to_string(i % 7),
                             ExpectedVersion::Any(), {e});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->first_position, GlobalPosition(i));
    }
    auto stats = store->GetStats();
    ASSERT_TRUE(stats.ok());
    EXPECT_GT(stats->segments, 3u);
    CAIRN_ASSERT_OK(store->Close());
  }
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  auto stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 1000u);
  EXPECT_EQ(stats->streams, 7u);
  EXPECT_EQ(stats->durable_position_end, GlobalPosition(1000));
  uint64_t seen = 0;
  auto next =
      store->VisitAll(testing::AllUpTo(5000), [&](const RecordedEventView& e) {
        EXPECT_EQ(e.position, GlobalPosition(seen));
        EXPECT_EQ(e.id, written[seen].id);
        EXPECT_EQ(e.data, written[seen].data);
        ++seen;
        return true;
      });
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(seen, 1000u);
  auto r = store->Append("s-0", ExpectedVersion::Any(), {Event("After")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_position, GlobalPosition(1000));
  EXPECT_EQ(r->first_revision, StreamRevision(143));
}

TEST_F(StoreBasicTest, CompressesLargePayloadsTransparently) {
  Options options = testing::SmallOptions();
  options.compression_threshold = 128;
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  std::string data(20000, 'x');
  std::string metadata(300, 'm');
  EventData e = Event("T", data);
  e.metadata = metadata;
  e.content_type = ContentType::kBinary;
  ASSERT_TRUE(store->Append("c", ExpectedVersion::Any(), {e}).ok());
  auto stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_LT(stats->bytes, 5000u);  // stored compressed
  auto read = store->ReadStream("c", {});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->events[0].data, data);
  EXPECT_EQ(read->events[0].metadata, metadata);
  EXPECT_EQ(read->events[0].content_type, ContentType::kBinary);
}

TEST_F(StoreBasicTest, AsyncAppendsAndFutures) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<std::future<Result<AppendResult>>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(
        store->AppendFuture("a", ExpectedVersion::Any(), {Event("E")}));
  }
  std::vector<bool> seen(200, false);
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    uint64_t p = r->first_position.value();
    ASSERT_LT(p, 200u);
    EXPECT_FALSE(seen[p]);
    seen[p] = true;
    EXPECT_EQ(r->first_revision.value(),
              p);  // one stream: revision == position
  }
}

TEST_F(StoreBasicTest, CloseRejectsLaterCalls) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  CAIRN_ASSERT_OK(store->Close());
  CAIRN_ASSERT_OK(store->Close());
  EXPECT_TRUE(store->Append("s", ExpectedVersion::Any(), {Event("E")})
                  .status()
                  .IsClosed());
  EXPECT_TRUE(store->ReadAll({}).status().IsClosed());
}

TEST_F(StoreBasicTest, CreateIfMissingFalse) {
  Options options;
  options.create_if_missing = false;
  auto store = Store::Open(dir_.Sub("absent"), options);
  EXPECT_TRUE(store.status().IsNotFound());
}

TEST_F(StoreBasicTest, DurabilityModesAllPersistOnClose) {
  for (Durability mode :
       {Durability::kGroupCommit, Durability::kInterval, Durability::kNone}) {
    testing::TempDir dir;
    Options options = testing::SmallOptions();
    options.durability = mode;
    {
      auto store = Store::Open(dir.Sub("s"), options);
      ASSERT_TRUE(store.ok());
      for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(
            (*store)->Append("x", ExpectedVersion::Any(), {Event("E")}).ok());
      }
      CAIRN_ASSERT_OK((*store)->Sync());
      auto stats = (*store)->GetStats();
      ASSERT_TRUE(stats.ok());
      EXPECT_EQ(stats->durable_position_end, GlobalPosition(50));
    }
    auto store = Store::Open(dir.Sub("s"), options);
    ASSERT_TRUE(store.ok());
    auto rev = (*store)->GetStreamRevision("x");
    ASSERT_TRUE(rev.ok());
    EXPECT_EQ(**rev, StreamRevision(49));
  }
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// Damage that appears after open (bit rot under a running store) is caught
// by the per-read body checksum, unless the reader opted out.
TEST(ReadVerificationTest, BodyChecksumOnReadUnlessDisabled) {
  testing::TempDir dir;
  auto store = Store::Open(dir.Sub("s"), testing::SmallOptions());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)
                  ->Append("a", ExpectedVersion::Any(),
                           {testing::Event("T", "{\"k\":\"value\"}")})
                  .ok());
  {
    // The data's last byte sits just before the end of the only record.
    auto stats = (*store)->GetStats();
    ASSERT_TRUE(stats.ok());
    std::fstream f(dir.Sub("s") + "/000000000000.seg",
                   std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.is_open());
    f.seekp(static_cast<std::streamoff>(4096 + stats->bytes - 3));
    f.put('X');
    f.close();
    ASSERT_FALSE(f.fail());
  }
  auto verified = (*store)->ReadAll({});
  EXPECT_TRUE(verified.status().IsCorruption()) << verified.status().ToString();
  ReadAllOptions trusting;
  trusting.verify_checksums = false;
  auto unverified = (*store)->ReadAll(trusting);
  ASSERT_TRUE(unverified.ok());
  ASSERT_EQ(unverified->events.size(), 1u);
  EXPECT_NE(unverified->events[0].data, "{\"k\":\"value\"}");
}

}  // namespace
}  // namespace cairn
