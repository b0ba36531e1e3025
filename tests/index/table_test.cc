// Copyright (c) Cairn authors.
#include "index/table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>

#include "index/format.h"
#include "testing/memory_file_system.h"

namespace cairn::index {
namespace {

constexpr uint64_t kStore = 0x1234;
constexpr uint32_t kStride = 4;

class TableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDir("/idx").ok());
    ASSERT_TRUE(fs_.SyncDir("/").ok());
  }

  // A table of `n` events at positions [first, first + n) spread over
  // `streams` hashes (small hashes: every stream's revisions follow its
  // positions, and hash h has streams h, h + streams, ... colliding if
  // `collide`).
  std::vector<Entry> MakeEntries(uint64_t first, uint64_t n, uint64_t streams,
                                 uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint64_t> next_revision(streams);
    std::vector<Entry> entries;
    for (uint64_t p = first; p < first + n; ++p) {
      uint64_t s = rng() % streams;
      Entry e;
      e.hash = s % 7 == 0 ? 7 : s * 1000;  // hash 7 is shared (collisions)
      e.revision = next_revision[s]++;
      e.position = p;
      e.offset = static_cast<uint32_t>(p * 3);
      e.id_tag = static_cast<uint32_t>(rng());
      entries.push_back(e);
    }
    return entries;
  }

  // The header of a table of `entries` over [first, end), whose record at
  // position p is at offset 3 p.
  TableInfo InfoOf(uint64_t number, const std::vector<Entry>& entries,
                   uint64_t first, uint64_t end) {
    TableInfo info;
    info.store_id = kStore;
    info.number = number;
    info.anchor_stride = kStride;
    info.entry_count = entries.size();
    info.first_position = first;
    info.end_position = end;
    info.last_offset = static_cast<uint32_t>((end - 1) * 3);
    for (const Entry& e : entries) info.new_streams += e.revision == 0;
    return info;
  }

  Result<std::shared_ptr<Table>> Write(uint64_t number,
                                       std::vector<Entry> entries,
                                       uint64_t first, uint64_t end) {
    const TableInfo info = InfoOf(number, entries, first, end);
    return Write(info, std::move(entries));
  }

  Result<std::shared_ptr<Table>> Write(const TableInfo& info,
                                       std::vector<Entry> entries) {
    std::sort(entries.begin(), entries.end(), EntryLess);
    auto w = TableWriter::Create(&fs_, "/idx", info);
    if (!w.ok()) return w.status();
    for (const Entry& e : entries) {
      Status s = (*w)->Add(e);
      if (!s.ok()) return s;
    }
    const uint64_t first = info.first_position;
    for (uint64_t p = (first + kStride - 1) / kStride * kStride;
         p < info.end_position; p += kStride) {
      Status s = (*w)->AddAnchor(static_cast<uint32_t>(p * 3));
      if (!s.ok()) return s;
    }
    Status s = (*w)->Finish();
    if (!s.ok()) return s;
    return Table::Open(&fs_, "/idx/" + TableFileName(info.number), kStore,
                       info.number, kStride);
  }

  void Corrupt(const std::string& path, uint64_t offset) {
    auto f = fs_.OpenFile(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    uint8_t b = 0;
    size_t got = 0;
    ASSERT_TRUE((*f)->Read(offset, &b, 1, &got).ok());
    b ^= 0x10;
    ASSERT_TRUE((*f)->Write(offset, &b, 1).ok());
  }

  void CheckLookupsMatchBruteForce(uint32_t version);

  io::MemoryFileSystem fs_;
};

TEST_F(TableTest, FileNames) {
  EXPECT_EQ(TableFileName(42), "000000000042.idx");
  EXPECT_EQ(ParseTableFileName("000000000042.idx"), 42u);
  EXPECT_FALSE(ParseTableFileName("00000000042.idx"));
  EXPECT_FALSE(ParseTableFileName("000000000042.idx.tmp"));
  EXPECT_FALSE(ParseTableFileName("00000000004x.idx"));
}

// Lookups in a table of format `version` give what a scan of all entries
// gives. Streams have about 17 entries, and hash 7 (colliding streams)
// about 700: runs cross parts and blocks.
void TableTest::CheckLookupsMatchBruteForce(uint32_t version) {
  const uint64_t first = 1001;  // not a multiple of the stride
  const uint64_t n = 5000;      // many blocks
  auto entries = MakeEntries(first, n, 300, 1);
  TableInfo info = InfoOf(3, entries, first, first + n);
  info.format_version = version;
  auto table = Write(info, entries);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const Table& t = **table;
  EXPECT_EQ(t.info().format_version, version);
  EXPECT_EQ(t.info().entry_count, n);
  EXPECT_EQ(t.info().level, 0u);
  EXPECT_TRUE(t.VerifyAll().ok());

  std::vector<Entry> sorted = entries;
  std::sort(sorted.begin(), sorted.end(), EntryLess);
  std::vector<uint64_t> hashes;
  hashes.reserve(sorted.size() + 1);
  for (const Entry& e : sorted) hashes.push_back(e.hash);
  hashes.push_back(0);
  hashes.push_back(999999);
  hashes.push_back(UINT64_MAX);
  // Hashes between the present ones: the filters rule most of them out.
  for (uint64_t s = 0; s < 300; ++s) hashes.push_back(s * 1000 + 500);
  for (uint64_t h : hashes) {
    std::vector<Entry> newest;
    ASSERT_TRUE(t.ForEachNewest(h, [&](const Entry& e) {
                   newest.push_back(e);
                   return true;
                 }).ok());
    std::vector<Entry> expected;
    for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) {
      if (it->hash == h) expected.push_back(*it);
    }
    ASSERT_EQ(newest, expected) << h;
    for (uint64_t lo : {0, 3, 15, 16, 40}) {
      std::vector<Entry> scanned;
      ASSERT_TRUE(t.Scan(h, lo, lo + 10, &scanned).ok());
      std::vector<Entry> want;
      for (const Entry& e : sorted) {
        if (e.hash == h && e.revision >= lo && e.revision <= lo + 10) {
          want.push_back(e);
        }
      }
      ASSERT_EQ(scanned, want) << h << " " << lo;
    }
  }
  for (uint64_t p = first; p < first + n; ++p) {
    if (p % kStride == 0) {
      EXPECT_EQ(t.Anchor(p), static_cast<uint32_t>(p * 3));
    } else {
      EXPECT_FALSE(t.Anchor(p));
    }
  }
  EXPECT_FALSE(t.Anchor(first + n + 3));
  // Stop early.
  int visits = 0;
  ASSERT_TRUE(
      t.ForEachNewest(7, [&](const Entry&) { return ++visits < 2; }).ok());
  EXPECT_EQ(visits, 2);
}

