// Copyright (c) Cairn authors.
#include "index/table.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace cairn::index {
namespace {

// "CAIRNIXT" read as a little-endian u64: the header checksum's seed. The
// header carries the table's identity, so it cannot be seeded with it.
constexpr uint64_t kHeaderSeed = 0x5458494e52494143ull;
// "CAIRNFLT" read as a little-endian u64: mixed into the filter checksums'
// seeds, so a filter never verifies as a block or a block as a filter.
constexpr uint64_t kFilterSeed = 0x544c464e52494143ull;
// "CAIRNPRT" and "CAIRNDIR": mixed into the seeds of the part checksums and
// of the part directory's checksum (version 4) the same way.
constexpr uint64_t kPartSeed = 0x5452504e52494143ull;
constexpr uint64_t kDirectorySeed = 0x5249444e52494143ull;
// The header checksum covers [0, 128) in version 1; version 2 adds
// last_position at 136 and moves the checksum after it; version 3 adds
// filters_offset at 144 and moves it again; version 4 keeps that header.
constexpr size_t kHeaderFieldsSizeV1 = 128;
constexpr size_t kHeaderFieldsSizeV2 = 144;
constexpr size_t kHeaderFieldsSizeV3 = 152;
constexpr size_t kLastPositionAt = 136;
constexpr size_t kFiltersOffsetAt = 144;
// Summaries start on a cache line, so a filter is two lines and a part
// directory three.
constexpr uint64_t kFilterAlignment = 64;

size_t HeaderFieldsSize(uint32_t version) {
  switch (version) {
    case kTableFormatVersion:
      return kHeaderFieldsSizeV1;
    case kTableGapsFormatVersion:
      return kHeaderFieldsSizeV2;
    default:
      return kHeaderFieldsSizeV3;
  }
}

// Buffers are written once they reach this size (fewer, larger writes).
constexpr size_t kWriteChunk = 256 << 10;

uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

// Every table's sections are seeded with its store and number, so a block
// copied from another table, or a table renamed to another number, does not
// verify.
uint64_t TableSeed(uint64_t store_id, uint64_t number) {
  uint64_t key[3] = {store_id, number, kHeaderSeed};
  return XXH3_64bits(key, sizeof(key));
}

uint64_t BlockSeed(uint64_t table_seed, uint64_t block) {
  return table_seed + block * 0x9E3779B97F4A7C15ull;
}

uint64_t FilterChecksum(const uint8_t* filter, uint64_t table_seed,
                        uint64_t block) {
  return IndexChecksum(filter, kBlockFilterBitBytes,
                       BlockSeed(table_seed, block) ^ kFilterSeed);
}

uint64_t PartChecksum(const uint8_t* part, uint64_t table_seed, uint64_t block,
                      uint64_t p) {
  return IndexChecksum(part, kTablePartSize,
                       (BlockSeed(table_seed, block) ^ kPartSeed) + p);
}

// Over the part keys and checksums, [kPartKeysAt, kPartDirectoryChecksumAt)
// of the summary.
uint64_t DirectoryChecksum(const uint8_t* summary, uint64_t table_seed,
                           uint64_t block) {
  return IndexChecksum(summary + kPartKeysAt,
                       kPartDirectoryChecksumAt - kPartKeysAt,
                       BlockSeed(table_seed, block) ^ kDirectorySeed);
}

// Fills in the checksums of a block's summary (its filter bits and, with
// parts, its part keys already in place): the filter's checksum, from
// version 4 every part's checksum (those past the last entry, zero bytes,
// too: a verifier then checks every byte of the block the same way) and
// the directory's.
void SealSummary(const uint8_t* block, uint8_t* summary, uint64_t table_seed,
                 uint64_t index, bool parts) {
  Put64(summary + kBlockFilterBitBytes,
        FilterChecksum(summary, table_seed, index));
  if (!parts) return;
  for (uint32_t p = 0; p < kPartsPerBlock; ++p) {
    Put64(summary + kPartChecksumsAt + 8 * p,
          PartChecksum(block + p * kTablePartSize, table_seed, index, p));
  }
  Put64(summary + kPartDirectoryChecksumAt,
        DirectoryChecksum(summary, table_seed, index));
}

struct Layout {
  uint64_t fences_offset;
  uint64_t anchors_offset;
  uint64_t filters_offset;  // 0 before version 3
  uint64_t entries_offset;
  uint64_t file_size;
};

Layout LayoutOf(const TableInfo& info) {
  Layout l;
  l.fences_offset = kTableHeaderSize;
  l.anchors_offset = l.fences_offset + info.block_count() * kFenceSize;
  const uint64_t anchors_end = l.anchors_offset + info.anchor_count() * 4;
  uint64_t entries_from = anchors_end;
  l.filters_offset = 0;
  if (info.has_filters()) {
    l.filters_offset = RoundUp(anchors_end, kFilterAlignment);
    entries_from = l.filters_offset + info.block_count() * info.summary_size();
  }
  l.entries_offset = RoundUp(entries_from, kTableBlockSize);
  l.file_size = l.entries_offset + info.block_count() * kTableBlockSize;
  return l;
}

void EncodeHeader(const TableInfo& info, const Layout& l,
                  uint64_t fences_checksum, uint64_t anchors_checksum,
                  uint8_t* out) {
  std::memset(out, 0, kTableHeaderSize);
  std::memcpy(out, kTableMagic, 8);
  const uint32_t version = info.format_version;
  Put32(out + 8, version);
  Put32(out + 12, kTableHeaderSize);
  Put64(out + 16, info.store_id);
  Put64(out + 24, info.number);
  Put32(out + 32, info.level);
  Put32(out + 36, info.anchor_stride);
  Put64(out + 40, info.entry_count);
  Put64(out + 48, info.first_position);
  Put64(out + 56, info.end_position);
  Put32(out + 64, info.last_offset);
  Put64(out + 72, info.new_streams);
  Put64(out + 80, l.fences_offset);
  Put64(out + 88, l.anchors_offset);
  Put64(out + 96, l.entries_offset);
  Put64(out + 104, l.file_size);
  Put64(out + 112, fences_checksum);
  Put64(out + 120, anchors_checksum);
  if (version != kTableFormatVersion) {
    Put64(out + kLastPositionAt, info.last_position);
  }
  if (version >= kTableFiltersFormatVersion) {
    Put64(out + kFiltersOffsetAt, l.filters_offset);
  }
  const size_t fields = HeaderFieldsSize(version);
  Put64(out + fields, IndexChecksum(out, fields, kHeaderSeed));
}

}  // namespace

