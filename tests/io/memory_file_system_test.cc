// Copyright (c) Cairn authors.
//
// The in-memory file system's own behaviour: the crash model, mapping
// stability and staleness. The contract shared with POSIX is in
// file_system_contract_test.cc.
#include "testing/memory_file_system.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/io/io_test_util.h"

namespace cairn::io {
namespace {

using testing_util::ReadFile;
using testing_util::ReadString;
using testing_util::WriteString;

class MemoryFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A durable store directory, as the engine would set it up.
    IO_ASSERT_OK(fs_.CreateDir("/db"));
    IO_ASSERT_OK(fs_.SyncDir("/"));
  }

  std::unique_ptr<File> Open(const std::string& path,
                             OpenMode mode = OpenMode::kCreate) {
    auto file = fs_.OpenFile(path, mode);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  // Creates `path` with `data`, syncs the data and, if asked, the name.
  void MakeFile(const std::string& path, const std::string& data,
                bool sync_dir) {
    auto file = Open(path);
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(WriteString(*file, 0, data));
    IO_ASSERT_OK(file->Sync());
    if (sync_dir) {
      IO_ASSERT_OK(fs_.SyncDir("/db"));
    }
  }

  MemoryFileSystem fs_;
};

TEST(MemoryFileSystemFactoryTest, ReturnsAWorkingFileSystem) {
  std::unique_ptr<FileSystem> fs = NewMemoryFileSystem();
  ASSERT_NE(fs, nullptr);
  auto file = fs->OpenFile("/f", OpenMode::kCreate);
  IO_ASSERT_OK(file);
  IO_ASSERT_OK(WriteString(**file, 0, "x"));
  EXPECT_EQ(ReadFile(*fs, "/f"), "x");
  EXPECT_NE(dynamic_cast<MemoryFileSystem*>(fs.get()), nullptr);
}

TEST_F(MemoryFileSystemTest, CrashDropsUnsyncedData) {
  MakeFile("/db/f", "abc", /*sync_dir=*/true);
  {
    auto file = Open("/db/f");
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(WriteString(*file, 3, "def"));     // grows, unsynced
    IO_ASSERT_OK(WriteString(*file, 0, "A"));       // overwrite, unsynced
    EXPECT_EQ(ReadString(*file, 0, 10), "Abcdef");  // visible before crash
  }
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "abc");
}

// Linux after a failed fdatasync: the written bytes stay in the cache,
// clean, and never reach the device.
TEST_F(MemoryFileSystemTest, FailedWritebackIsCachedButNeverDurable) {
  MakeFile("/db/f", "abcdefgh", /*sync_dir=*/true);
  auto file = Open("/db/f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 2, "XY"));
  fs_.FailWriteback("/db/f");
  EXPECT_EQ(ReadString(*file, 0, 8), "abXYefgh");  // still cached
  // A later sync of other bytes does not write the lost ones.
  IO_ASSERT_OK(WriteString(*file, 6, "Z"));
  IO_ASSERT_OK(file->Sync());
  EXPECT_EQ(ReadString(*file, 0, 8), "abXYefZh");
  // Dropping the cache shows what the device has.
  IO_ASSERT_OK(file->DropCache(0, 8));
  EXPECT_EQ(ReadString(*file, 0, 8), "abcdefZh");
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "abcdefZh");
}

TEST_F(MemoryFileSystemTest, FailedWritebackIsLostAtACrashAndRewritable) {
  MakeFile("/db/f", "abcdefgh", /*sync_dir=*/true);
  {
    auto file = Open("/db/f");
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(WriteString(*file, 0, "1234"));
    fs_.FailWriteback("/db/f");
    IO_ASSERT_OK(WriteString(*file, 3, "Q"));  // dirty again: synced below
    IO_ASSERT_OK(file->Sync());
  }
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "abcQefgh");
}

