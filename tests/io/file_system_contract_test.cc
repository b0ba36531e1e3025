// Copyright (c) Cairn authors.
//
// The FileSystem contract, run against every implementation: the engine
// is tested on the in-memory one and shipped on the POSIX one, so the two
// must agree on everything the engine can observe.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "testing/memory_file_system.h"
#include "tests/io/io_test_util.h"

namespace cairn::io {
namespace {

using testing_util::ReadFile;
using testing_util::ReadString;
using testing_util::ScopedTempDir;
using testing_util::WriteString;

enum class Impl { kPosix, kMemory };

std::string ImplName(const ::testing::TestParamInfo<Impl>& info) {
  return info.param == Impl::kPosix ? "Posix" : "Memory";
}

class FileSystemContractTest : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (GetParam() == Impl::kPosix) {
      temp_ = std::make_unique<ScopedTempDir>();
      ASSERT_FALSE(temp_->path().empty()) << "mkdtemp failed";
      fs_ = PosixFileSystem();
      root_ = temp_->path();
    } else {
      memory_ = NewMemoryFileSystem();
      fs_ = memory_.get();
      root_ = "/contract";
      IO_ASSERT_OK(fs_->CreateDir(root_));
    }
  }

  std::string Path(const std::string& name) const {
    return JoinPath(root_, name);
  }

  std::unique_ptr<File> Open(const std::string& name,
                             OpenMode mode = OpenMode::kCreate) {
    auto file = fs_->OpenFile(Path(name), mode);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  FileSystem* fs_ = nullptr;
  std::string root_;

 private:
  std::unique_ptr<ScopedTempDir> temp_;
  std::unique_ptr<FileSystem> memory_;
};

TEST_P(FileSystemContractTest, WriteThenReadRoundTrips) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "hello world"));
  IO_ASSERT_OK(WriteString(*file, 6, "cairn"));
  EXPECT_EQ(ReadString(*file, 0, 11), "hello cairn");
  EXPECT_EQ(ReadString(*file, 3, 4), "lo c");
  auto size = file->Size();
  IO_ASSERT_OK(size);
  EXPECT_EQ(*size, 11u);
}

TEST_P(FileSystemContractTest, DropCacheKeepsWhatWasWritten) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(file->Allocate(3 * 4096));
  IO_ASSERT_OK(WriteString(*file, 4096, "synced"));
  IO_ASSERT_OK(file->Sync());
  IO_ASSERT_OK(WriteString(*file, 8192, "dirty"));
  // Clean pages read back from the device, dirty ones are not dropped.
  IO_ASSERT_OK(file->DropCache(0, 3 * 4096));
  IO_ASSERT_OK(file->DropCache(100, 0));
  EXPECT_EQ(ReadString(*file, 4096, 6), "synced");
  EXPECT_EQ(ReadString(*file, 8192, 5), "dirty");
  IO_ASSERT_OK(file->Close());
  EXPECT_TRUE(file->DropCache(0, 4096).IsIOError());
}

TEST_P(FileSystemContractTest, ReadIsShortOnlyAtEndOfFile) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "0123456789"));
  EXPECT_EQ(ReadString(*file, 4, 100), "456789");
  EXPECT_EQ(ReadString(*file, 10, 5), "");
  EXPECT_EQ(ReadString(*file, 1000, 5), "");
}

TEST_P(FileSystemContractTest, WriteBeyondEndLeavesZeroGap) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "ab"));
  IO_ASSERT_OK(WriteString(*file, 6, "cd"));
  EXPECT_EQ(ReadString(*file, 0, 100), std::string("ab\0\0\0\0cd", 8));
}

TEST_P(FileSystemContractTest, DataSurvivesReopen) {
  {
    auto file = Open("f", OpenMode::kCreateExclusive);
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(WriteString(*file, 0, "persisted"));
    IO_ASSERT_OK(file->Sync());
    IO_ASSERT_OK(file->Close());
  }
  EXPECT_EQ(ReadFile(*fs_, Path("f")), "persisted");
}

