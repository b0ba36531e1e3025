// Copyright (c) Cairn authors.
//
// Fuzzes the decoders of the persistent index's files (index/table.h,
// index/manifest.h) and the tools' field-by-field walk of them
// (inspect/index_files.h), on the in-memory file system. Input: a mode byte,
// then the payload.
//   mode % 3 == 0: the payload is a manifest. Bit 4: its count is set to
//     what the size holds and its checksum recomputed, so the record
//     checks behind the checksum are reached.
//   mode % 3 == 1: the payload is a table file. Bit 4: the header checksum
//     is recomputed; bit 5: also the section fields (to the layout the
//     counts imply, computed modulo 2^64 as a writer would) and the fence,
//     anchor and block checksums, so hostile counts, fences and entries
//     reach the lookups.
//   mode % 3 == 2: a valid table is written with index::TableWriter from
//     entries the payload describes (few stream hashes, so streams share
//     blocks and runs straddle block boundaries), then damaged by (offset,
//     xor) pairs from the rest of the payload. Then the damaged table is
//     opened again with a block source (Table::set_block_source) that
//     gives the entries written, and with one that alters one of them.
// Beyond "no crash": a decoded manifest re-encodes to the same bytes; the
// tools' walk accepts every table Table::Open accepts; on a table that
// verifies, lookups return exactly the entries written, in order; with the
// truthful block source every lookup of a damaged table that opens returns
// exactly the entries written, and with the altering one each returns
// them or fails with Corruption.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "index/format.h"
#include "index/manifest.h"
#include "index/table.h"
#include "inspect/index_files.h"
#include "testing/memory_file_system.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using cairn::index::Entry;
using cairn::index::Get32;
using cairn::index::Get64;
using cairn::index::Put32;
using cairn::index::Put64;
using cairn::index::Table;

constexpr uint64_t kStore = 0x0123456789abcdefull;
constexpr uint64_t kNumber = 1;
constexpr char kDir[] = "/i";
constexpr char kPath[] = "/i/000000000001.idx";
// "CAIRNIXT", "CAIRNIMF" (docs/format.md).
constexpr uint64_t kTableHeaderSeed = 0x5458494e52494143ull;
constexpr uint64_t kManifestSeed = 0x464d494e52494143ull;

void FuzzManifest(std::vector<uint8_t> bytes, bool reseal) {
  if (reseal && bytes.size() >= 64) {
    Put32(bytes.data() + 48, static_cast<uint32_t>((bytes.size() - 64) / 40));
    bytes.resize(64 + (bytes.size() - 64) / 40 * 40);
    Put64(bytes.data() + bytes.size() - 8,
          cairn::index::IndexChecksum(bytes.data(), bytes.size() - 8,
                                      kManifestSeed));
  }
  cairn::index::Manifest m;
  cairn::Status s =
      cairn::index::DecodeManifest(bytes.data(), bytes.size(), "fuzz", &m);
  cairn::inspect::RawManifest raw =
      cairn::inspect::DecodeRawManifest(bytes.data(), bytes.size(), "fuzz");
  FUZZ_CHECK(raw.status.ok() == s.ok());
  if (!s.ok()) return;
  FUZZ_CHECK(raw.fields == m);
  const std::string again = cairn::index::EncodeManifest(m);
  FUZZ_CHECK(again.size() == bytes.size());
  FUZZ_CHECK(std::memcmp(again.data(), bytes.data(), bytes.size()) == 0);
}

