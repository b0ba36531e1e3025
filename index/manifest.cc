// Copyright (c) Cairn authors.
#include "index/manifest.h"

#include <cstring>

#include "index/format.h"

namespace cairn::index {
namespace {

// "CAIRNIMF" read as a little-endian u64.
constexpr uint64_t kManifestSeed = 0x464d494e52494143ull;
constexpr size_t kFixedSize = kManifestFixedSize;
constexpr size_t kTableRecordSize = kManifestTableRecordSize;
// Far more tables than the merge policy ever keeps; a bound so a damaged
// count cannot make a reader allocate without limit.
constexpr uint32_t kMaxTables = 1 << 16;

}  // namespace

ManifestTable DecodeManifestTable(const uint8_t* record) {
  ManifestTable table;
  table.number = Get64(record);
  table.first_position = Get64(record + 8);
  table.end_position = Get64(record + 16);
  table.entry_count = Get64(record + 24);
  table.level = Get32(record + 32);
  table.last_offset = Get32(record + 36);
  return table;
}

std::string EncodeManifest(const Manifest& m) {
  std::string out(kFixedSize + m.tables.size() * kTableRecordSize + 8, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kManifestMagic, 8);
  Put32(p + 8, kManifestFormatVersion);
  Put64(p + 16, m.store_id);
  Put64(p + 24, m.generation);
  Put32(p + 32, m.stream_hash_id);
  Put32(p + 36, m.anchor_stride);
  Put64(p + 40, m.next_table_number);
  Put32(p + 48, static_cast<uint32_t>(m.tables.size()));
  uint8_t* t = p + kFixedSize;
  for (const ManifestTable& table : m.tables) {
    Put64(t, table.number);
    Put64(t + 8, table.first_position);
    Put64(t + 16, table.end_position);
    Put64(t + 24, table.entry_count);
    Put32(t + 32, table.level);
    Put32(t + 36, table.last_offset);
    t += kTableRecordSize;
  }
  Put64(t, IndexChecksum(p, out.size() - 8, kManifestSeed));
  return out;
}

Status DecodeManifest(const uint8_t* data, size_t size, const std::string& path,
                      Manifest* out) {
  if (size < kFixedSize + 8) {
    return Status::Corruption(path, 0, "index manifest is truncated");
  }
  if (std::memcmp(data, kManifestMagic, 8) != 0) {
    return Status::Corruption(path, 0, "not an index manifest (bad magic)");
  }
  uint32_t version = Get32(data + 8);
  if (version != kManifestFormatVersion) {
    return Status::NotSupported(path + ": index manifest version " +
                                std::to_string(version) +
                                " is not supported (this build reads 1)");
  }
  uint32_t count = Get32(data + 48);
  if (count > kMaxTables ||
      size != kFixedSize + uint64_t{count} * kTableRecordSize + 8) {
    return Status::Corruption(path, 48,
                              "index manifest size does not match its table "
                              "count");
  }
  if (Get64(data + size - 8) != IndexChecksum(data, size - 8, kManifestSeed)) {
    return Status::Corruption(path, size - 8,
                              "index manifest checksum mismatch");
  }
  if (Get32(data + 12) != 0 || Get32(data + 52) != 0) {
    return Status::Corruption(path, 12,
                              "index manifest reserved field is not zero");
  }
  Manifest m;
  m.store_id = Get64(data + 16);
  m.generation = Get64(data + 24);
  m.stream_hash_id = Get32(data + 32);
  m.anchor_stride = Get32(data + 36);
  m.next_table_number = Get64(data + 40);
  const uint8_t* t = data + kFixedSize;
  uint64_t expected_first = 0;
  for (uint32_t i = 0; i < count; ++i, t += kTableRecordSize) {
    const ManifestTable table = DecodeManifestTable(t);
    if ((i > 0 && table.first_position != expected_first) ||
        table.end_position <= table.first_position ||
        // Version-2 tables (a scavenge removed events) hold fewer entries
        // than positions; the table's own header says which it is.
        table.entry_count > table.end_position - table.first_position ||
        table.number >= m.next_table_number) {
      return Status::Corruption(path, kFixedSize + i * kTableRecordSize,
                                "index manifest lists table " +
                                    std::to_string(table.number) +
                                    " with an inconsistent range");
    }
    expected_first = table.end_position;
    m.tables.push_back(table);
  }
  *out = std::move(m);
  return Status::Ok();
}

Status ReadManifest(io::FileSystem* fs, const std::string& dir, Manifest* out) {
  const std::string path = io::JoinPath(dir, kManifestFileName);
  auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  if (*size > kFixedSize + uint64_t{kMaxTables} * kTableRecordSize + 8) {
    return Status::Corruption(path, 0, "index manifest is too large");
  }
  std::string bytes(*size, '\0');
  size_t got = 0;
  Status s = (*file)->Read(0, bytes.data(), bytes.size(), &got);
  if (!s.ok()) return s;
  if (got != bytes.size()) {
    return Status::Corruption(path, got, "index manifest is truncated");
  }
  return DecodeManifest(reinterpret_cast<const uint8_t*>(bytes.data()),
                        bytes.size(), path, out);
}

Status WriteManifest(io::FileSystem* fs, const std::string& dir,
                     const Manifest& manifest) {
  const std::string path = io::JoinPath(dir, kManifestFileName);
  const std::string temp = path + ".tmp";
  if (fs->Exists(temp)) {
    Status s = fs->RemoveFile(temp);
    if (!s.ok()) return s;
  }
  const std::string bytes = EncodeManifest(manifest);
  auto file = fs->OpenFile(temp, io::OpenMode::kCreateExclusive);
  if (!file.ok()) return file.status();
  Status s = (*file)->Write(0, bytes.data(), bytes.size());
  if (s.ok()) s = (*file)->Sync();
  if (s.ok()) s = (*file)->Close();
  if (s.ok()) s = fs->Rename(temp, path);
  if (s.ok()) s = fs->SyncDir(dir);
  if (!s.ok()) (void)fs->RemoveFile(temp);
  return s;
}

}  // namespace cairn::index