TEST_P(FileSystemContractTest, AllocateGrowsWithZerosAndNeverShrinks) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "abc"));
  IO_ASSERT_OK(file->Allocate(8192));
  auto size = file->Size();
  IO_ASSERT_OK(size);
  EXPECT_EQ(*size, 8192u);
  std::string expected(8192, '\0');
  expected.replace(0, 3, "abc");
  EXPECT_EQ(ReadString(*file, 0, 10000), expected);

  IO_ASSERT_OK(file->Allocate(100));
  size = file->Size();
  IO_ASSERT_OK(size);
  EXPECT_EQ(*size, 8192u);
  EXPECT_EQ(ReadString(*file, 0, 3), "abc");
}

TEST_P(FileSystemContractTest, TruncateShrinksAndGrowsWithZeros) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, std::string(100, 'x')));
  IO_ASSERT_OK(file->Truncate(10));
  EXPECT_EQ(ReadString(*file, 0, 100), std::string(10, 'x'));
  IO_ASSERT_OK(file->Truncate(50));
  EXPECT_EQ(ReadString(*file, 0, 100),
            std::string(10, 'x') + std::string(40, '\0'));
}

TEST_P(FileSystemContractTest, MapSeesDataWrittenLater) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  constexpr size_t kSize = 3 * 4096;
  IO_ASSERT_OK(file->Allocate(kSize));
  auto region = file->Map(0, kSize);
  IO_ASSERT_OK(region);
  ASSERT_EQ((*region)->size(), kSize);
  EXPECT_EQ((*region)->data()[5000], 0);

  // The engine appends with Write and reads through the mapping.
  IO_ASSERT_OK(WriteString(*file, 5000, "hello"));
  EXPECT_EQ(std::memcmp((*region)->data() + 5000, "hello", 5), 0);
  IO_ASSERT_OK(WriteString(*file, kSize - 2, "zz"));
  EXPECT_EQ((*region)->data()[kSize - 1], 'z');
}

TEST_P(FileSystemContractTest, MapHandlesUnalignedOffsets) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  constexpr size_t kSize = 3 * 4096 + 17;
  std::string pattern(kSize, '\0');
  for (size_t i = 0; i < kSize; ++i) pattern[i] = static_cast<char>(i % 251);
  IO_ASSERT_OK(WriteString(*file, 0, pattern));
  for (uint64_t offset : {0ul, 1ul, 4095ul, 4096ul, 4097ul, 10000ul}) {
    SCOPED_TRACE(offset);
    const size_t size = kSize - offset;
    auto region = file->Map(offset, size);
    IO_ASSERT_OK(region);
    ASSERT_EQ((*region)->size(), size);
    EXPECT_EQ(std::memcmp((*region)->data(), pattern.data() + offset, size), 0);
  }
}

TEST_P(FileSystemContractTest, MapBeyondSizeIsInvalidArgument) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, std::string(100, 'x')));
  EXPECT_TRUE(file->Map(0, 101).status().IsInvalidArgument());
  EXPECT_TRUE(file->Map(50, 51).status().IsInvalidArgument());
  EXPECT_TRUE(file->Map(101, 0).status().IsInvalidArgument());
  EXPECT_TRUE(file->MapShared(101).status().IsInvalidArgument());
  auto empty = file->Map(100, 0);
  IO_ASSERT_OK(empty);
  EXPECT_EQ((*empty)->size(), 0u);
  EXPECT_NE((*empty)->data(), nullptr);
}

TEST_P(FileSystemContractTest, MappingOutlivesItsFile) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "still here"));
  auto region = file->Map(0, 10);
  IO_ASSERT_OK(region);
  IO_ASSERT_OK(file->Close());
  file.reset();
  EXPECT_EQ(std::memcmp((*region)->data(), "still here", 10), 0);
}

