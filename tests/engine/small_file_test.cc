// Copyright (c) Cairn authors.
#include "engine/src/small_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/memory_file_system.h"

namespace cairn::engine {
namespace {

class SmallFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.CreateDir("/d").ok()); }
  io::MemoryFileSystem fs_;
};

TEST_F(SmallFileTest, ReadsBackWhatWasWritten) {
  ASSERT_TRUE(WriteFileSynced(&fs_, "/d/f", "hello").ok());
  auto bytes = ReadSmallFile(&fs_, "/d/f", 5);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "hello");
  // A longer leftover is cut to the new bytes.
  ASSERT_TRUE(WriteFileSynced(&fs_, "/d/f", "hi").ok());
  EXPECT_EQ(*ReadSmallFile(&fs_, "/d/f", 5), "hi");
}

TEST_F(SmallFileTest, AFileLargerThanTheLimitIsRefused) {
  ASSERT_TRUE(WriteFileSynced(&fs_, "/d/f", "hello").ok());
  EXPECT_TRUE(ReadSmallFile(&fs_, "/d/f", 4).status().IsInvalidArgument());
  std::string buffer;
  EXPECT_TRUE(
      ReadFileInto(&fs_, "/d/f", 4, &buffer).status().IsInvalidArgument());
}

TEST_F(SmallFileTest, AReusedBufferViewsExactlyTheFileAndDoesNotMove) {
  ASSERT_TRUE(WriteFileSynced(&fs_, "/d/big", std::string(1000, 'b')).ok());
  ASSERT_TRUE(WriteFileSynced(&fs_, "/d/small", "small").ok());
  std::string buffer;
  auto big = ReadFileInto(&fs_, "/d/big", 1000, &buffer);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(*big, std::string(1000, 'b'));
  const char* data = buffer.data();
  auto small = ReadFileInto(&fs_, "/d/small", 1000, &buffer);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(*small, "small");
  // The buffer only grows: the smaller file reuses its memory.
  EXPECT_EQ(small->data(), data);
  EXPECT_EQ(buffer.size(), 1000u);
}

TEST_F(SmallFileTest, WritesInPiecesAndCallsBackAfterEach) {
  const std::string bytes = "0123456789";
  std::vector<std::string> seen;  // the file after each piece
  ASSERT_TRUE(WriteFileSyncedInPieces(&fs_, "/d/f", bytes, 4, [&] {
                auto read = ReadSmallFile(&fs_, "/d/f", bytes.size());
                ASSERT_TRUE(read.ok()) << read.status().ToString();
                seen.push_back(*read);
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"0123", "01234567", bytes}));
  // 0 is one piece, and an empty file is still synced once.
  int pieces = 0;
  ASSERT_TRUE(
      WriteFileSyncedInPieces(&fs_, "/d/f", "abc", 0, [&] { ++pieces; }).ok());
  EXPECT_EQ(pieces, 1);
  EXPECT_EQ(*ReadSmallFile(&fs_, "/d/f", 10), "abc");
  pieces = 0;
  ASSERT_TRUE(
      WriteFileSyncedInPieces(&fs_, "/d/e", "", 4, [&] { ++pieces; }).ok());
  EXPECT_EQ(pieces, 1);
  EXPECT_EQ(*ReadSmallFile(&fs_, "/d/e", 10), "");
}

TEST_F(SmallFileTest, EachPieceIsDurableBeforeTheNextIsWritten) {
  ASSERT_TRUE(WriteFileSynced(&fs_, "/d/f", "zzzzzzzz").ok());
  ASSERT_TRUE(fs_.SyncDir("/").ok());
  ASSERT_TRUE(fs_.SyncDir("/d").ok());
  int pieces = 0;
  // Power fails after the second piece's callback: the handle is stale,
  // so the third write fails, and the first two pieces are what is left.
  Status s = WriteFileSyncedInPieces(&fs_, "/d/f", "abcdef", 2, [&] {
    if (++pieces == 2) fs_.SimulateCrash();
  });
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(*ReadSmallFile(&fs_, "/d/f", 10), "abcd");
}

TEST_F(SmallFileTest, AMissingFileIsNotFound) {
  std::string buffer;
  EXPECT_TRUE(ReadFileInto(&fs_, "/d/none", 10, &buffer).status().IsNotFound());
}

}  // namespace
}  // namespace cairn::engine
