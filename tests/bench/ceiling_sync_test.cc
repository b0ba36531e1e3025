// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_sync.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"

namespace cairn::bench::serve {
namespace {

class CeilingSyncTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(memory_.CreateDir("/d").ok()); }

  // The bytes of the file at [offset, offset + size).
  std::string Bytes(uint64_t offset, size_t size) {
    auto file =
        memory_.OpenFile("/d/ceiling-sync.dat", io::OpenMode::kReadOnly);
    EXPECT_TRUE(file.ok());
    if (!file.ok()) return "";
    std::string out(size, '\0');
    size_t read = 0;
    EXPECT_TRUE((*file)->Read(offset, out.data(), size, &read).ok());
    out.resize(read);
    return out;
  }

  io::MemoryFileSystem memory_;
};

TEST_F(CeilingSyncTest, EachSyncOverwritesTheNextBlockOfAWrittenSpan) {
  io::FaultInjectionFileSystem fs(&memory_, 1);
  auto sync = CeilingSync::Open(&fs, "/d");
  ASSERT_TRUE(sync.ok()) << sync.status().ToString();
  // The whole span is written and synced before any timed write.
  EXPECT_EQ(fs.count(io::FaultOp::kWrite),
            CeilingSync::kSpan / CeilingSync::kBlock);
  EXPECT_EQ(fs.count(io::FaultOp::kSync), 1u);
  EXPECT_EQ(fs.count(io::FaultOp::kSyncDir), 1u);
  const std::string block = Bytes(0, CeilingSync::kBlock);
  EXPECT_EQ(block.size(), CeilingSync::kBlock);
  EXPECT_NE(block, std::string(CeilingSync::kBlock, '\0'));

  const uint64_t blocks = CeilingSync::kSpan / CeilingSync::kBlock;
  for (uint64_t i = 0; i < blocks + 3; ++i) {
    ASSERT_TRUE((*sync)->Sync().ok());
  }
  EXPECT_EQ((*sync)->syncs(), blocks + 3);
  EXPECT_EQ(fs.count(io::FaultOp::kWrite), 2 * blocks + 3);
  EXPECT_EQ(fs.count(io::FaultOp::kSync), blocks + 4);
  // The writes went round the span: the file did not grow.
  auto size = memory_.OpenFile("/d/ceiling-sync.dat", io::OpenMode::kReadOnly)
                  .value()
                  ->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, CeilingSync::kSpan);

  sync->reset();
  EXPECT_FALSE(memory_.Exists("/d/ceiling-sync.dat"));
}

TEST_F(CeilingSyncTest, AFailedSyncIsNeverRetried) {
  io::FaultInjectionFileSystem fs(&memory_, 1);
  auto sync = CeilingSync::Open(&fs, "/d");
  ASSERT_TRUE(sync.ok());
  ASSERT_TRUE((*sync)->Sync().ok());
  io::FaultRule rule;
  rule.op = io::FaultOp::kSync;
  fs.AddRule(rule);  // the next sync only
  EXPECT_TRUE((*sync)->Sync().IsIOError());
  // Every later call fails without touching the file.
  const uint64_t syncs = fs.count(io::FaultOp::kSync);
  EXPECT_TRUE((*sync)->Sync().IsIOError());
  EXPECT_EQ(fs.count(io::FaultOp::kSync), syncs);
  EXPECT_EQ(fs.retried_syncs(), 0u);
  EXPECT_EQ((*sync)->syncs(), 1u);
}

TEST_F(CeilingSyncTest, AFileThatCanNotBeWrittenFailsTheOpen) {
  io::FaultInjectionFileSystem fs(&memory_, 1);
  fs.AddRule(
      io::FaultRule::Always(io::FaultOp::kAllocate, io::FaultError::kNoSpace));
  auto sync = CeilingSync::Open(&fs, "/d");
  EXPECT_TRUE(sync.status().IsNoSpace()) << sync.status().ToString();
  EXPECT_FALSE(memory_.Exists("/d/ceiling-sync.dat"));
}

}  // namespace
}  // namespace cairn::bench::serve