TEST_P(FileSystemContractTest, SharedStoresAreVisibleToOtherMappings) {
  auto writer = Open("watermark");
  ASSERT_NE(writer, nullptr);
  IO_ASSERT_OK(writer->Allocate(64));
  auto shared = writer->MapShared(64);
  IO_ASSERT_OK(shared);
  ASSERT_EQ((*shared)->size(), 64u);

  auto reader = Open("watermark", OpenMode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  auto view = reader->Map(0, 64);
  IO_ASSERT_OK(view);

  std::memcpy((*shared)->data() + 8, "mark", 4);
  EXPECT_EQ(std::memcmp((*view)->data() + 8, "mark", 4), 0);
  EXPECT_EQ(ReadString(*reader, 8, 4), "mark");
  IO_EXPECT_OK(writer->Sync());
}

TEST_P(FileSystemContractTest, MapSharedNeedsAWritableFile) {
  {
    auto file = Open("f");
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(file->Allocate(64));
  }
  auto file = Open("f", OpenMode::kReadOnly);
  ASSERT_NE(file, nullptr);
  EXPECT_FALSE(file->MapShared(64).ok());
}

TEST_P(FileSystemContractTest, OpenModes) {
  EXPECT_TRUE(fs_->OpenFile(Path("missing"), OpenMode::kReadOnly)
                  .status()
                  .IsNotFound());
  EXPECT_TRUE(fs_->OpenFile(Path("missing"), OpenMode::kReadWrite)
                  .status()
                  .IsNotFound());
  EXPECT_FALSE(fs_->Exists(Path("missing")));

  {
    auto created = Open("f", OpenMode::kCreate);
    ASSERT_NE(created, nullptr);
    IO_ASSERT_OK(WriteString(*created, 0, "keep"));
  }
  EXPECT_TRUE(fs_->Exists(Path("f")));
  {
    // kCreate on an existing file opens it as is.
    auto again = Open("f", OpenMode::kCreate);
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(ReadString(*again, 0, 10), "keep");
  }
  auto exclusive = fs_->OpenFile(Path("f"), OpenMode::kCreateExclusive);
  EXPECT_TRUE(exclusive.status().IsIOError());
  EXPECT_EQ(exclusive.status().errno_value(), EEXIST);

  auto rw = Open("f", OpenMode::kReadWrite);
  ASSERT_NE(rw, nullptr);
  IO_EXPECT_OK(WriteString(*rw, 4, "!"));
  EXPECT_EQ(ReadFile(*fs_, Path("f")), "keep!");
}

TEST_P(FileSystemContractTest, ReadOnlyHandleRejectsChanges) {
  {
    auto file = Open("f");
    ASSERT_NE(file, nullptr);
    IO_ASSERT_OK(WriteString(*file, 0, "data"));
  }
  auto file = Open("f", OpenMode::kReadOnly);
  ASSERT_NE(file, nullptr);
  EXPECT_FALSE(WriteString(*file, 0, "x").ok());
  EXPECT_FALSE(file->Truncate(1).ok());
  EXPECT_FALSE(file->Allocate(4096).ok());
  EXPECT_EQ(ReadString(*file, 0, 10), "data");
}

TEST_P(FileSystemContractTest, ClosedHandleRejectsOperations) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "data"));
  IO_ASSERT_OK(file->Close());
  EXPECT_TRUE(WriteString(*file, 0, "x").IsIOError());
  EXPECT_TRUE(file->Sync().IsIOError());
  EXPECT_TRUE(file->Size().status().IsIOError());
  EXPECT_TRUE(file->Map(0, 1).status().IsIOError());
  size_t n = 1;
  char c;
  EXPECT_TRUE(file->Read(0, &c, 1, &n).IsIOError());
  EXPECT_EQ(n, 0u);
  IO_EXPECT_OK(file->Close());  // closing twice is harmless
}

TEST_P(FileSystemContractTest, OpenInMissingDirectoryIsNotFound) {
  EXPECT_TRUE(
      fs_->OpenFile(Path("nodir/f"), OpenMode::kCreate).status().IsNotFound());
  EXPECT_TRUE(fs_->CreateDir(Path("nodir/sub")).IsNotFound());
  EXPECT_TRUE(fs_->LockFile(Path("nodir/LOCK")).status().IsNotFound());
}

TEST_P(FileSystemContractTest, OpenDirectoryAsFileFails) {
  IO_ASSERT_OK(fs_->CreateDir(Path("d")));
  EXPECT_FALSE(fs_->OpenFile(Path("d"), OpenMode::kReadOnly).ok());
  EXPECT_FALSE(fs_->OpenFile(Path("d"), OpenMode::kCreate).ok());
}

