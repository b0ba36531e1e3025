// Copyright (c) Cairn authors.
//
// Reopen after damage: torn tails of every length are truncated (and the
// store appends again cleanly); damage to acknowledged data anywhere is
// refused with a Corruption status naming the segment file and offset.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "cairn/cairn.h"
#include "segment/segment_header.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Event;
using testing::Events;

std::string SegmentPath(const std::string& dir, uint64_t n) {
  return dir + "/" + segment::SegmentFileName(n);
}

void WriteBytes(const std::string& path, uint64_t offset,
                const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadBytes(const std::string& path, uint64_t offset, size_t n) {
  std::ifstream f(path, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  std::string out(n, '\0');
  f.read(out.data(), static_cast<std::streamsize>(n));
  return out;
}

// The watermark's durable position (docs/format.md): rewinding it models a
// crash in which the last append was never acknowledged.
void SetDurableHint(const std::string& dir, uint64_t position) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(position >> (8 * i));
  WriteBytes(dir + "/watermark", 24, bytes);
}

class RecoveryTest : public ::testing::Test {
 protected:
  // A store with `appends` appends of 2 events; returns the offset and
  // size of the last append's records in segment 0.
  void Build(int appends) {
    auto store = Store::Open(pristine_, testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < appends; ++i) {
      auto stats = (*store)->GetStats();
      ASSERT_TRUE(stats.ok());
      last_offset_ = segment::kSegmentHeaderSize + stats->bytes;
      auto r = (*store)->Append("s-" + std::to_string(i % 3),
                                ExpectedVersion::Any(), Events(2));
      ASSERT_TRUE(r.ok());
    }
    auto stats = (*store)->GetStats();
    ASSERT_TRUE(stats.ok());
    last_size_ = segment::kSegmentHeaderSize + stats->bytes - last_offset_;
    events_ = stats->events;
    CAIRN_ASSERT_OK((*store)->Close());
  }
  std::string Copy(const std::string& name) {
    std::string target = dir_.Sub(name);
    fs::copy(pristine_, target, fs::copy_options::recursive);
    return target;
  }

  testing::TempDir dir_;
  std::string pristine_ = dir_.Sub("pristine");
  uint64_t last_offset_ = 0;
  uint64_t last_size_ = 0;
  uint64_t events_ = 0;
};

TEST_F(RecoveryTest, TornTailOfEveryLengthIsTruncated) {
  Build(5);
  std::mt19937 rng(42);
  for (uint64_t keep = 0; keep < last_size_; ++keep) {
    for (bool garble : {false, true}) {
      SCOPED_TRACE("keep " + std::to_string(keep) +
                   (garble ? " garbled" : " zeroed"));
      std::string dir = Copy("case");
      uint64_t cut = last_size_ - keep;
      std::string tail(cut, '\0');
      if (garble) {
        for (char& c : tail) c = static_cast<char>(rng());
      }
      WriteBytes(SegmentPath(dir, 0), last_offset_ + keep, tail);
      SetDurableHint(dir, events_ - 2);
      {
        auto store = Store::Open(dir, testing::SmallOptions());
        ASSERT_TRUE(store.ok()) << store.status().ToString();
        auto stats = (*store)->GetStats();
        ASSERT_TRUE(stats.ok());
        // The torn append is gone whole; everything before it remains.
        EXPECT_EQ(stats->events, events_ - 2);
        auto r =
            (*store)->Append("after", ExpectedVersion::NoStream(), Events(1));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->first_position, GlobalPosition(events_ - 2));
      }
      // The truncation was made durable and the new append sits cleanly
      // after it: the next open finds no damage.
      auto store = Store::Open(dir, testing::SmallOptions());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      auto stats = (*store)->GetStats();
      ASSERT_TRUE(stats.ok());
      EXPECT_EQ(stats->events, events_ - 1);
      store->reset();
      fs::remove_all(dir);
    }
  }
}

// Damage to the first record of the last append. The index (written at the
// clean Close) covers it, so the open does not scan it: reads refuse it,
// naming the record. Once the index is gone the open replays the whole log
// and refuses it.
TEST_F(RecoveryTest, DamagedAcknowledgedTailIsCorruption) {
  Build(5);
  std::string dir = Copy("acked");
  // The watermark still says the last append was durable.
  WriteBytes(SegmentPath(dir, 0), last_offset_ + 40, "garbage!");
  {
    auto indexed = Store::Open(dir, testing::SmallOptions());
    ASSERT_TRUE(indexed.ok()) << indexed.status().ToString();
    auto read = (*indexed)->ReadAll(ReadAllOptions{});
    ASSERT_TRUE(read.status().IsCorruption()) << read.status().ToString();
    EXPECT_EQ(read.status().corruption()->file, SegmentPath(dir, 0));
    EXPECT_EQ(read.status().corruption()->offset, last_offset_);
  }
  fs::remove_all(dir + "/index");
  auto store = Store::Open(dir, testing::SmallOptions());
  ASSERT_TRUE(store.status().IsCorruption()) << store.status().ToString();
  ASSERT_NE(store.status().corruption(), nullptr);
  EXPECT_EQ(store.status().corruption()->file, SegmentPath(dir, 0));
  EXPECT_EQ(store.status().corruption()->offset, last_offset_);
}