TEST_F(MemoryFileSystemTest, DropCacheKeepsMappedAndDirtyBytes) {
  MakeFile("/db/f", "abcdefgh", /*sync_dir=*/true);
  auto file = Open("/db/f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "XX"));
  fs_.FailWriteback("/db/f");
  IO_ASSERT_OK(WriteString(*file, 4, "D"));  // dirty, never dropped
  {
    auto map = file->Map(0, 8);
    IO_ASSERT_OK(map);
    IO_ASSERT_OK(file->DropCache(0, 8));  // mapped: kept, as on Linux
    EXPECT_EQ(ReadString(*file, 0, 8), "XXcdDfgh");
  }
  // The cache unit holding byte 0 starts before the range: kept whole.
  IO_ASSERT_OK(file->DropCache(1, 7));
  EXPECT_EQ(ReadString(*file, 0, 8), "XXcdDfgh");
  IO_ASSERT_OK(file->DropCache(0, 100));
  EXPECT_EQ(ReadString(*file, 0, 8), "abcdDfgh");
}

// As Linux drops only the folios wholly inside the range: a range that
// starts inside a cache unit leaves that unit cached, bytes of the range
// included; a range that reaches the end drops the last partial unit.
TEST_F(MemoryFileSystemTest, DropCacheDropsWholeCacheUnitsOnly) {
  constexpr uint64_t kUnit = MemoryFileSystem::kCacheUnit;
  MakeFile("/db/f", std::string(kUnit + 8, 'a'), /*sync_dir=*/true);
  auto file = Open("/db/f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 10, "L"));
  IO_ASSERT_OK(WriteString(*file, kUnit + 2, "M"));
  fs_.FailWriteback("/db/f");
  IO_ASSERT_OK(file->DropCache(5, kUnit + 8));
  EXPECT_EQ(ReadString(*file, 10, 1), "L");         // its unit starts at 0
  EXPECT_EQ(ReadString(*file, kUnit + 2, 1), "a");  // the last unit went
  IO_ASSERT_OK(file->DropCache(0, kUnit));
  EXPECT_EQ(ReadString(*file, 10, 1), "a");
}

TEST_F(MemoryFileSystemTest, CrashKeepsSyncedData) {
  MakeFile("/db/f", "abc", /*sync_dir=*/true);
  {
    auto file = Open("/db/f");
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(WriteString(*file, 1, "XYZ"));
    IO_ASSERT_OK(file->Sync());
    IO_ASSERT_OK(WriteString(*file, 4, "lost"));
  }
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "aXYZ");
}

TEST_F(MemoryFileSystemTest, CrashDropsFileWhoseNameWasNeverSynced) {
  MakeFile("/db/f", "synced data", /*sync_dir=*/false);
  EXPECT_TRUE(fs_.Exists("/db/f"));
  fs_.SimulateCrash();
  EXPECT_FALSE(fs_.Exists("/db/f"));
  auto names = fs_.ListDir("/db");
  IO_ASSERT_OK(names);
  EXPECT_TRUE(names->empty());
}

TEST_F(MemoryFileSystemTest, SyncDirKeepsTheName) {
  MakeFile("/db/f", "synced data", /*sync_dir=*/true);
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "synced data");
}

TEST_F(MemoryFileSystemTest, DurableNameWithUnsyncedDataIsEmpty) {
  {
    auto file = Open("/db/f");
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(fs_.SyncDir("/db"));
    IO_ASSERT_OK(WriteString(*file, 0, "never synced"));
  }
  fs_.SimulateCrash();
  EXPECT_TRUE(fs_.Exists("/db/f"));
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "");
}

TEST_F(MemoryFileSystemTest, CrashRestoresUnsyncedRemoval) {
  MakeFile("/db/f", "data", /*sync_dir=*/true);
  IO_ASSERT_OK(fs_.RemoveFile("/db/f"));
  EXPECT_FALSE(fs_.Exists("/db/f"));
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "data");

  IO_ASSERT_OK(fs_.RemoveFile("/db/f"));
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  fs_.SimulateCrash();
  EXPECT_FALSE(fs_.Exists("/db/f"));
}

TEST_F(MemoryFileSystemTest, CrashRevertsUnsyncedRename) {
  MakeFile("/db/tmp", "new", /*sync_dir=*/false);
  MakeFile("/db/CURRENT", "old", /*sync_dir=*/true);
  // tmp and CURRENT both durable now; replace CURRENT by renaming.
  IO_ASSERT_OK(fs_.Rename("/db/tmp", "/db/CURRENT"));
  EXPECT_EQ(ReadFile(fs_, "/db/CURRENT"), "new");
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/CURRENT"), "old");
  EXPECT_EQ(ReadFile(fs_, "/db/tmp"), "new");
}

TEST_F(MemoryFileSystemTest, SyncedRenameSurvives) {
  MakeFile("/db/tmp", "new", /*sync_dir=*/false);
  MakeFile("/db/CURRENT", "old", /*sync_dir=*/true);
  IO_ASSERT_OK(fs_.Rename("/db/tmp", "/db/CURRENT"));
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/CURRENT"), "new");
  EXPECT_FALSE(fs_.Exists("/db/tmp"));
}