TEST_F(TableTest, LookupsMatchBruteForce) {
  CheckLookupsMatchBruteForce(kTablePartsFormatVersion);
}

TEST_F(TableTest, LookupsMatchBruteForceInVersionThree) {
  CheckLookupsMatchBruteForce(kTableFiltersFormatVersion);
}

TEST_F(TableTest, CursorReadsEverythingInOrder) {
  auto entries = MakeEntries(0, 1000, 50, 2);
  auto table = Write(1, entries, 0, 1000);
  ASSERT_TRUE(table.ok());
  std::sort(entries.begin(), entries.end(), EntryLess);
  Table::Cursor cursor(table->get());
  std::vector<Entry> read;
  Entry e;
  while (cursor.Next(&e)) read.push_back(e);
  EXPECT_TRUE(cursor.status().ok());
  EXPECT_EQ(read, entries);
}

TEST_F(TableTest, WriterRefusesBadInput) {
  TableInfo info;
  info.store_id = kStore;
  info.number = 9;
  info.anchor_stride = kStride;
  info.entry_count = 2;
  info.first_position = 0;
  info.end_position = 2;
  auto w = TableWriter::Create(&fs_, "/idx", info);
  ASSERT_TRUE(w.ok());
  Entry a{5, 0, 0, 0, 0};
  Entry b{4, 0, 1, 0, 0};
  ASSERT_TRUE((*w)->Add(a).ok());
  EXPECT_TRUE((*w)->Add(b).IsInvalidArgument());    // out of order
  EXPECT_TRUE((*w)->Finish().IsInvalidArgument());  // too few
  w->reset();
  // Nothing is left behind by an abandoned writer.
  auto names = fs_.ListDir("/idx");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_F(TableTest, DamagedBlockIsReportedWhenRead) {
  auto entries = MakeEntries(0, 1000, 50, 3);
  auto table = Write(2, entries, 0, 1000);
  ASSERT_TRUE(table.ok());
  const std::string path = (*table)->path();
  const uint64_t size = (*table)->file_size();
  table->reset();
  // Flip a byte in the last block of entries: the header, fences and
  // anchors still verify, so the table opens; reading the block fails.
  Corrupt(path, size - 4096 + 5);
  auto reopened = Table::Open(&fs_, path, kStore, 2, kStride);
  ASSERT_TRUE(reopened.ok());
  Status s = (*reopened)->VerifyAll();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("rebuild"), std::string::npos);
  auto last = (*reopened)->Block((*reopened)->info().block_count() - 1);
  EXPECT_TRUE(last.status().IsCorruption());
}

TEST_F(TableTest, DamagedHeaderFencesOrAnchorsFailTheOpen) {
  auto entries = MakeEntries(0, 1000, 50, 4);
  for (uint64_t offset : {uint64_t{20}, uint64_t{4096 + 30},
                          uint64_t{4096 + 8 * kFenceSize + 5}}) {
    auto table = Write(5, entries, 0, 1000);
    ASSERT_TRUE(table.ok());
    std::string path = (*table)->path();
    table->reset();
    Corrupt(path, offset);
    auto reopened = Table::Open(&fs_, path, kStore, 5, kStride);
    EXPECT_TRUE(reopened.status().IsCorruption())
        << offset << ": " << reopened.status().ToString();
    ASSERT_TRUE(fs_.RemoveFile(path).ok());
  }
}

