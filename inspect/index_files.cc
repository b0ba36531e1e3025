// Copyright (c) Cairn authors.
#include "inspect/index_files.h"

#include <xxhash.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "engine/io/file_system.h"
#include "index/format.h"
#include "inspect/segment_walk.h"
#include "segment/segment_header.h"

namespace cairn::inspect {
namespace {

using index::Get32;
using index::Get64;
using index::kEntriesPerBlock;
using index::kEntrySize;
using index::kFenceSize;
using index::kTableBlockSize;
using index::kTableHeaderSize;

// docs/format.md: "CAIRNIXT" as a little-endian u64 (the header checksum's
// seed and the third word of the table seed's input), the block seed's
// multiplier, the manifest's fixed part and its checksum seed.
constexpr uint64_t kTableHeaderSeed = 0x5458494e52494143ull;
constexpr uint64_t kBlockSeedStep = 0x9E3779B97F4A7C15ull;
// "CAIRNFLT": the filter key's seed, and XORed into a block's seed for its
// filter checksum.
constexpr uint64_t kFilterSeed = 0x544c464e52494143ull;
// "CAIRNPRT" and "CAIRNDIR": XORed into a block's seed for its part
// checksums (then plus the part's number) and its part directory checksum.
constexpr uint64_t kPartSeed = 0x5452504e52494143ull;
constexpr uint64_t kDirectorySeed = 0x5249444e52494143ull;
// The header checksum's range: [0, 128) in version 1, [0, 144) in version 2
// (which adds last_position at 136), [0, 152) in versions 3 and 4 (which
// add filters_offset at 144); the checksum follows it.
constexpr size_t kHeaderFieldsSizeV1 = 128;
constexpr size_t kHeaderFieldsSizeV2 = 144;
constexpr size_t kHeaderFieldsSizeV3 = 152;
constexpr size_t kLastPositionAt = 136;
constexpr size_t kFiltersOffsetAt = 144;
constexpr uint64_t kFilterBitBytes = 120;
constexpr uint32_t kFilterProbes = 5;
// A block's summary: the filter (120 bytes of bits, their checksum) in
// version 3; in version 4 then the part directory: the first keys (hash,
// revision) of parts 1 to 7 of 512 bytes, the checksums of parts 0 to 7,
// the directory's checksum and 8 zero bytes.
constexpr uint64_t kSummarySizeV3 = 128;
constexpr uint64_t kSummarySizeV4 = 320;
constexpr uint64_t kPartBytes = 512;
constexpr uint64_t kParts = 8;
constexpr uint64_t kPartKeysAt = 128;
constexpr uint64_t kPartChecksumsAt = 240;
constexpr uint64_t kDirectoryChecksumAt = 304;

size_t HeaderFieldsSize(uint32_t version) {
  if (version == 2) return kHeaderFieldsSizeV2;
  if (version == 3 || version == 4) return kHeaderFieldsSizeV3;
  return kHeaderFieldsSizeV1;
}

// The filter bits of a block's hashes, from docs/format.md ("Block
// filters"), written apart from index/block_filter.cc on purpose.
void AddToFilter(uint64_t hash, uint8_t* bits) {
  uint8_t le[8];
  index::Put64(le, hash);
  const uint64_t key = XXH3_64bits_withSeed(le, sizeof(le), kFilterSeed);
  const auto a = static_cast<uint32_t>(key);
  const auto b = static_cast<uint32_t>(key >> 32);
  for (uint32_t j = 0; j < kFilterProbes; ++j) {
    const uint32_t g = a + j * b;
    const uint64_t bit = (uint64_t{g} * (kFilterBitBytes * 8)) >> 32;
    bits[bit / 8] = static_cast<uint8_t>(bits[bit / 8] | (1u << (bit % 8)));
  }
}
using index::kManifestFixedSize;
constexpr size_t kManifestTableSize = index::kManifestTableRecordSize;
constexpr uint64_t kManifestSeed = 0x464d494e52494143ull;

using u128 = unsigned __int128;

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

RawTableHeader DecodeRawHeader(const uint8_t* d) {
  RawTableHeader h;
  h.magic_ok = std::memcmp(d, index::kTableMagic, 8) == 0;
  h.format_version = Get32(d + 8);
  h.header_size = Get32(d + 12);
  h.info.store_id = Get64(d + 16);
  h.info.number = Get64(d + 24);
  h.info.level = Get32(d + 32);
  h.info.anchor_stride = Get32(d + 36);
  h.info.entry_count = Get64(d + 40);
  h.info.first_position = Get64(d + 48);
  h.info.end_position = Get64(d + 56);
  h.info.last_offset = Get32(d + 64);
  h.reserved = Get32(d + 68);
  h.info.new_streams = Get64(d + 72);
  h.fences_offset = Get64(d + 80);
  h.anchors_offset = Get64(d + 88);
  h.entries_offset = Get64(d + 96);
  h.file_size = Get64(d + 104);
  h.fences_checksum = Get64(d + 112);
  h.anchors_checksum = Get64(d + 120);
  h.header_checksum = Get64(d + HeaderFieldsSize(h.format_version));
  h.info.format_version = h.format_version;
  if (h.format_version == 3 || h.format_version == 4) {
    h.filters_offset = Get64(d + kFiltersOffsetAt);
  }
  if (h.format_version >= 2 && h.format_version <= 4) {
    h.info.last_position = Get64(d + kLastPositionAt);
  } else if (h.info.end_position > h.info.first_position) {
    h.info.last_position = h.info.end_position - 1;
  }
  return h;
}

// Whether the raw section fields are the layout the raw counts imply and
// fit the file, computed without overflow (the counts are untrusted).
bool LayoutFits(const RawTableHeader& h, size_t size, uint64_t* block_count,
                uint64_t* anchor_count) {
  const index::TableInfo& info = h.info;
  // Version 2 (a scavenge removed events) has fewer entries than positions.
  if (info.anchor_stride == 0 || info.end_position < info.first_position ||
      info.entry_count > info.end_position - info.first_position) {
    return false;
  }
  const u128 blocks =
      (u128{info.entry_count} + kEntriesPerBlock - 1) / kEntriesPerBlock;
  const u128 anchors = info.anchor_count();
  const u128 anchors_offset = u128{kTableHeaderSize} + blocks * kFenceSize;
  const u128 anchors_end = anchors_offset + anchors * 4;
  // Versions 3 and 4: a summary per block from the next multiple of 64.
  const uint64_t summary_size = SummarySize(h.format_version);
  const bool filters = summary_size != 0;
  const u128 filters_offset = filters ? (anchors_end + 63) / 64 * 64 : 0;
  const u128 entries_from =
      filters ? filters_offset + blocks * summary_size : anchors_end;
  const u128 entries_offset =
      (entries_from + kTableBlockSize - 1) / kTableBlockSize * kTableBlockSize;
  const u128 file_size = entries_offset + blocks * kTableBlockSize;
  if (h.fences_offset != kTableHeaderSize ||
      h.anchors_offset != anchors_offset ||
      h.filters_offset != filters_offset ||
      h.entries_offset != entries_offset || h.file_size != file_size ||
      file_size != size) {
    return false;
  }
  *block_count = static_cast<uint64_t>(blocks);
  *anchor_count = static_cast<uint64_t>(anchors);
  return true;
}

}  // namespace

std::string Hex64(uint64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

std::string Hex32(uint32_t v) {
  char buf[16];
  int n = std::snprintf(buf, sizeof(buf), "0x%08" PRIx32, v);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

ManifestTableInfo ToTableInfo(const index::ManifestTable& t) {
  return {t.number,
          t.level,
          t.first_position,
          t.end_position,
          t.entry_count,
          t.last_offset,
          index::TableFileName(t.number)};
}

std::optional<uint64_t> StoreIdOfSegmentsIn(const std::string& dir,
                                            const std::string& except_name) {
  auto names = ListSegmentFiles(dir);
  if (!names.ok()) return std::nullopt;
  for (const SegmentName& name : *names) {
    if (name.path == io::JoinPath(dir, except_name)) continue;
    auto file = OpenSegmentFile(name.path);
    if (!file.ok()) continue;
    segment::SegmentHeader header;
    segment::ScavengedFields fields;
    if (segment::DecodeAnySegmentHeader(file->data(), file->size(), file->path,
                                        &header, &fields)
            .ok()) {
      return header.store_id;
    }
  }
  return std::nullopt;
}

std::string IndexDirOf(const std::string& store_dir) {
  return io::JoinPath(store_dir, "index");
}

IndexFileNameKind ClassifyIndexFileName(std::string_view name) {
  if (name == index::kManifestFileName) return IndexFileNameKind::kManifest;
  if (index::ParseTableFileName(name)) return IndexFileNameKind::kTable;
  if (name.ends_with(".tmp")) {
    name.remove_suffix(4);
    if (name == index::kManifestFileName || index::ParseTableFileName(name)) {
      return IndexFileNameKind::kTemporary;
    }
  }
  return IndexFileNameKind::kOther;
}

Result<IndexDirListing> ListIndexDir(const std::string& index_dir) {
  io::FileSystem* fs = io::PosixFileSystem();
  if (!fs->Exists(index_dir)) {
    return Status::NotFound("no index directory " + index_dir);
  }
  auto names = fs->ListDir(index_dir);
  if (!names.ok()) return names.status();
  IndexDirListing listing;
  for (const std::string& name : *names) {
    switch (ClassifyIndexFileName(name)) {
      case IndexFileNameKind::kManifest:
        listing.has_manifest = true;
        break;
      case IndexFileNameKind::kTable:
        listing.tables.push_back(*index::ParseTableFileName(name));
        break;
      case IndexFileNameKind::kTemporary:
        listing.temporaries.push_back(name);
        break;
      case IndexFileNameKind::kOther:
        break;
    }
  }
  std::sort(listing.tables.begin(), listing.tables.end());
  std::sort(listing.temporaries.begin(), listing.temporaries.end());
  return listing;
}

bool ManifestReplacedSince(const std::string& index_dir, uint64_t generation) {
  index::Manifest now;
  return index::ReadManifest(io::PosixFileSystem(), index_dir, &now).ok() &&
         now.generation != generation;
}

Result<std::string> ReadSmallFile(const std::string& path, uint64_t max_size) {
  io::FileSystem* fs = io::PosixFileSystem();
  auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  if (*size > max_size) {
    return Status::Corruption(path, 0,
                              "file is " + std::to_string(*size) +
                                  " bytes, more than an index manifest can be");
  }
  std::string bytes(*size, '\0');
  size_t got = 0;
  Status s = (*file)->Read(0, bytes.data(), bytes.size(), &got);
  if (!s.ok()) return s;
  bytes.resize(got);
  return bytes;
}

uint64_t IndexTableSeed(uint64_t store_id, uint64_t number) {
  uint8_t key[24];
  index::Put64(key, store_id);
  index::Put64(key + 8, number);
  index::Put64(key + 16, kTableHeaderSeed);
  return XXH3_64bits_withSeed(key, sizeof(key), 0);
}

uint64_t IndexBlockSeed(uint64_t table_seed, uint64_t block) {
  return table_seed + block * kBlockSeedStep;
}

uint64_t SummarySize(uint32_t version) {
  if (version == 3) return kSummarySizeV3;
  if (version == 4) return kSummarySizeV4;
  return 0;
}

uint64_t IndexFilterSeed(uint64_t table_seed, uint64_t block) {
  return IndexBlockSeed(table_seed, block) ^ kFilterSeed;
}

namespace {

// Whether a version-4 block's part directory verifies, names each part's
// first key (zero for parts past the block's last entry), and each part's
// checksum; and whether its last 8 bytes are zero.
bool PartsOk(const uint8_t* summary, const TableWalkBlock& b,
             uint64_t table_seed) {
  const uint64_t block_seed = IndexBlockSeed(table_seed, b.index);
  if (Get64(summary + kDirectoryChecksumAt) !=
      XXH3_64bits_withSeed(summary + kPartKeysAt,
                           kDirectoryChecksumAt - kPartKeysAt,
                           block_seed ^ kDirectorySeed)) {
    return false;
  }
  for (uint64_t p = 0; p < kParts; ++p) {
    if (Get64(summary + kPartChecksumsAt + 8 * p) !=
        XXH3_64bits_withSeed(b.data + p * kPartBytes, kPartBytes,
                             (block_seed ^ kPartSeed) + p)) {
      return false;
    }
    if (p == 0) continue;
    const uint64_t first = p * (kPartBytes / kEntrySize);
    const uint8_t* key = summary + kPartKeysAt + (p - 1) * 16;
    const uint8_t* entry = b.data + first * kEntrySize;
    const bool used = first < b.entries;
    if (Get64(key) != (used ? Get64(entry) : 0) ||
        Get64(key + 8) != (used ? Get64(entry + 8) : 0)) {
      return false;
    }
  }
  return AllZero(summary + kDirectoryChecksumAt + 8,
                 kSummarySizeV4 - kDirectoryChecksumAt - 8);
}

}  // namespace

TableWalkResult WalkTable(
    const uint8_t* data, size_t size, const std::string& path,
    std::optional<uint64_t> number, std::optional<uint64_t> store_id_hint,
    const std::function<void(const TableWalkHeader&)>& on_header,
    const std::function<void(uint64_t position, uint32_t offset)>& on_anchor,
    const std::function<void(const TableWalkBlock&)>& on_block) {
  TableWalkResult result;
  TableWalkHeader& h = result.header;
  if (size < kTableHeaderSize) {
    h.status =
        Status::Corruption(path, 0, "index table is shorter than its header");
    ++result.problems;
    on_header(h);
    return result;
  }
  h.raw = DecodeRawHeader(data);
  index::TableInfo decoded;
  h.status = index::DecodeTableHeader(data, size, path, &decoded);
  if (!h.status.ok()) ++result.problems;
  if (h.status.ok()) {
    h.number_mismatch = number && decoded.number != *number;
    h.store_mismatch = store_id_hint && decoded.store_id != *store_id_hint;
    if (h.number_mismatch) ++result.problems;
    if (h.store_mismatch) ++result.problems;
  }
  h.header_checksum_ok =
      h.raw.header_checksum ==
      XXH3_64bits_withSeed(data, HeaderFieldsSize(h.raw.format_version),
                           kTableHeaderSeed);
  h.layout_ok = LayoutFits(h.raw, size, &h.block_count, &h.anchor_count);
  if (h.status.ok() && !h.layout_ok) ++result.problems;  // size mismatch
  if (h.header_checksum_ok) {
    h.seed = IndexTableSeed(h.raw.info.store_id, h.raw.info.number);
  } else if (store_id_hint && number) {
    h.seed = IndexTableSeed(*store_id_hint, *number);
  }
  const uint8_t* fences = data + kTableHeaderSize;
  if (h.layout_ok && h.seed) {
    h.fences_ok =
        h.raw.fences_checksum ==
        XXH3_64bits_withSeed(fences, h.block_count * kFenceSize, *h.seed);
    h.anchors_ok = h.raw.anchors_checksum ==
                   XXH3_64bits_withSeed(data + h.raw.anchors_offset,
                                        h.anchor_count * 4, *h.seed);
    if (!h.fences_ok) ++result.problems;
    if (!h.anchors_ok) ++result.problems;
  }
  on_header(h);
  if (!h.layout_ok) return result;

  const uint32_t stride = h.raw.info.anchor_stride;
  uint64_t position =
      (h.raw.info.first_position + stride - 1) / stride * stride;
  for (uint64_t i = 0; i < h.anchor_count; ++i, position += stride) {
    on_anchor(position, Get32(data + h.raw.anchors_offset + 4 * i));
  }
  for (uint64_t i = 0; i < h.block_count; ++i) {
    TableWalkBlock b;
    b.index = i;
    b.offset = h.raw.entries_offset + i * kTableBlockSize;
    b.data = data + b.offset;
    b.entries = std::min<uint64_t>(
        kEntriesPerBlock, h.raw.info.entry_count - i * kEntriesPerBlock);
    const uint8_t* fence = fences + i * kFenceSize;
    b.fence_hash = Get64(fence);
    b.fence_revision = Get64(fence + 8);
    b.checksum_ok =
        h.seed &&
        Get64(fence + 16) == XXH3_64bits_withSeed(b.data, kTableBlockSize,
                                                  IndexBlockSeed(*h.seed, i));
    b.padding_zero = AllZero(b.data + b.entries * kEntrySize,
                             kTableBlockSize - b.entries * kEntrySize);
    const uint64_t summary_size = SummarySize(h.raw.format_version);
    if (h.raw.filters_offset != 0) {
      const uint8_t* filter = data + h.raw.filters_offset + i * summary_size;
      b.has_filter = true;
      b.filter_offset = h.raw.filters_offset + i * summary_size;
      b.filter_checksum_ok =
          h.seed && Get64(filter + kFilterBitBytes) ==
                        XXH3_64bits_withSeed(filter, kFilterBitBytes,
                                             IndexFilterSeed(*h.seed, i));
      uint8_t bits[kFilterBitBytes] = {};
      for (uint64_t k = 0; k < b.entries; ++k) {
        AddToFilter(Get64(b.data + k * kEntrySize), bits);
      }
      b.filter_matches = std::memcmp(bits, filter, kFilterBitBytes) == 0;
      if (summary_size == kSummarySizeV4) {
        b.has_parts = true;
        b.parts_ok = h.seed.has_value() && PartsOk(filter, b, *h.seed);
      }
    }
    if (b.checksum_ok) {
      ++result.blocks_ok;
    } else {
      ++result.blocks_damaged;
      ++result.problems;
    }
    // A filter that does not verify, or (in a verified block) does not
    // hold the block's hashes, is a problem; the block's entries are not.
    if (b.has_filter &&
        (!b.filter_checksum_ok || (b.checksum_ok && !b.filter_matches))) {
      ++result.problems;
    }
    if (b.has_parts && !b.parts_ok) ++result.problems;
    on_block(b);
  }
  return result;
}

RawManifest DecodeRawManifest(const uint8_t* data, size_t size,
                              const std::string& path) {
  RawManifest m;
  m.status = index::DecodeManifest(data, size, path, &m.fields);
  if (m.status.ok()) {
    m.magic_ok = true;
    m.version = index::kManifestFormatVersion;
    m.table_count = static_cast<uint32_t>(m.fields.tables.size());
    m.size_matches_count = true;
    m.checksum_ok = true;
    return m;
  }
  // Damaged: show whatever fields the bytes hold.
  m.fields = index::Manifest();
  if (size >= 8) m.magic_ok = std::memcmp(data, index::kManifestMagic, 8) == 0;
  if (size >= 12) m.version = Get32(data + 8);
  if (size >= 16) m.reserved1 = Get32(data + 12);
  if (size >= 24) m.fields.store_id = Get64(data + 16);
  if (size >= 32) m.fields.generation = Get64(data + 24);
  if (size >= 36) m.fields.stream_hash_id = Get32(data + 32);
  if (size >= 40) m.fields.anchor_stride = Get32(data + 36);
  if (size >= 48) m.fields.next_table_number = Get64(data + 40);
  if (size >= 52) m.table_count = Get32(data + 48);
  if (size >= 56) m.reserved2 = Get32(data + 52);
  m.size_matches_count =
      size >= kManifestFixedSize + 8 &&
      size == kManifestFixedSize + u128{m.table_count} * kManifestTableSize + 8;
  if (size >= 8) {
    m.checksum_ok = Get64(data + size - 8) ==
                    XXH3_64bits_withSeed(data, size - 8, kManifestSeed);
  }
  // The records the bytes hold, whatever the count says.
  const size_t records =
      size < kManifestFixedSize + 8
          ? 0
          : (size - kManifestFixedSize - 8) / kManifestTableSize;
  for (size_t i = 0; i < records; ++i) {
    m.fields.tables.push_back(index::DecodeManifestTable(
        data + kManifestFixedSize + i * kManifestTableSize));
  }
  return m;
}

}  // namespace cairn::inspect