TEST_F(MemoryFileSystemTest, CrossDirectoryRenameSyncedOnOneSideOnly) {
  // Only the destination was synced, so the source's old entry is still
  // durable too: both names survive, as a hard link would.
  IO_ASSERT_OK(fs_.CreateDir("/db/archive"));
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  MakeFile("/db/seg", "segment", /*sync_dir=*/true);
  IO_ASSERT_OK(fs_.Rename("/db/seg", "/db/archive/seg"));
  IO_ASSERT_OK(fs_.SyncDir("/db/archive"));
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/archive/seg"), "segment");
  EXPECT_EQ(ReadFile(fs_, "/db/seg"), "segment");
}

TEST_F(MemoryFileSystemTest, CrashDropsUnsyncedDirectoryWithItsContents) {
  IO_ASSERT_OK(fs_.CreateDir("/db/new"));
  MakeFile("/db/new/f", "data", /*sync_dir=*/false);
  IO_ASSERT_OK(fs_.SyncDir("/db/new"));  // the entry inside is durable...
  fs_.SimulateCrash();                   // ...but "new" in /db is not
  EXPECT_FALSE(fs_.Exists("/db/new"));
  EXPECT_FALSE(fs_.Exists("/db/new/f"));
}

TEST_F(MemoryFileSystemTest, CrashRevertsSizeToTheSyncedOne) {
  auto file = Open("/db/seg");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  IO_ASSERT_OK(file->Allocate(1 << 16));  // the size change is unsynced
  fs_.SimulateCrash();
  auto reopened = Open("/db/seg", OpenMode::kReadWrite);
  ASSERT_NE(reopened, nullptr);
  auto size = reopened->Size();
  IO_ASSERT_OK(size);
  EXPECT_EQ(*size, 0u);

  IO_ASSERT_OK(reopened->Allocate(4096));
  IO_ASSERT_OK(WriteString(*reopened, 100, "x"));
  IO_ASSERT_OK(reopened->Sync());
  IO_ASSERT_OK(reopened->Truncate(10));  // unsynced shrink
  fs_.SimulateCrash();
  reopened = Open("/db/seg", OpenMode::kReadWrite);
  ASSERT_NE(reopened, nullptr);
  size = reopened->Size();
  IO_ASSERT_OK(size);
  EXPECT_EQ(*size, 4096u);
  EXPECT_EQ(ReadString(*reopened, 100, 1), "x");
}

TEST_F(MemoryFileSystemTest, ShrinkThenRegrowSyncsZeros) {
  MakeFile("/db/f", std::string(100, 'x'), /*sync_dir=*/true);
  {
    auto file = Open("/db/f");
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(file->Truncate(10));
    IO_ASSERT_OK(WriteString(*file, 50, "y"));
    IO_ASSERT_OK(file->Sync());
  }
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/f"),
            std::string(10, 'x') + std::string(40, '\0') + "y");
}