TEST_F(TableTest, IdentityVersionAndSizeAreChecked) {
  auto entries = MakeEntries(0, 100, 10, 5);
  auto table = Write(6, entries, 0, 100);
  ASSERT_TRUE(table.ok());
  std::string path = (*table)->path();
  table->reset();
  EXPECT_TRUE(
      Table::Open(&fs_, path, kStore + 1, 6, kStride).status().IsCorruption());
  EXPECT_TRUE(
      Table::Open(&fs_, path, kStore, 7, kStride).status().IsCorruption());
  EXPECT_TRUE(
      Table::Open(&fs_, path, kStore, 6, kStride * 2).status().IsCorruption());
  // A truncated file.
  {
    auto f = fs_.OpenFile(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    auto size = (*f)->Size();
    ASSERT_TRUE((*f)->Truncate(*size - 1).ok());
  }
  EXPECT_TRUE(
      Table::Open(&fs_, path, kStore, 6, kStride).status().IsCorruption());
  // An unknown version is not called corrupt.
  table = Write(8, entries, 0, 100);
  ASSERT_TRUE(table.ok());
  path = (*table)->path();
  table->reset();
  {
    auto f = fs_.OpenFile(path, io::OpenMode::kReadWrite);
    ASSERT_TRUE(f.ok());
    uint8_t v[4];
    Put32(v, 5);
    ASSERT_TRUE((*f)->Write(8, v, 4).ok());
  }
  EXPECT_TRUE(Table::Open(&fs_, path, kStore, 8, kStride).status().code() ==
              StatusCode::kNotSupported);
}

// A table with gaps (a scavenge removed the events at positions that are
// multiples of 3 but not of 9): last_position, and damage to any byte of
// the header, fences or anchors fails the open.
TEST_F(TableTest, TablesWithGapsNameTheirLastPosition) {
  auto entries = MakeEntries(0, 700, 30, 9);
  std::erase_if(entries, [](const Entry& e) {
    return e.position % 3 == 0 && e.position % 9 != 0;
  });
  TableInfo info = InfoOf(12, entries, 0, 700);
  info.last_position = 698;  // 699 is removed
  info.last_offset = 698 * 3;
  ASSERT_TRUE(Write(info, entries).ok());
  const std::string path = "/idx/" + TableFileName(12);
  auto opened = Table::Open(&fs_, path, kStore, 12, kStride);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE((*opened)->info().has_gaps());
  EXPECT_EQ((*opened)->info().format_version, 4u);
  EXPECT_EQ((*opened)->info().last_position, 698u);
  Status verified = (*opened)->VerifyAll();
  EXPECT_TRUE(verified.ok()) << verified.ToString();
  std::vector<Entry> scanned;
  ASSERT_TRUE((*opened)->Scan(7, 0, UINT64_MAX, &scanned).ok());
  EXPECT_EQ(scanned.size(),
            std::count_if(entries.begin(), entries.end(),
                          [](const Entry& e) { return e.hash == 7; }));
  std::string bytes(8192, '\0');
  {
    auto f = fs_.OpenFile(path, io::OpenMode::kReadOnly);
    ASSERT_TRUE(f.ok());
    size_t got = 0;
    ASSERT_TRUE((*f)->Read(0, bytes.data(), bytes.size(), &got).ok());
  }
  EXPECT_EQ(Get32(reinterpret_cast<const uint8_t*>(bytes.data()) + 8), 4u);
  EXPECT_EQ(Get64(reinterpret_cast<const uint8_t*>(bytes.data()) + 136), 698u);
  const uint64_t anchors_end = 4096 +
                               (*opened)->info().block_count() * kFenceSize +
                               (*opened)->info().anchor_count() * 4;
  opened->reset();
  // Every byte of the header, the fences and the anchors (the zero gap
  // before the entries is covered by no checksum, and readers ignore it).
  for (uint64_t offset = 0; offset < anchors_end; ++offset) {
    Corrupt(path, offset);
    auto damaged = Table::Open(&fs_, path, kStore, 12, kStride);
    const bool version_byte = offset >= 8 && offset < 12;
    EXPECT_EQ(damaged.status().code(), version_byte ? StatusCode::kNotSupported
                                                    : StatusCode::kCorruption)
        << offset;
    Corrupt(path, offset);  // undone
  }
  EXPECT_TRUE(Table::Open(&fs_, path, kStore, 12, kStride).ok());
}

// VerifyAll of a table with gaps: the header's last position must be its
// highest entry's, and no position may appear twice.
TEST_F(TableTest, VerifyAllChecksTablesWithGaps) {
  auto entries = MakeEntries(0, 100, 5, 11);
  std::erase_if(entries, [](const Entry& e) { return e.position % 2 == 1; });
  TableInfo info = InfoOf(15, entries, 0, 100);
  info.last_position = 96;  // the last entry is at 98
  info.last_offset = 96 * 3;
  auto wrong_last = Write(info, entries);
  ASSERT_TRUE(wrong_last.ok()) << wrong_last.status().ToString();
  EXPECT_TRUE((*wrong_last)->VerifyAll().IsCorruption());

  // Position 98 twice (revisions apart, so the order holds).
  Entry twice = entries.back();
  twice.revision += 1000;
  entries.push_back(twice);
  info = InfoOf(16, entries, 0, 100);
  info.last_position = 98;
  info.last_offset = 98 * 3;
  auto duplicated = Write(info, entries);
  ASSERT_TRUE(duplicated.ok()) << duplicated.status().ToString();
  EXPECT_TRUE((*duplicated)->VerifyAll().IsCorruption());
}

TEST_F(TableTest, TablesWithoutGapsAreVersionFourToo) {
  auto table = Write(13, MakeEntries(10, 90, 5, 10), 10, 100);
  ASSERT_TRUE(table.ok());
  EXPECT_FALSE((*table)->info().has_gaps());
  EXPECT_TRUE((*table)->info().has_filters());
  EXPECT_EQ((*table)->info().format_version, 4u);
  EXPECT_TRUE((*table)->info().has_parts());
  EXPECT_EQ((*table)->info().last_position, 99u);
  // A header with gaps whose last position is outside the range is
  // refused by the writer.
  TableInfo info = (*table)->info();
  info.number = 14;
  info.entry_count = 80;
  info.last_position = 100;
  EXPECT_EQ(TableWriter::Create(&fs_, "/idx", info).status().code(),
            StatusCode::kInvalidArgument);
  info.entry_count = 91;
  EXPECT_EQ(TableWriter::Create(&fs_, "/idx", info).status().code(),
            StatusCode::kInvalidArgument);
}

// Tables written by earlier builds, and by this one when its format was
// introduced (tests/fixtures), open, verify and answer lookups.
TEST_F(TableTest, CheckedInTablesOpen) {
  io::FileSystem* fs = io::PosixFileSystem();
  const std::string fixtures =
      std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures";
  auto v1 = Table::Open(
      fs, fixtures + "/segment-format-v1/store/index/000000000001.idx", 0, 1,
      0);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ((*v1)->info().format_version, 1u);
  EXPECT_FALSE((*v1)->info().has_filters());
  EXPECT_EQ((*v1)->info().last_position, (*v1)->info().end_position - 1);
  EXPECT_TRUE((*v1)->VerifyAll().ok());

  auto v2 = Table::Open(fs, fixtures + "/index-table-v2/000000000002.idx",
                        0x0123456789abcdef, 2, 4);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  const TableInfo& info = (*v2)->info();
  EXPECT_EQ(info.format_version, 2u);
  EXPECT_EQ(info.entry_count, 6u);
  EXPECT_EQ(info.end_position, 10u);
  EXPECT_EQ(info.last_position, 8u);
  EXPECT_EQ(info.last_offset, 4596u);
  EXPECT_EQ((*v2)->Anchor(4), std::optional<uint32_t>(4296));
  Status verified = (*v2)->VerifyAll();
  EXPECT_TRUE(verified.ok()) << verified.ToString();
  std::vector<Entry> order2;
  ASSERT_TRUE(
      (*v2)->Scan(DefaultStreamHash("Order-2"), 0, UINT64_MAX, &order2).ok());
  ASSERT_EQ(order2.size(), 3u);
  EXPECT_EQ(order2[0].revision, 1u);
  EXPECT_EQ(order2[0].position, 3u);

  auto v3 = Table::Open(fs, fixtures + "/index-table-v3/000000000003.idx",
                        0x0123456789abcdef, 3, 4);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_EQ((*v3)->info().format_version, 3u);
  EXPECT_TRUE((*v3)->info().has_filters());
  EXPECT_EQ((*v3)->info().entry_count, 6u);
  EXPECT_EQ((*v3)->info().last_position, 8u);
  EXPECT_EQ((*v3)->Anchor(8), std::optional<uint32_t>(4596));
  verified = (*v3)->VerifyAll();
  EXPECT_TRUE(verified.ok()) << verified.ToString();
  std::vector<Entry> order1;
  ASSERT_TRUE(
      (*v3)->Scan(DefaultStreamHash("Order-1"), 0, UINT64_MAX, &order1).ok());
  ASSERT_EQ(order1.size(), 3u);
  EXPECT_EQ(order1[2].position, 7u);
  std::vector<Entry> none;
  ASSERT_TRUE(
      (*v3)->Scan(DefaultStreamHash("Order-3"), 0, UINT64_MAX, &none).ok());
  EXPECT_TRUE(none.empty());

  // Version 4: two blocks with part directories (its README).
  auto v4 = Table::Open(fs, fixtures + "/index-table-v4/000000000004.idx",
                        0x0123456789abcdef, 4, 4);
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ((*v4)->info().format_version, 4u);
  EXPECT_TRUE((*v4)->info().has_parts());
  EXPECT_EQ((*v4)->info().entry_count, 200u);
  EXPECT_EQ((*v4)->info().block_count(), 2u);
  EXPECT_EQ((*v4)->Anchor(196), std::optional<uint32_t>(4096 + 19600));
  verified = (*v4)->VerifyAll();
  EXPECT_TRUE(verified.ok()) << verified.ToString();
  for (uint64_t s = 1; s <= 20; ++s) {
    const uint64_t hash = DefaultStreamHash("Order-" + std::to_string(s));
    std::vector<Entry> all;
    ASSERT_TRUE((*v4)->Scan(hash, 0, UINT64_MAX, &all).ok());
    ASSERT_EQ(all.size(), 10u) << s;
    for (uint64_t r = 0; r < 10; ++r) {
      EXPECT_EQ(all[r].revision, r);
      EXPECT_EQ(all[r].position, r * 20 + s - 1);
      EXPECT_EQ(all[r].offset, 4096 + all[r].position * 100);
      EXPECT_EQ(all[r].id_tag,
                static_cast<uint32_t>(all[r].position * 2654435761u));
    }
    std::vector<Entry> newest;
    ASSERT_TRUE((*v4)
                    ->ForEachNewest(hash,
                                    [&](const Entry& e) {
                                      newest.push_back(e);
                                      return newest.size() < 3;
                                    })
                    .ok());
    ASSERT_EQ(newest.size(), 3u);
    EXPECT_EQ(newest[0].revision, 9u);
    EXPECT_EQ(newest[2].revision, 7u);
    std::vector<Entry> some;
    ASSERT_TRUE((*v4)->Scan(hash, 4, 6, &some).ok());
    ASSERT_EQ(some.size(), 3u);
    EXPECT_EQ(some[0].revision, 4u);
  }
  none.clear();
  ASSERT_TRUE(
      (*v4)->Scan(DefaultStreamHash("Order-21"), 0, UINT64_MAX, &none).ok());
  EXPECT_TRUE(none.empty());
}

// A header whose range (with gaps, bounded by nothing else) makes more
// anchors than the file holds is Corruption, even when its section fields
// are forged to what the layout arithmetic gives modulo 2^64 (the anchors'
// end wrapping to 0) and its checksum is resealed.
TEST_F(TableTest, AHeaderCountingMoreAnchorsThanTheFileHoldsIsCorrupt) {
  std::vector<Entry> entries = {Entry{7, 0, 0, 0, 1}};
  TableInfo info = InfoOf(19, entries, 0, 100);
  info.last_position = 0;
  info.last_offset = 0;
  ASSERT_TRUE(Write(info, entries).ok());
  const std::string path = "/idx/" + TableFileName(19);
  auto f = fs_.OpenFile(path, io::OpenMode::kReadWrite);
  ASSERT_TRUE(f.ok());
  std::vector<uint8_t> header(4096);
  size_t got = 0;
  ASSERT_TRUE((*f)->Read(0, header.data(), header.size(), &got).ok());
  uint8_t* d = header.data();
  // One block: anchors from 4120, 4 bytes per position with stride 1, end
  // at 2^64 - 8, which rounds up to 2^64, that is 0.
  const uint64_t end = (uint64_t{1} << 62) - 1032;
  Put32(d + 36, 1);
  Put64(d + 56, end);
  Put64(d + 96, 4096);
  Put64(d + 104, 8192);
  Put64(d + 144, 0);
  Put64(d + 152, IndexChecksum(d, 152, 0x5458494e52494143ull));
  ASSERT_TRUE((*f)->Write(0, header.data(), header.size()).ok());
  ASSERT_TRUE((*f)->Truncate(8192).ok());
  ASSERT_TRUE((*f)->Close().ok());
  TableInfo decoded;
  EXPECT_TRUE(DecodeTableHeader(d, 8192, path, &decoded).IsCorruption());
  EXPECT_TRUE(Table::Open(&fs_, path, kStore, 19, 0).status().IsCorruption());
}

// The offset of block `i`'s summary (its filter, then from version 4 its
// part directory).
uint64_t FilterOffset(const Table& t, uint64_t i) {
  const uint64_t anchors_end =
      4096 + t.info().block_count() * kFenceSize + t.info().anchor_count() * 4;
  return (anchors_end + 63) / 64 * 64 + i * t.info().summary_size();
}

// A lookup of a stream a block's filter rules out never reads the block:
// with the block damaged, such lookups still answer, while a lookup the
// filter lets through reports the damage.
TEST_F(TableTest, ALookupTheFilterRulesOutReadsNoBlock) {
  auto entries = MakeEntries(0, 1000, 50, 12);
  auto table = Write(17, entries, 0, 1000);
  ASSERT_TRUE(table.ok());
  const std::string path = (*table)->path();
  const uint64_t size = (*table)->file_size();
  const uint64_t last = (*table)->info().block_count() - 1;
  // The hashes of the last block's range that its filter rules out.
  std::vector<uint64_t> ruled_out;
  std::vector<uint64_t> let_through;
  {
    auto data = (*table)->Block(last);
    ASSERT_TRUE(data.ok());
    const uint64_t lo = Get64(*data);
    for (uint64_t h = lo + 1; ruled_out.size() < 20 && h < lo + 100000;
         h += 7) {
      if (h % 1000 == 0) continue;  // a stream's hash
      auto may = (*table)->MayContain(last, h);
      ASSERT_TRUE(may.ok());
      (*may ? let_through : ruled_out).push_back(h);
    }
  }
  ASSERT_EQ(ruled_out.size(), 20u);
  table->reset();
  Corrupt(path, size - 4096 + 5);
  auto reopened = Table::Open(&fs_, path, kStore, 17, kStride);
  ASSERT_TRUE(reopened.ok());
  for (uint64_t h : ruled_out) {
    std::vector<Entry> scanned;
    EXPECT_TRUE((*reopened)->Scan(h, 0, UINT64_MAX, &scanned).ok()) << h;
    EXPECT_TRUE(scanned.empty());
    EXPECT_TRUE(
        (*reopened)->ForEachNewest(h, [](const Entry&) { return true; }).ok())
        << h;
  }
  for (uint64_t h : let_through) {
    std::vector<Entry> scanned;
    EXPECT_TRUE((*reopened)->Scan(h, 0, UINT64_MAX, &scanned).IsCorruption());
  }
  EXPECT_TRUE((*reopened)->VerifyAll().IsCorruption());
}

// Damage to any byte of a block's summary is Corruption for VerifyAll, and
// when a lookup consults the filter or reads the block's part directory;
// the table still opens (summaries are checked per lookup, not at open).
// A damaged filter or part directory is made again from the block's
// entries, which still match the block's fence: no block source is needed,
// and every lookup answers. Verification still reports the stored bytes.
TEST_F(TableTest, ADamagedSummaryIsRebuiltFromTheBlocksEntries) {
  auto entries = MakeEntries(0, 300, 20, 13);
  auto table = Write(18, entries, 0, 300);
  ASSERT_TRUE(table.ok());
  const std::string path = (*table)->path();
  const uint64_t blocks = (*table)->info().block_count();
  ASSERT_EQ(blocks, 3u);
  std::sort(entries.begin(), entries.end(), EntryLess);
  std::vector<uint64_t> filter_offsets;
  // Per block, a hash whose newest entry is in it: ForEachNewest of that
  // hash consults the block's filter.
  std::vector<uint64_t> newest_in;
  for (uint64_t b = 0; b < blocks; ++b) {
    filter_offsets.push_back(FilterOffset(**table, b));
    for (uint64_t i = b * kEntriesPerBlock;
         i < std::min<uint64_t>(entries.size(), (b + 1) * kEntriesPerBlock);
         ++i) {
      if (i + 1 == entries.size() || entries[i + 1].hash != entries[i].hash) {
        newest_in.push_back(entries[i].hash);
        break;
      }
    }
    ASSERT_EQ(newest_in.size(), b + 1);
  }
  table->reset();
  for (uint64_t b = 0; b < blocks; ++b) {
    for (uint64_t at = filter_offsets[b];
         at < filter_offsets[b] + kBlockSummarySize; ++at) {
      const uint64_t in_summary = at - filter_offsets[b];
      Corrupt(path, at);
      auto damaged = Table::Open(&fs_, path, kStore, 18, kStride);
      ASSERT_TRUE(damaged.ok()) << at;
      if (in_summary < kBlockFilterSize) {
        auto may = (*damaged)->MayContain(b, newest_in[b]);
        ASSERT_TRUE(may.ok()) << at << ": " << may.status().ToString();
        EXPECT_TRUE(*may) << at;
      }
      std::vector<Entry> newest;
      Status s = (*damaged)->ForEachNewest(newest_in[b], [&](const Entry& e) {
        newest.push_back(e);
        return true;
      });
      ASSERT_TRUE(s.ok()) << at << ": " << s.ToString();
      std::vector<Entry> want;
      for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        if (it->hash == newest_in[b]) want.push_back(*it);
      }
      EXPECT_EQ(newest, want) << at;
      // The padding after the directory's checksum is read by no lookup.
      EXPECT_EQ((*damaged)->repaired_blocks(),
                in_summary < kPartDirectoryChecksumAt + 8 ? 1u : 0u)
          << at;
      EXPECT_TRUE((*damaged)->VerifyAll().IsCorruption()) << at;
      Corrupt(path, at);  // undone
    }
  }
  auto intact = Table::Open(&fs_, path, kStore, 18, kStride);
  ASSERT_TRUE(intact.ok());
  EXPECT_TRUE((*intact)->VerifyAll().ok());
}

