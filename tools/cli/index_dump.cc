// Copyright (c) Cairn authors.
#include "tools/cli/index_dump.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/inspect.h"

namespace cairn::tools {
namespace {

std::string OkOr(bool ok, std::string_view bad) {
  return ok ? "ok" : std::string(bad);
}

std::string Range(uint64_t first, uint64_t end) {
  return "[" + std::to_string(first) + ", " + std::to_string(end) + ")";
}

// The manifest's header fields, as both its summary and its damaged-file
// listing print them.
std::string ManifestFields(const inspect::ManifestDump& m) {
  return "version " + std::to_string(m.version) + ", store " +
         Hex64(m.store_id) + ", generation " + std::to_string(m.generation) +
         ", stream hash " + std::to_string(m.stream_hash_id) +
         ", anchor stride " + std::to_string(m.anchor_stride) +
         ", next table number " + std::to_string(m.next_table_number);
}

class IndexDumper : public inspect::TableVisitor {
 public:
  IndexDumper(const std::string& path, bool json, OutputBuffer* out)
      : path_(path), json_(json), out_(out) {}

  IndexDumpCounts counts() const { return counts_; }

  void DumpManifest(const inspect::ManifestDump& m) {
    const bool ok = m.status.ok();
    if (!ok) ++counts_.problems;
    if (json_) {
      DumpLine line(buf(), "index_manifest", path_);
      line.S("status", ok ? "ok" : "damaged");
      if (!ok) line.S("error", m.status.ToString());
      line.U("file_size", m.file_size)
          .B("magic_ok", m.magic_ok)
          .U("version", m.version)
          .S("store_id", Hex64(m.store_id))
          .U("generation", m.generation)
          .U("stream_hash_id", m.stream_hash_id)
          .U("anchor_stride", m.anchor_stride)
          .U("next_table_number", m.next_table_number)
          .U("table_count", m.table_count)
          .B("checksum_ok", m.checksum_ok);
      if (ok) line.U("checkpoint", m.checkpoint);
    } else {
      *buf() += "index manifest " + path_ + "\n";
      if (ok) {
        *buf() += "  ok: " + ManifestFields(m) + ", " +
                  std::to_string(m.table_count) + " tables, checkpoint " +
                  std::to_string(m.checkpoint) + "\n";
      } else {
        *buf() += "  DAMAGED: " + m.status.ToString() + "\n";
        *buf() +=
            "  as the bytes read (unverified): " + std::to_string(m.file_size) +
            " bytes, magic " + OkOr(m.magic_ok, "BAD") + ", " +
            ManifestFields(m) + ", table count " +
            std::to_string(m.table_count) +
            (m.size_matches_count ? "" : " (does not match the size)") +
            ", checksum " + OkOr(m.checksum_ok, "MISMATCH") + "\n";
      }
    }
    for (size_t i = 0; i < m.tables.size(); ++i) {
      const inspect::ManifestTableInfo& t = m.tables[i];
      if (json_) {
        DumpLine(buf(), "index_manifest_table", path_)
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
                  std::to_string(t.last_offset) + "  (" + t.file_name + ")\n";
      }
    }
    out_->MaybeFlush();
  }

  void OnStart(const inspect::TableStart& h) override { PrintTableHeader(h); }
  void OnAnchor(uint64_t position, uint32_t offset) override {
    PrintAnchor(position, offset);
  }
  void OnBlock(const inspect::TableBlock& b) override { PrintBlock(b); }
  void OnEnd(const inspect::TableEnd& end) override {
    counts_.problems += end.problems;
    if (json_) {
      DumpLine(buf(), "end", path_)
          .U("blocks_ok", end.blocks_ok)
          .U("blocks_damaged", end.blocks_damaged)
          .U("problems", end.problems);
    } else {
      *buf() += "  " + std::to_string(end.blocks_ok + end.blocks_damaged) +
                " blocks: " + std::to_string(end.blocks_ok) + " ok, " +
                std::to_string(end.blocks_damaged) + " damaged; " +
                std::to_string(end.problems) + " problem" +
                (end.problems == 1 ? "" : "s") + "\n";
    }
    out_->MaybeFlush();
  }

