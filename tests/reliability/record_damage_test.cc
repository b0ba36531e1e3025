// Copyright (c) Cairn authors.
//
// Property: damage to any byte of any record gives Corruption or the right
// answer, never a wrong one. A store holds Order-1@0, Order-1@1 and
// User-7@0 (three appends, closed cleanly, so the stream index covers every
// record and the open verifies none of them). For every byte of every
// record, and for two kinds of damage (one bit, all bits), a fresh copy of
// the store gets that byte damaged and reopened; then each of
//  - ReadStream of both streams, forwards and backwards,
//  - GetStreamRevision of both streams,
//  - ReadAll, unfiltered and filtered by stream prefix,
//  - an append to Order-1 expecting the stale revision 0,
//  - a retry of the append of Order-1@1 (same event id),
// must either fail with Corruption or give exactly the undamaged answer. No
// append may write a second revision 1 or a duplicate of a retried event.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "segment/record.h"
#include "segment/segment_header.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"

namespace cairn::reliability {
namespace {

using testing::Event;

constexpr char kDir[] = "/store";

struct Expected {
  std::string stream;
  uint64_t revision;
  uint64_t position;
  EventId id;
  std::string data;
};

EventId FixedId(uint8_t n) {
  std::array<uint8_t, 16> bytes{};
  bytes.fill(n);
  bytes[6] = 0x40;  // a version-4-shaped id, like Generate()'s
  return EventId(bytes);
}

const std::vector<Expected>& Log() {
  static const std::vector<Expected> log = {
      {"Order-1", 0, 0, FixedId(1), R"({"sku":"x","qty":2})"},
      {"Order-1", 1, 1, FixedId(2), R"({"sku":"y","qty":5})"},
      {"User-7", 0, 2, FixedId(3), R"({"name":"Ada"})"},
  };
  return log;
}

Options DamageOptions() {
  Options o;
  o.segment_size = uint64_t{64} << 10;
  return o;
}

std::string SegmentPath() {
  return io::JoinPath(kDir, segment::SegmentFileName(0));
}

// Writes the store into `fs` and returns where its records end.
uint64_t Fill(io::MemoryFileSystem* fs) {
  auto store = engine::StoreImpl::Open(fs, kDir, DamageOptions());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return 0;
  for (const Expected& e : Log()) {
    std::vector<EventData> events = {Event("Placed", e.data, e.id)};
    auto r = (*store)->Append(e.stream, ExpectedVersion::Any(), events);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_TRUE((*store)->Close().ok());
  // Walk the record headers to find the end of the last record.
  auto file = fs->OpenFile(SegmentPath(), io::OpenMode::kReadOnly);
  EXPECT_TRUE(file.ok());
  std::vector<uint8_t> bytes(DamageOptions().segment_size);
  size_t got = 0;
  EXPECT_TRUE((*file)->Read(0, bytes.data(), bytes.size(), &got).ok());
  uint64_t offset = segment::kSegmentHeaderSize;
  uint64_t seed = 0;
  {
    segment::SegmentHeader header;
    EXPECT_TRUE(
        segment::DecodeSegmentHeader(bytes.data(), got, SegmentPath(), &header)
            .ok());
    seed = header.Seed();
  }
  for (size_t i = 0; i < Log().size(); ++i) {
    segment::RecordHeader h;
    EXPECT_EQ(segment::DecodeRecordHeader(bytes.data() + offset, got - offset,
                                          seed, &h),
              segment::HeaderCheck::kOk);
    offset += h.RecordSize();
  }
  return offset;
}

void Damage(io::MemoryFileSystem* fs, uint64_t offset, uint8_t mask) {
  auto file = fs->OpenFile(SegmentPath(), io::OpenMode::kReadWrite);
  ASSERT_TRUE(file.ok());
  uint8_t byte = 0;
  size_t got = 0;
  ASSERT_TRUE((*file)->Read(offset, &byte, 1, &got).ok());
  byte ^= mask;
  ASSERT_TRUE((*file)->Write(offset, &byte, 1).ok());
  ASSERT_TRUE((*file)->Sync().ok());
}

// The events of `stream` in the undamaged log, in revision order.
std::vector<Expected> Of(const std::string& stream) {
  std::vector<Expected> out;
  for (const Expected& e : Log()) {
    if (e.stream == stream) out.push_back(e);
  }
  return out;
}

::testing::AssertionResult Same(const std::vector<RecordedEvent>& got,
                                const std::vector<Expected>& want) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure()
           << got.size() << " events, expected " << want.size();
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const RecordedEvent& g = got[i];
    const Expected& w = want[i];
    if (g.stream != w.stream || g.revision.value() != w.revision ||
        g.position.value() != w.position || g.id != w.id || g.data != w.data ||
        g.type != "Placed") {
      return ::testing::AssertionFailure()
             << "event " << i << " is " << g.stream << "@" << g.revision.value()
             << " (position " << g.position.value() << "), expected "
             << w.stream << "@" << w.revision;
    }
  }
  return ::testing::AssertionSuccess();
}

// A Status that is not OK must be Corruption.
::testing::AssertionResult OkOrCorruption(const Status& status) {
  if (status.ok() || status.IsCorruption()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << status.ToString();
}

void CheckStore(Store* store, const std::string& where) {
  for (const std::string stream : {"Order-1", "User-7"}) {
    const std::vector<Expected> want = Of(stream);
    for (Direction direction : {Direction::kForward, Direction::kBackward}) {
      ReadStreamOptions options;
      options.direction = direction;
      auto read = store->ReadStream(stream, options);
      EXPECT_TRUE(OkOrCorruption(read.status()))
          << where << " ReadStream " << stream;
      if (read.ok()) {
        std::vector<Expected> ordered = want;
        if (direction == Direction::kBackward) {
          std::reverse(ordered.begin(), ordered.end());
        }
        EXPECT_TRUE(Same(read->events, ordered))
            << where << " ReadStream " << stream;
        EXPECT_EQ(read->last_revision.value(), want.back().revision) << where;
      }
    }
    auto revision = store->GetStreamRevision(stream);
    EXPECT_TRUE(OkOrCorruption(revision.status()))
        << where << " GetStreamRevision " << stream;
    if (revision.ok()) {
      ASSERT_TRUE(revision->has_value()) << where << " " << stream;
      EXPECT_EQ((*revision)->value(), want.back().revision) << where;
    }
  }
  auto all = store->ReadAll(testing::AllUpTo(100));
  EXPECT_TRUE(OkOrCorruption(all.status())) << where << " ReadAll";
  if (all.ok()) {
    EXPECT_TRUE(Same(all->events, Log())) << where << " ReadAll";
  }
  ReadAllOptions orders = testing::AllUpTo(100);
  orders.stream_prefix = "Order-";
  auto filtered = store->ReadAll(orders);
  EXPECT_TRUE(OkOrCorruption(filtered.status())) << where << " ReadAll Order-";
  if (filtered.ok()) {
    EXPECT_TRUE(Same(filtered->events, Of("Order-1")))
        << where << " ReadAll Order-";
  }
}

void CheckAppends(Store* store, const std::string& where) {
  // Order-1 is at revision 1: expecting 0 must never succeed.
  std::vector<EventData> stale = {Event("Placed", "{}", FixedId(9))};
  auto r = store->Append("Order-1", ExpectedVersion::Exact(0), stale);
  EXPECT_FALSE(r.ok()) << where << ": an append expecting revision 0 wrote "
                       << "revision " << r->first_revision.value();
  if (!r.ok()) {
    EXPECT_TRUE(r.status().IsWrongExpectedVersion() ||
                r.status().IsCorruption())
        << where << ": " << r.status().ToString();
  }
  // A retry of Order-1@1's append is recognised, or refused.
  const Expected& second = Log()[1];
  std::vector<EventData> retry = {Event("Placed", second.data, second.id)};
  auto again = store->Append("Order-1", ExpectedVersion::Any(), retry);
  EXPECT_TRUE(OkOrCorruption(again.status())) << where << " retry";
  if (again.ok()) {
    EXPECT_TRUE(again->idempotent_replay) << where << ": retry wrote again";
    EXPECT_EQ(again->first_position.value(), second.position) << where;
  }
}

TEST(RecordDamageTest, EveryByteOfEveryRecordGivesCorruptionOrTheRightAnswer) {
  uint64_t records_end = 0;
  {
    io::MemoryFileSystem fs;
    records_end = Fill(&fs);
  }
  ASSERT_GT(records_end, segment::kSegmentHeaderSize);
  int opened = 0;
  int refused = 0;
  for (uint8_t mask : {uint8_t{0x01}, uint8_t{0xff}}) {
    for (uint64_t offset = segment::kSegmentHeaderSize; offset < records_end;
         ++offset) {
      const std::string where =
          "byte " + std::to_string(offset) + " ^ " + std::to_string(mask);
      io::MemoryFileSystem fs;
      ASSERT_EQ(Fill(&fs), records_end);
      Damage(&fs, offset, mask);
      // Reads first, on one open; then appends, on another (an append that
      // succeeded wrongly would change what the reads see).
      for (int pass = 0; pass < 2; ++pass) {
        auto store = engine::StoreImpl::Open(&fs, kDir, DamageOptions());
        EXPECT_TRUE(OkOrCorruption(store.status())) << where << " open";
        if (!store.ok()) {
          ++refused;
          break;
        }
        ++opened;
        if (pass == 0) {
          CheckStore(store->get(), where);
        } else {
          CheckAppends(store->get(), where);
        }
        (void)(*store)->Close();
      }
      if (HasFailure()) return;  // one damaged byte's report is enough
    }
  }
  // Both outcomes occur: most damage is found by the reads, damage to the
  // newest record by the open's check of the index against the log.
  EXPECT_GT(opened, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace cairn::reliability
