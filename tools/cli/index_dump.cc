// Copyright (c) Cairn authors.
#include "tools/cli/index_dump.h"

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "engine/io/file_system.h"
#include "index/format.h"
#include "index/manifest.h"
#include "index/table.h"
#include "inspect/index_files.h"
#include "inspect/segment_walk.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The store id of a table's store, for checking a table whose header is
// damaged: from the manifest beside it, else from a segment of the store
// (the index directory's parent).
std::optional<uint64_t> StoreIdNear(const std::string& table_path) {
  const std::string dir = ParentDir(table_path);
  auto bytes =
      ReadSmallFile(io::JoinPath(dir, index::kManifestFileName), 1 << 22);
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

// One JSON object per line: {"kind":...,"file":...,...}.
class JsonLine {
 public:
  JsonLine(std::string* out, std::string_view kind, const std::string& file)
      : out_(out) {
    out_->append("{\"kind\":\"").append(kind).append("\",\"file\":");
    json::AppendQuoted(file, out_);
  }
  ~JsonLine() { out_->append("}\n"); }
  JsonLine& U(std::string_view key, uint64_t v) {
    Key(key).append(std::to_string(v));
    return *this;
  }
  JsonLine& S(std::string_view key, std::string_view v) {
    json::AppendQuoted(v, &Key(key));
    return *this;
  }
  JsonLine& B(std::string_view key, bool v) {
    Key(key).append(v ? "true" : "false");
    return *this;
  }

 private:
  std::string& Key(std::string_view key) {
    return out_->append(",\"").append(key).append("\":");
  }
  std::string* out_;
};

std::string OkOr(bool ok, std::string_view bad) {
  return ok ? "ok" : std::string(bad);
}

std::string Range(uint64_t first, uint64_t end) {
  return "[" + std::to_string(first) + ", " + std::to_string(end) + ")";
}

class IndexDumper {
 public:
  IndexDumper(const std::string& path, bool json, OutputBuffer* out)
      : path_(path), json_(json), out_(out) {}

  IndexDumpCounts counts() const { return counts_; }

  void DumpManifest(const std::string& bytes) {
    RawManifest m = DecodeRawManifest(
        reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path_);
    const index::Manifest& f = m.fields;
    const bool ok = m.status.ok();
    if (!ok) ++counts_.problems;
    if (json_) {
      JsonLine line(buf(), "index_manifest", path_);
      line.S("status", ok ? "ok" : "damaged");
      if (!ok) line.S("error", m.status.ToString());
      line.U("file_size", bytes.size())
          .B("magic_ok", m.magic_ok)
          .U("version", m.version)
          .S("store_id", Hex64(f.store_id))
          .U("generation", f.generation)
          .U("stream_hash_id", f.stream_hash_id)
          .U("anchor_stride", f.anchor_stride)
          .U("next_table_number", f.next_table_number)
          .U("table_count", m.table_count)
          .B("checksum_ok", m.checksum_ok);
      if (ok) line.U("checkpoint", f.end_position());
    } else {
      *buf() += "index manifest " + path_ + "\n";
      if (ok) {
        *buf() += "  ok: version " + std::to_string(m.version) + ", store " +
                  Hex64(f.store_id) + ", generation " +
                  std::to_string(f.generation) + ", stream hash " +
                  std::to_string(f.stream_hash_id) + ", anchor stride " +
                  std::to_string(f.anchor_stride) + ", next table number " +
                  std::to_string(f.next_table_number) + ", " +
                  std::to_string(m.table_count) + " tables, checkpoint " +
                  std::to_string(f.end_position()) + "\n";
      } else {
        *buf() += "  DAMAGED: " + m.status.ToString() + "\n";
        *buf() += "  as the bytes read (unverified): " +
                  std::to_string(bytes.size()) + " bytes, magic " +
                  OkOr(m.magic_ok, "BAD") + ", version " +
                  std::to_string(m.version) + ", store " + Hex64(f.store_id) +
                  ", generation " + std::to_string(f.generation) +
                  ", stream hash " + std::to_string(f.stream_hash_id) +
                  ", anchor stride " + std::to_string(f.anchor_stride) +
                  ", next table number " + std::to_string(f.next_table_number) +
                  ", table count " + std::to_string(m.table_count) +
                  (m.size_matches_count ? "" : " (does not match the size)") +
                  ", checksum " + OkOr(m.checksum_ok, "MISMATCH") + "\n";
      }
    }
    for (size_t i = 0; i < f.tables.size(); ++i) {
      const index::ManifestTable& t = f.tables[i];
      if (json_) {
        JsonLine(buf(), "index_manifest_table", path_)
            .U("record", i)
            .U("number", t.number)
            .U("level", t.level)
            .U("first_position", t.first_position)
            .U("end_position", t.end_position)
            .U("entry_count", t.entry_count)
            .U("last_offset", t.last_offset);
      } else {
        *buf() += "  table " + std::to_string(t.number) + "  level " +
                  std::to_string(t.level) + "  positions " +
                  Range(t.first_position, t.end_position) + "  " +
                  std::to_string(t.entry_count) + " entries  last offset " +
                  std::to_string(t.last_offset) + "  (" +
                  index::TableFileName(t.number) + ")\n";
      }
    }
    out_->MaybeFlush();
  }

  void DumpTable(const uint8_t* data, size_t size) {
    const std::optional<uint64_t> number =
        index::ParseTableFileName(BaseName(path_));
    std::optional<uint64_t> hint = StoreIdNear(path_);
    TableWalkResult walk = WalkTable(
        data, size, path_, number, hint,
        [&](const TableWalkHeader& h) { PrintTableHeader(h, size, hint); },
        [&](uint64_t position, uint32_t offset) {
          PrintAnchor(position, offset);
        },
        [&](const TableWalkBlock& b) { PrintBlock(b); });
    counts_.problems += walk.problems + extra_problems_;
    const uint64_t problems = walk.problems + extra_problems_;
    if (json_) {
      JsonLine(buf(), "end", path_)
          .U("blocks_ok", walk.blocks_ok)
          .U("blocks_damaged", walk.blocks_damaged)
          .U("problems", problems);
    } else {
      *buf() += "  " + std::to_string(walk.blocks_ok + walk.blocks_damaged) +
                " blocks: " + std::to_string(walk.blocks_ok) + " ok, " +
                std::to_string(walk.blocks_damaged) + " damaged; " +
                std::to_string(problems) + " problem" +
                (problems == 1 ? "" : "s") + "\n";
    }
    out_->MaybeFlush();
  }

 private:
  std::string* buf() { return out_->buffer(); }

  void PrintTableHeader(const TableWalkHeader& h, size_t size,
                        std::optional<uint64_t> hint) {
    const RawTableHeader& r = h.raw;
    const index::TableInfo& i = r.info;
    if (json_) {
      JsonLine line(buf(), "index_table", path_);
      line.S("status", h.status.ok() ? "ok" : "bad header");
      if (!h.status.ok()) line.S("error", h.status.ToString());
      line.U("file_size", size)
          .B("magic_ok", r.magic_ok)
          .U("format_version", r.format_version)
          .S("store_id", Hex64(i.store_id))
          .U("number", i.number)
          .U("level", i.level)
          .U("anchor_stride", i.anchor_stride)
          .U("entry_count", i.entry_count)
          .U("first_position", i.first_position)
          .U("end_position", i.end_position)
          .U("last_offset", i.last_offset)
          .U("reserved", r.reserved)
          .U("new_streams", i.new_streams)
          .U("fences_offset", r.fences_offset)
          .U("anchors_offset", r.anchors_offset)
          .U("entries_offset", r.entries_offset)
          .U("file_size_field", r.file_size)
          .B("header_checksum_ok", h.header_checksum_ok)
          .B("layout_ok", h.layout_ok)
          .B("checksums_checked", h.seed.has_value());
      if (h.layout_ok && h.seed) {
        line.B("fences_ok", h.fences_ok).B("anchors_ok", h.anchors_ok);
      }
      if (h.number_mismatch) line.S("number_mismatch", "header vs file name");
      if (h.store_mismatch && hint) line.S("store_of_directory", Hex64(*hint));
      return;
    }
    std::string& b = *buf();
    b += "index table " + path_ + "\n";
    if (!h.status.ok()) {
      b += "  BAD TABLE HEADER: " + h.status.ToString() + "\n";
    }
    b += std::string("  ") + (h.status.ok() ? "header ok" : "header fields") +
         ": format " + std::to_string(r.format_version) + ", store " +
         Hex64(i.store_id) + ", number " + std::to_string(i.number) +
         ", level " + std::to_string(i.level) + ", anchor stride " +
         std::to_string(i.anchor_stride) + ", positions " +
         Range(i.first_position, i.end_position) + ", " +
         std::to_string(i.entry_count) + " entries, " +
         std::to_string(i.new_streams) + " new streams, last offset " +
         std::to_string(i.last_offset) + ", file size " + std::to_string(size) +
         "\n";
    if (r.reserved != 0) {
      // Not checked at open (it is covered by the header checksum), but
      // version 1 writes it zero.
      ++extra_problems_;
      b += "  reserved field at offset 68 is " + std::to_string(r.reserved) +
           ", not 0\n";
    }
    if (h.number_mismatch) {
      b += "  the header's number differs from the file name's\n";
    }
    if (h.store_mismatch && hint) {
      b += "  the table belongs to another store than its directory (" +
           Hex64(*hint) + ")\n";
    }
    if (!h.layout_ok) {
      b += "  the section fields do not fit the counts and the file size: "
           "the blocks cannot be located\n";
      return;
    }
    if (!h.status.ok()) {
      b += "  the section fields fit the file size: walking them "
           "(header unverified)\n";
    }
    if (!h.seed) {
      b += "  checksums cannot be checked: the header is damaged and no "
           "manifest or segment beside it gives the store id\n";
    }
    b += "  fences at " + std::to_string(r.fences_offset) + " (" +
         std::to_string(h.block_count) + " x 24 B)" +
         (h.seed ? ", checksum " + OkOr(h.fences_ok, "MISMATCH") : "") +
         "; anchors at " + std::to_string(r.anchors_offset) + " (" +
         std::to_string(h.anchor_count) + " x 4 B)" +
         (h.seed ? ", checksum " + OkOr(h.anchors_ok, "MISMATCH") : "") +
         "; entries at " + std::to_string(r.entries_offset) + "\n";
  }

  void PrintAnchor(uint64_t position, uint32_t offset) {
    if (json_) {
      JsonLine(buf(), "index_anchor", path_)
          .U("position", position)
          .U("offset", offset);
    } else {
      *buf() += "  anchor  position " + std::to_string(position) + "  offset " +
                std::to_string(offset) + "\n";
    }
    out_->MaybeFlush();
  }

  void PrintBlock(const TableWalkBlock& b) {
    index::Entry first = index::DecodeEntry(b.data);
    const bool fence_ok =
        first.hash == b.fence_hash && first.revision == b.fence_revision;
    if (!fence_ok) ++extra_problems_;
    if (!b.padding_zero) ++extra_problems_;
    if (json_) {
      JsonLine(buf(), "index_block", path_)
          .U("block", b.index)
          .U("offset", b.offset)
          .U("entries", b.entries)
          .S("status", b.checksum_ok ? "ok" : "bad checksum")
          .B("fence_matches", fence_ok)
          .B("padding_zero", b.padding_zero);
    } else {
      *buf() += "  block " + std::to_string(b.index) + "  offset " +
                std::to_string(b.offset) + "  " + std::to_string(b.entries) +
                " entries  " +
                (b.checksum_ok ? std::string("ok")
                               : "DAMAGED (checksum mismatch: the entries "
                                 "below are unverified)") +
                (fence_ok ? "" : "  FENCE DOES NOT MATCH THE FIRST ENTRY") +
                (b.padding_zero ? "" : "  NONZERO PADDING") + "\n";
    }
    for (uint64_t k = 0; k < b.entries; ++k) {
      index::Entry e = index::DecodeEntry(b.data + k * index::kEntrySize);
      if (json_) {
        JsonLine(buf(), "index_entry", path_)
            .U("block", b.index)
            .U("offset", b.offset + k * index::kEntrySize)
            .B("verified", b.checksum_ok)
            .S("hash", Hex64(e.hash))
            .U("revision", e.revision)
            .U("position", e.position)
            .U("segment_offset", e.offset)
            .S("id_tag", Hex32(e.id_tag));
      } else {
        *buf() += "    hash " + Hex64(e.hash) + "  revision " +
                  std::to_string(e.revision) + "  position " +
                  std::to_string(e.position) + "  offset " +
                  std::to_string(e.offset) + "  id tag " + Hex32(e.id_tag) +
                  "\n";
      }
      out_->MaybeFlush();
    }
  }

  const std::string path_;
  const bool json_;
  OutputBuffer* out_;
  IndexDumpCounts counts_;
  uint64_t extra_problems_ = 0;
};

}  // namespace