// Rewrites what a writer computes, so that hostile counts get past the
// checksums. Arithmetic modulo 2^64, as a writer (and a forger) would.
void Reseal(std::vector<uint8_t>* file, bool sections) {
  uint8_t* d = file->data();
  // Version 3 has a filter per block and checksums [0, 152); version 2
  // checksums [0, 144); anything else is sealed as version 1.
  const uint32_t version = Get32(d + 8);
  const bool filters = version == 3;
  if (sections) {
    cairn::index::TableInfo info;
    info.anchor_stride = Get32(d + 36);
    info.entry_count = Get64(d + 40);
    info.first_position = Get64(d + 48);
    info.end_position = Get64(d + 56);
    const uint64_t blocks = info.block_count();
    const uint64_t anchors_offset = 4096 + blocks * 24;
    const uint64_t anchors_end = anchors_offset + info.anchor_count() * 4;
    const uint64_t filters_offset = filters ? (anchors_end + 63) / 64 * 64 : 0;
    const uint64_t entries_offset =
        ((filters ? filters_offset + blocks * 128 : anchors_end) + 4095) /
        4096 * 4096;
    if (filters) Put64(d + 144, filters_offset);
    Put64(d + 80, 4096);
    Put64(d + 88, anchors_offset);
    Put64(d + 96, entries_offset);
    Put64(d + 104, entries_offset + blocks * 4096);
    const uint64_t seed =
        cairn::inspect::IndexTableSeed(Get64(d + 16), Get64(d + 24));
    // Checksums only of what lies inside the file.
    const size_t size = file->size();
    if (blocks <= (size - 4096) / 24) {
      for (uint64_t i = 0; i < blocks; ++i) {
        const uint64_t at = entries_offset + i * 4096;
        if (at < entries_offset || at > size || size - at < 4096) break;
        Put64(d + 4096 + i * 24 + 16,
              cairn::index::IndexChecksum(
                  d + at, 4096, cairn::inspect::IndexBlockSeed(seed, i)));
      }
      for (uint64_t i = 0; filters && i < blocks; ++i) {
        const uint64_t at = filters_offset + i * 128;
        if (at < filters_offset || at > size || size - at < 128) break;
        Put64(d + at + 120,
              cairn::index::IndexChecksum(
                  d + at, 120, cairn::inspect::IndexFilterSeed(seed, i)));
      }
      Put64(d + 112, cairn::index::IndexChecksum(d + 4096, blocks * 24, seed));
    }
    if (anchors_offset <= size &&
        info.anchor_count() <= (size - anchors_offset) / 4) {
      Put64(d + 120, cairn::index::IndexChecksum(
                         d + anchors_offset, info.anchor_count() * 4, seed));
    }
  }
  const size_t fields = filters ? 152 : version == 2 ? 144 : 128;
  Put64(d + fields, cairn::index::IndexChecksum(d, fields, kTableHeaderSeed));
}

void WriteFile(cairn::io::FileSystem* fs, const std::vector<uint8_t>& bytes) {
  auto file = fs->OpenFile(kPath, cairn::io::OpenMode::kCreate);
  FUZZ_CHECK(file.ok());
  FUZZ_CHECK((*file)->Truncate(0).ok());
  FUZZ_CHECK((*file)->Write(0, bytes.data(), bytes.size()).ok());
  FUZZ_CHECK((*file)->Close().ok());
}

std::vector<uint8_t> ReadFile(cairn::io::FileSystem* fs) {
  auto file = fs->OpenFile(kPath, cairn::io::OpenMode::kReadOnly);
  FUZZ_CHECK(file.ok());
  auto size = (*file)->Size();
  FUZZ_CHECK(size.ok());
  std::vector<uint8_t> bytes(*size);
  size_t got = 0;
  FUZZ_CHECK((*file)->Read(0, bytes.data(), bytes.size(), &got).ok());
  FUZZ_CHECK(got == bytes.size());
  return bytes;
}

