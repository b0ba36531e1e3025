// Copyright (c) Cairn authors.
//
// The segment log's list of segments, through the public API: a roll never
// seals a segment without records, and a log whose segments do not start
// at segment 0 and position 0 is refused.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "segment/segment_header.h"
#include "testing/file_system_wrapper.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Event;

std::string SegmentPath(const std::string& dir, uint64_t n) {
  return dir + "/" + segment::SegmentFileName(n);
}

Options WithSegmentSize(uint64_t size) {
  Options o;
  o.segment_size = size;
  o.compression_threshold = 0;  // the payloads compress well
  return o;
}

// An append that fits a 1 MiB segment but not a 64 KiB one.
std::string Big(char c) {
  return "\"" + std::string(size_t{100} * 1024, c) + "\"";
}

TEST(SegmentLogTest, RaisingSegmentSizeReplacesTheEmptyActiveSegment) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  {
    // A new store: segment 0, 64 KiB, no records.
    auto store = Store::Open(path, WithSegmentSize(uint64_t{64} * 1024));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CAIRN_ASSERT_OK((*store)->Close());
  }
  const Options large = WithSegmentSize(1 << 20);
  {
    auto store = Store::Open(path, large);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto r = (*store)->Append("big", ExpectedVersion::NoStream(),
                              {Event("E", Big('a'))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_position, GlobalPosition(0));
    CAIRN_ASSERT_OK((*store)->Close());
  }
  // The empty segment was replaced, not sealed: one segment, at the new
  // size, holding the append.
  EXPECT_FALSE(fs::exists(SegmentPath(path, 1)));
  EXPECT_EQ(fs::file_size(SegmentPath(path, 0)), uint64_t{1} << 20);

  auto store = Store::Open(path, large);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto read = (*store)->ReadStream("big", {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->events.size(), 1u);
  EXPECT_EQ(read->events[0].data, Big('a'));
  // Later rolls go on from there.
  for (char c = 'b'; c <= 'o'; ++c) {  // 14 more appends
    ASSERT_TRUE(
        (*store)
            ->Append("big", ExpectedVersion::Any(), {Event("E", Big(c))})
            .ok());
  }
  CAIRN_ASSERT_OK((*store)->Close());
  EXPECT_TRUE(fs::exists(SegmentPath(path, 1)));
  auto reopened = Store::Open(path, large);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto all = (*reopened)->ReadAll(testing::AllUpTo(100));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->events.size(), 15u);
}

TEST(SegmentLogTest, EmptyActiveSegmentIsReplacedWhileAReaderFollows) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  {
    auto store = Store::Open(path, WithSegmentSize(uint64_t{64} * 1024));
    ASSERT_TRUE(store.ok());
    CAIRN_ASSERT_OK((*store)->Close());
  }
  auto writer = Store::Open(path, WithSegmentSize(1 << 20));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  Options ro = WithSegmentSize(1 << 20);
  ro.read_only = true;
  auto reader = Store::Open(path, ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE((*reader)->ReadAll(testing::AllUpTo(10)).ok());

  ASSERT_TRUE(
      (*writer)
          ->Append("big", ExpectedVersion::Any(), {Event("E", Big('a'))})
          .ok());
  // The reader listed the old segment 0; it finds the replacement.
  auto all = (*reader)->ReadAll(testing::AllUpTo(10));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->events.size(), 1u);
  EXPECT_EQ(all->events[0].data, Big('a'));
}

// Fails every directory fsync while `fail` is set.
class DirSyncFails : public io::FileSystemWrapper {
 public:
  DirSyncFails() : FileSystemWrapper(io::PosixFileSystem()) {}
  std::atomic<bool> fail{false};
  Status SyncDir(const std::string& path) override {
    if (fail) return Status::IOError("injected directory fsync failure");
    return FileSystemWrapper::SyncDir(path);
  }
};

