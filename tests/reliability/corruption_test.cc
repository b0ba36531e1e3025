// Copyright (c) Cairn authors.
//
// Damage to durable data, at many positions: a flipped bit, a sector that
// reads back as zeros (a lost or torn write under data that was synced), a
// sector of garbage (a misdirected write). Every store below was closed
// cleanly, so everything in it is durable, acknowledged and covered by the
// stream index. Wherever the damage falls, the store must not lose or alter
// an event silently:
//  - in a segment header: Store::Open refuses with Corruption naming the
//    segment file and an offset at or before the damage (NotSupported for a
//    format-version field that now reads as another version);
//  - in a record: the open, which verifies only what the index does not
//    cover (docs/architecture.md, "The stream index"), either refuses it the
//    same way or succeeds, and then reading the store refuses the damaged
//    record with Corruption naming the file and an offset at or before the
//    damage;
//  - anywhere, once the index is discarded (a rebuild replays the whole
//    log): the open refuses as above, except in the zeroed space after the
//    last record of the newest segment; `cairn verify` reports the same
//    file and offset;
//  - in the zeroed space after the last record of the newest segment: no
//    event is affected; open truncates it (a torn tail is indistinguishable
//    from it) and every event reads back intact;
//  - inside a durable-end mark slot of a segment header (docs/format.md):
//    no event is affected (a damaged mark is not a mark, as a torn mark
//    write is not); the store opens and every event reads back intact.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "segment/durable_mark.h"
#include "segment/segment_header.h"
#include "testing/memory_file_system.h"
#include "tests/reliability/oracle.h"
#include "tests/reliability/seeds.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"
#include "tools/cli/cli.h"

namespace cairn::reliability {
namespace {

enum class Damage { kBitFlip, kZeroSector, kGarbageSector };

const char* DamageName(Damage d) {
  switch (d) {
    case Damage::kBitFlip:
      return "bit flip";
    case Damage::kZeroSector:
      return "zeroed sector";
    case Damage::kGarbageSector:
      return "garbage sector";
  }
  return "?";
}

// Read before any thread of the test starts.
uint64_t DamageThinning() {
  return std::max<uint64_t>(1, EnvU64("CAIRN_SEGMENT_DAMAGE_THINNING", 1));
}

Options CorruptionOptions() {
  Options o;
  o.segment_size = 64 * 1024;
  o.compression_threshold = 300;  // some records compressed, some not
  return o;
}

// Fills a store through `fs` with appends over about four segments; returns
// the attempts (all acknowledged).
std::vector<Attempt> Fill(io::FileSystem* fs, const std::string& dir) {
  std::vector<Attempt> attempts;
  auto store = engine::StoreImpl::Open(fs, dir, CorruptionOptions());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return attempts;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 250; ++i) {
    Attempt a;
    a.stream = "s-" + std::to_string(rng() % 4);
    std::vector<EventData> events;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
      EventData e;
      e.id = EventId::Generate();
      e.type = "Damaged";
      // Half repetitive (LZ4 shrinks it: a compressed record), half
      // random letters (stored as is).
      e.data = std::string(100 + rng() % 900, static_cast<char>('a' + k));
      if (rng() % 2 == 0) {
        for (char& c : e.data) c = static_cast<char>('a' + rng() % 26);
      }
      e.content_type = ContentType::kBinary;
      a.ids.push_back(e.id);
      a.data.push_back(e.data);
      events.push_back(std::move(e));
    }
    auto r = (*store)->Append(a.stream, ExpectedVersion::Any(), events);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return attempts;
    a.state = Attempt::State::kAcked;
    a.first_position = r->first_position.value();
    a.first_revision = r->first_revision.value();
    attempts.push_back(std::move(a));
  }
  Status closed = (*store)->Close();
  EXPECT_TRUE(closed.ok()) << closed.ToString();
  return attempts;
}

