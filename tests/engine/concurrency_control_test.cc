// Copyright (c) Cairn authors.
//
// The optimistic-concurrency matrix and the idempotency matrix (KurrentDB
// semantics, docs/architecture.md), including retries after a reopen.
#include <gtest/gtest.h>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;
using testing::Events;

class ConcurrencyControlTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto store = Store::Open(dir_.Sub("store"), testing::SmallOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  Result<AppendResult> Append(const std::string& stream, ExpectedVersion v,
                              const std::vector<EventData>& events) {
    return store_->Append(stream, v, events);
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// expected version x stream state -> success, and the actual revision
// reported on failure.
TEST_F(ConcurrencyControlTest, ExpectedVersionMatrix) {
  struct Case {
    const char* name;
    int existing;  // events already in the stream (0 = no stream)
    ExpectedVersion expected;
    bool ok;
  };
  const Case cases[] = {
      {"any/absent", 0, ExpectedVersion::Any(), true},
      {"any/present", 2, ExpectedVersion::Any(), true},
      {"nostream/absent", 0, ExpectedVersion::NoStream(), true},
      {"nostream/present", 2, ExpectedVersion::NoStream(), false},
      {"exists/absent", 0, ExpectedVersion::StreamExists(), false},
      {"exists/present", 2, ExpectedVersion::StreamExists(), true},
      {"exact-0/absent", 0, ExpectedVersion::Exact(0), false},
      {"exact-current", 2, ExpectedVersion::Exact(1), true},
      {"exact-behind", 2, ExpectedVersion::Exact(0), false},
      {"exact-ahead", 2, ExpectedVersion::Exact(5), false},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string stream = "s-" + std::to_string(n++);
    if (c.existing > 0) {
      ASSERT_TRUE(
          Append(stream, ExpectedVersion::Any(), Events(c.existing)).ok());
    }
    auto r = Append(stream, c.expected, Events(1));
    EXPECT_EQ(r.ok(), c.ok) << r.status().ToString();
    if (!c.ok) {
      ASSERT_TRUE(r.status().IsWrongExpectedVersion());
      const auto* info = r.status().wrong_expected_version();
      ASSERT_NE(info, nullptr);
      EXPECT_EQ(info->expected, c.expected.ToString());
      if (c.existing == 0) {
        EXPECT_FALSE(info->actual_revision.has_value());
      } else {
        EXPECT_EQ(info->actual_revision, static_cast<uint64_t>(c.existing - 1));
      }
      // Nothing was written.
      auto rev = store_->GetStreamRevision(stream);
      ASSERT_TRUE(rev.ok());
      if (c.existing == 0) {
        EXPECT_FALSE(rev->has_value());
      } else {
        EXPECT_EQ(**rev, StreamRevision(c.existing - 1));
      }
    } else {
      EXPECT_EQ(r->first_revision, StreamRevision(c.existing));
    }
  }
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  // 2 events in each of 6 pre-filled streams + one per successful case.
  EXPECT_EQ(stats->events, 6u * 2 + 5);
}

TEST_F(ConcurrencyControlTest, RetryIsIdempotentForEveryExpectedVersion) {
  const ExpectedVersion kinds[] = {
      ExpectedVersion::Any(), ExpectedVersion::NoStream(),
      ExpectedVersion::StreamExists(), ExpectedVersion::Exact(0)};
  int n = 0;
  for (const ExpectedVersion& v : kinds) {
    SCOPED_TRACE(v.ToString());
    std::string stream = "retry-" + std::to_string(n++);
    if (v.kind() == ExpectedVersion::Kind::kStreamExists ||
        v.kind() == ExpectedVersion::Kind::kExact) {
      ASSERT_TRUE(Append(stream, ExpectedVersion::Any(), Events(1)).ok());
    }
    auto events = Events(3);
    auto first = Append(stream, v, events);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    // Something else lands in the stream, then the retry arrives.
    ASSERT_TRUE(Append(stream, ExpectedVersion::Any(), Events(1)).ok());
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto retry = Append(stream, v, events);
      ASSERT_TRUE(retry.ok()) << retry.status().ToString();
      EXPECT_TRUE(retry->idempotent_replay);
      EXPECT_EQ(retry->first_revision, first->first_revision);
      EXPECT_EQ(retry->last_revision, first->last_revision);
      EXPECT_EQ(retry->first_position, first->first_position);
      EXPECT_EQ(retry->last_position, first->last_position);
      Reopen();  // the second attempt comes after a restart
    }
    auto read = store_->ReadStream(stream, {});
    ASSERT_TRUE(read.ok());
    uint64_t expected_count = (v.kind() == ExpectedVersion::Kind::kAny ||
                               v.kind() == ExpectedVersion::Kind::kNoStream)
                                  ? 4
                                  : 5;
    EXPECT_EQ(read->events.size(), expected_count);  // never a duplicate
  }
}

TEST_F(ConcurrencyControlTest, PartialMatchIsWrongExpectedVersion) {
  auto events = Events(3);
  ASSERT_TRUE(Append("p", ExpectedVersion::NoStream(), events).ok());
  // Same first id, different later ones: neither a retry nor a new append.
  auto altered = events;
  altered[2].id = EventId::Generate();
  for (ExpectedVersion v : {ExpectedVersion::NoStream(), ExpectedVersion::Any(),
                            ExpectedVersion::StreamExists()}) {
    auto r = Append("p", v, altered);
    EXPECT_TRUE(r.status().IsWrongExpectedVersion())
        << v.ToString() << " " << r.status().ToString();
  }
  // More events than the original append: also partial.
  auto longer = events;
  longer.push_back(Event("Extra", "{}", EventId::Generate()));
  EXPECT_TRUE(Append("p", ExpectedVersion::NoStream(), longer)
                  .status()
                  .IsWrongExpectedVersion());
  // A later id already present with a new first id (any): refused too.
  std::vector<EventData> mixed = {Event("New", "{}", EventId::Generate()),
                                  events[1]};
  EXPECT_TRUE(Append("p", ExpectedVersion::Any(), mixed)
                  .status()
                  .IsWrongExpectedVersion());
  auto read = store_->ReadStream("p", {});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->events.size(), 3u);
}

