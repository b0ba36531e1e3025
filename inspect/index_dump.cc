// Copyright (c) Cairn authors.
//
// inspect::DumpManifest and inspect::DumpTable: an index file's structure
// with checksum status, also for damaged files, from the field-by-field
// walks of inspect/index_files.h.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cairn/inspect.h"
#include "engine/io/file_system.h"
#include "index/format.h"
#include "index/manifest.h"
#include "index/table.h"
#include "inspect/index_files.h"
#include "inspect/segment_walk.h"

namespace cairn::inspect {
namespace {

// A manifest lists a few tables; anything this large is not one.
constexpr uint64_t kMaxManifestBytes = 1 << 22;

// The store id of a table's store, for checking a table whose header is
// damaged: from the manifest beside it, else from a segment of the store
// (the index directory's parent).
std::optional<uint64_t> StoreIdNear(const std::string& table_path) {
  const std::string dir = ParentDir(table_path);
  auto bytes = ReadSmallFile(io::JoinPath(dir, index::kManifestFileName),
                             kMaxManifestBytes);
  if (bytes.ok()) {
    index::Manifest m;
    if (index::DecodeManifest(reinterpret_cast<const uint8_t*>(bytes->data()),
                              bytes->size(), dir, &m)
            .ok()) {
      return m.store_id;
    }
  }
  return StoreIdOfSegmentsIn(ParentDir(dir));
}

TableStart ToTableStart(const std::string& path, uint64_t size,
                        const TableWalkHeader& h,
                        std::optional<uint64_t> hint) {
  const RawTableHeader& r = h.raw;
  const index::TableInfo& i = r.info;
  TableStart s;
  s.path = path;
  s.file_size = size;
  s.header_status = h.status;
  s.magic_ok = r.magic_ok;
  s.format_version = r.format_version;
  s.store_id = i.store_id;
  s.number = i.number;
  s.level = i.level;
  s.anchor_stride = i.anchor_stride;
  s.entry_count = i.entry_count;
  s.first_position = i.first_position;
  s.end_position = i.end_position;
  s.last_offset = i.last_offset;
  s.last_position = i.last_position;
  s.reserved = r.reserved;
  s.new_streams = i.new_streams;
  s.fences_offset = r.fences_offset;
  s.anchors_offset = r.anchors_offset;
  s.filters_offset = r.filters_offset;
  s.summary_size = SummarySize(r.format_version);
  s.entries_offset = r.entries_offset;
  s.file_size_field = r.file_size;
  s.header_checksum_ok = h.header_checksum_ok;
  s.layout_ok = h.layout_ok;
  s.checksums_checked = h.seed.has_value();
  s.fences_ok = h.fences_ok;
  s.anchors_ok = h.anchors_ok;
  s.number_mismatch = h.number_mismatch;
  if (h.store_mismatch) s.store_of_directory = hint;
  s.block_count = h.block_count;
  s.anchor_count = h.anchor_count;
  return s;
}

}  // namespace

IndexFileKind IndexFileKindOf(const std::string& path) {
  std::string name = BaseName(path);
  if (name.ends_with(".tmp")) name.resize(name.size() - 4);
  if (name == index::kManifestFileName) return IndexFileKind::kManifest;
  if (index::ParseTableFileName(name)) return IndexFileKind::kTable;
  // Under another name (a copy, a renamed file): by its magic.
  auto file = io::PosixFileSystem()->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return IndexFileKind::kNone;
  char magic[8] = {};
  size_t got = 0;
  if (!(*file)->Read(0, magic, sizeof(magic), &got).ok() || got != 8) {
    return IndexFileKind::kNone;
  }
  if (std::memcmp(magic, index::kManifestMagic, 8) == 0) {
    return IndexFileKind::kManifest;
  }
  if (std::memcmp(magic, index::kTableMagic, 8) == 0) {
    return IndexFileKind::kTable;
  }
  return IndexFileKind::kNone;
}

std::vector<std::string> IndexFilesOf(const std::string& index_dir) {
  std::vector<std::string> paths;
  auto listing = ListIndexDir(index_dir);
  if (!listing.ok()) return paths;
  if (listing->has_manifest) {
    paths.push_back(io::JoinPath(index_dir, index::kManifestFileName));
  }
  for (uint64_t number : listing->tables) {
    paths.push_back(io::JoinPath(index_dir, index::TableFileName(number)));
  }
  for (const std::string& name : listing->temporaries) {
    paths.push_back(io::JoinPath(index_dir, name));
  }
  return paths;
}

Result<ManifestDump> DumpManifest(const std::string& path) {
  auto bytes = ReadSmallFile(path, kMaxManifestBytes);
  if (!bytes.ok()) return bytes.status();
  RawManifest m = DecodeRawManifest(
      reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size(), path);
  const index::Manifest& f = m.fields;
  ManifestDump d;
  d.path = path;
  d.file_size = bytes->size();
  d.status = m.status;
  d.magic_ok = m.magic_ok;
  d.version = m.version;
  d.reserved1 = m.reserved1;
  d.reserved2 = m.reserved2;
  d.store_id = f.store_id;
  d.generation = f.generation;
  d.stream_hash_id = f.stream_hash_id;
  d.anchor_stride = f.anchor_stride;
  d.next_table_number = f.next_table_number;
  d.table_count = m.table_count;
  d.size_matches_count = m.size_matches_count;
  d.checksum_ok = m.checksum_ok;
  d.checkpoint = f.end_position();
  d.tables.reserve(f.tables.size());
  for (const index::ManifestTable& t : f.tables) {
    d.tables.push_back(ToTableInfo(t));
  }
  return d;
}

Status DumpTable(const std::string& path, TableVisitor* visitor) {
  auto file = OpenSegmentFile(path);  // maps any file read-only
  if (!file.ok()) return file.status();
  const std::optional<uint64_t> number =
      index::ParseTableFileName(BaseName(path));
  const std::optional<uint64_t> hint = StoreIdNear(path);
  // Problems the walk leaves to its caller: a nonzero reserved field,
  // fences that do not match their block, nonzero padding.
  uint64_t extra_problems = 0;
  std::vector<IndexEntryInfo> entries;
  TableWalkResult walk = WalkTable(
      file->data(), file->size(), path, number, hint,
      [&](const TableWalkHeader& h) {
        // Not checked at open (it is covered by the header checksum), but
        // version 1 writes it zero.
        if (h.raw.reserved != 0) ++extra_problems;
        visitor->OnStart(ToTableStart(path, file->size(), h, hint));
      },
      [&](uint64_t position, uint32_t offset) {
        visitor->OnAnchor(position, offset);
      },
      [&](const TableWalkBlock& b) {
        const index::Entry first = index::DecodeEntry(b.data);
        TableBlock block;
        block.index = b.index;
        block.offset = b.offset;
        block.checksum_ok = b.checksum_ok;
        block.fence_matches =
            first.hash == b.fence_hash && first.revision == b.fence_revision;
        block.padding_zero = b.padding_zero;
        block.has_filter = b.has_filter;
        block.filter_offset = b.filter_offset;
        block.filter_checksum_ok = b.filter_checksum_ok;
        block.filter_matches = b.filter_matches;
        block.has_parts = b.has_parts;
        block.parts_ok = b.parts_ok;
        if (!block.fence_matches) ++extra_problems;
        if (!block.padding_zero) ++extra_problems;
        entries.clear();
        for (uint64_t k = 0; k < b.entries; ++k) {
          const index::Entry e =
              index::DecodeEntry(b.data + k * index::kEntrySize);
          entries.push_back({b.offset + k * index::kEntrySize, e.hash,
                             e.revision, e.position, e.offset, e.id_tag});
        }
        block.entries = entries;
        visitor->OnBlock(block);
      });
  visitor->OnEnd(
      {walk.blocks_ok, walk.blocks_damaged, walk.problems + extra_problems});
  return Status::Ok();
}

}  // namespace cairn::inspect