struct SegmentFile {
  std::string path;
  uint64_t size = 0;
  uint64_t records_end = 0;  // end of the last record
  bool last = false;
};

// The segment files and where their records end (from a clean read).
std::vector<SegmentFile> Segments(io::FileSystem* fs, const std::string& dir,
                                  const std::vector<Attempt>& attempts) {
  std::vector<SegmentFile> out;
  auto names = fs->ListDir(dir);
  EXPECT_TRUE(names.ok());
  for (const std::string& name : *names) {
    if (!segment::ParseSegmentFileName(name)) continue;
    SegmentFile f;
    f.path = io::JoinPath(dir, name);
    auto file = fs->OpenFile(f.path, io::OpenMode::kReadOnly);
    f.size = *(*file)->Size();
    // Records end where the zeros up to the end of the file begin.
    std::string bytes(f.size, '\0');
    size_t got = 0;
    EXPECT_TRUE((*file)->Read(0, bytes.data(), bytes.size(), &got).ok());
    f.records_end = bytes.find_last_not_of('\0') + 1;
    out.push_back(f);
  }
  EXPECT_GE(out.size(), 3u);
  out.back().last = true;
  (void)attempts;
  return out;
}

// Applies `damage` at `offset` of `path` through `fs`; returns the bytes
// it replaced so the caller can restore them.
std::string Apply(io::FileSystem* fs, const std::string& path, uint64_t offset,
                  Damage damage, std::mt19937_64* rng, uint64_t* at,
                  uint64_t* last_at = nullptr) {
  auto file = fs->OpenFile(path, io::OpenMode::kReadWrite);
  EXPECT_TRUE(file.ok());
  uint64_t begin = offset;
  size_t size = 1;
  if (damage != Damage::kBitFlip) {
    begin = offset / 512 * 512;
    size = 512;
  }
  std::string old(size, '\0');
  size_t got = 0;
  EXPECT_TRUE((*file)->Read(begin, old.data(), size, &got).ok());
  std::string bytes = old;
  switch (damage) {
    case Damage::kBitFlip:
      bytes[0] = static_cast<char>(bytes[0] ^ (1 << ((*rng)() % 8)));
      break;
    case Damage::kZeroSector:
      bytes.assign(size, '\0');
      break;
    case Damage::kGarbageSector:
      for (char& c : bytes) c = static_cast<char>((*rng)());
      break;
  }
  *at = begin;
  // The first byte that really changed is where damage starts.
  for (size_t i = 0; i < size; ++i) {
    if (bytes[i] != old[i]) {
      *at = begin + i;
      break;
    }
  }
  if (last_at != nullptr) {
    *last_at = *at;
    for (size_t i = size; i-- > 0;) {
      if (bytes[i] != old[i]) {
        *last_at = begin + i;
        break;
      }
    }
  }
  EXPECT_TRUE((*file)->Write(begin, bytes.data(), size).ok());
  return old;
}

void Restore(io::FileSystem* fs, const std::string& path, uint64_t offset,
             Damage damage, const std::string& old) {
  auto file = fs->OpenFile(path, io::OpenMode::kReadWrite);
  const uint64_t begin =
      damage == Damage::kBitFlip ? offset : offset / 512 * 512;
  EXPECT_TRUE((*file)->Write(begin, old.data(), old.size()).ok());
}

// Whether a refusal names the damaged file and a place at or before the
// damage; returns a description of the problem, or "".
std::string CheckRefusal(const Status& s, const SegmentFile& seg, uint64_t at) {
  if (s.code() == StatusCode::kNotSupported && at >= 8 && at < 12) {
    return "";  // version field
  }
  if (!s.IsCorruption()) return "not Corruption: " + s.ToString();
  const auto* where = s.corruption();
  if (where == nullptr) return "Corruption without a place: " + s.ToString();
  if (where->file != seg.path) return "names the wrong file: " + s.ToString();
  if (where->offset > at) {
    return "names an offset after the damage: " + s.ToString();
  }
  return "";
}