// The retry check of an `any` append with client ids compares the append
// with the stream's last idempotency_window events in O(window + events).
// As a product it took ~10^10 steps here (hours in a debug build: the test
// timed out), stalling every other appender on the commit thread.
TEST_F(ConcurrencyControlTest, RetryCheckOfALargeAppendIsLinear) {
  constexpr int kEvents = 1 << 17;
  Options options;
  options.segment_size = 64ull << 20;
  options.idempotency_window = 2 * kEvents;
  auto store = Store::Open(dir_.Sub("large"), options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto first = Events(kEvents);
  auto second = Events(kEvents);
  ASSERT_TRUE((*store)->Append("big", ExpectedVersion::Any(), first).ok());
  auto r = (*store)->Append("big", ExpectedVersion::Any(), second);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->idempotent_replay);
  EXPECT_EQ(r->first_revision, StreamRevision(kEvents));
  // Both appends are recognised as retries, the older one deep in the
  // window; a mix of the two is refused.
  auto again = (*store)->Append("big", ExpectedVersion::Any(), second);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->idempotent_replay);
  EXPECT_EQ(again->first_revision, StreamRevision(kEvents));
  auto older = (*store)->Append("big", ExpectedVersion::StreamExists(), first);
  ASSERT_TRUE(older.ok()) << older.status().ToString();
  EXPECT_TRUE(older->idempotent_replay);
  EXPECT_EQ(older->first_revision, StreamRevision(0));
  std::vector<EventData> mixed = {Event("New", "{}", EventId::Generate()),
                                  second[kEvents / 2]};
  EXPECT_TRUE((*store)
                  ->Append("big", ExpectedVersion::Any(), mixed)
                  .status()
                  .IsWrongExpectedVersion());
  auto revision = (*store)->GetStreamRevision("big");
  ASSERT_TRUE(revision.ok());
  EXPECT_EQ(**revision, StreamRevision(2 * kEvents - 1));
}