// Damage to any byte of the summaries or the entries leaves every lookup
// either right or Corruption, never a shortened or wrong answer. A lookup
// reads only the parts it needs, so damage elsewhere in a block leaves it
// answering.
TEST_F(TableTest, EveryByteOfTheBlocksGivesCorruptionOrTheRightAnswer) {
  auto entries = MakeEntries(0, 300, 20, 14);
  auto table = Write(20, entries, 0, 300);
  ASSERT_TRUE(table.ok());
  const std::string path = (*table)->path();
  std::sort(entries.begin(), entries.end(), EntryLess);
  std::vector<uint64_t> hashes = {0, 6, 7, 8, 2500, 19001, UINT64_MAX};
  for (const Entry& e : entries) {
    if (hashes.back() != e.hash) hashes.push_back(e.hash);
  }
  struct Answer {
    std::vector<Entry> newest;
    std::vector<Entry> all;
    std::vector<Entry> some;
  };
  auto lookup = [&](const Table& t, uint64_t h, Answer* a) -> Status {
    Status s = t.ForEachNewest(h, [&](const Entry& e) {
      a->newest.push_back(e);
      return true;
    });
    if (s.ok()) s = t.Scan(h, 0, UINT64_MAX, &a->all);
    if (s.ok()) s = t.Scan(h, 5, 8, &a->some);
    return s;
  };
  std::vector<Answer> want(hashes.size());
  for (size_t i = 0; i < hashes.size(); ++i) {
    ASSERT_TRUE(lookup(**table, hashes[i], &want[i]).ok());
  }
  const uint64_t from = (*table)->filters_offset();
  const uint64_t size = (*table)->file_size();
  const uint64_t entries_at = (*table)->entries_offset();
  table->reset();
  uint64_t answered_in_damaged_blocks = 0;
  for (uint64_t at = from; at < size; ++at) {
    Corrupt(path, at);
    auto damaged = Table::Open(&fs_, path, kStore, 20, kStride);
    ASSERT_TRUE(damaged.ok()) << at;
    for (size_t i = 0; i < hashes.size(); ++i) {
      Answer got;
      Status s = lookup(**damaged, hashes[i], &got);
      if (s.IsCorruption()) continue;
      ASSERT_TRUE(s.ok()) << at << ": " << s.ToString();
      EXPECT_EQ(got.newest, want[i].newest) << at << " " << hashes[i];
      EXPECT_EQ(got.all, want[i].all) << at << " " << hashes[i];
      EXPECT_EQ(got.some, want[i].some) << at << " " << hashes[i];
      if (at >= entries_at && !want[i].all.empty()) {
        ++answered_in_damaged_blocks;
      }
    }
    if (at < entries_at || at % kTablePartSize < 256) {
      // Everything but the zero gap before the entries is checked.
      const bool gap =
          at >= (*damaged)->filters_offset() +
                    (*damaged)->info().block_count() * kBlockSummarySize &&
          at < entries_at;
      EXPECT_EQ((*damaged)->VerifyAll().IsCorruption(), !gap) << at;
    }
    Corrupt(path, at);  // undone
  }
  EXPECT_GT(answered_in_damaged_blocks, 0u);
}