// Reads every event: in global order, and each stream by revision.
Status ReadEverything(Store* store, const std::vector<Attempt>& attempts) {
  auto all = store->VisitAll(ReadAllOptions{},
                             [](const RecordedEventView&) { return true; });
  if (!all.ok()) return all.status();
  for (const Attempt& a : attempts) {
    auto events = store->ReadStream(a.stream, ReadStreamOptions{});
    if (!events.ok()) return events.status();
  }
  return Status::Ok();
}

// Whether the changed bytes [at, last_at] all lie in one mark slot.
bool InOneMarkSlot(uint64_t at, uint64_t last_at) {
  for (const uint32_t slot : segment::kDurableMarkOffsets) {
    if (at >= slot && last_at < slot + segment::kDurableMarkSize) return true;
  }
  return false;
}

// Checks what opening the damaged store must do (`harmless`: open and read
// everything intact); returns a description of the problem, or "" when the
// store behaved. Leaves the index rebuilt.
std::string CheckOpen(io::FileSystem* fs, const std::string& dir,
                      const std::vector<Attempt>& attempts,
                      const SegmentFile& seg, uint64_t at, bool harmless) {
  if (harmless) {
    auto store = engine::StoreImpl::Open(fs, dir, CorruptionOptions());
    if (!store.ok()) return "refused to open: " + store.status().ToString();
    OracleReport report = CheckOracle(store->get(), attempts);
    if (!report.ok()) return report.error;
    return "";
  }
  {
    auto store = engine::StoreImpl::Open(fs, dir, CorruptionOptions());
    if (!store.ok()) {
      std::string problem = CheckRefusal(store.status(), seg, at);
      if (!problem.empty()) return problem;
    } else {
      Status read = ReadEverything(store->get(), attempts);
      // Bytes after the last record of a sealed segment belong to no event.
      if (read.ok() && at < seg.records_end) {
        return "read damaged data without an error";
      }
      if (!read.ok()) {
        std::string problem = CheckRefusal(read, seg, at);
        if (!problem.empty()) return "reading: " + problem;
      }
    }
  }
  // A full replay (what an open does without an index) refuses it.
  Options rebuild = CorruptionOptions();
  rebuild.rebuild_index = true;
  auto store = engine::StoreImpl::Open(fs, dir, rebuild);
  if (store.ok()) return "a full replay opened over damage to durable data";
  std::string problem = CheckRefusal(store.status(), seg, at);
  return problem.empty() ? "" : "replaying: " + problem;
}