// Opens the table in `fs` and runs every reader over it. `written`: the
// entries a writer put there (null if unknown).
void Exercise(cairn::io::FileSystem* fs, const std::vector<Entry>* written,
              const std::vector<uint8_t>& bytes) {
  auto table = Table::Open(fs, kPath, 0, kNumber, 0);
  // The tools' walk reads the same bytes; whatever Table::Open accepts, it
  // accepts too (and it never reads outside them, damaged or not).
  bool walk_filter_bad = false;
  cairn::inspect::TableWalkResult walk = cairn::inspect::WalkTable(
      bytes.data(), bytes.size(), kPath, kNumber, kStore,
      [](const cairn::inspect::TableWalkHeader&) {}, [](uint64_t, uint32_t) {},
      [&](const cairn::inspect::TableWalkBlock& b) {
        walk_filter_bad =
            walk_filter_bad ||
            (b.has_filter &&
             (!b.filter_checksum_ok || (b.checksum_ok && !b.filter_matches))) ||
            (b.has_parts && !b.parts_ok);
      });
  if (!table.ok()) {
    FUZZ_CHECK(table.status().IsCorruption() ||
               table.status().code() == cairn::StatusCode::kNotSupported);
    return;
  }
  const Table& t = **table;
  FUZZ_CHECK(walk.header.status.ok());
  FUZZ_CHECK(walk.header.layout_ok);
  FUZZ_CHECK(walk.header.fences_ok && walk.header.anchors_ok);
  const bool verified = t.VerifyAll().ok();
  FUZZ_CHECK(!verified || walk.blocks_damaged == 0);
  // The walk's filter and part directory checks (written from the
  // specification) agree with the engine's.
  FUZZ_CHECK(!verified || !walk_filter_bad);
  // Every lookup path, on a few hashes: the fences' and the entries'.
  std::vector<Entry> all;
  Table::Cursor cursor(&t);
  for (Entry e; cursor.Next(&e);) all.push_back(e);
  FUZZ_CHECK(verified ? cursor.status().ok() : true);
  // Absent hashes too: around the written ones, and the ends.
  std::vector<uint64_t> hashes = {0, 0x8fff, 0x9005, UINT64_MAX};
  for (size_t i = 0; i < all.size(); i += 1 + all.size() / 8) {
    hashes.push_back(all[i].hash);
  }
  for (uint64_t hash : hashes) {
    std::vector<Entry> found;
    cairn::Status s = t.Scan(hash, 0, UINT64_MAX, &found);
    uint64_t newest_seen = 0;
    (void)t.ForEachNewest(hash, [&](const Entry& e) {
      FUZZ_CHECK(e.hash == hash);
      return ++newest_seen < 1000;
    });
    std::vector<Entry> partial;
    (void)t.Scan(hash, 1, 3, &partial);
    if (!verified) continue;
    FUZZ_CHECK(s.ok());
    std::vector<Entry> expected;
    for (const Entry& e : all) {
      if (e.hash == hash) expected.push_back(e);
    }
    FUZZ_CHECK(found == expected);
    for (const Entry& e : partial) {
      FUZZ_CHECK(e.hash == hash && e.revision >= 1 && e.revision <= 3);
    }
  }
  if (verified && written != nullptr) FUZZ_CHECK(all == *written);
  const cairn::index::TableInfo& info = t.info();
  const uint64_t probes[] = {0, info.first_position, info.end_position,
                             info.end_position - 1, UINT64_MAX};
  for (uint64_t p : probes) {
    auto anchor = t.Anchor(p);
    FUZZ_CHECK(!anchor || (p % info.anchor_stride == 0 &&
                           p >= info.first_position && p < info.end_position));
  }
}

// The lookups of the table in `fs` with a block source giving `written`
// (altered in one entry's offset if `lie`).
void ExerciseRepairs(cairn::io::FileSystem* fs,
                     const std::vector<Entry>& written, bool lie) {
  auto table = Table::Open(fs, kPath, 0, kNumber, 0);
  if (!table.ok()) return;
  (*table)->set_block_source([&](const Table&, cairn::index::EntryKey lo,
                                 cairn::index::EntryKey hi,
                                 std::vector<Entry>* out) {
    for (const Entry& e : written) {
      if (e.hash < lo.hash || (e.hash == lo.hash && e.revision < lo.revision) ||
          e.hash > hi.hash || (e.hash == hi.hash && e.revision > hi.revision)) {
        continue;
      }
      out->push_back(e);
      if (lie && out->size() == 1) out->back().offset ^= 1;
    }
    return cairn::Status::Ok();
  });
  const Table& t = **table;
  for (uint64_t hash :
       {uint64_t{0}, uint64_t{0x9000}, uint64_t{0x9001}, uint64_t{0x9002},
        uint64_t{0x9003}, uint64_t{0x9004}, uint64_t{UINT64_MAX}}) {
    std::vector<Entry> expected;
    for (const Entry& e : written) {
      if (e.hash == hash) expected.push_back(e);
    }
    std::vector<Entry> found;
    cairn::Status s = t.Scan(hash, 0, UINT64_MAX, &found);
    FUZZ_CHECK(s.ok() || (lie && s.IsCorruption()));
    FUZZ_CHECK(!s.ok() || found == expected);
    std::vector<Entry> newest;
    s = t.ForEachNewest(hash, [&](const Entry& e) {
      newest.push_back(e);
      return true;
    });
    std::reverse(expected.begin(), expected.end());
    FUZZ_CHECK(s.ok() || (lie && s.IsCorruption()));
    FUZZ_CHECK(!s.ok() || newest == expected);
  }
}