TEST_P(FileSystemContractTest, LocksConflictWithinOneProcess) {
  const std::string lock_path = Path("LOCK");
  EXPECT_FALSE(fs_->IsLocked(lock_path));  // missing file
  auto first = fs_->LockFile(lock_path);
  IO_ASSERT_OK(first);
  EXPECT_TRUE(fs_->Exists(lock_path));
  EXPECT_TRUE(fs_->IsLocked(lock_path));

  auto second = fs_->LockFile(lock_path);
  ASSERT_TRUE(second.status().IsLocked()) << second.status().ToString();
  EXPECT_NE(second.status().message().find(lock_path), std::string::npos);
  EXPECT_NE(second.status().message().find("locked by another writer"),
            std::string::npos);
  // Asking does not disturb the holder.
  EXPECT_TRUE(fs_->IsLocked(lock_path));

  first.value().reset();
  EXPECT_FALSE(fs_->IsLocked(lock_path));
  auto third = fs_->LockFile(lock_path);
  IO_ASSERT_OK(third);
  EXPECT_TRUE(fs_->IsLocked(lock_path));
}

TEST_P(FileSystemContractTest, DistinctFilesLockIndependently) {
  auto a = fs_->LockFile(Path("a.lock"));
  auto b = fs_->LockFile(Path("b.lock"));
  IO_EXPECT_OK(a);
  IO_EXPECT_OK(b);
}

TEST_P(FileSystemContractTest, DirectoryOperations) {
  const std::string dir = Path("d");
  IO_ASSERT_OK(fs_->CreateDir(dir));
  IO_ASSERT_OK(fs_->CreateDir(dir));  // already there: fine
  IO_ASSERT_OK(fs_->CreateDir(dir + "/"));
  auto empty = fs_->ListDir(dir);
  IO_ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());

  for (const char* name : {"b", "a", "c"}) {
    auto file = fs_->OpenFile(JoinPath(dir, name), OpenMode::kCreate);
    IO_ASSERT_OK(file);
    IO_ASSERT_OK(WriteString(**file, 0, name));
  }
  IO_ASSERT_OK(fs_->SyncDir(dir));
  auto names = fs_->ListDir(dir);
  IO_ASSERT_OK(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c"}));

  // Rename to a new name, then over an existing file (atomic replace).
  IO_ASSERT_OK(fs_->Rename(JoinPath(dir, "a"), JoinPath(dir, "x")));
  EXPECT_FALSE(fs_->Exists(JoinPath(dir, "a")));
  EXPECT_EQ(ReadFile(*fs_, JoinPath(dir, "x")), "a");
  IO_ASSERT_OK(fs_->Rename(JoinPath(dir, "b"), JoinPath(dir, "c")));
  EXPECT_EQ(ReadFile(*fs_, JoinPath(dir, "c")), "b");
  IO_ASSERT_OK(fs_->RemoveFile(JoinPath(dir, "x")));
  IO_ASSERT_OK(fs_->SyncDir(dir));
  names = fs_->ListDir(dir);
  IO_ASSERT_OK(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"c"}));

  // The parent lists the directory itself.
  auto top = fs_->ListDir(root_);
  IO_ASSERT_OK(top);
  EXPECT_EQ(*top, (std::vector<std::string>{"d"}));
}

TEST_P(FileSystemContractTest, DirectoryErrors) {
  EXPECT_TRUE(fs_->ListDir(Path("missing")).status().IsNotFound());
  EXPECT_TRUE(fs_->SyncDir(Path("missing")).IsNotFound());
  EXPECT_TRUE(fs_->RemoveFile(Path("missing")).IsNotFound());
  EXPECT_TRUE(fs_->Rename(Path("missing"), Path("other")).IsNotFound());
  {
    auto file = Open("f");
    ASSERT_NE(file, nullptr);
  }
  EXPECT_FALSE(fs_->CreateDir(Path("f")).ok());  // a file is in the way
  EXPECT_FALSE(fs_->ListDir(Path("f")).ok());
  IO_ASSERT_OK(fs_->CreateDir(Path("d")));
  EXPECT_FALSE(fs_->RemoveFile(Path("d")).ok());  // not for directories
}

TEST_P(FileSystemContractTest, RemovedFileStaysReadableThroughOpenHandle) {
  auto file = Open("f");
  ASSERT_NE(file, nullptr);
  IO_ASSERT_OK(WriteString(*file, 0, "orphan"));
  IO_ASSERT_OK(fs_->RemoveFile(Path("f")));
  EXPECT_FALSE(fs_->Exists(Path("f")));
  EXPECT_EQ(ReadString(*file, 0, 10), "orphan");
}

INSTANTIATE_TEST_SUITE_P(AllFileSystems, FileSystemContractTest,
                         ::testing::Values(Impl::kPosix, Impl::kMemory),
                         ImplName);

}  // namespace
}  // namespace cairn::io
