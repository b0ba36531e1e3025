// Copyright (c) Cairn authors.
//
// Helpers for the index tests: a fake log (what the engine's records would
// say), a reference model of the index, and a file system that "loses
// power" at the N-th file operation.
#ifndef CAIRN_TESTS_INDEX_INDEX_TEST_UTIL_H_
#define CAIRN_TESTS_INDEX_INDEX_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
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

  static uint32_t OffsetOf(uint64_t position) {
    return static_cast<uint32_t>(4096 + position * 7);
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

  NameReader Reader() const {
    return
        [this](uint64_t position, uint32_t offset) -> Result<std::string_view> {
          if (position >= names.size() || offset != OffsetOf(position)) {
            return Status::Corruption("log", offset, "no such record");
          }
          return std::string_view(names[position]);
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

// Forwards to `base` and makes every file operation from the N-th on fail,
// after telling the memory file system to lose what was not synced: the
// process "lost power" just before that operation.
class PowerCutFileSystem : public io::FileSystem {
 public:
  PowerCutFileSystem(io::MemoryFileSystem* base, int64_t cut_at)
      : base_(base), cut_at_(cut_at) {}

  bool cut() const { return cut_.load(); }
  int64_t operations() const { return ops_.load(); }

  // Counts one operation; false if it must fail.
  bool Step() {
    if (cut_.load()) return false;
    if (++ops_ == cut_at_) {
      cut_ = true;
      base_->SimulateCrash();
      return false;
    }
    return true;
  }
  static Status Dead() { return Status::IOError("power cut (test)"); }

  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override;
  Status CreateDir(const std::string& path) override {
    return Step() ? base_->CreateDir(path) : Dead();
  }
  Status SyncDir(const std::string& path) override {
    return Step() ? base_->SyncDir(path) : Dead();
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    if (!Step()) return Dead();
    return base_->ListDir(path);
  }
  Status RemoveFile(const std::string& path) override {
    return Step() ? base_->RemoveFile(path) : Dead();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return Step() ? base_->Rename(from, to) : Dead();
  }
  bool Exists(const std::string& path) override {
    return !cut_.load() && base_->Exists(path);
  }
  Result<std::unique_ptr<io::FileLock>> LockFile(
      const std::string& path) override {
    if (!Step()) return Dead();
    return base_->LockFile(path);
  }
  bool IsLocked(const std::string& path) override {
    return base_->IsLocked(path);
  }

 private:
  io::MemoryFileSystem* base_;
  int64_t cut_at_;  // 0: never
  std::atomic<int64_t> ops_{0};
  std::atomic<bool> cut_{false};
};

class PowerCutFile : public io::File {
 public:
  PowerCutFile(PowerCutFileSystem* fs, std::unique_ptr<io::File> base)
      : fs_(fs), base_(std::move(base)) {}
  Status Write(uint64_t offset, const void* data, size_t size) override {
    return fs_->Step() ? base_->Write(offset, data, size)
                       : PowerCutFileSystem::Dead();
  }
  Status Read(uint64_t offset, void* out, size_t size, size_t* read) override {
    return fs_->Step() ? base_->Read(offset, out, size, read)
                       : PowerCutFileSystem::Dead();
  }
  Status Sync() override {
    return fs_->Step() ? base_->Sync() : PowerCutFileSystem::Dead();
  }
  Status Allocate(uint64_t size) override {
    return fs_->Step() ? base_->Allocate(size) : PowerCutFileSystem::Dead();
  }
  Status Truncate(uint64_t size) override {
    return fs_->Step() ? base_->Truncate(size) : PowerCutFileSystem::Dead();
  }
  Status DropCache(uint64_t offset, uint64_t size) override {
    return fs_->Step() ? base_->DropCache(offset, size)
                       : PowerCutFileSystem::Dead();
  }
  Result<uint64_t> Size() override {
    if (!fs_->Step()) return PowerCutFileSystem::Dead();
    return base_->Size();
  }
  Result<std::unique_ptr<io::MappedRegion>> Map(uint64_t offset,
                                                size_t size) override {
    if (!fs_->Step()) return PowerCutFileSystem::Dead();
    return base_->Map(offset, size);
  }
  Result<std::unique_ptr<io::SharedRegion>> MapShared(size_t size) override {
    if (!fs_->Step()) return PowerCutFileSystem::Dead();
    return base_->MapShared(size);
  }
  Status Close() override { return base_->Close(); }

 private:
  PowerCutFileSystem* fs_;
  std::unique_ptr<io::File> base_;
};

inline Result<std::unique_ptr<io::File>> PowerCutFileSystem::OpenFile(
    const std::string& path, io::OpenMode mode) {
  if (!Step()) return Dead();
  auto file = base_->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  return std::unique_ptr<io::File>(
      std::make_unique<PowerCutFile>(this, std::move(file.value())));
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