TEST_F(RecoveryTest, LogShorterThanAcknowledgedIsCorruption) {
  Build(5);
  std::string dir = Copy("short");
  // The last append vanished whole (zeros), but the watermark remembers it
  // as acknowledged durable.
  WriteBytes(SegmentPath(dir, 0), last_offset_, std::string(last_size_, '\0'));
  auto store = Store::Open(dir, testing::SmallOptions());
  ASSERT_TRUE(store.status().IsCorruption()) << store.status().ToString();
  EXPECT_EQ(store.status().corruption()->offset, last_offset_);
  // Without the watermark the shorter log is accepted.
  fs::remove(dir + "/watermark");
  auto accepted = Store::Open(dir, testing::SmallOptions());
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  auto stats = (*accepted)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, events_ - 2);
}

TEST_F(RecoveryTest, MidLogBitFlipIsCorruptionNamingTheRecord) {
  Build(6);
  for (uint64_t at :
       {uint64_t{0}, uint64_t{5}, uint64_t{31}, uint64_t{32}, uint64_t{60}}) {
    SCOPED_TRACE(at);
    std::string dir = Copy("mid");
    // Forget the watermark: the later appends' synced_offset alone must
    // prove the first record was durable.
    fs::remove(dir + "/watermark");
    uint64_t offset = segment::kSegmentHeaderSize + at;
    std::string byte = ReadBytes(SegmentPath(dir, 0), offset, 1);
    byte[0] = static_cast<char>(byte[0] ^ 0x10);
    WriteBytes(SegmentPath(dir, 0), offset, byte);
    // Covered by the index: the open succeeds, reads refuse the record.
    {
      auto indexed = Store::Open(dir, testing::SmallOptions());
      ASSERT_TRUE(indexed.ok()) << indexed.status().ToString();
      auto read = (*indexed)->ReadAll(ReadAllOptions{});
      ASSERT_TRUE(read.status().IsCorruption()) << read.status().ToString();
      EXPECT_EQ(read.status().corruption()->file, SegmentPath(dir, 0));
      EXPECT_EQ(read.status().corruption()->offset,
                segment::kSegmentHeaderSize);
    }
    // Without the index the open replays the log and refuses it.
    fs::remove_all(dir + "/index");
    auto store = Store::Open(dir, testing::SmallOptions());
    ASSERT_TRUE(store.status().IsCorruption()) << store.status().ToString();
    EXPECT_EQ(store.status().corruption()->file, SegmentPath(dir, 0));
    EXPECT_EQ(store.status().corruption()->offset, segment::kSegmentHeaderSize);
    // Read-only openers refuse it as well.
    Options ro = testing::SmallOptions();
    ro.read_only = true;
    EXPECT_TRUE(Store::Open(dir, ro).status().IsCorruption());
    fs::remove_all(dir);
  }
}

TEST_F(RecoveryTest, MissingMiddleSegmentIsCorruption) {
  {
    auto store = Store::Open(pristine_, testing::SmallOptions());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 600; ++i) {
      ASSERT_TRUE((*store)
                      ->Append("s", ExpectedVersion::Any(),
                               {Event("Big", std::string(1000, 'q'))})
                      .ok());
    }
  }
  ASSERT_TRUE(fs::exists(SegmentPath(pristine_, 2)));
  fs::remove(SegmentPath(pristine_, 1));
  auto store = Store::Open(pristine_, testing::SmallOptions());
  ASSERT_TRUE(store.status().IsCorruption()) << store.status().ToString();
  EXPECT_EQ(store.status().corruption()->file, SegmentPath(pristine_, 1));
}

TEST_F(RecoveryTest, HalfCreatedSegmentIsRemoved) {
  Build(3);
  std::string dir = Copy("half");
  // A crash after preallocating segment 1 but before its header was synced.
  {
    std::ofstream f(SegmentPath(dir, 1), std::ios::binary);
    std::string zeros(64 * 1024, '\0');
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  auto store = Store::Open(dir, testing::SmallOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_FALSE(fs::exists(SegmentPath(dir, 1)));
  auto stats = (*store)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, events_);
}

}  // namespace
}  // namespace cairn
