// Copyright (c) Cairn authors.
//
// The link index: revisions per category and type stream assigned in
// position order, every entry attributed through the record it points at
// (all names forced onto one hash), reopening from its tables, the durable
// end gating what it lists, and refusing a gap.
#include "index/link_index.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "index/link_streams.h"
#include "testing/memory_file_system.h"
#include "tests/index/index_test_util.h"

namespace cairn::index {
namespace {

constexpr uint64_t kStore = 0x1234;
constexpr char kDir[] = "/store/links";

uint64_t ConstantHash(std::string_view) { return 7; }

uint32_t OffsetOf(uint64_t position) {
  return static_cast<uint32_t>(4096 + position * 11);
}

// The log as the link index sees it, and the model of its streams.
struct FakeLog {
  std::vector<std::string> streams;
  std::vector<std::string> types;
  std::map<std::string, std::vector<uint64_t>> model;

  void Append(const std::string& stream, const std::string& type) {
    const uint64_t position = streams.size();
    streams.push_back(stream);
    types.push_back(type);
    LinkStreamNames names = LinkStreamsOf(stream, type);
    if (!names.category.empty()) model[names.category].push_back(position);
    if (!names.type.empty()) model[names.type].push_back(position);
  }

  EventKeyReader Reader() const {
    return [this](uint64_t position, uint32_t offset) -> Result<EventKey> {
      if (position >= streams.size() || offset != OffsetOf(position)) {
        return Status::Corruption("log", offset, "no such record");
      }
      return EventKey{streams[position], types[position]};
    };
  }

  Status Feed(LinkIndex* index, uint64_t from) const {
    for (uint64_t p = from; p < streams.size(); ++p) {
      Status s = index->Add(streams[p], types[p], p, OffsetOf(p), EventId());
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
};

class LinkIndexTest : public ::testing::Test {
 protected:
  LinkIndexTest() {
    EXPECT_TRUE(fs_.CreateDir("/store").ok());
    EXPECT_TRUE(fs_.SyncDir("/").ok());
    options_ = testing::SmallInlineOptions();
    options_.memtable_entries = 16;
    options_.cache_streams = 2;
    options_.stream_hash = ConstantHash;  // every name collides
    const char* streams[] = {"Order-1", "Order-2", "plain", "Cust-9"};
    const char* types[] = {"Placed", "$meta", "Shipped"};
    for (int i = 0; i < 101; ++i) log_.Append(streams[i % 4], types[i % 3]);
  }

  std::unique_ptr<LinkIndex> Open() {
    auto opened =
        LinkIndex::Open(&fs_, kDir, kStore, 0, options_, log_.Reader());
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened.value()) : nullptr;
  }

  void ExpectModel(const LinkIndex& index) {
    for (const auto& [name, positions] : log_.model) {
      SCOPED_TRACE(name);
      auto last = index.LastRevision(name);
      ASSERT_TRUE(last.ok()) << last.status().ToString();
      ASSERT_EQ(*last, positions.size() - 1);
      std::vector<IndexedEvent> events;
      Status s = index.Read(name, 0, Direction::kForward, UINT64_MAX, &events);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(events.size(), positions.size());
      for (size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].revision, i);
        EXPECT_EQ(events[i].position, positions[i]);
        EXPECT_EQ(events[i].offset, OffsetOf(positions[i]));
      }
    }
    auto none = index.LastRevision("$et-$meta");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
  }

  io::MemoryFileSystem fs_;
  IndexOptions options_;
  FakeLog log_;
};

TEST_F(LinkIndexTest, AssignsRevisionsInPositionOrder) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(log_.Feed(index.get(), 0).ok());
  EXPECT_EQ(index->next_position(), log_.streams.size());
  ExpectModel(*index);
}

TEST_F(LinkIndexTest, ReopensFromItsTablesUpToTheDurableEnd) {
  {
    auto index = Open();
    ASSERT_NE(index, nullptr);
    index->SetDurable(40);
    ASSERT_TRUE(log_.Feed(index.get(), 0).ok());
    ASSERT_TRUE(index->Close().ok());
  }
  auto index = Open();
  ASSERT_NE(index, nullptr);
  // Tables end between events, and never past what the log made durable.
  EXPECT_LE(index->next_position(), 40u);
  EXPECT_GT(index->next_position(), 0u);
  ASSERT_EQ(index->last_indexed_position(), index->next_position() - 1);
  EXPECT_EQ(index->loaded_last_offset(),
            OffsetOf(*index->last_indexed_position()));
  ASSERT_TRUE(log_.Feed(index.get(), index->next_position()).ok());
  ExpectModel(*index);
}

TEST_F(LinkIndexTest, SkipsIndexedEventsAndRefusesAGap) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(log_.Feed(index.get(), 0).ok());
  // Already indexed: nothing changes.
  ASSERT_TRUE(index->Add("Order-1", "Placed", 3, OffsetOf(3), EventId()).ok());
  Status gap = index->Add("Order-1", "Placed", log_.streams.size() + 1,
                          OffsetOf(log_.streams.size() + 1), EventId());
  EXPECT_TRUE(gap.IsCorruption()) << gap.ToString();
  ExpectModel(*index);
}

}  // namespace
}  // namespace cairn::index
