// Copyright (c) Cairn authors.
#include "index/table_rewrite.h"

#include <algorithm>
#include <set>

namespace cairn::index {
namespace {

// Whether the rewrite changes the entry or anchor of `position`.
bool Rewritten(uint64_t position, uint64_t first, uint64_t end,
               const PositionRemap& remap) {
  return position >= first && position < end &&
         (!remap.rewritten || remap.rewritten(position));
}

}  // namespace

ManifestTable RecordOf(const TableInfo& info) {
  ManifestTable t;
  t.number = info.number;
  t.first_position = info.first_position;
  t.end_position = info.end_position;
  t.entry_count = info.entry_count;
  t.level = info.level;
  t.last_offset = info.last_offset;
  return t;
}

Result<TableInfo> RewriteTable(io::FileSystem* fs, const std::string& dir,
                               const Table& input, uint64_t number,
                               uint64_t first, uint64_t end,
                               const PositionRemap& remap) {
  const TableInfo& in = input.info();
  TableInfo info;
  info.store_id = in.store_id;
  info.number = number;
  info.level = in.level;
  info.anchor_stride = in.anchor_stride;
  info.first_position = in.first_position;
  info.end_position = in.end_position;
  // The counts and the last kept event must be known before the writer
  // lays the file out: a first pass over the entries finds them.
  auto new_offset = [&](const Entry& e) -> std::optional<uint32_t> {
    if (!Rewritten(e.position, first, end, remap)) return e.offset;
    return remap.offset(e.position);
  };
  bool any = false;
  {
    Table::Cursor cursor(&input);
    Entry e;
    while (cursor.Next(&e)) {
      auto offset = new_offset(e);
      if (!offset) continue;
      ++info.entry_count;
      if (e.revision == 0) ++info.new_streams;
      if (!any || e.position > info.last_position) {
        info.last_position = e.position;
        info.last_offset = *offset;
      }
      any = true;
    }
    if (!cursor.status().ok()) return cursor.status();
  }
  auto writer = TableWriter::Create(fs, dir, info);
  if (!writer.ok()) return writer.status();
  Table::Cursor cursor(&input);
  Entry e;
  while (cursor.Next(&e)) {
    auto offset = new_offset(e);
    if (!offset) continue;
    e.offset = *offset;
    Status s = (*writer)->Add(e);
    if (!s.ok()) return s;
  }
  if (!cursor.status().ok()) return cursor.status();
  const uint32_t stride = in.anchor_stride;
  for (uint64_t p = (in.first_position + stride - 1) / stride * stride;
       p < in.end_position; p += stride) {
    const uint32_t anchor =
        Rewritten(p, first, end, remap) ? remap.anchor(p) : *input.Anchor(p);
    Status s = (*writer)->AddAnchor(anchor);
    if (!s.ok()) return s;
  }
  Status s = (*writer)->Finish();
  if (!s.ok()) return s;
  if (!info.has_gaps()) info.last_position = info.end_position - 1;
  return info;
}

bool ListsStaged(const Manifest& m, const StagedTables& staged) {
  std::set<uint64_t> listed;
  for (const ManifestTable& t : m.tables) listed.insert(t.number);
  return !staged.numbers.empty() &&
         std::all_of(staged.numbers.begin(), staged.numbers.end(),
                     [&](uint64_t n) { return listed.count(n) != 0; });
}

Result<std::vector<std::shared_ptr<Table>>> OpenStagedTables(
    io::FileSystem* fs, const std::string& dir, uint64_t store_id,
    uint32_t anchor_stride, const StagedTables& staged) {
  std::vector<std::shared_ptr<Table>> tables;
  for (uint64_t number : staged.numbers) {
    const std::string path = io::JoinPath(dir, TableFileName(number));
    auto table = Table::Open(fs, path, store_id, number, anchor_stride);
    if (!table.ok()) {
      if (table.status().IsNotFound()) {
        return Status::Corruption(path, 0, "a staged index table is missing");
      }
      return table.status();
    }
    tables.push_back(std::move(table.value()));
  }
  return tables;
}

Result<std::optional<Manifest>> ManifestWithStaged(
    const std::string& dir, const Manifest& current, const StagedTables& staged,
    const std::vector<TableInfo>& staged_infos) {
  if (ListsStaged(current, staged)) return std::optional<Manifest>();
  const std::string manifest_path = io::JoinPath(dir, kManifestFileName);
  const std::string what = "index tables for positions " +
                           std::to_string(staged.first_position) + ".." +
                           std::to_string(staged.end_position);
  const auto& tables = current.tables;
  bool contiguous =
      staged_infos.size() == staged.numbers.size() && !staged_infos.empty() &&
      staged_infos.front().first_position == staged.first_position &&
      staged_infos.back().end_position == staged.end_position;
  for (size_t k = 0; contiguous && k < staged_infos.size(); ++k) {
    contiguous = staged_infos[k].number == staged.numbers[k] &&
                 (k == 0 || staged_infos[k].first_position ==
                                staged_infos[k - 1].end_position);
  }
  if (!contiguous) {
    return Status::Corruption(
        manifest_path, 0,
        "the staged " + what + " do not cover the range they replace");
  }
  size_t i = 0;
  while (i < tables.size() &&
         tables[i].first_position < staged.first_position) {
    ++i;
  }
  size_t j = i;
  while (j < tables.size() && tables[j].end_position < staged.end_position) {
    ++j;
  }
  if (i == tables.size() || j == tables.size() ||
      tables[i].first_position != staged.first_position ||
      tables[j].end_position != staged.end_position) {
    return Status::Corruption(
        manifest_path, 0,
        "the index manifest does not list tables covering exactly the range "
        "of the staged " +
            what);
  }
  Manifest m = current;
  m.tables.erase(m.tables.begin() + static_cast<ptrdiff_t>(i),
                 m.tables.begin() + static_cast<ptrdiff_t>(j + 1));
  std::vector<ManifestTable> records;
  records.reserve(staged_infos.size());
  for (const TableInfo& info : staged_infos) records.push_back(RecordOf(info));
  m.tables.insert(m.tables.begin() + static_cast<ptrdiff_t>(i), records.begin(),
                  records.end());
  ++m.generation;
  m.next_table_number =
      std::max(m.next_table_number, staged.numbers.back() + 1);
  return std::optional<Manifest>(std::move(m));
}

Status InstallStagedTables(io::FileSystem* fs, const std::string& dir,
                           const StagedTables& staged) {
  Manifest current;
  Status s = ReadManifest(fs, dir, &current);
  if (!s.ok()) return s;
  if (ListsStaged(current, staged)) return Status::Ok();
  auto tables = OpenStagedTables(fs, dir, current.store_id,
                                 current.anchor_stride, staged);
  if (!tables.ok()) return tables.status();
  std::vector<TableInfo> infos;
  for (const auto& t : *tables) infos.push_back(t->info());
  auto next = ManifestWithStaged(dir, current, staged, infos);
  if (!next.ok()) return next.status();
  if (!next->has_value()) return Status::Ok();
  s = WriteManifest(fs, dir, **next);
  if (!s.ok()) return s;
  std::set<uint64_t> keep;
  for (const ManifestTable& t : (*next)->tables) keep.insert(t.number);
  for (const ManifestTable& t : current.tables) {
    if (keep.count(t.number) == 0) {
      (void)fs->RemoveFile(io::JoinPath(dir, TableFileName(t.number)));
    }
  }
  return Status::Ok();
}

}  // namespace cairn::index