// The block source of a table written from `entries`: the entries whose
// key lies in [lo, hi], as the log would give them. `lie` changes the
// offset of one of them (a source that does not reproduce the block).
BlockSource SourceOf(const std::vector<Entry>& entries, int* calls,
                     bool lie = false) {
  return [&entries, calls, lie](const Table&, EntryKey lo, EntryKey hi,
                                std::vector<Entry>* out) {
    ++*calls;
    for (const Entry& e : entries) {
      if (std::tie(e.hash, e.revision) < std::tie(lo.hash, lo.revision) ||
          std::tie(hi.hash, hi.revision) < std::tie(e.hash, e.revision)) {
        continue;
      }
      out->push_back(e);
      if (lie && out->size() == 3) out->back().offset ^= 1;
    }
    return Status::Ok();
  };
}

class TableRepairTest : public TableTest,
                        public ::testing::WithParamInterface<uint32_t> {};

// Every byte of the summaries and entry blocks, damaged in turn: every
// lookup still answers exactly, from a block rebuilt from the source (or,
// for a damaged summary, from the stored entries alone), each damaged
// block rebuilt once whatever the lookups that meet it.
TEST_P(TableRepairTest, EveryDamagedByteOfTheBlocksIsRebuilt) {
  // Hash 7 is shared by three streams, so equal keys straddle block
  // boundaries: the rebuild must pick the block's run among them.
  auto entries = MakeEntries(0, 300, 20, 14);
  TableInfo info = InfoOf(21, entries, 0, 300);
  info.format_version = GetParam();
  auto table = Write(info, entries);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ((*table)->info().format_version, GetParam());
  const std::string path = (*table)->path();
  std::vector<Entry> sorted = entries;
  std::sort(sorted.begin(), sorted.end(), EntryLess);
  std::vector<uint64_t> hashes = {0, 6, 8, 2500, UINT64_MAX};
  for (const Entry& e : sorted) {
    if (hashes.back() != e.hash) hashes.push_back(e.hash);
  }
  auto newest_and_all = [&](const Table& t, uint64_t h,
                            std::vector<Entry>* newest,
                            std::vector<Entry>* all) -> Status {
    Status s = t.ForEachNewest(h, [&](const Entry& e) {
      newest->push_back(e);
      return true;
    });
    if (s.ok()) s = t.Scan(h, 0, UINT64_MAX, all);
    return s;
  };
  const uint64_t from = (*table)->filters_offset();
  const uint64_t size = (*table)->file_size();
  table->reset();
  uint64_t repaired = 0;
  uint64_t without_source = 0;
  for (uint64_t at = from; at < size; ++at) {
    Corrupt(path, at);
    auto damaged = Table::Open(&fs_, path, kStore, 21, kStride);
    ASSERT_TRUE(damaged.ok()) << at;
    int calls = 0;
    int notes = 0;
    (*damaged)->set_block_source(SourceOf(sorted, &calls));
    (*damaged)->set_damage_note([&](const Status& s) {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      ++notes;
    });
    for (uint64_t h : hashes) {
      std::vector<Entry> newest;
      std::vector<Entry> all;
      Status s = newest_and_all(**damaged, h, &newest, &all);
      ASSERT_TRUE(s.ok()) << at << ": " << s.ToString();
      std::vector<Entry> want;
      for (const Entry& e : sorted) {
        if (e.hash == h) want.push_back(e);
      }
      EXPECT_EQ(all, want) << at << " " << h;
      std::reverse(want.begin(), want.end());
      EXPECT_EQ(newest, want) << at << " " << h;
    }
    const uint64_t rebuilt = (*damaged)->repaired_blocks();
    EXPECT_LE(rebuilt, 1u) << at;
    EXPECT_EQ(static_cast<uint64_t>(notes), rebuilt) << at;
    EXPECT_LE(static_cast<uint64_t>(calls), rebuilt) << at;
    if (rebuilt == 1) {
      ++repaired;
      if (calls == 0) ++without_source;
      // Verification reads the stored bytes; a merge reads the copy.
      EXPECT_TRUE((*damaged)->VerifyAll().IsCorruption()) << at;
      Table::Cursor cursor(damaged->get());
      std::vector<Entry> read;
      Entry e;
      while (cursor.Next(&e)) read.push_back(e);
      EXPECT_TRUE(cursor.status().ok()) << at;
      EXPECT_EQ(read, sorted) << at;
    }
    Corrupt(path, at);  // undone
  }
  EXPECT_GT(repaired, without_source);
  EXPECT_GT(without_source, 0u);
}

