// Copyright (c) Cairn authors.
//
// Reopen after damage: torn tails of every length are truncated (and the
// store appends again cleanly); damage to acknowledged data anywhere is
// refused with a Corruption status naming the segment file and offset.
#include "engine/src/recovery.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/record_locator.h"
#include "engine/src/segment_log.h"
#include "engine/src/store_impl.h"
#include "segment/durable_mark.h"
#include "segment/segment_header.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/engine/recovered_log.h"
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

// Zeroes the durable-end marks of a segment (segment/durable_mark.h): the
// store then looks as after a crash before any mark covered its appends.
void ForgetDurableMarks(const std::string& path) {
  for (const uint32_t slot : segment::kDurableMarkOffsets) {
    WriteBytes(path, slot, std::string(segment::kDurableMarkSize, '\0'));
  }
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
      ForgetDurableMarks(SegmentPath(dir, 0));
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

// Damage to the first record (the head) of the last append. The index
// (written at the clean Close) covers it, but the open checks the index's
// last event, a continuation, and with it the head that holds its stream
// name: the damage makes the open replay the whole log, which refuses it.
// Once the index is gone the open replays the whole log and refuses it
// too.
TEST_F(RecoveryTest, DamagedAcknowledgedTailIsCorruption) {
  Build(5);
  std::string dir = Copy("acked");
  // The watermark still says the last append was durable.
  WriteBytes(SegmentPath(dir, 0), last_offset_ + 40, "garbage!");
  {
    auto indexed = Store::Open(dir, testing::SmallOptions());
    ASSERT_TRUE(indexed.status().IsCorruption()) << indexed.status().ToString();
    EXPECT_EQ(indexed.status().corruption()->file, SegmentPath(dir, 0));
    EXPECT_EQ(indexed.status().corruption()->offset, last_offset_);
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
  // Without the watermark, the durable-end mark Close wrote still knows.
  fs::remove(dir + "/watermark");
  auto marked = Store::Open(dir, testing::SmallOptions());
  ASSERT_TRUE(marked.status().IsCorruption()) << marked.status().ToString();
  EXPECT_EQ(marked.status().corruption()->offset, last_offset_);
  EXPECT_NE(marked.status().message().find("durable-end mark"),
            std::string::npos);
  // Without either, the shorter log is accepted.
  ForgetDurableMarks(SegmentPath(dir, 0));
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

// Issue 9, item 12: the newest acknowledged append is verifiable without
// the watermark. Flipping a byte of the last record and deleting the
// watermark made the open truncate an acknowledged event as a torn tail.
TEST_F(RecoveryTest, DamagedLastAppendWithoutWatermarkIsCorruption) {
  Build(5);
  // The last append holds two records: a head, then a continuation, which
  // is smaller. `record` lies in the head, the last byte in the
  // continuation.
  const uint64_t record = last_size_ / 2;
  for (uint64_t at : {record, record + 9, record + 33, last_size_ - 1}) {
    for (bool keep_index : {true, false}) {
      SCOPED_TRACE("byte " + std::to_string(at) +
                   (keep_index ? " indexed" : " no index"));
      std::string dir = Copy("last");
      fs::remove(dir + "/watermark");
      if (!keep_index) fs::remove_all(dir + "/index");
      std::string byte = ReadBytes(SegmentPath(dir, 0), last_offset_ + at, 1);
      byte[0] = static_cast<char>(byte[0] ^ 0x01);
      WriteBytes(SegmentPath(dir, 0), last_offset_ + at, byte);
      auto store = Store::Open(dir, testing::SmallOptions());
      ASSERT_TRUE(store.status().IsCorruption()) << store.status().ToString();
      EXPECT_EQ(store.status().corruption()->file, SegmentPath(dir, 0));
      EXPECT_EQ(store.status().corruption()->offset, last_offset_);
      fs::remove_all(dir);
    }
  }
}

// Power loss: which appends a durable-end mark covers, with no watermark.
class MarkedTailTest : public ::testing::Test {
 protected:
  // Opens the store in a new incarnation of the process.
  Result<std::unique_ptr<Store>> Open() {
    incarnations_.push_back(
        std::make_unique<io::FaultInjectionFileSystem>(&memory_, 1));
    incarnations_.back()->set_crash_options(io::CrashOptions::LoseUnsynced());
    return engine::StoreImpl::Open(incarnations_.back().get(), dir_,
                                   testing::SmallOptions());
  }
  // `n` appends of one event each (one group each); remembers where the
  // last one starts.
  void AppendSome(Store* store, int n) {
    for (int i = 0; i < n; ++i) {
      auto stats = store->GetStats();
      ASSERT_TRUE(stats.ok());
      last_offset_ = segment::kSegmentHeaderSize + stats->bytes;
      ASSERT_TRUE(store->Append("s", ExpectedVersion::Any(), Events(1)).ok());
    }
    CAIRN_ASSERT_OK(store->Sync());
  }
  // Power loss, then the last record damaged and the watermark gone.
  void CrashAndDamageLastRecord() {
    incarnations_.back()->Crash();
    const std::string path = dir_ + "/000000000000.seg";
    auto file = memory_.OpenFile(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(file.ok());
    char byte = 0;
    size_t got = 0;
    CAIRN_ASSERT_OK((*file)->Read(last_offset_ + 40, &byte, 1, &got));
    byte = static_cast<char>(byte ^ 0x20);
    CAIRN_ASSERT_OK((*file)->Write(last_offset_ + 40, &byte, 1));
    CAIRN_ASSERT_OK((*file)->Sync());
    CAIRN_ASSERT_OK(memory_.RemoveFile(dir_ + "/watermark"));
  }

  std::string dir_ = "/store";
  io::MemoryFileSystem memory_;
  std::vector<std::unique_ptr<io::FaultInjectionFileSystem>> incarnations_;
  uint64_t last_offset_ = 0;
};

// The open marks the end it recovered: a later power loss can not turn
// damage to those appends into a torn tail.
TEST_F(MarkedTailTest, RecoveredTailIsMarkedAtOpen) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    AppendSome(store->get(), 3);
    incarnations_.back()->Crash();
  }
  {
    auto store = Open();  // recovers the 3 appends, and marks them
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    CrashAndDamageLastRecord();
  }
  auto store = Open();
  ASSERT_TRUE(store.status().IsCorruption()) << store.status().ToString();
  EXPECT_EQ(store.status().corruption()->offset, last_offset_);
}

// Group commit marks every 64th group. Fewer groups after the last mark,
// and the newest one (damaged, with no watermark and nothing after it)
// looks like a torn write and is cut: the documented limit.
TEST_F(MarkedTailTest, EverySixtyFourthGroupIsMarked) {
  for (int groups : {63, 64}) {
    SCOPED_TRACE(groups);
    dir_ = "/store-" + std::to_string(groups);
    {
      auto store = Open();
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      AppendSome(store->get(), groups);
      CrashAndDamageLastRecord();
    }
    auto store = Open();
    if (groups == 64) {
      ASSERT_TRUE(store.status().IsCorruption()) << store.status().ToString();
      EXPECT_EQ(store.status().corruption()->offset, last_offset_);
      continue;
    }
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto read = (*store)->ReadStream("s", testing::StreamUpTo(1000));
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->events.size(), 62u);
  }
}

// Issue 9, item 11: an active segment shorter than its capacity (cut
// outside the engine) was mapped at its short size, and appends past that
// size could not be read. The writer's open extends it to its capacity.
TEST_F(RecoveryTest, ShortActiveSegmentIsExtendedAtOpen) {
  Build(3);
  std::string dir = Copy("short-active");
  const uint64_t end = last_offset_ + last_size_;
  fs::resize_file(SegmentPath(dir, 0), end);
  // A reader with no writer about reads what is there.
  Options ro = testing::SmallOptions();
  ro.read_only = true;
  auto reader = Store::Open(dir, ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto before = (*reader)->ReadAll(testing::AllUpTo(1000));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->events.size(), events_);
  {
    auto store = Store::Open(dir, testing::SmallOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(fs::file_size(SegmentPath(dir, 0)),
              testing::SmallOptions().segment_size);
    for (int i = 0; i < 20; ++i) {
      auto r = (*store)->Append("after", ExpectedVersion::Any(), Events(2));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    auto read = (*store)->ReadStream("after", testing::StreamUpTo(1000));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->events.size(), 40u);
    // The reader mapped the short file: it follows the writer past it.
    auto after = (*reader)->ReadAll(testing::AllUpTo(1000));
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(after->events.size(), events_ + 40);
  }
  auto store = Store::Open(dir, testing::SmallOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto stats = (*store)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, events_ + 40);
}

// A short active segment that can not be extended (a full disk) is a
// clear NoSpace naming it, and changes nothing; once space is back the
// open extends it.
TEST_F(RecoveryTest, ShortActiveSegmentOnAFullDiskIsNoSpace) {
  Build(3);
  std::string dir = Copy("short-full");
  fs::resize_file(SegmentPath(dir, 0), last_offset_ + last_size_);
  io::FaultInjectionFileSystem faulty(io::PosixFileSystem(), 1);
  faulty.AddRule(
      io::FaultRule::Always(io::FaultOp::kAllocate, io::FaultError::kNoSpace));
  auto refused = engine::StoreImpl::Open(&faulty, dir, testing::SmallOptions());
  ASSERT_TRUE(refused.status().IsNoSpace()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find(SegmentPath(dir, 0)),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(fs::file_size(SegmentPath(dir, 0)), last_offset_ + last_size_);
  faulty.ClearFaults();
  auto store = engine::StoreImpl::Open(&faulty, dir, testing::SmallOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto r = (*store)->Append("after", ExpectedVersion::Any(), Events(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto read = (*store)->ReadStream("after", testing::StreamUpTo(10));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->events.size(), 1u);
}

// Recovery on its own, over the log of a closed store: what it keeps of
// the indexes, and what it replays.
class RecoveryClassTest : public ::testing::Test {
 protected:
  // Appends `n` three-event appends to s0, s1 and s2 in turn, then closes.
  void Fill(const std::string& dir, int from, int to) {
    auto store = Store::Open(dir, testing::SmallOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = from; i < to; ++i) {
      std::string stream("s");  // appended: GCC bug 105651 (-Wrestrict)
      stream += std::to_string(i % 3);
      auto r = (*store)->Append(stream, ExpectedVersion::Any(), Events(3));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    CAIRN_ASSERT_OK((*store)->Close());
  }

  // Runs Recovery over `dir` as a writer's open does; returns the events
  // it replayed and the stream index's end, and keeps the reports.
  void Recover(const std::string& dir, Options options, uint64_t* replayed,
               uint64_t* index_end) {
    options.open_progress = [replayed](const OpenProgress& p) {
      *replayed = p.events;
    };
    options.logger = [this](LogLevel level, std::string_view message) {
      reports_.emplace_back(level, std::string(message));
    };
    testing::RecoveredLog recovered;
    CAIRN_ASSERT_OK(recovered.Open(dir, options, /*read_only=*/false));
    engine::Recovery& recovery = *recovered.recovery;
    recovery.FindSealedEnds();
    ASSERT_NE(recovery.links(), nullptr);  // kept by default
    EXPECT_EQ(recovery.links()->next_position(),
              recovery.index()->next_position());
    *index_end = recovery.index()->next_position();
    auto last = recovery.index()->LastRevision("s0");
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    s0_last_ = *last;
  }

  bool Reported(LogLevel level, const std::string& part) const {
    for (const auto& [l, message] : reports_) {
      if (l == level && message.find(part) != std::string::npos) return true;
    }
    return false;
  }

  testing::TempDir tmp_;
  std::vector<std::pair<LogLevel, std::string>> reports_;
  std::optional<uint64_t> s0_last_;
};

TEST_F(RecoveryClassTest, KeepsTheIndexesOfACleanClose) {
  const std::string dir = tmp_.Sub("store");
  Fill(dir, 0, 10);
  uint64_t replayed = 0;
  uint64_t index_end = 0;
  Recover(dir, testing::SmallOptions(), &replayed, &index_end);
  EXPECT_EQ(replayed, 0u);  // the tables hold every event
  EXPECT_EQ(index_end, 30u);
  EXPECT_EQ(s0_last_, std::optional<uint64_t>(11));
}

TEST_F(RecoveryClassTest, RebuildsTheIndexesWhenAsked) {
  const std::string dir = tmp_.Sub("store");
  Fill(dir, 0, 10);
  Options options = testing::SmallOptions();
  options.rebuild_index = true;
  uint64_t replayed = 0;
  uint64_t index_end = 0;
  Recover(dir, options, &replayed, &index_end);
  EXPECT_EQ(replayed, 30u);
  EXPECT_EQ(index_end, 30u);
  EXPECT_EQ(s0_last_, std::optional<uint64_t>(11));
  EXPECT_TRUE(Reported(LogLevel::kInfo, "rebuild_index")) << reports_.size();
}

TEST_F(RecoveryClassTest, RebuildsAnIndexThatClaimsEventsTheLogLacks) {
  // A copy of the store at 21 events (a restore from an older backup),
  // then the index of the same store at 30.
  const std::string dir = tmp_.Sub("store");
  const std::string old = tmp_.Sub("old");
  Fill(dir, 0, 7);
  fs::copy(dir, old, fs::copy_options::recursive);
  Fill(dir, 7, 10);
  fs::remove_all(old + "/index");
  fs::copy(dir + "/index", old + "/index", fs::copy_options::recursive);
  uint64_t replayed = 0;
  uint64_t index_end = 0;
  Recover(old, testing::SmallOptions(), &replayed, &index_end);
  EXPECT_EQ(replayed, 21u);
  EXPECT_EQ(index_end, 21u);
  EXPECT_EQ(s0_last_, std::optional<uint64_t>(8));
  EXPECT_TRUE(Reported(LogLevel::kWarning, "does not match the log"))
      << reports_.size();
}

}  // namespace
}  // namespace cairn