namespace {

enum class DumpKind { kNone, kManifest, kTable };

// By name first; a file under another name (a copy, a renamed file) by its
// magic.
DumpKind KindOf(const std::string& path) {
  std::string name = BaseName(path);
  if (name.ends_with(".tmp")) name.resize(name.size() - 4);
  if (name == index::kManifestFileName) return DumpKind::kManifest;
  if (index::ParseTableFileName(name)) return DumpKind::kTable;
  auto file = io::PosixFileSystem()->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return DumpKind::kNone;
  char magic[8] = {};
  size_t got = 0;
  if (!(*file)->Read(0, magic, sizeof(magic), &got).ok() || got != 8) {
    return DumpKind::kNone;
  }
  if (std::memcmp(magic, index::kManifestMagic, 8) == 0) {
    return DumpKind::kManifest;
  }
  if (std::memcmp(magic, index::kTableMagic, 8) == 0) return DumpKind::kTable;
  return DumpKind::kNone;
}

}  // namespace

bool IsIndexFile(const std::string& path) {
  return KindOf(path) != DumpKind::kNone;
}

IndexDumpCounts DumpIndexFile(const Io& io, const std::string& path, bool json,
                              OutputBuffer* out) {
  IndexDumper dumper(path, json, out);
  IndexDumpCounts counts;
  if (KindOf(path) == DumpKind::kManifest) {
    auto bytes = ReadSmallFile(path, 1 << 22);
    if (!bytes.ok()) {
      out->Flush();
      Fail(io, "dump", bytes.status().ToString(), kExitError);
      counts.errors = 1;
      return counts;
    }
    dumper.DumpManifest(*bytes);
    return dumper.counts();
  }
  auto file = OpenSegmentFile(path);  // maps any file read-only
  if (!file.ok()) {
    out->Flush();
    Fail(io, "dump", file.status().ToString(), kExitError);
    counts.errors = 1;
    return counts;
  }
  dumper.DumpTable(file->data(), file->size());
  return dumper.counts();
}

}  // namespace cairn::tools
