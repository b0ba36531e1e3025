// Copyright (c) Cairn authors.
//
// cairn dump DIR|SEGMENT|DIR/index|INDEX-FILE [--json]
//
// Prints what is physically in segment files: the segment header, then
// every record with its file offset, length and checksum status. Built for
// damaged files: it never trusts a length it has not verified, reports each
// damaged record and the bytes it had to skip, and carries on. Index files
// are dumped by tools/cli/index_dump.h in the same spirit. What is printed
// comes from the inspection API (cairn/inspect.h); this file only formats.
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cairn/inspect.h"
#include "tools/cli/command.h"
#include "tools/cli/index_dump.h"
#include "tools/jsonl/event_format.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

struct DumpArgs {
  std::string path;
  bool json = false;
};

class Dumper : public inspect::SegmentVisitor {
 public:
  Dumper(const Io& io, bool json) : io_(io), json_(json), out_(io.out) {}

  // Dumps one segment file; returns false if it could not be read at all.
  bool DumpFile(const std::string& path) {
    Status s = inspect::DumpSegment(path, this);
    out_.Flush();
    if (!s.ok()) {
      Fail(io_, "dump", s.ToString(), kExitError);
      ++errors_;
      return false;
    }
    return true;
  }

  uint64_t problems() const { return problems_; }
  uint64_t errors() const { return errors_; }

  void OnStart(const inspect::SegmentStart& start) override {
    path_ = start.path;
    file_size_ = start.file_size;
    if (start.header_status.ok()) {
      PrintHeader(start.header);
    } else {
      ++problems_;
      PrintBadHeader(start.header_status, start.store_id_from_sibling);
    }
  }
  void OnRecord(const inspect::RecordInfo& r) override { PrintRecord(r); }
  void OnSkipped(const inspect::SkippedRange& b) override { PrintSkipped(b); }
  void OnEnd(const inspect::SegmentEnd& end) override {
    problems_ += end.problems;
    PrintEnd(end);
  }

 private:
  std::string* buf() { return out_.buffer(); }

  void PrintHeader(const inspect::SegmentHeaderInfo& h) {
    if (json_) {
      DumpLine line(buf(), "segment", path_);
      line.S("status", "ok");
      line.U("format_version", h.format_version);
      line.S("store_id", Hex64(h.store_id));
      line.U("segment_number", h.segment_number);
      line.U("first_position", h.first_position);
      line.U("capacity", h.capacity);
      line.S("created", FormatTimestamp(h.created_us));
      line.I("created_us", h.created_us);
      line.U("file_size", file_size_);
      if (h.generation != 0) {
        line.U("generation", h.generation);
        line.U("end_position", h.end_position);
      }
      return;
    }
    *buf() += "segment " + path_ + "\n  format " +
              std::to_string(h.format_version) + ", store " +
              Hex64(h.store_id) + ", number " +
              std::to_string(h.segment_number) + ", first position " +
              std::to_string(h.first_position) + ", capacity " +
              std::to_string(h.capacity) + ", file size " +
              std::to_string(file_size_) + ", created " +
              FormatTimestamp(h.created_us) + "\n";
    if (h.generation != 0) {
      *buf() += "  scavenged: generation " + std::to_string(h.generation) +
                ", end position " + std::to_string(h.end_position) +
                " (positions without a record were removed)\n";
    }
  }

  void PrintBadHeader(const Status& s, std::optional<uint64_t> store_id) {
    if (json_) {
      DumpLine line(buf(), "segment", path_);
      line.S("status", "bad header");
      line.S("error", s.ToString());
      line.U("file_size", file_size_);
      if (store_id) line.S("store_id_from_sibling", Hex64(*store_id));
      return;
    }
    *buf() +=
        "segment " + path_ + "\n  BAD SEGMENT HEADER: " + s.ToString() + "\n";
    *buf() += store_id ? "  checking records with store " + Hex64(*store_id) +
                             " (from another segment) and the number in the "
                             "file name\n"
                       : "  records can not be checked without the segment's "
                         "identity (no other segment in its directory has a "
                         "valid header)\n";
  }