INSTANTIATE_TEST_SUITE_P(FormatVersions, TableRepairTest,
                         ::testing::Values(kTableFiltersFormatVersion,
                                           kTablePartsFormatVersion));

TEST_F(TableTest, ABlockTheSourceDoesNotReproduceStaysCorrupt) {
  auto entries = MakeEntries(0, 300, 20, 15);
  std::sort(entries.begin(), entries.end(), EntryLess);
  auto table = Write(22, entries, 0, 300);
  ASSERT_TRUE(table.ok());
  const std::string path = (*table)->path();
  const uint64_t block_at = (*table)->entries_offset() + kTableBlockSize;
  table->reset();
  Corrupt(path, block_at + 8);  // block 1's first revision
  const uint64_t h = entries[kEntriesPerBlock].hash;
  std::vector<Entry> all;
  for (bool lie : {true, false}) {
    auto damaged = Table::Open(&fs_, path, kStore, 22, kStride);
    ASSERT_TRUE(damaged.ok());
    // No source: Corruption naming the block.
    all.clear();
    Status s = (*damaged)->Scan(h, 0, UINT64_MAX, &all);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    int calls = 0;
    (*damaged)->set_block_source(SourceOf(entries, &calls, lie));
    for (int lookup = 0; lookup < 2; ++lookup) {
      all.clear();
      s = (*damaged)->Scan(h, 0, UINT64_MAX, &all);
      // One rebuild, whatever its outcome: a failed one is remembered.
      EXPECT_EQ(calls, 1);
      if (lie) {
        // Never the source's word alone: its block must match the fence.
        EXPECT_TRUE(s.IsCorruption()) << s.ToString();
        EXPECT_EQ((*damaged)->repaired_blocks(), 0u);
      } else {
        EXPECT_TRUE(s.ok()) << s.ToString();
        EXPECT_EQ((*damaged)->repaired_blocks(), 1u);
      }
    }
  }
  std::vector<Entry> want;
  for (const Entry& e : entries) {
    if (e.hash == h) want.push_back(e);
  }
  EXPECT_EQ(all, want);
}