TEST_F(MemoryFileSystemTest, StaleHandlesFailAfterCrash) {
  auto file = Open("/db/f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  IO_ASSERT_OK(WriteString(*file, 0, "data"));
  IO_ASSERT_OK(file->Sync());
  fs_.SimulateCrash();

  EXPECT_TRUE(WriteString(*file, 0, "x").IsIOError());
  char buf[4];
  size_t n = 7;
  EXPECT_TRUE(file->Read(0, buf, sizeof(buf), &n).IsIOError());
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(file->Sync().IsIOError());
  EXPECT_TRUE(file->Allocate(4096).IsIOError());
  EXPECT_TRUE(file->Truncate(0).IsIOError());
  EXPECT_TRUE(file->Size().status().IsIOError());
  EXPECT_TRUE(file->Map(0, 1).status().IsIOError());
  EXPECT_TRUE(file->MapShared(1).status().IsIOError());
  IO_EXPECT_OK(file->Close());  // releasing a stale handle is fine

  // The stale handle changed nothing; a fresh one works.
  EXPECT_EQ(ReadFile(fs_, "/db/f"), "data");
  auto fresh = Open("/db/f");
  ASSERT_NE(fresh, nullptr);
  IO_EXPECT_OK(WriteString(*fresh, 4, "!"));
}

TEST_F(MemoryFileSystemTest, MappingsFromBeforeACrashStayReadable) {
  auto file = Open("/db/seg");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  IO_ASSERT_OK(file->Allocate(4096));
  IO_ASSERT_OK(WriteString(*file, 0, "unsynced"));
  auto region = file->Map(0, 4096);
  IO_ASSERT_OK(region);
  fs_.SimulateCrash();

  // Frozen at the crash: no use-after-free, no later writes show up.
  EXPECT_EQ(std::memcmp((*region)->data(), "unsynced", 8), 0);
  auto fresh = Open("/db/seg");
  ASSERT_NE(fresh, nullptr);
  // The old mapping does not pin the new incarnation of the file.
  IO_ASSERT_OK(WriteString(*fresh, 0, std::string(8192, 'n')));
  EXPECT_EQ(std::memcmp((*region)->data(), "unsynced", 8), 0);
  region.value().reset();
}

TEST_F(MemoryFileSystemTest, WriteBeyondReservedCapacityWhileMappedFails) {
  auto file = Open("/db/seg");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(file->Allocate(4096));
  auto region = file->Map(0, 4096);
  IO_ASSERT_OK(region);
  const uint8_t* before = (*region)->data();

  IO_ASSERT_OK(WriteString(*file, 4090, "edge!!"));  // exactly fits
  Status s = WriteString(*file, 4096, "x");
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("would move mapped memory"), std::string::npos);
  EXPECT_TRUE(file->Allocate(8192).IsIOError());
  EXPECT_TRUE(file->Truncate(8192).IsIOError());
  EXPECT_EQ((*region)->data(), before);
  EXPECT_EQ(std::memcmp((*region)->data() + 4090, "edge!!", 6), 0);

  // Growing within the reservation is fine, and once the mapping is gone
  // the file may move.
  IO_ASSERT_OK(file->Truncate(100));
  IO_ASSERT_OK(file->Truncate(4096));
  region.value().reset();
  IO_ASSERT_OK(WriteString(*file, 4096, "x"));
  EXPECT_EQ(ReadString(*file, 4096, 1), "x");
}

TEST_F(MemoryFileSystemTest, SharedRegionStoresAreDurableOnlyAfterSync) {
  auto file = Open("/db/watermark");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  IO_ASSERT_OK(file->Allocate(16));
  IO_ASSERT_OK(file->Sync());
  {
    auto shared = file->MapShared(16);
    IO_ASSERT_OK(shared);
    std::memcpy((*shared)->data(), "first", 5);
    IO_ASSERT_OK(file->Sync());
    // Still mapped: later stores must still be picked up by Sync.
    std::memcpy((*shared)->data() + 5, "second", 6);
    IO_ASSERT_OK(file->Sync());
    std::memcpy((*shared)->data(), "LOST!", 5);
  }
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/watermark"),
            std::string("firstsecond") + std::string(5, '\0'));
}

TEST_F(MemoryFileSystemTest, SharedStoresAfterTheRegionIsGoneAreSynced) {
  auto file = Open("/db/watermark");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  IO_ASSERT_OK(file->Allocate(8));
  {
    auto shared = file->MapShared(8);
    IO_ASSERT_OK(shared);
    std::memcpy((*shared)->data(), "mark", 4);
  }
  IO_ASSERT_OK(file->Sync());
  fs_.SimulateCrash();
  EXPECT_EQ(ReadFile(fs_, "/db/watermark"), std::string("mark\0\0\0\0", 8));
}

TEST_F(MemoryFileSystemTest, CrashReleasesLocks) {
  auto old_lock = fs_.LockFile("/db/LOCK");
  IO_ASSERT_OK(old_lock);
  IO_ASSERT_OK(fs_.SyncDir("/db"));
  fs_.SimulateCrash();
  EXPECT_FALSE(fs_.IsLocked("/db/LOCK"));

  auto new_lock = fs_.LockFile("/db/LOCK");
  IO_ASSERT_OK(new_lock);
  // The stale lock going away must not release the new holder.
  old_lock.value().reset();
  EXPECT_TRUE(fs_.IsLocked("/db/LOCK"));
  EXPECT_TRUE(fs_.LockFile("/db/LOCK").status().IsLocked());
}

TEST_F(MemoryFileSystemTest, LocksFollowTheFileNotTheName) {
  auto lock = fs_.LockFile("/db/LOCK");
  IO_ASSERT_OK(lock);
  IO_ASSERT_OK(fs_.Rename("/db/LOCK", "/db/LOCK2"));
  EXPECT_TRUE(fs_.IsLocked("/db/LOCK2"));
  EXPECT_FALSE(fs_.IsLocked("/db/LOCK"));
}

