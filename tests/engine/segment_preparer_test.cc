// Copyright (c) Cairn authors.
#include "engine/src/segment_preparer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "testing/file_system_wrapper.h"
#include "testing/memory_file_system.h"

namespace cairn::engine {
namespace {

struct WriteCall {
  uint64_t offset;
  size_t size;
};

// Records the writes of every file it opens.
class RecordingFileSystem : public io::FileSystemWrapper {
 public:
  explicit RecordingFileSystem(io::FileSystem* target)
      : FileSystemWrapper(target) {}

  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override {
    auto file = FileSystemWrapper::OpenFile(path, mode);
    if (!file.ok()) return file.status();
    return std::unique_ptr<io::File>(
        std::make_unique<RecordingFile>(std::move(file.value()), &writes_));
  }

  const std::vector<WriteCall>& writes() const { return writes_; }

 private:
  class RecordingFile : public io::FileWrapper {
   public:
    RecordingFile(std::unique_ptr<io::File> target,
                  std::vector<WriteCall>* writes)
        : FileWrapper(std::move(target)), writes_(writes) {}
    Status Write(uint64_t offset, const void* data, size_t size) override {
      writes_->push_back({offset, size});
      return FileWrapper::Write(offset, data, size);
    }

   private:
    std::vector<WriteCall>* writes_;
  };

  std::vector<WriteCall> writes_;
};

// The zeros go out in whole, aligned kPrepareWriteSize writes (the last
// one shorter when the size is not a multiple), so that the page cache can
// hold the segment in folios the kernel maps as huge pages.
TEST(SegmentPreparerTest, WritesZerosInAlignedChunksOfThePrepareSize) {
  io::MemoryFileSystem memory;
  RecordingFileSystem fs(&memory);
  ASSERT_TRUE(memory.CreateDir("/db").ok());
  const uint64_t size = 3 * kPrepareWriteSize + 4096;
  ASSERT_TRUE(PrepareZeroedFile(&fs, "/db/1.seg.spare", size).ok());
  ASSERT_EQ(fs.writes().size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(fs.writes()[i].offset, i * kPrepareWriteSize);
    EXPECT_EQ(fs.writes()[i].size, kPrepareWriteSize);
  }
  EXPECT_EQ(fs.writes()[3].offset, 3 * kPrepareWriteSize);
  EXPECT_EQ(fs.writes()[3].size, 4096u);

  auto file = memory.OpenFile("/db/1.seg.spare", io::OpenMode::kReadOnly);
  ASSERT_TRUE(file.ok());
  auto length = (*file)->Size();
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, size);
}

// A range that starts between boundaries (a torn tail's repair) gets a
// short first write up to the next boundary, then whole ones.
TEST(SegmentPreparerTest, WriteZerosEndsItsWritesAtPrepareSizeBoundaries) {
  io::MemoryFileSystem memory;
  RecordingFileSystem fs(&memory);
  ASSERT_TRUE(memory.CreateDir("/db").ok());
  auto file = fs.OpenFile("/db/f", io::OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  const uint64_t begin = kPrepareWriteSize - 100;
  const uint64_t end = 2 * kPrepareWriteSize + 7;
  ASSERT_TRUE(WriteZeros(file->get(), begin, end).ok());
  ASSERT_EQ(fs.writes().size(), 3u);
  EXPECT_EQ(fs.writes()[0].offset, begin);
  EXPECT_EQ(fs.writes()[0].size, 100u);
  EXPECT_EQ(fs.writes()[1].offset, kPrepareWriteSize);
  EXPECT_EQ(fs.writes()[1].size, kPrepareWriteSize);
  EXPECT_EQ(fs.writes()[2].offset, 2 * kPrepareWriteSize);
  EXPECT_EQ(fs.writes()[2].size, 7u);
  auto length = (*file)->Size();
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, end);
}

}  // namespace
}  // namespace cairn::engine
