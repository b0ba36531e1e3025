// Copyright (c) Cairn authors.
//
// The link index: revisions per category and type stream assigned in
// position order, every entry attributed through the record it points at
// (all names forced onto one hash), reopening from its tables, the durable
// end gating what it lists, and refusing a gap.
#include "index/link_index.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "index/link_streams.h"
#include "index/table.h"
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
  // After a scavenge: the new offset of each rewritten event, nullopt
  // where it was removed.
  std::map<uint64_t, std::optional<uint32_t>> moved;

  std::optional<uint32_t> Offset(uint64_t position) const {
    auto it = moved.find(position);
    return it == moved.end() ? std::optional<uint32_t>(OffsetOf(position))
                             : it->second;
  }

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
      if (position >= streams.size() ||
          Offset(position) != std::optional<uint32_t>(offset)) {
        return Status::Corruption("log", offset, "no such record");
      }
      return EventKey{streams[position], types[position]};
    };
  }

  // The log's events, as the engine's LogEventReader.
  LogEventReader Events() const {
    return [this](uint64_t first, uint64_t end,
                  const std::function<bool(const LoggedEvent&)>& visit) {
      for (uint64_t p = first; p < end && p < streams.size(); ++p) {
        auto offset = Offset(p);
        if (!offset) continue;
        if (!visit(
                LoggedEvent{streams[p], types[p], 0, p, *offset, EventId()})) {
          break;
        }
      }
      return Status::Ok();
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
      // Removed events leave gaps in the revisions.
      size_t k = 0;
      for (size_t i = 0; i < positions.size(); ++i) {
        if (!log_.Offset(positions[i])) continue;
        ASSERT_LT(k, events.size());
        EXPECT_EQ(events[k].revision, i);
        EXPECT_EQ(events[k].position, positions[i]);
        EXPECT_EQ(std::optional<uint32_t>(events[k].offset),
                  log_.Offset(positions[i]));
        ++k;
      }
      EXPECT_EQ(k, events.size());
    }
    auto none = index.LastRevision("$et-$meta");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
  }

  // Every file of the index directory, by name.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> files;
    auto names = fs_.ListDir(kDir);
    EXPECT_TRUE(names.ok());
    for (const std::string& name : *names) {
      auto f =
          fs_.OpenFile(std::string(kDir) + "/" + name, io::OpenMode::kReadOnly);
      EXPECT_TRUE(f.ok()) << name;
      auto size = (*f)->Size();
      std::string bytes(*size, '\0');
      size_t got = 0;
      EXPECT_TRUE((*f)->Read(0, bytes.data(), bytes.size(), &got).ok());
      files[name] = bytes;
    }
    return files;
  }
  void Restore(const std::map<std::string, std::string>& files) {
    auto names = fs_.ListDir(kDir);
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names) {
      ASSERT_TRUE(fs_.RemoveFile(std::string(kDir) + "/" + name).ok());
    }
    for (const auto& [name, bytes] : files) {
      auto f =
          fs_.OpenFile(std::string(kDir) + "/" + name, io::OpenMode::kCreate);
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE((*f)->Write(0, bytes.data(), bytes.size()).ok());
    }
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

// The revisions of a category or type stream are not in the records, so a
// damaged block's are rebuilt by counting each stream's slots in the table
// from where the older tables leave it; every name collides here, so the
// streams are told apart by name. Each entry block and each block summary
// of every table is damaged in turn: every answer stays right, and the
// table is marked for the next open.
TEST_F(LinkIndexTest, ALookupRebuildsADamagedBlockFromTheLog) {
  options_.log_events = log_.Events();
  {
    auto index = Open();
    ASSERT_NE(index, nullptr);
    index->SetDurable(log_.streams.size());
    ASSERT_TRUE(log_.Feed(index.get(), 0).ok());
    ASSERT_TRUE(index->Close().ok());
  }
  const auto pristine = Snapshot();
  int cases = 0;
  for (const auto& [name, bytes] : pristine) {
    auto number = ParseTableFileName(name);
    if (!number) continue;
    const std::string path = std::string(kDir) + "/" + name;
    std::vector<uint64_t> offsets;
    {
      auto table = Table::Open(&fs_, path, kStore, *number, 0);
      ASSERT_TRUE(table.ok()) << table.status().ToString();
      for (uint64_t b = 0; b < (*table)->info().block_count(); ++b) {
        offsets.push_back((*table)->entries_offset() + b * kTableBlockSize +
                          8);  // the first entry's revision
        offsets.push_back((*table)->filters_offset() +
                          b * (*table)->info().summary_size() + 3);
      }
    }
    for (uint64_t offset : offsets) {
      SCOPED_TRACE(name + " at " + std::to_string(offset));
      std::string damaged = bytes;
      damaged[offset] ^= 0x10;
      auto f = fs_.OpenFile(path, io::OpenMode::kReadWrite);
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE((*f)->Write(0, damaged.data(), damaged.size()).ok());
      auto index = Open();
      ASSERT_NE(index, nullptr);
      ASSERT_EQ(index->next_position(), log_.streams.size());
      ExpectModel(*index);
      EXPECT_TRUE(fs_.Exists(std::string(kDir) + "/DAMAGED"));
      ASSERT_TRUE(index->Close().ok());
      index.reset();
      Restore(pristine);
      ++cases;
    }
  }
  EXPECT_GT(cases, 4);
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

// A scavenge removes the odd events below 60 (none the last of its
// category or type stream): both their slots go, the category and type
// streams keep their revisions with gaps, installed on the open index and
// on the closed directory alike.
TEST_F(LinkIndexTest, RewritesTablesOverScavengedEvents) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  index->SetDurable(log_.streams.size());
  ASSERT_TRUE(log_.Feed(index.get(), 0).ok());
  for (uint64_t p = 0; p < 60; ++p) {
    log_.moved[p] =
        p % 2 == 1 ? std::nullopt : std::optional<uint32_t>(5000 + p);
  }
  PositionRemap remap;
  remap.offset = [this](uint64_t p) { return log_.Offset(p); };
  remap.anchor = [](uint64_t p) {
    return static_cast<uint32_t>(5000 + (p + 1) / 2 * 2);
  };
  StagedTables staged;
  {
    auto pause = index->PauseMerges();
    Status s = index->StageRewrite(0, 60, remap, &staged);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(staged.first_position, 0u);
    EXPECT_GE(staged.end_position, 60u);
    ASSERT_TRUE(index->InstallRewrite(staged).ok());
    ExpectModel(*index);
    ASSERT_TRUE(index->Close().ok());
  }
  index = Open();
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->next_position(), log_.streams.size());
  ASSERT_TRUE(index->loaded_last_position().has_value());
  EXPECT_EQ(index->loaded_last_offset(),
            log_.Offset(*index->loaded_last_position()));
  ExpectModel(*index);

  // Again on the closed directory (nothing left to remove below 60: the
  // same remap keeps every entry): installing twice is the same as once.
  {
    auto pause = index->PauseMerges();
    ASSERT_TRUE(index->StageRewrite(0, 60, remap, &staged).ok());
    ASSERT_TRUE(index->Close().ok());
  }
  index.reset();
  ASSERT_TRUE(LinkIndex::InstallStaged(&fs_, kDir, staged).ok());
  ASSERT_TRUE(LinkIndex::InstallStaged(&fs_, kDir, staged).ok());
  index = Open();
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->open_note(), "");
  ExpectModel(*index);
}

}  // namespace
}  // namespace cairn::index