std::string TableFileName(uint64_t number) {
  char name[32];
  (void)std::snprintf(name, sizeof(name), "%012llu.idx",
                      static_cast<unsigned long long>(number));
  return name;
}

std::optional<uint64_t> ParseTableFileName(std::string_view name) {
  if (name.size() != 16 || !name.ends_with(".idx")) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 0; i < 12; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return n;
}

uint64_t TableInfo::anchor_count() const {
  if (anchor_stride == 0 || end_position <= first_position) return 0;
  auto ceil_div = [&](uint64_t v) {
    return v / anchor_stride + (v % anchor_stride != 0 ? 1 : 0);
  };
  return ceil_div(end_position) - ceil_div(first_position);
}

// --- TableWriter ---

struct TableWriter::Hashing {
  Hashing() : fences(XXH3_createState()), anchors(XXH3_createState()) {}
  ~Hashing() {
    XXH3_freeState(fences);
    XXH3_freeState(anchors);
  }
  XXH3_state_t* fences;
  XXH3_state_t* anchors;
};

TableWriter::TableWriter(io::FileSystem* fs, std::string dir,
                         const TableInfo& info)
    : fs_(fs), dir_(std::move(dir)), info_(info) {}

Result<std::unique_ptr<TableWriter>> TableWriter::Create(
    io::FileSystem* fs, const std::string& dir, const TableInfo& info) {
  if (info.anchor_stride == 0) {
    return Status::InvalidArgument("index table anchor stride is 0");
  }
  if (info.end_position < info.first_position ||
      info.entry_count > info.end_position - info.first_position) {
    return Status::InvalidArgument(
        "index table has more entries than positions");
  }
  TableInfo fixed = info;
  if (fixed.format_version != kTableFiltersFormatVersion) {
    fixed.format_version = kTablePartsFormatVersion;
  }
  if (!info.has_gaps()) {
    fixed.last_position = info.entry_count == 0 ? 0 : info.end_position - 1;
  } else if (info.entry_count == 0
                 ? info.last_position != 0 || info.last_offset != 0
                 : info.last_position < info.first_position ||
                       info.last_position >= info.end_position) {
    return Status::InvalidArgument(
        "index table last position is outside its range");
  }
  std::unique_ptr<TableWriter> w(new TableWriter(fs, dir, fixed));
  w->path_ = io::JoinPath(dir, TableFileName(info.number));
  w->temp_path_ = w->path_ + ".tmp";
  const Layout l = LayoutOf(fixed);
  w->fences_offset_ = l.fences_offset;
  w->anchors_offset_ = l.anchors_offset;
  w->filters_offset_ = l.filters_offset;
  w->entries_offset_ = l.entries_offset;
  w->file_size_ = l.file_size;
  w->fence_write_at_ = l.fences_offset;
  w->summary_write_at_ = l.filters_offset;
  w->anchor_write_at_ = l.anchors_offset;
  w->entry_write_at_ = l.entries_offset;
  w->seed_ = TableSeed(info.store_id, info.number);
  w->hashing_ = std::make_unique<Hashing>();
  XXH3_64bits_reset_withSeed(w->hashing_->fences, w->seed_);
  XXH3_64bits_reset_withSeed(w->hashing_->anchors, w->seed_);
  // A leftover from a crashed attempt with the same number is garbage.
  if (fs->Exists(w->temp_path_)) (void)fs->RemoveFile(w->temp_path_);
  auto file = fs->OpenFile(w->temp_path_, io::OpenMode::kCreateExclusive);
  if (!file.ok()) return file.status();
  w->file_ = std::move(file.value());
  // Reserving the size up front turns a full disk into one early error
  // instead of a failure halfway through a large merge.
  Status s = w->file_->Allocate(l.file_size);
  if (!s.ok()) return s;
  return w;
}

TableWriter::~TableWriter() {
  if (!finished_) {
    if (file_) (void)file_->Close();
    (void)fs_->RemoveFile(temp_path_);
  }
}