void FuzzWrittenTable(const uint8_t* data, size_t size) {
  if (size < 3) return;
  // Entries: one per position from `first`; each byte picks one of a few
  // stream hashes, revisions count up per hash. The bytes after them are
  // damage.
  const uint64_t first = data[0] * 37u;
  const uint32_t stride = 1 + data[1] % 70;
  const size_t n = std::min<size_t>(size - 3, data[2] * 3u);
  data += 3;
  size -= 3;
  std::map<uint64_t, uint64_t> next_revision;
  std::vector<Entry> entries;
  std::vector<uint32_t> offsets;
  for (size_t i = 0; i < n; ++i) {
    Entry e;
    e.hash = 0x9000 + data[i] % 5;
    e.revision = next_revision[e.hash]++;
    e.position = first + i;
    e.offset = static_cast<uint32_t>(4096 + 100 * i);
    e.id_tag = static_cast<uint32_t>(i * 2654435761u);
    entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(), cairn::index::EntryLess);
  auto fs = cairn::io::NewMemoryFileSystem();
  FUZZ_CHECK(fs->CreateDir(kDir).ok());
  cairn::index::TableInfo info;
  info.store_id = kStore;
  info.number = kNumber;
  info.anchor_stride = stride;
  info.entry_count = n;
  info.first_position = first;
  info.end_position = first + n;
  info.last_offset = static_cast<uint32_t>(4096 + 100 * (n == 0 ? 0 : n - 1));
  for (const Entry& e : entries) info.new_streams += e.revision == 0 ? 1 : 0;
  {
    auto writer = cairn::index::TableWriter::Create(fs.get(), kDir, info);
    FUZZ_CHECK(writer.ok());
    for (const Entry& e : entries) FUZZ_CHECK((*writer)->Add(e).ok());
    for (uint64_t i = 0; i < info.anchor_count(); ++i) {
      FUZZ_CHECK((*writer)->AddAnchor(static_cast<uint32_t>(i)).ok());
    }
    FUZZ_CHECK((*writer)->Finish().ok());
  }
  std::vector<uint8_t> bytes = ReadFile(fs.get());
  // Damage: (offset u16, xor u8) triples after the entry bytes.
  const uint8_t* damage = data + n;
  size_t left = size - n;
  bool damaged = false;
  for (; left >= 3; damage += 3, left -= 3) {
    const size_t at =
        (static_cast<size_t>(damage[0]) << 8 | damage[1]) * 7 % bytes.size();
    bytes[at] ^= damage[2];
    damaged = damaged || damage[2] != 0;
  }
  if (damaged) WriteFile(fs.get(), bytes);
  if (!damaged) {
    auto table = Table::Open(fs.get(), kPath, kStore, kNumber, stride);
    FUZZ_CHECK(table.ok());
    FUZZ_CHECK((*table)->VerifyAll().ok());
  }
  Exercise(fs.get(), &entries, bytes);
  ExerciseRepairs(fs.get(), entries, /*lie=*/false);
  ExerciseRepairs(fs.get(), entries, /*lie=*/true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  switch (mode % 3) {
    case 0:
      FuzzManifest(std::vector<uint8_t>(data, data + size), (mode & 16) != 0);
      return 0;
    case 1: {
      std::vector<uint8_t> bytes(data, data + size);
      if (bytes.size() >= 4096 && (mode & 16)) Reseal(&bytes, (mode & 32) != 0);
      auto fs = cairn::io::NewMemoryFileSystem();
      FUZZ_CHECK(fs->CreateDir(kDir).ok());
      WriteFile(fs.get(), bytes);
      Exercise(fs.get(), nullptr, bytes);
      return 0;
    }
    default:
      FuzzWrittenTable(data, size);
      return 0;
  }
}