 private:
  std::string* buf() { return out_->buffer(); }

  void PrintTableHeader(const inspect::TableStart& h) {
    const inspect::TableStart& r = h;
    const inspect::TableStart& i = h;
    const uint64_t size = h.file_size;
    if (json_) {
      DumpLine line(buf(), "index_table", path_);
      line.S("status", h.header_status.ok() ? "ok" : "bad header");
      if (!h.header_status.ok()) line.S("error", h.header_status.ToString());
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
          .U("last_position", i.last_position)
          .U("reserved", r.reserved)
          .U("new_streams", i.new_streams)
          .U("fences_offset", r.fences_offset)
          .U("anchors_offset", r.anchors_offset)
          .U("filters_offset", r.filters_offset)
          .U("summary_size", r.summary_size)
          .U("entries_offset", r.entries_offset)
          .U("file_size_field", r.file_size_field)
          .B("header_checksum_ok", h.header_checksum_ok)
          .B("layout_ok", h.layout_ok)
          .B("checksums_checked", h.checksums_checked);
      if (h.layout_ok && h.checksums_checked) {
        line.B("fences_ok", h.fences_ok).B("anchors_ok", h.anchors_ok);
      }
      if (h.number_mismatch) line.S("number_mismatch", "header vs file name");
      if (h.store_of_directory) {
        line.S("store_of_directory", Hex64(*h.store_of_directory));
      }
      return;
    }
    std::string& b = *buf();
    b += "index table " + path_ + "\n";
    if (!h.header_status.ok()) {
      b += "  BAD TABLE HEADER: " + h.header_status.ToString() + "\n";
    }
    b += std::string("  ") +
         (h.header_status.ok() ? "header ok" : "header fields") + ": format " +
         std::to_string(r.format_version) + ", store " + Hex64(i.store_id) +
         ", number " + std::to_string(i.number) + ", level " +
         std::to_string(i.level) + ", anchor stride " +
         std::to_string(i.anchor_stride) + ", positions " +
         Range(i.first_position, i.end_position) + ", " +
         std::to_string(i.entry_count) + " entries, " +
         std::to_string(i.new_streams) + " new streams, last offset " +
         std::to_string(i.last_offset) +
         // With gaps the last event is not at end - 1.
         (i.entry_count != i.end_position - i.first_position
              ? " (position " + std::to_string(i.last_position) + ")"
              : "") +
         ", file size " + std::to_string(size) + "\n";
    if (r.reserved != 0) {
      b += "  reserved field at offset 68 is " + std::to_string(r.reserved) +
           ", not 0\n";
    }
    if (h.number_mismatch) {
      b += "  the header's number differs from the file name's\n";
    }
    if (h.store_of_directory) {
      b += "  the table belongs to another store than its directory (" +
           Hex64(*h.store_of_directory) + ")\n";
    }
    if (!h.layout_ok) {
      b += "  the section fields do not fit the counts and the file size: "
           "the blocks cannot be located\n";
      return;
    }
    if (!h.header_status.ok()) {
      b += "  the section fields fit the file size: walking them "
           "(header unverified)\n";
    }
    if (!h.checksums_checked) {
      b += "  checksums cannot be checked: the header is damaged and no "
           "manifest or segment beside it gives the store id\n";
    }
    b += "  fences at " + std::to_string(r.fences_offset) + " (" +
         std::to_string(h.block_count) + " x 24 B)" +
         (h.checksums_checked ? ", checksum " + OkOr(h.fences_ok, "MISMATCH")
                              : "") +
         "; anchors at " + std::to_string(r.anchors_offset) + " (" +
         std::to_string(h.anchor_count) + " x 4 B)" +
         (h.checksums_checked ? ", checksum " + OkOr(h.anchors_ok, "MISMATCH")
                              : "") +
         (r.filters_offset != 0
              ? std::string(r.summary_size > 128
                                ? "; filters and part directories at "
                                : "; filters at ") +
                    std::to_string(r.filters_offset) + " (" +
                    std::to_string(h.block_count) + " x " +
                    std::to_string(r.summary_size) + " B)"
              : "") +
         "; entries at " + std::to_string(r.entries_offset) + "\n";
  }