// The replacing segment is renamed over the empty active one before the
// directory fsync. Once that fsync has failed the writer stops (it never
// syncs the directory again), so neither a later roll nor the old file
// (unlinked, still open) takes a record; a reopen finds what the disk
// holds and appends again.
TEST(SegmentLogTest, AFailedReplacementStopsTheWriter) {
  const Options large = WithSegmentSize(1 << 20);
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  {
    auto store = Store::Open(path, WithSegmentSize(uint64_t{64} * 1024));
    ASSERT_TRUE(store.ok());
    CAIRN_ASSERT_OK((*store)->Close());
  }
  DirSyncFails fs;
  {
    auto store = engine::StoreImpl::Open(&fs, path, large);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    fs.fail = true;
    auto big =
        (*store)->Append("big", ExpectedVersion::Any(), {Event("E", Big('a'))});
    EXPECT_TRUE(big.status().IsIOError()) << big.status().ToString();
    fs.fail = false;
    // The rename took place: the name holds the new, larger file.
    EXPECT_EQ(fs::file_size(SegmentPath(path, 0)), uint64_t{1} << 20);
    // Neither another roll nor a small append that fits the old file.
    auto again =
        (*store)->Append("big", ExpectedVersion::Any(), {Event("E", Big('b'))});
    EXPECT_TRUE(again.status().IsReadOnly()) << again.status().ToString();
    auto small =
        (*store)->Append("small", ExpectedVersion::Any(), {Event("E", "1")});
    EXPECT_TRUE(small.status().IsReadOnly()) << small.status().ToString();
    (void)(*store)->Close();
  }
  auto store = Store::Open(path, large);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto all = (*store)->ReadAll(testing::AllUpTo(10));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(all->events.empty());
  EXPECT_FALSE(fs::exists(SegmentPath(path, 1)));
  CAIRN_ASSERT_OK(
      (*store)
          ->Append("big", ExpectedVersion::Any(), {Event("E", Big('c'))})
          .status());
  all = (*store)->ReadAll(testing::AllUpTo(10));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->events.size(), 1u);
  EXPECT_EQ(all->events[0].data, Big('c'));
}

class MissingSegmentTest : public ::testing::Test {
 protected:
  // A store of at least three segments.
  void SetUp() override {
    auto store = Store::Open(path_, WithSegmentSize(uint64_t{256} * 1024));
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE((*store)
                      ->Append("s-" + std::to_string(i % 3),
                               ExpectedVersion::Any(),
                               {Event("E", Big('a' + i % 26))})
                      .ok());
    }
    CAIRN_ASSERT_OK((*store)->Close());
    ASSERT_TRUE(fs::exists(SegmentPath(path_, 3)));
  }

  void ExpectRefused(const std::string& missing_file,
                     const std::string& message) {
    for (bool read_only : {false, true}) {
      Options options = WithSegmentSize(uint64_t{256} * 1024);
      options.read_only = read_only;
      auto store = Store::Open(path_, options);
      ASSERT_FALSE(store.ok()) << "read_only " << read_only;
      const Status& s = store.status();
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      ASSERT_NE(s.corruption(), nullptr);
      EXPECT_EQ(s.corruption()->file, missing_file);
      EXPECT_NE(s.message().find(message), std::string::npos) << s.ToString();
    }
  }

  testing::TempDir dir_;
  std::string path_ = dir_.Sub("s");
};

TEST_F(MissingSegmentTest, MissingOldestSegmentIsRefused) {
  fs::remove(SegmentPath(path_, 0));
  ExpectRefused(SegmentPath(path_, 0), "segment file is missing");
  // Nothing was changed: no append landed after the hole.
  EXPECT_FALSE(fs::exists(SegmentPath(path_, 0)));
}

TEST_F(MissingSegmentTest, MissingOldestSegmentsAreNamedAsARange) {
  fs::remove(SegmentPath(path_, 0));
  fs::remove(SegmentPath(path_, 1));
  ExpectRefused(SegmentPath(path_, 0), "segment files 0 to 1 are missing");
}

TEST_F(MissingSegmentTest, GapInTheMiddleIsRefused) {
  fs::remove(SegmentPath(path_, 2));
  ExpectRefused(SegmentPath(path_, 2), "segment file is missing");
}

}  // namespace
}  // namespace cairn