TEST_F(TableTest, ATableRebuildsAtMostItsShareOfBlocks) {
  const uint64_t blocks = kMaxRepairedBlocks + 2;
  auto entries = MakeEntries(0, blocks * kEntriesPerBlock, 50, 16);
  std::sort(entries.begin(), entries.end(), EntryLess);
  auto table = Write(23, entries, 0, entries.size());
  ASSERT_TRUE(table.ok());
  ASSERT_EQ((*table)->info().block_count(), blocks);
  const std::string path = (*table)->path();
  const uint64_t entries_at = (*table)->entries_offset();
  table->reset();
  for (uint64_t b = 0; b < blocks; ++b) {
    Corrupt(path, entries_at + b * kTableBlockSize + 8);
  }
  auto damaged = Table::Open(&fs_, path, kStore, 23, kStride);
  ASSERT_TRUE(damaged.ok());
  int calls = 0;
  (*damaged)->set_block_source(SourceOf(entries, &calls));
  Table::Cursor verify(damaged->get(), /*use_repairs=*/false);
  Entry e;
  EXPECT_FALSE(verify.Next(&e));
  // Each lookup of a block's first entry meets that block.
  uint64_t answered = 0;
  uint64_t refused = 0;
  for (uint64_t b = 0; b < blocks; ++b) {
    const Entry& first = entries[b * kEntriesPerBlock];
    std::vector<Entry> got;
    Status s =
        (*damaged)->Scan(first.hash, first.revision, first.revision, &got);
    if (s.ok()) {
      ++answered;
      EXPECT_FALSE(got.empty());
    } else {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      ++refused;
    }
  }
  EXPECT_EQ(answered, kMaxRepairedBlocks);
  EXPECT_EQ(refused, blocks - kMaxRepairedBlocks);
  EXPECT_EQ((*damaged)->repaired_blocks(), kMaxRepairedBlocks);
  EXPECT_EQ(static_cast<uint64_t>(calls), kMaxRepairedBlocks);
}