  void PrintRecord(const inspect::RecordInfo& r) {
    if (json_) {
      DumpLine line(buf(), "record", path_);
      line.U("offset", r.offset);
      line.U("length", r.length);
      line.S("status", inspect::RecordStatusName(r.status));
      if (r.header_valid) {
        line.U("position", r.position);
        line.B("compressed", r.compressed);
        line.B("commit", r.commit);
        line.B("continuation", r.continuation);
        line.U("synced_offset", r.synced_offset);
      }
      if (r.body_valid) {
        const auto& f = r;
        line.S("stream", f.stream);
        line.U("revision", f.revision);
        line.S("type", f.type);
        line.S("id", f.id.ToString());
        line.S("content_type",
               f.content_type == ContentType::kJson ? "json" : "binary");
        line.U("data_size", f.data_size);
        line.U("metadata_size", f.metadata_size);
        line.S("created", FormatTimestamp(f.created_us));
      }
      out_.MaybeFlush();
      return;
    }
    std::string line = "  offset " + std::to_string(r.offset);
    if (r.length > 0) line += "  length " + std::to_string(r.length);
    line += "  ";
    line += r.status == inspect::RecordStatus::kOk
                ? std::string("ok")
                : "DAMAGED (" +
                      std::string(inspect::RecordStatusName(r.status)) + ")";
    if (r.header_valid) line += "  position " + std::to_string(r.position);
    if (r.body_valid) {
      const auto& f = r;
      line += "  " + std::string(f.stream) + "@" + std::to_string(f.revision) +
              "  " + std::string(f.type) + "  data " +
              std::to_string(f.data_size) + " B  metadata " +
              std::to_string(f.metadata_size) + " B";
    }
    if (r.header_valid) {
      if (r.compressed) line += "  compressed";
      if (r.commit) line += "  commit";
      if (r.continuation) line += "  continuation";
    }
    line += '\n';
    buf()->append(line);
    out_.MaybeFlush();
  }

  void PrintSkipped(const inspect::SkippedRange& b) {
    if (json_) {
      DumpLine line(buf(), "skipped", path_);
      line.U("from", b.begin);
      line.U("to", b.end);
      line.U("bytes", b.end - b.begin);
      line.B("all_zero", b.all_zero);
      return;
    }
    *buf() += "  skipped bytes [" + std::to_string(b.begin) + ", " +
              std::to_string(b.end) + "): " + std::to_string(b.end - b.begin) +
              (b.all_zero ? " zero bytes" : " bytes, not all zero") +
              (b.end == file_size_
                   ? ", to the end of the file\n"
                   : ", resynchronised at the next valid record header\n");
  }

  void PrintEnd(const inspect::SegmentEnd& w) {
    if (json_) {
      DumpLine line(buf(), "end", path_);
      line.U("end_of_records", w.end_of_records);
      line.U("records_ok", w.records_ok);
      line.U("problems", w.problems);
      return;
    }
    *buf() += "  records end at offset " + std::to_string(w.end_of_records) +
              (w.problems == 0 && w.end_of_records < file_size_
                   ? " (zeros from there on)"
                   : "") +
              ": " + std::to_string(w.records_ok) + " records ok, " +
              std::to_string(w.problems) + " problems\n";
  }

  const Io& io_;
  const bool json_;
  OutputBuffer out_;
  std::string path_;
  uint64_t file_size_ = 0;
  uint64_t problems_ = 0;
  uint64_t errors_ = 0;
};

int RunDump(const Io& io, const DumpArgs& args) {
  std::error_code ec;
  std::vector<std::string> paths;
  std::vector<std::string> index_paths;
  if (std::filesystem::is_directory(args.path, ec)) {
    auto segments = inspect::SegmentFilesOf(args.path);
    if (!segments.ok()) return FailStatus(io, "dump", segments.status());
    paths = std::move(*segments);
    if (paths.empty()) index_paths = inspect::IndexFilesOf(args.path);
    if (paths.empty() && index_paths.empty()) {
      return Fail(io, "dump",
                  "no segment files in " + args.path + " (nor index files)",
                  kExitError);
    }
  } else if (inspect::IndexFileKindOf(args.path) !=
             inspect::IndexFileKind::kNone) {
    index_paths.push_back(args.path);
  } else {
    paths.push_back(args.path);
  }
  uint64_t problems = 0;
  uint64_t errors = 0;
  if (!paths.empty()) {
    Dumper dumper(io, args.json);
    for (const std::string& path : paths) dumper.DumpFile(path);
    problems += dumper.problems();
    errors += dumper.errors();
  }
  if (!index_paths.empty()) {
    OutputBuffer out(io.out);
    for (const std::string& path : index_paths) {
      IndexDumpCounts counts = DumpIndexFile(io, path, args.json, &out);
      problems += counts.problems;
      errors += counts.errors;
    }
  }
  if (problems > 0) return kExitDamage;
  return errors > 0 ? kExitError : kExitOk;
}

}  // namespace

Command AddDumpCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<DumpArgs>();
  CLI::App* sub = app.add_subcommand(
      "dump",
      "Print every record of a store's segment files, or of one segment "
      "file, or the structure of index files (DIR/index, its MANIFEST or a "
      "table), with offsets and checksum status (works on damaged files)");
  sub->add_option("PATH", args->path,
                  "Store directory, segment file, index directory or index "
                  "file")
      ->required();
  sub->add_flag("--json", args->json, "Print JSON Lines, one item per line");
  return {sub, [io, args] { return RunDump(io, *args); }};
}

}  // namespace cairn::tools