TEST_F(MemoryFileSystemTest, PathsAreNormalized) {
  IO_ASSERT_OK(fs_.CreateDir("/db//sub/"));
  auto file = fs_.OpenFile("//db/sub//f", OpenMode::kCreate);
  IO_ASSERT_OK(file);
  EXPECT_TRUE(fs_.Exists("/db/sub/f"));
  auto names = fs_.ListDir("/db/sub/");
  IO_ASSERT_OK(names);
  EXPECT_EQ(*names, std::vector<std::string>{"f"});
  // Relative paths form their own tree.
  EXPECT_FALSE(fs_.Exists("db/sub/f"));
  IO_ASSERT_OK(fs_.CreateDir("rel"));
  EXPECT_TRUE(fs_.Exists("rel"));
  EXPECT_FALSE(fs_.Exists("/rel"));
}

TEST_F(MemoryFileSystemTest, ParentMustBeADirectory) {
  MakeFile("/db/f", "x", /*sync_dir=*/false);
  auto nested = fs_.OpenFile("/db/f/g", OpenMode::kCreate);
  EXPECT_TRUE(nested.status().IsIOError()) << nested.status().ToString();
  EXPECT_TRUE(
      fs_.OpenFile("/nodir/g", OpenMode::kCreate).status().IsNotFound());
}

TEST_F(MemoryFileSystemTest, RenameRefusesToMoveADirectoryIntoItself) {
  IO_ASSERT_OK(fs_.CreateDir("/db/a"));
  IO_ASSERT_OK(fs_.CreateDir("/db/a/b"));
  EXPECT_FALSE(fs_.Rename("/db/a", "/db/a/b/c").ok());
  IO_ASSERT_OK(fs_.Rename("/db/a", "/db/z"));
  EXPECT_TRUE(fs_.Exists("/db/z/b"));
}

TEST_F(MemoryFileSystemTest, CountsOperations) {
  const uint64_t start = fs_.operation_count();
  auto file = Open("/db/f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "x"));
  IO_ASSERT_OK(file->Sync());
  EXPECT_EQ(fs_.operation_count(), start + 3);
}

// Random writes, truncates and syncs against a simple model, so the
// incremental Sync (which copies only what changed) is checked against
// "copy everything".
TEST_F(MemoryFileSystemTest, SyncMatchesAFullCopyModel) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(round);
    const std::string path = "/db/f" + std::to_string(round);
    auto file = Open(path);
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(fs_.SyncDir("/db"));
    std::string current;
    std::string durable;
    for (int step = 0; step < 200; ++step) {
      const int op = static_cast<int>(rng() % 10);
      if (op < 5) {
        const size_t offset = rng() % 3000;
        const std::string data(1 + rng() % 300,
                               static_cast<char>('a' + rng() % 26));
        IO_ASSERT_OK(WriteString(*file, offset, data));
        if (current.size() < offset + data.size()) {
          current.resize(offset + data.size(), '\0');
        }
        current.replace(offset, data.size(), data);
      } else if (op < 7) {
        const size_t size = rng() % 3500;
        IO_ASSERT_OK(file->Truncate(size));
        current.resize(size, '\0');
      } else if (op < 8) {
        const size_t size = rng() % 3500;
        IO_ASSERT_OK(file->Allocate(size));
        if (current.size() < size) current.resize(size, '\0');
      } else {
        IO_ASSERT_OK(file->Sync());
        durable = current;
      }
    }
    ASSERT_EQ(ReadString(*file, 0, 10000), current);
    fs_.SimulateCrash();
    ASSERT_EQ(ReadFile(fs_, path), durable);
  }
}

TEST_F(MemoryFileSystemTest, ConcurrentWritersOnSeparateFiles) {
  constexpr int kThreads = 4;
  constexpr int kWrites = 500;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      const std::string path = "/db/t" + std::to_string(t);
      auto file = fs_.OpenFile(path, OpenMode::kCreate);
      ASSERT_TRUE(file.ok());
      for (int i = 0; i < kWrites; ++i) {
        const char byte = static_cast<char>('a' + t);
        ASSERT_TRUE((*file)->Write(i, &byte, 1).ok());
        if (i % 50 == 0) {
          ASSERT_TRUE((*file)->Sync().ok());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(ReadFile(fs_, "/db/t" + std::to_string(t)),
              std::string(kWrites, static_cast<char>('a' + t)));
  }
}

}  // namespace
}  // namespace cairn::io