// docs/format.md, "Worked example: index files": the bytes of the
// example table are the format; a change here is a new format version.
TEST_F(TableTest, TheWorkedExampleOfTheFormatDocument) {
  TableInfo info;
  info.store_id = 0x0123456789abcdefull;
  info.number = 1;
  info.anchor_stride = 64;
  info.entry_count = 1;
  info.end_position = 1;
  info.last_offset = 4096;
  info.new_streams = 1;
  auto w = TableWriter::Create(&fs_, "/idx", info);
  ASSERT_TRUE(w.ok());
  Entry e;
  e.hash = DefaultStreamHash("Order-1");
  e.offset = 4096;
  e.id_tag = 0xe500c50c;
  ASSERT_EQ(e.hash, 0x6e1fe6ade991a58cull);
  ASSERT_TRUE((*w)->Add(e).ok());
  ASSERT_TRUE((*w)->AddAnchor(4096).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  auto f = fs_.OpenFile("/idx/" + TableFileName(1), io::OpenMode::kReadOnly);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(*(*f)->Size(), 12288u);
  std::vector<uint8_t> bytes(12288);
  size_t got = 0;
  ASSERT_TRUE((*f)->Read(0, bytes.data(), bytes.size(), &got).ok());
  const uint8_t* d = bytes.data();
  EXPECT_EQ(Get32(d + 8), 4u);
  EXPECT_EQ(Get64(d + 88), 4120u);
  EXPECT_EQ(Get64(d + 96), 8192u);
  EXPECT_EQ(Get64(d + 112), 0x2046bcd5f4f6c109ull);
  EXPECT_EQ(Get64(d + 120), 0x68be807cb02f5e82ull);
  EXPECT_EQ(Get64(d + 144), 4160u);
  EXPECT_EQ(Get64(d + 152), 0xb2030e3e085f5d8bull);
  EXPECT_EQ(Get64(d + 4096 + 16), 0xb11452608d7dc55aull);
  std::vector<uint8_t> bits(kBlockFilterBitBytes);
  bits[20] = 0x08;
  bits[58] = 0x02;
  bits[64] = 0x80;
  bits[95] = 0x80;
  bits[102] = 0x20;
  EXPECT_EQ(std::vector<uint8_t>(d + 4160, d + 4160 + kBlockFilterBitBytes),
            bits);
  EXPECT_EQ(Get64(d + 4160 + kBlockFilterBitBytes), 0x82387290becb13bdull);
  // The part directory: no part but the first holds an entry, so the keys
  // are zero; parts 1 to 7 are zero bytes, each with its own checksum.
  const uint8_t* dir = d + 4160 + kPartKeysAt;
  EXPECT_EQ(std::vector<uint8_t>(dir, dir + 112), std::vector<uint8_t>(112));
  const uint8_t* sums = d + 4160 + kPartChecksumsAt;
  EXPECT_EQ(Get64(sums), 0x1f59277fd6c6e928ull);
  EXPECT_EQ(Get64(sums + 8), 0xcb7dae3dab7fd306ull);
  EXPECT_EQ(Get64(sums + 56), 0xae1626dfc5abbb17ull);
  EXPECT_EQ(Get64(d + 4160 + kPartDirectoryChecksumAt), 0x5157df9f48d74458ull);
  EXPECT_EQ(Get64(d + 4160 + kPartDirectoryChecksumAt + 8), 0u);
}

TEST_F(TableTest, CrashBeforeFinishLeavesOnlyATemporaryFile) {
  auto entries = MakeEntries(0, 500, 10, 6);
  std::sort(entries.begin(), entries.end(), EntryLess);
  TableInfo info = InfoOf(11, entries, 0, 500);
  auto w = TableWriter::Create(&fs_, "/idx", info);
  ASSERT_TRUE(w.ok());
  for (const Entry& e : entries) ASSERT_TRUE((*w)->Add(e).ok());
  fs_.SimulateCrash();
  EXPECT_FALSE(fs_.Exists("/idx/" + TableFileName(11)));
}

}  // namespace
}  // namespace cairn::index