// An `any` retry is recognised within the stream's last idempotency_window
// revisions, wherever the index keeps their entries: in index files (a
// memtable of 16 entries is written out every 16 events) or in memory, and
// after a reopen. One revision further back it is a new append.
TEST_F(ConcurrencyControlTest, RetriesAreRecognisedAcrossIndexFiles) {
  constexpr uint64_t kWindow = 100;
  Options options = testing::SmallOptions();
  options.index_memtable_events = 16;
  options.idempotency_window = kWindow;
  auto opened = Store::Open(dir_.Sub("window"), options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(opened).value();
  std::vector<std::vector<EventData>> appends;
  for (int i = 0; i < 250; ++i) {
    appends.push_back(Events(1 + i % 2));
    auto r = store->Append("long", ExpectedVersion::Any(), appends.back());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(store->Append("other", ExpectedVersion::Any(), Events(1)).ok());
  }
  auto last = store->GetStreamRevision("long");
  ASSERT_TRUE(last.ok() && last->has_value());
  const uint64_t current = (*last)->value();
  const uint64_t oldest_in_window = current + 1 - kWindow;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    uint64_t revision = 0;
    for (const auto& events : appends) {
      const uint64_t first = revision;
      revision += events.size();
      if (first < oldest_in_window) continue;
      auto r = store->Append("long", ExpectedVersion::StreamExists(), events);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_TRUE(r->idempotent_replay) << first;
      EXPECT_EQ(r->first_revision, StreamRevision(first));
    }
    ASSERT_TRUE(store->Close().ok());
    opened = Store::Open(dir_.Sub("window"), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(opened).value();
  }
  // The last append whose first event is outside the window: written anew.
  uint64_t revision = 0;
  const std::vector<EventData>* outside = nullptr;
  for (const auto& events : appends) {
    if (revision >= oldest_in_window) break;
    outside = &events;
    revision += events.size();
  }
  ASSERT_NE(outside, nullptr);
  auto r = store->Append("long", ExpectedVersion::Any(), {outside->front()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->idempotent_replay);
  EXPECT_EQ(r->first_revision, StreamRevision(current + 1));
}

TEST_F(ConcurrencyControlTest, ExactRetryOfOlderAppendAfterOthers) {
  auto a = Events(2);
  auto b = Events(2);
  ASSERT_TRUE(Append("x", ExpectedVersion::NoStream(), a).ok());
  ASSERT_TRUE(Append("x", ExpectedVersion::Exact(1), b).ok());
  auto retry_a = Append("x", ExpectedVersion::NoStream(), a);
  ASSERT_TRUE(retry_a.ok());
  EXPECT_TRUE(retry_a->idempotent_replay);
  EXPECT_EQ(retry_a->first_revision, StreamRevision(0));
  auto retry_b = Append("x", ExpectedVersion::Exact(1), b);
  ASSERT_TRUE(retry_b.ok());
  EXPECT_EQ(retry_b->first_revision, StreamRevision(2));
  // b's ids at the place of a: an ordinary conflict.
  auto wrong = Append("x", ExpectedVersion::NoStream(), b);
  EXPECT_TRUE(wrong.status().IsWrongExpectedVersion());
}

TEST_F(ConcurrencyControlTest, RetryWithinOneGroupOfAsyncAppends) {
  auto events = Events(2);
  std::vector<std::future<Result<AppendResult>>> futures;
  for (int i = 0; i < 5; ++i) {
    futures.push_back(
        store_->AppendFuture("g", ExpectedVersion::Any(), events));
  }
  int written = 0;
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (!r->idempotent_replay) ++written;
    EXPECT_EQ(r->first_revision, StreamRevision(0));
  }
  EXPECT_EQ(written, 1);
  auto read = store_->ReadStream("g", {});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->events.size(), 2u);
}

}  // namespace
}  // namespace cairn