Status TableWriter::Add(const Entry& entry) {
  if (entries_added_ > 0 && !EntryLess(last_, entry)) {
    return Status::InvalidArgument("index entries added out of order");
  }
  if (entries_added_ >= info_.entry_count) {
    return Status::InvalidArgument("more index entries than declared");
  }
  last_ = entry;
  const uint64_t in_block = entries_added_ % kEntriesPerBlock;
  if (in_block == 0) {
    // A new block: its fence records its first key (the checksum comes
    // when the block is complete).
    entry_buffer_.resize(entry_buffer_.size() + kTableBlockSize, '\0');
  }
  uint8_t* block = reinterpret_cast<uint8_t*>(entry_buffer_.data()) +
                   entry_buffer_.size() - kTableBlockSize;
  EncodeEntry(entry, block + in_block * kEntrySize);
  ++entries_added_;
  if (in_block == 0) {
    uint8_t fence[kFenceSize];
    Put64(fence, entry.hash);
    Put64(fence + 8, entry.revision);
    Put64(fence + 16, 0);  // checksum, filled in by FinishBlock
    fence_buffer_.append(reinterpret_cast<const char*>(fence), kFenceSize);
    summary_buffer_.resize(summary_buffer_.size() + info_.summary_size(), '\0');
  }
  uint8_t* summary = reinterpret_cast<uint8_t*>(summary_buffer_.data()) +
                     summary_buffer_.size() - info_.summary_size();
  BlockFilter::Add(entry.hash, summary);
  if (info_.has_parts() && in_block % kEntriesPerPart == 0 && in_block != 0) {
    uint8_t* key =
        summary + kPartKeysAt + (in_block / kEntriesPerPart - 1) * 16;
    Put64(key, entry.hash);
    Put64(key + 8, entry.revision);
  }
  const bool block_full = in_block + 1 == kEntriesPerBlock;
  if (block_full || entries_added_ == info_.entry_count) {
    FinishBlock();
    if (entry_buffer_.size() >= kWriteChunk) {
      Status s = FlushEntries();
      if (s.ok()) s = FlushFencesAndSummaries();
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

void TableWriter::FinishBlock() {
  const uint64_t index = (entries_added_ - 1) / kEntriesPerBlock;
  const uint8_t* block =
      reinterpret_cast<const uint8_t*>(entry_buffer_.data()) +
      entry_buffer_.size() - kTableBlockSize;
  uint8_t* summary = reinterpret_cast<uint8_t*>(summary_buffer_.data()) +
                     summary_buffer_.size() - info_.summary_size();
  Put64(reinterpret_cast<uint8_t*>(fence_buffer_.data()) +
            fence_buffer_.size() - kFenceSize + 16,
        IndexChecksum(block, kTableBlockSize, BlockSeed(seed_, index)));
  SealSummary(block, summary, seed_, index, info_.has_parts());
}

Status TableWriter::AddAnchor(uint32_t offset) {
  if (anchors_added_ >= info_.anchor_count()) {
    return Status::InvalidArgument("more index anchors than declared");
  }
  uint8_t bytes[4];
  Put32(bytes, offset);
  anchor_buffer_.append(reinterpret_cast<const char*>(bytes), 4);
  ++anchors_added_;
  if (anchor_buffer_.size() >= kWriteChunk) return FlushAnchors();
  return Status::Ok();
}

Status TableWriter::FlushEntries() {
  if (entry_buffer_.empty()) return Status::Ok();
  Status s =
      file_->Write(entry_write_at_, entry_buffer_.data(), entry_buffer_.size());
  entry_write_at_ += entry_buffer_.size();
  entry_buffer_.clear();
  return s;
}

Status TableWriter::FlushFencesAndSummaries() {
  // Only fences and summaries of complete blocks (checksums known) are
  // final; the last block's, if incomplete, stay for the next call.
  size_t complete = fence_buffer_.size() / kFenceSize;
  if (entries_added_ % kEntriesPerBlock != 0 &&
      entries_added_ != info_.entry_count) {
    complete -= 1;
  }
  if (complete == 0) return Status::Ok();
  const size_t fence_bytes = complete * kFenceSize;
  XXH3_64bits_update(hashing_->fences, fence_buffer_.data(), fence_bytes);
  Status s = file_->Write(fence_write_at_, fence_buffer_.data(), fence_bytes);
  fence_write_at_ += fence_bytes;
  fence_buffer_.erase(0, fence_bytes);
  const size_t summary_bytes = complete * info_.summary_size();
  if (s.ok()) {
    s = file_->Write(summary_write_at_, summary_buffer_.data(), summary_bytes);
  }
  summary_write_at_ += summary_bytes;
  summary_buffer_.erase(0, summary_bytes);
  return s;
}

Status TableWriter::FlushAnchors() {
  if (anchor_buffer_.empty()) return Status::Ok();
  XXH3_64bits_update(hashing_->anchors, anchor_buffer_.data(),
                     anchor_buffer_.size());
  Status s = file_->Write(anchor_write_at_, anchor_buffer_.data(),
                          anchor_buffer_.size());
  anchor_write_at_ += anchor_buffer_.size();
  anchor_buffer_.clear();
  return s;
}

Status TableWriter::Finish() {
  if (entries_added_ != info_.entry_count) {
    return Status::InvalidArgument(
        "index table has fewer entries than declared");
  }
  if (anchors_added_ != info_.anchor_count()) {
    return Status::InvalidArgument(
        "index table has fewer anchors than declared");
  }
  Status s = FlushEntries();
  if (s.ok()) s = FlushFencesAndSummaries();
  if (s.ok()) s = FlushAnchors();
  if (!s.ok()) return s;
  std::vector<uint8_t> header(kTableHeaderSize);
  EncodeHeader(info_,
               Layout{fences_offset_, anchors_offset_, filters_offset_,
                      entries_offset_, file_size_},
               XXH3_64bits_digest(hashing_->fences),
               XXH3_64bits_digest(hashing_->anchors), header.data());
  // The header goes last: a table is never valid before its sections are
  // written. The sync makes all of it durable before the rename names it.
  s = file_->Write(0, header.data(), header.size());
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  if (s.ok()) s = fs_->Rename(temp_path_, path_);
  if (s.ok()) s = fs_->SyncDir(dir_);
  if (!s.ok()) {
    // Whatever made it under the final name is not listed in a manifest,
    // so the next open removes it; remove both now to free the space.
    (void)fs_->RemoveFile(path_);
    return s;
  }
  finished_ = true;
  return Status::Ok();
}

// --- Table ---

Status DecodeTableHeader(const uint8_t* data, size_t size,
                         const std::string& path, TableInfo* info) {
  if (size < kTableHeaderSize) {
    return Status::Corruption(path, 0,
                              "index table is shorter than its header");
  }
  if (std::memcmp(data, kTableMagic, 8) != 0) {
    return Status::Corruption(path, 0, "not an index table (bad magic)");
  }
  uint32_t version = Get32(data + 8);
  if (version < kTableFormatVersion || version > kTablePartsFormatVersion) {
    return Status::NotSupported(path + ": index table format version " +
                                std::to_string(version) +
                                " is not supported (this build reads 1 to 4)");
  }
  info->format_version = version;
  const size_t fields = HeaderFieldsSize(version);
  if (Get64(data + fields) != IndexChecksum(data, fields, kHeaderSeed)) {
    return Status::Corruption(path, fields,
                              "index table header checksum mismatch");
  }
  if (Get32(data + 12) != kTableHeaderSize) {
    return Status::Corruption(path, 12, "index table header size is not 4096");
  }
  for (size_t i = fields + 8; i < kTableHeaderSize; ++i) {
    if (data[i] != 0) {
      return Status::Corruption(path, i,
                                "index table header padding is not zero");
    }
  }
  info->store_id = Get64(data + 16);
  info->number = Get64(data + 24);
  info->level = Get32(data + 32);
  info->anchor_stride = Get32(data + 36);
  info->entry_count = Get64(data + 40);
  info->first_position = Get64(data + 48);
  info->end_position = Get64(data + 56);
  info->last_offset = Get32(data + 64);
  info->new_streams = Get64(data + 72);
  if (Get32(data + 68) != 0) {
    return Status::Corruption(path, 68,
                              "index table header reserved field is not zero");
  }
  if (info->anchor_stride == 0 || info->end_position < info->first_position ||
      info->new_streams > info->entry_count) {
    return Status::Corruption(path, 32, "index table header is inconsistent");
  }
  // In versions 1 and 2 the version is a function of the counts: a table
  // without gaps is always version 1, so each table has exactly one valid
  // encoding. Versions 3 and 4 name their last position with or without
  // gaps.
  const uint64_t range = info->end_position - info->first_position;
  if (version == kTableFormatVersion) {
    if (info->entry_count != range) {
      return Status::Corruption(path, 40,
                                "index table entry count is not its range's "
                                "length");
    }
    info->last_position = range == 0 ? 0 : info->end_position - 1;
  } else if (version >= kTableFiltersFormatVersion &&
             info->entry_count == range) {
    if (Get64(data + kHeaderFieldsSizeV1) != 0) {
      return Status::Corruption(path, kHeaderFieldsSizeV1,
                                "index table header reserved field is not "
                                "zero");
    }
    info->last_position = Get64(data + kLastPositionAt);
    if (info->last_position != (range == 0 ? 0 : info->end_position - 1)) {
      return Status::Corruption(path, kLastPositionAt,
                                "index table last position is not the end of "
                                "its range");
    }
  } else {
    // Where version 1 has its checksum: reserved in version 2.
    if (Get64(data + kHeaderFieldsSizeV1) != 0) {
      return Status::Corruption(path, kHeaderFieldsSizeV1,
                                "index table header reserved field is not "
                                "zero");
    }
    info->last_position = Get64(data + kLastPositionAt);
    const bool last_ok =
        info->entry_count == 0
            ? info->last_position == 0 && info->last_offset == 0
            : info->last_position >= info->first_position &&
                  info->last_position < info->end_position;
    if (info->entry_count >= range) {
      return Status::Corruption(
          path, 40,
          version == kTableGapsFormatVersion
              ? "index table of format version 2 has no gap in its range"
              : "index table has more entries than its range has positions");
    }
    if (!last_ok) {
      return Status::Corruption(path, kLastPositionAt,
                                "index table last position is outside its "
                                "range");
    }
  }
  // Every entry takes 32 bytes of the file: counts beyond what the file can
  // hold are damage, and bounding them keeps the layout arithmetic below
  // from wrapping around 2^64 onto a plausible file size.
  if (info->entry_count > size / kEntrySize) {
    return Status::Corruption(path, 40,
                              "index table header counts more entries than "
                              "the file can hold");
  }
  // So are anchors (4 bytes each) beyond what the file can hold: with gaps
  // the range, and so the anchor count, is bounded by nothing else.
  if (info->anchor_count() > size / 4) {
    return Status::Corruption(path, 48,
                              "index table header counts more anchors than "
                              "the file can hold");
  }
  const Layout l = LayoutOf(*info);
  if (Get64(data + 80) != l.fences_offset ||
      Get64(data + 88) != l.anchors_offset ||
      Get64(data + 96) != l.entries_offset ||
      Get64(data + 104) != l.file_size ||
      (info->has_filters() &&
       Get64(data + kFiltersOffsetAt) != l.filters_offset)) {
    return Status::Corruption(path, 80,
                              "index table section offsets are inconsistent");
  }
  return Status::Ok();
}

Result<std::shared_ptr<Table>> Table::Open(io::FileSystem* fs,
                                           const std::string& path,
                                           uint64_t store_id, uint64_t number,
                                           uint32_t anchor_stride) {
  std::shared_ptr<Table> t(new Table());
  t->path_ = path;
  auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  t->file_ = std::move(file.value());
  auto size = t->file_->Size();
  if (!size.ok()) return size.status();
  if (*size < kTableHeaderSize) {
    return Status::Corruption(path, 0,
                              "index table is shorter than its header");
  }
  auto map = t->file_->Map(0, *size);
  if (!map.ok()) return map.status();
  t->map_ = std::move(map.value());
  const uint8_t* data = t->map_->data();
  Status s = DecodeTableHeader(data, *size, path, &t->info_);
  if (!s.ok()) return s;
  const TableInfo& info = t->info_;
  if (store_id != 0 && info.store_id != store_id) {
    return Status::Corruption(path, 16, "index table belongs to another store");
  }
  if (info.number != number) {
    return Status::Corruption(
        path, 24,
        "index table header says number " + std::to_string(info.number) +
            " but its name says " + std::to_string(number));
  }
  if (anchor_stride != 0 && info.anchor_stride != anchor_stride) {
    return Status::Corruption(path, 36,
                              "index table has another anchor stride");
  }
  const Layout l = LayoutOf(info);
  if (*size != l.file_size) {
    return Status::Corruption(path, 104,
                              "index table is " + std::to_string(*size) +
                                  " bytes, its header says " +
                                  std::to_string(l.file_size));
  }
  t->file_size_ = *size;
  t->seed_ = TableSeed(info.store_id, info.number);
  t->fences_ = data + l.fences_offset;
  t->anchors_ = data + l.anchors_offset;
  if (info.has_filters()) t->filters_ = data + l.filters_offset;
  t->entries_ = data + l.entries_offset;
  if (IndexChecksum(t->fences_, info.block_count() * kFenceSize, t->seed_) !=
      Get64(data + 112)) {
    return Status::Corruption(path, l.fences_offset,
                              "index table fence section checksum mismatch");
  }
  if (IndexChecksum(t->anchors_, info.anchor_count() * 4, t->seed_) !=
      Get64(data + 120)) {
    return Status::Corruption(path, l.anchors_offset,
                              "index table anchor section checksum mismatch");
  }
  return t;
}

Status Table::BlockCorruption(uint64_t i, const std::string& why) const {
  return Status::Corruption(
      path_, (entries_ - map_->data()) + i * kTableBlockSize,
      why + " in block " + std::to_string(i) +
          " (the index is derived data: `cairn index rebuild` recreates it)");
}

bool Table::MatchesFence(uint64_t i, const uint8_t* entries) const {
  return IndexChecksum(entries, kTableBlockSize, BlockSeed(seed_, i)) ==
         Get64(fences_ + i * kFenceSize + 16);
}

Result<const uint8_t*> Table::Block(uint64_t i) const {
  const uint8_t* block = entries_ + i * kTableBlockSize;
  if (!MatchesFence(i, block)) {
    return BlockCorruption(i, "index block checksum mismatch");
  }
  return block;
}

Result<const uint8_t*> Table::BlockOrRepaired(uint64_t i) const {
  auto block = Block(i);
  if (block.ok()) return block;
  const RepairedBlock* repaired = FindRepaired(i);
  if (repaired == nullptr) return block;
  return repaired->entries.data();
}

const Table::RepairedBlock* Table::FindRepaired(uint64_t i) const {
  std::lock_guard<std::mutex> lock(repaired_mu_);
  auto it = repaired_.find(i);
  return it == repaired_.end() ? nullptr : it->second.get();
}

Status Table::BuildSummary(uint64_t i, uint64_t n, RepairedBlock* block) const {
  const uint8_t* entries = block->entries.data();
  uint8_t* summary = block->summary.data();
  block->summary.fill(0);
  if (info_.has_filters()) {
    for (uint64_t k = 0; k < n; ++k) {
      BlockFilter::Add(Get64(entries + k * kEntrySize), summary);
    }
    for (uint64_t p = 1; info_.has_parts() && p < kPartsPerBlock; ++p) {
      if (p * kEntriesPerPart >= n) break;
      const uint8_t* first = entries + p * kEntriesPerPart * kEntrySize;
      std::memcpy(summary + kPartKeysAt + (p - 1) * 16, first, 16);
    }
    SealSummary(entries, summary, seed_, i, info_.has_parts());
  }
  return VerifySummaryOf(i, entries, summary);
}

Result<const Table::RepairedBlock*> Table::Repair(uint64_t i,
                                                  const Status& damage) const {
  if (const RepairedBlock* repaired = FindRepaired(i)) return repaired;
  std::lock_guard<std::mutex> rebuild(rebuild_mu_);
  {
    std::lock_guard<std::mutex> lock(repaired_mu_);
    auto it = repaired_.find(i);
    if (it != repaired_.end()) return it->second.get();
    // Blocks rebuilt and blocks given up on share the cap, so memory and
    // log scans stay bounded whatever the damage.
    if (unrepairable_.count(i) != 0 ||
        repaired_.size() + unrepairable_.size() >= kMaxRepairedBlocks) {
      return damage;
    }
  }
  if (damage_note_) damage_note_(damage);
  auto keep = [&](std::unique_ptr<RepairedBlock> block) {
    std::lock_guard<std::mutex> lock(repaired_mu_);
    const RepairedBlock* kept = block.get();
    repaired_.emplace(i, std::move(block));
    repaired_count_.fetch_add(1, std::memory_order_relaxed);
    return kept;
  };
  auto give_up = [&](const Status& why) {
    std::lock_guard<std::mutex> lock(repaired_mu_);
    unrepairable_.insert(i);
    return why;
  };
  const uint64_t n = EntriesIn(i);
  auto block = std::make_unique<RepairedBlock>();
  uint8_t* entries = block->entries.data();
  // Only the summary (filter, part directory) is damaged when the stored
  // entries still match the fence: the summary is made from them again,
  // without the log.
  std::memcpy(entries, entries_ + i * kTableBlockSize, kTableBlockSize);
  if (MatchesFence(i, entries)) {
    if (!BuildSummary(i, n, block.get()).ok()) return give_up(damage);
    return keep(std::move(block));
  }
  if (!source_) return damage;
  // The block holds the entries from its fence's key up to the next
  // block's first key; entries with either key itself may sit on both
  // sides of the boundary (colliding streams), so both ends are asked
  // for and the block is a run of the sorted answer.
  const EntryKey lo{FenceHash(i), FenceRevision(i)};
  const EntryKey hi = i + 1 < info_.block_count()
                          ? EntryKey{FenceHash(i + 1), FenceRevision(i + 1)}
                          : EntryKey{UINT64_MAX, UINT64_MAX};
  std::vector<Entry> found;
  // A failure to read the log is the log's to report (it names the
  // segment); it is not remembered, as the log may be readable later. A
  // refusal naming this table is.
  Status s = source_(*this, lo, hi, &found);
  if (!s.ok()) {
    if (s.IsCorruption() && s.corruption() != nullptr &&
        s.corruption()->file == path_) {
      return give_up(s);
    }
    return s;
  }
  std::sort(found.begin(), found.end(), EntryLess);
  for (size_t start = 0; start + n <= found.size(); ++start) {
    if (found[start].hash != lo.hash || found[start].revision != lo.revision) {
      continue;
    }
    block->entries.fill(0);
    for (uint64_t k = 0; k < n; ++k) {
      EncodeEntry(found[start + k], entries + k * kEntrySize);
    }
    if (!MatchesFence(i, entries)) continue;
    if (!BuildSummary(i, n, block.get()).ok()) break;
    return keep(std::move(block));
  }
  return give_up(damage);
}

Status Table::SummaryCorruption(uint64_t i, uint64_t at,
                                const std::string& why) const {
  return Status::Corruption(
      path_, (Filter(i) - map_->data()) + at,
      why + " of block " + std::to_string(i) +
          " (the index is derived data: `cairn index rebuild` recreates it)");
}

Status Table::BlockReader::Load(uint64_t block) {
  block_ = block;
  size_ = table_->EntriesIn(block);
  if (!table_->info_.has_parts()) {
    auto data = table_->Block(block);
    if (!data.ok()) return UseRepaired(data.status());
    data_ = *data;
    verified_ = ~0u;
    return Status::Ok();
  }
  data_ = table_->entries_ + block * kTableBlockSize;
  const uint8_t* summary = table_->Filter(block);
  if (DirectoryChecksum(summary, table_->seed_, block) !=
      Get64(summary + kPartDirectoryChecksumAt)) {
    return UseRepaired(table_->SummaryCorruption(
        block, kPartKeysAt, "index part directory checksum mismatch"));
  }
  directory_ = summary;
  verified_ = 0;
  return Status::Ok();
}

Status Table::BlockReader::UseRepaired(const Status& damage) {
  auto repaired = table_->Repair(block_, damage);
  if (!repaired.ok()) return repaired.status();
  data_ = (*repaired)->entries.data();
  // Verified as a whole when it was rebuilt.
  directory_ =
      table_->info_.has_parts() ? (*repaired)->summary.data() : nullptr;
  verified_ = ~0u;
  return Status::Ok();
}

Status Table::BlockReader::Seek(uint64_t block, uint64_t hash,
                                uint64_t revision, bool inclusive,
                                uint64_t* at) {
  Status s = Load(block);
  if (!s.ok()) return s;
  // Whether an entry's key is at or before the target (before it, when
  // not inclusive): the entries of a block are a run of those, then the
  // others.
  auto before = [&](uint64_t h, uint64_t r) {
    return h < hash ||
           (h == hash && (inclusive ? r <= revision : r < revision));
  };
  uint64_t lo = 0;
  uint64_t hi = size_;
  if (directory_ != nullptr) {
    // The run ends in the last part (of those holding entries) whose first
    // key is before the target, or in part 0.
    const uint64_t parts = (size_ + kEntriesPerPart - 1) / kEntriesPerPart;
    uint64_t part = 0;
    for (uint64_t p = 1; p < parts; ++p) {
      const uint8_t* key = directory_ + kPartKeysAt + (p - 1) * 16;
      if (!before(Get64(key), Get64(key + 8))) break;
      part = p;
    }
    lo = part * kEntriesPerPart;
    hi = std::min<uint64_t>(size_, lo + kEntriesPerPart);
    s = Need(lo);
    if (!s.ok()) return s;
  }
  while (lo < hi) {
    const uint64_t mid = (lo + hi) / 2;
    const uint8_t* e = data_ + mid * kEntrySize;
    if (before(Get64(e), Get64(e + 8))) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *at = lo;
  return Status::Ok();
}

Status Table::BlockReader::VerifyPart(uint64_t part) {
  // The part's eight lines are fetched at once rather than one after the
  // other as the hash reaches them.
  for (uint32_t at = 0; at < kTablePartSize; at += 64) {
    __builtin_prefetch(data_ + part * kTablePartSize + at);
  }
  if (PartChecksum(data_ + part * kTablePartSize, table_->seed_, block_,
                   part) != Get64(directory_ + kPartChecksumsAt + 8 * part)) {
    return UseRepaired(Status::Corruption(
        table_->path_, (data_ - table_->map_->data()) + part * kTablePartSize,
        "index part checksum mismatch in block " + std::to_string(block_) +
            " (the index is derived data: `cairn index rebuild` recreates "
            "it)"));
  }
  verified_ |= 1u << part;
  return Status::Ok();
}

Status Table::VerifySummary(uint64_t i, const uint8_t* block) const {
  if (filters_ == nullptr) return Status::Ok();
  return VerifySummaryOf(i, block, Filter(i));
}

Status Table::VerifySummaryOf(uint64_t i, const uint8_t* block,
                              const uint8_t* summary) const {
  if (filters_ == nullptr) return Status::Ok();
  if (FilterChecksum(summary, seed_, i) !=
      Get64(summary + kBlockFilterBitBytes)) {
    return SummaryCorruption(i, 0, "index filter checksum mismatch");
  }
  uint8_t bits[kBlockFilterBitBytes] = {};
  const uint64_t n = EntriesIn(i);
  for (uint64_t k = 0; k < n; ++k) {
    BlockFilter::Add(Get64(block + k * kEntrySize), bits);
  }
  if (std::memcmp(bits, summary, sizeof(bits)) != 0) {
    return SummaryCorruption(i, 0, "index filter does not match the hashes");
  }
  if (!info_.has_parts()) return Status::Ok();
  if (DirectoryChecksum(summary, seed_, i) !=
      Get64(summary + kPartDirectoryChecksumAt)) {
    return SummaryCorruption(i, kPartKeysAt,
                             "index part directory checksum mismatch");
  }
  for (uint64_t p = 1; p < kPartsPerBlock; ++p) {
    const uint8_t* key = summary + kPartKeysAt + (p - 1) * 16;
    const uint64_t first = p * kEntriesPerPart;
    const uint64_t hash = first < n ? Get64(block + first * kEntrySize) : 0;
    const uint64_t revision =
        first < n ? Get64(block + first * kEntrySize + 8) : 0;
    if (Get64(key) != hash || Get64(key + 8) != revision) {
      return SummaryCorruption(i, key - summary,
                               "index part directory key " + std::to_string(p) +
                                   " is not the part's first key");
    }
  }
  for (uint64_t p = 0; p < kPartsPerBlock; ++p) {
    if (PartChecksum(block + p * kTablePartSize, seed_, i, p) !=
        Get64(summary + kPartChecksumsAt + 8 * p)) {
      return SummaryCorruption(i, kPartChecksumsAt + 8 * p,
                               "index part checksum " + std::to_string(p) +
                                   " does not match the part");
    }
  }
  for (uint64_t at = kPartDirectoryChecksumAt + 8; at < kBlockSummarySize;
       ++at) {
    if (summary[at] != 0) {
      return SummaryCorruption(i, at, "nonzero index summary padding");
    }
  }
  return Status::Ok();
}

Result<bool> Table::MayContain(uint64_t i, uint64_t hash) const {
  if (filters_ == nullptr) return true;
  const uint8_t* filter = Filter(i);
  if (FilterChecksum(filter, seed_, i) !=
      Get64(filter + kBlockFilterBitBytes)) {
    auto repaired = Repair(
        i, Status::Corruption(
               path_, (filter - map_->data()),
               "index filter checksum mismatch for block " + std::to_string(i) +
                   " (the index is derived data: `cairn index rebuild` "
                   "recreates it)"));
    if (!repaired.ok()) return repaired.status();
    filter = (*repaired)->summary.data();
  }
  return BlockFilter::MayContain(hash, filter);
}

uint64_t Table::EntriesIn(uint64_t block) const {
  uint64_t start = block * kEntriesPerBlock;
  return std::min<uint64_t>(kEntriesPerBlock, info_.entry_count - start);
}

uint64_t Table::LastBlockStartingAtOrBefore(uint64_t hash,
                                            uint64_t revision) const {
  // upper_bound over the fences' first keys, then one back.
  uint64_t lo = 0;
  uint64_t hi = info_.block_count();
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    uint64_t h = FenceHash(mid);
    if (h < hash || (h == hash && FenceRevision(mid) <= revision)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? UINT64_MAX : lo - 1;
}

uint64_t Table::LastBlockStartingBefore(uint64_t hash,
                                        uint64_t revision) const {
  uint64_t lo = 0;
  uint64_t hi = info_.block_count();
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    uint64_t h = FenceHash(mid);
    if (h < hash || (h == hash && FenceRevision(mid) < revision)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? 0 : lo - 1;
}

Status Table::Scan(uint64_t hash, uint64_t lo_revision, uint64_t hi_revision,
                   std::vector<Entry>* out) const {
  if (info_.entry_count == 0 || lo_revision > hi_revision) return Status::Ok();
  const uint64_t blocks = info_.block_count();
  const uint64_t first = LastBlockStartingBefore(hash, lo_revision);
  bool found = false;  // an entry of `hash` was seen: filters are moot
  BlockReader reader(this);
  for (uint64_t block = first; block < blocks; ++block) {
    if (!found) {
      // A later block starting past the hash holds none of it.
      if (block != first && FenceHash(block) > hash) return Status::Ok();
      auto may_contain = MayContain(block, hash);
      if (!may_contain.ok()) return may_contain.status();
      if (!*may_contain) continue;
    }
    // First entry >= (hash, lo_revision).
    uint64_t lo = 0;
    Status s = reader.Seek(block, hash, lo_revision, false, &lo);
    if (!s.ok()) return s;
    for (uint64_t i = lo; i < reader.size(); ++i) {
      s = reader.Need(i);
      if (!s.ok()) return s;
      Entry e = DecodeEntry(reader.data() + i * kEntrySize);
      if (e.hash != hash || e.revision > hi_revision) return Status::Ok();
      found = true;
      out->push_back(e);
    }
  }
  return Status::Ok();
}

std::optional<uint32_t> Table::Anchor(uint64_t position) const {
  const uint32_t stride = info_.anchor_stride;
  if (position % stride != 0 || position < info_.first_position ||
      position >= info_.end_position) {
    return std::nullopt;
  }
  uint64_t first_anchor = (info_.first_position + stride - 1) / stride * stride;
  return Get32(anchors_ + (position - first_anchor) / stride * 4);
}

bool Table::Cursor::Next(Entry* entry) {
  if (!status_.ok()) return false;
  if (data_ == nullptr || in_block_ == table_->EntriesIn(block_)) {
    if (data_ != nullptr) {
      ++block_;
      in_block_ = 0;
    }
    if (block_ >= table_->info().block_count()) return false;
    auto data =
        use_repairs_ ? table_->BlockOrRepaired(block_) : table_->Block(block_);
    if (!data.ok()) {
      status_ = data.status();
      return false;
    }
    data_ = *data;
  }
  *entry = DecodeEntry(data_ + in_block_ * kEntrySize);
  ++in_block_;
  return true;
}

Status Table::VerifyAll() const {
  Cursor cursor(this, /*use_repairs=*/false);
  Entry e;
  Entry previous;
  uint64_t count = 0;
  uint64_t new_streams = 0;
  // Positions are distinct and inside the range, and there are exactly
  // end - first of them, so their sum is fixed: with the count and the
  // range it catches a duplicated or substituted position.
  unsigned __int128 sum = 0;
  const TableInfo& info = info_;
  // With gaps the sum proves nothing: the positions are collected and
  // checked for duplicates instead (memory bounded by the entry count, and
  // so by the file, where a bitmap of the range would not be), and the
  // highest one must be the header's last position.
  std::vector<uint64_t> positions;
  if (info.has_gaps()) positions.reserve(info.entry_count);
  Entry last_kept;
  // Each block's summary is checked once the cursor has read (and so
  // verified) the block.
  auto check_summary = [&](uint64_t block) -> Status {
    return VerifySummary(block, entries_ + block * kTableBlockSize);
  };
  while (cursor.Next(&e)) {
    if (count > 0 && count % kEntriesPerBlock == 0) {
      Status s = check_summary(count / kEntriesPerBlock - 1);
      if (!s.ok()) return s;
    }
    if (count > 0 && !EntryLess(previous, e)) {
      return BlockCorruption(count / kEntriesPerBlock,
                             "index entries out of order");
    }
    if (e.position < info.first_position || e.position >= info.end_position) {
      return BlockCorruption(count / kEntriesPerBlock,
                             "index entry position " +
                                 std::to_string(e.position) +
                                 " outside the table's range");
    }
    if (count % kEntriesPerBlock == 0 &&
        (FenceHash(count / kEntriesPerBlock) != e.hash ||
         FenceRevision(count / kEntriesPerBlock) != e.revision)) {
      return BlockCorruption(count / kEntriesPerBlock,
                             "fence does not match the block's first entry");
    }
    if (info.has_gaps()) {
      positions.push_back(e.position);
      if (count == 0 || e.position > last_kept.position) last_kept = e;
    }
    if (e.revision == 0) ++new_streams;
    sum += e.position;
    previous = e;
    ++count;
  }
  if (!cursor.status().ok()) return cursor.status();
  if (count > 0) {
    Status s = check_summary((count - 1) / kEntriesPerBlock);
    if (!s.ok()) return s;
  }
  std::sort(positions.begin(), positions.end());
  const auto twice = std::adjacent_find(positions.begin(), positions.end());
  if (twice != positions.end()) {
    return Status::Corruption(path_, entries_offset(),
                              "index entry position " + std::to_string(*twice) +
                                  " appears more than once");
  }
  unsigned __int128 expected = sum;
  if (info.has_gaps()) {
    if (count > 0 && (last_kept.position != info.last_position ||
                      last_kept.offset != info.last_offset)) {
      return Status::Corruption(path_, 64,
                                "index table last position and offset do not "
                                "match its last entry");
    }
  } else if (info.end_position > info.first_position) {
    unsigned __int128 n = info.end_position - info.first_position;
    expected = n * info.first_position + n * (n - 1) / 2;
  }
  if (count != info.entry_count || sum != expected ||
      new_streams != info.new_streams) {
    return Status::Corruption(path_, 40,
                              "index table entries do not match its header");
  }
  // Zero padding after the last entry (it is inside a checksummed block,
  // but a writer bug could still leave garbage there).
  if (info.entry_count % kEntriesPerBlock != 0) {
    uint64_t last = info.block_count() - 1;
    auto data = Block(last);
    if (!data.ok()) return data.status();
    for (uint64_t i = EntriesIn(last) * kEntrySize; i < kTableBlockSize; ++i) {
      if ((*data)[i] != 0) {
        return BlockCorruption(last, "nonzero padding after the last entry");
      }
    }
  }
  return Status::Ok();
}

}  // namespace cairn::index
