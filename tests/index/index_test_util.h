// Copyright (c) Cairn authors.
//
// Helpers for the index tests: a fake log (what the engine's records would
// say), a reference model of the index, and a file system that "loses
// power" at the N-th file operation.
#ifndef CAIRN_TESTS_INDEX_INDEX_TEST_UTIL_H_
#define CAIRN_TESTS_INDEX_INDEX_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "index/persistent_index.h"
#include "testing/memory_file_system.h"

namespace cairn::index::testing {

// The log as the index sees it: event `p` belongs to stream names[p], has
// revision revisions[p] and id ids[p], and its record sits at OffsetOf(p).
struct FakeLog {
  std::vector<std::string> names;
  std::vector<uint64_t> revisions;
  std::vector<EventId> ids;
  std::map<std::string, std::vector<uint64_t>> streams;  // the model

  // After a scavenge (tests of table_rewrite.h): the new offset of each
  // rewritten position, nullopt where the event was removed.
  std::map<uint64_t, std::optional<uint32_t>> moved;

  static uint32_t OffsetOf(uint64_t position) {
    return static_cast<uint32_t>(4096 + position * 7);
  }
  // Where the record of `position` is now; nullopt if it was removed.
  std::optional<uint32_t> CurrentOffset(uint64_t position) const {
    auto it = moved.find(position);
    return it == moved.end() ? std::optional<uint32_t>(OffsetOf(position))
                             : it->second;
  }

  uint64_t Append(const std::string& stream) {
    uint64_t position = names.size();
    auto& positions = streams[stream];
    names.push_back(stream);
    revisions.push_back(positions.size());
    ids.push_back(EventId::Generate());
    positions.push_back(position);
    return position;
  }

  // Feeds events [from, to) to the index, as the engine's replay does.
  Status Feed(PersistentIndex* index, uint64_t from, uint64_t to) const {
    for (uint64_t p = from; p < to; ++p) {
      Status s = index->Add(names[p], revisions[p], p, OffsetOf(p), ids[p]);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  // The log's events [first, end), as the engine's LogEventReader.
  LogEventReader EventReader() const {
    return [this](uint64_t first, uint64_t end,
                  const std::function<bool(const LoggedEvent&)>& visit) {
      for (uint64_t p = first; p < end && p < names.size(); ++p) {
        auto offset = CurrentOffset(p);
        if (!offset) continue;
        if (!visit(
                LoggedEvent{names[p], "", revisions[p], p, *offset, ids[p]})) {
          break;
        }
      }
      return Status::Ok();
    };
  }

  NameReader Reader() const {
    return
        [this](uint64_t position, uint32_t offset) -> Result<std::string_view> {
          if (position >= names.size() ||
              CurrentOffset(position) != std::optional<uint32_t>(offset)) {
            return Status::Corruption("log", offset, "no such record");
          }
          const std::string_view name = names[position];
          return name;
        };
  }
};

// Checks every answer of `index` against the model.
inline void ExpectMatchesModel(const PersistentIndex& index, const FakeLog& log,
                               uint64_t end) {
  // Streams as of position `end`.
  std::map<std::string, std::vector<uint64_t>> streams;
  for (uint64_t p = 0; p < end; ++p) streams[log.names[p]].push_back(p);
  EXPECT_EQ(index.StreamCount(), streams.size());
  for (const auto& [name, positions] : streams) {
    auto last = index.LastRevision(name);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    ASSERT_TRUE(last->has_value()) << name;
    EXPECT_EQ(**last, positions.size() - 1) << name;
    std::vector<IndexedEvent> events;
    Status s = index.Read(name, 0, Direction::kForward, UINT64_MAX, &events);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(events.size(), positions.size()) << name;
    for (size_t r = 0; r < positions.size(); ++r) {
      EXPECT_EQ(events[r].revision, r);
      EXPECT_EQ(events[r].position, positions[r]);
      EXPECT_EQ(events[r].offset, FakeLog::OffsetOf(positions[r]));
      EXPECT_EQ(events[r].id_tag, IdTag(log.ids[positions[r]]));
    }
    // A backward page from the middle.
    uint64_t from = positions.size() / 2;
    events.clear();
    s = index.Read(name, from, Direction::kBackward, 3, &events);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(events.size(), std::min<uint64_t>(3, from + 1));
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].revision, from - i);
      EXPECT_EQ(events[i].position, positions[from - i]);
    }
  }
  auto missing = index.LastRevision("no-such-stream");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  const uint32_t stride = index.anchor_stride();
  for (uint64_t p = 0; p < end; p += stride) {
    auto anchor = index.Anchor(p);
    ASSERT_TRUE(anchor.has_value()) << p;
    EXPECT_EQ(*anchor, FakeLog::OffsetOf(p)) << p;
  }
}

// Small tables, a small cache and merges of three, all inline: every path
// of the index runs within a few hundred events, deterministically.
inline IndexOptions SmallInlineOptions() {
  IndexOptions options;
  options.memtable_entries = 50;
  options.cache_streams = 8;
  options.merge_fan_in = 3;
  options.anchor_stride = 8;
  options.background = false;
  return options;
}

}  // namespace cairn::index::testing

#endif  // CAIRN_TESTS_INDEX_INDEX_TEST_UTIL_H_