  void PrintAnchor(uint64_t position, uint32_t offset) {
    if (json_) {
      DumpLine(buf(), "index_anchor", path_)
          .U("position", position)
          .U("offset", offset);
    } else {
      *buf() += "  anchor  position " + std::to_string(position) + "  offset " +
                std::to_string(offset) + "\n";
    }
    out_->MaybeFlush();
  }

  void PrintBlock(const inspect::TableBlock& b) {
    const bool fence_ok = b.fence_matches;
    if (json_) {
      DumpLine line(buf(), "index_block", path_);
      line.U("block", b.index)
          .U("offset", b.offset)
          .U("entries", b.entries.size())
          .S("status", b.checksum_ok ? "ok" : "bad checksum")
          .B("fence_matches", fence_ok)
          .B("padding_zero", b.padding_zero);
      if (b.has_filter) {
        line.U("filter_offset", b.filter_offset)
            .B("filter_checksum_ok", b.filter_checksum_ok)
            .B("filter_matches", b.filter_matches);
      }
      if (b.has_parts) line.B("parts_ok", b.parts_ok);
    } else {
      *buf() += "  block " + std::to_string(b.index) + "  offset " +
                std::to_string(b.offset) + "  " +
                std::to_string(b.entries.size()) + " entries  " +
                (b.checksum_ok ? std::string("ok")
                               : "DAMAGED (checksum mismatch: the entries "
                                 "below are unverified)") +
                (fence_ok ? "" : "  FENCE DOES NOT MATCH THE FIRST ENTRY") +
                (b.padding_zero ? "" : "  NONZERO PADDING") +
                (!b.has_filter || b.filter_checksum_ok
                     ? ""
                     : "  FILTER DAMAGED (checksum mismatch)") +
                (!b.has_filter || !b.filter_checksum_ok || !b.checksum_ok ||
                         b.filter_matches
                     ? ""
                     : "  FILTER DOES NOT MATCH THE ENTRIES") +
                (!b.has_parts || b.parts_ok
                     ? ""
                     : "  PART DIRECTORY DAMAGED OR NOT MATCHING THE ENTRIES") +
                "\n";
    }
    for (size_t k = 0; k < b.entries.size(); ++k) {
      const inspect::IndexEntryInfo& e = b.entries[k];
      if (json_) {
        DumpLine(buf(), "index_entry", path_)
            .U("block", b.index)
            .U("offset", e.file_offset)
            .B("verified", b.checksum_ok)
            .S("hash", Hex64(e.stream_hash))
            .U("revision", e.revision)
            .U("position", e.position)
            .U("segment_offset", e.segment_offset)
            .S("id_tag", Hex32(e.id_tag));
      } else {
        *buf() += "    hash " + Hex64(e.stream_hash) + "  revision " +
                  std::to_string(e.revision) + "  position " +
                  std::to_string(e.position) + "  offset " +
                  std::to_string(e.segment_offset) + "  id tag " +
                  Hex32(e.id_tag) + "\n";
      }
      out_->MaybeFlush();
    }
  }

  const std::string path_;
  const bool json_;
  OutputBuffer* out_;
  IndexDumpCounts counts_;
};

}  // namespace

IndexDumpCounts DumpIndexFile(const Io& io, const std::string& path, bool json,
                              OutputBuffer* out) {
  IndexDumper dumper(path, json, out);
  IndexDumpCounts counts;
  if (inspect::IndexFileKindOf(path) == inspect::IndexFileKind::kManifest) {
    auto manifest = inspect::DumpManifest(path);
    if (!manifest.ok()) {
      out->Flush();
      Fail(io, "dump", manifest.status().ToString(), kExitError);
      counts.errors = 1;
      return counts;
    }
    dumper.DumpManifest(*manifest);
    return dumper.counts();
  }
  Status s = inspect::DumpTable(path, &dumper);
  if (!s.ok()) {
    out->Flush();
    Fail(io, "dump", s.ToString(), kExitError);
    counts.errors = 1;
    return counts;
  }
  return dumper.counts();
}

}  // namespace cairn::tools