// After a refused rebuild the index is empty; rebuilding it on the
// restored store keeps the next case's open as cheap as a real one.
void RebuildIndex(io::FileSystem* fs, const std::string& dir) {
  auto store = engine::StoreImpl::Open(fs, dir, CorruptionOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CAIRN_ASSERT_OK((*store)->Close());
}

TEST(CorruptionTest, DamageAnywhereInSegmentsIsDetected) {
  io::MemoryFileSystem fs;
  const std::string dir = "/store";
  const std::vector<Attempt> attempts = Fill(&fs, dir);
  const std::vector<SegmentFile> segments = Segments(&fs, dir, attempts);
  std::mt19937_64 rng(11);
  uint64_t positions = 0;
  uint64_t refused = 0;
  uint64_t harmless = 0;
  int failures = 0;
  for (Damage damage :
       {Damage::kBitFlip, Damage::kZeroSector, Damage::kGarbageSector}) {
    for (const SegmentFile& seg : segments) {
      // Bit flips every ~97 bytes (and all of the header's fields);
      // sectors all of them. CAIRN_SEGMENT_DAMAGE_THINNING=k keeps every
      // k-th of them (not the header's): the sanitizer build runs a
      // quarter, the release build all (tools/run-tests).
      const uint64_t step =
          (damage == Damage::kBitFlip ? 97 : 512) * DamageThinning();
      std::vector<uint64_t> offsets;
      if (damage == Damage::kBitFlip) {
        for (uint64_t o = 0; o < 64; ++o) offsets.push_back(o);
      }
      for (uint64_t o = damage == Damage::kBitFlip ? 64 : 0; o < seg.size;
           o += step) {
        offsets.push_back(o + (damage == Damage::kBitFlip ? rng() % step : 0));
      }
      for (uint64_t offset : offsets) {
        if (offset >= seg.size) continue;
        uint64_t at = 0;
        uint64_t last_at = 0;
        std::string old =
            Apply(&fs, seg.path, offset, damage, &rng, &at, &last_at);
        const bool changed = damage != Damage::kZeroSector ||
                             old.find_first_not_of('\0') != std::string::npos;
        const bool affects_no_event = !changed || InOneMarkSlot(at, last_at) ||
                                      (seg.last && at >= seg.records_end);
        std::string problem =
            CheckOpen(&fs, dir, attempts, seg, at, affects_no_event);
        ++positions;
        ++(affects_no_event ? harmless : refused);
        Restore(&fs, seg.path, offset, damage, old);
        RebuildIndex(&fs, dir);
        if (!problem.empty() && ++failures <= 10) {
          ADD_FAILURE() << DamageName(damage) << " at " << seg.path << ":" << at
                        << " (records end at " << seg.records_end
                        << "): " << problem;
        }
      }
    }
  }
  // The undamaged store still opens and holds everything.
  auto store = engine::StoreImpl::Open(&fs, dir, CorruptionOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  OracleReport report = CheckOracle(store->get(), attempts);
  EXPECT_TRUE(report.ok()) << report.error;
  std::cout << "corruption: " << positions << " damaged positions, " << refused
            << " refused with the right file and offset, " << harmless
            << " harmless (unused space of the newest segment, mark slots)"
            << std::endl;
  EXPECT_EQ(failures, 0);
}

// `cairn verify` on the real file system names the damaged segment and an
// offset at or before the damage.
TEST(CorruptionTest, VerifyNamesSegmentAndOffset) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  const std::vector<Attempt> attempts = Fill(io::PosixFileSystem(), dir);
  const std::vector<SegmentFile> segments =
      Segments(io::PosixFileSystem(), dir, attempts);
  std::mt19937_64 rng(12);
  int checked = 0;
  for (int i = 0; i < 40; ++i) {
    const SegmentFile& seg = segments[rng() % segments.size()];
    // Damage below the end of the records (the interesting case).
    const uint64_t offset = 4096 + rng() % (seg.records_end - 4096);
    uint64_t at = 0;
    std::string old = Apply(io::PosixFileSystem(), seg.path, offset,
                            Damage::kBitFlip, &rng, &at);
    const char* argv[] = {"cairn", "verify", dir.c_str()};
    std::istringstream in;
    std::ostringstream out;
    std::ostringstream err;
    const int code = tools::RunCli(3, argv, in, out, err);
    EXPECT_NE(code, 0) << out.str();
    // The first problem line: "<file>:<offset>: <message>".
    const std::string text = out.str();
    const size_t line = text.find(seg.path + ":");
    ASSERT_NE(line, std::string::npos)
        << "bit flip at " << seg.path << ":" << at << "\n"
        << text << err.str();
    const uint64_t reported =
        std::stoull(text.substr(line + seg.path.size() + 1));
    EXPECT_LE(reported, at) << text;
    Options rebuild = CorruptionOptions();
    rebuild.rebuild_index = true;
    auto store = Store::Open(dir, rebuild);
    EXPECT_TRUE(store.status().IsCorruption()) << store.status().ToString();
    Restore(io::PosixFileSystem(), seg.path, offset, Damage::kBitFlip, old);
    RebuildIndex(io::PosixFileSystem(), dir);
    ++checked;
  }
  EXPECT_EQ(checked, 40);
}

}  // namespace
}  // namespace cairn::reliability
