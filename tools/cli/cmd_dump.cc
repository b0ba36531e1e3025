// Copyright (c) Cairn authors.
//
// cairn dump DIR|SEGMENT|DIR/index|INDEX-FILE [--json]
//
// Prints what is physically in segment files: the segment header, then
// every record with its file offset, length and checksum status. Built for
// damaged files: it never trusts a length it has not verified, reports each
// damaged record and the bytes it had to skip, and carries on. Index files
// are dumped by tools/cli/index_dump.h in the same spirit.
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "engine/io/file_system.h"
#include "index/manifest.h"
#include "index/table.h"
#include "inspect/index_files.h"
#include "inspect/segment_walk.h"
#include "segment/checksum.h"
#include "segment/segment_header.h"
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

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The store id of any other segment in the same directory whose header
// verifies: with a damaged header, it (and the number in the file name) is
// what the record checksums of this segment are seeded with.
std::optional<uint64_t> SiblingStoreId(const std::string& path) {
  return StoreIdOfSegmentsIn(ParentDir(path),
                             std::filesystem::path(path).filename().string());
}

class Dumper {
 public:
  Dumper(const Io& io, bool json) : io_(io), json_(json), out_(io.out) {}

  // Dumps one segment file; returns false if it could not be read at all.
  bool DumpFile(const std::string& path) {
    auto file = OpenSegmentFile(path);
    if (!file.ok()) {
      out_.Flush();
      Fail(io_, "dump", file.status().ToString(), kExitError);
      ++errors_;
      return false;
    }
    file_ = &file.value();
    segment::SegmentHeader header;
    Status s = segment::DecodeSegmentHeader(file_->data(), file_->size(), path,
                                            &header);
    std::optional<uint64_t> seed;
    if (s.ok()) {
      PrintHeader(header);
      seed = header.Seed();
    } else {
      ++problems_;
      std::optional<uint64_t> store_id;
      if (file_->number) store_id = SiblingStoreId(path);
      if (store_id) seed = segment::SegmentSeed(*store_id, *file_->number);
      PrintBadHeader(s, store_id);
    }
    if (seed) {
      WalkResult walk = WalkSegment(
          file_->data(), file_->size(), *seed,
          [&](const WalkedRecord& r) { PrintRecord(r); },
          [&](const SkippedBytes& b) { PrintSkipped(b); });
      problems_ += walk.problems;
      PrintEnd(walk);
    }
    file_ = nullptr;
    out_.Flush();
    return true;
  }

  uint64_t problems() const { return problems_; }
  uint64_t errors() const { return errors_; }

 private:
  std::string* buf() { return out_.buffer(); }

  void JsonStart(std::string_view kind) {
    buf()->append("{\"kind\":\"");
    buf()->append(kind);
    buf()->append("\",\"file\":");
    json::AppendQuoted(file_->path, buf());
  }
  void JsonField(std::string_view key, uint64_t value) {
    buf()->append(",\"").append(key).append("\":");
    buf()->append(std::to_string(value));
  }
  void JsonField(std::string_view key, std::string_view value) {
    buf()->append(",\"").append(key).append("\":");
    json::AppendQuoted(value, buf());
  }
  void JsonBool(std::string_view key, bool value) {
    buf()->append(",\"").append(key).append("\":");
    buf()->append(value ? "true" : "false");
  }

  void PrintHeader(const segment::SegmentHeader& h) {
    if (json_) {
      JsonStart("segment");
      JsonField("status", "ok");
      JsonField("format_version", h.format_version);
      JsonField("store_id", Hex64(h.store_id));
      JsonField("segment_number", h.segment_number);
      JsonField("first_position", h.first_position);
      JsonField("capacity", h.capacity);
      JsonField("created", FormatTimestamp(h.created_us));
      buf()->append(",\"created_us\":").append(std::to_string(h.created_us));
      JsonField("file_size", file_->size());
      buf()->append("}\n");
      return;
    }
    *buf() += "segment " + file_->path + "\n  format " +
              std::to_string(h.format_version) + ", store " +
              Hex64(h.store_id) + ", number " +
              std::to_string(h.segment_number) + ", first position " +
              std::to_string(h.first_position) + ", capacity " +
              std::to_string(h.capacity) + ", file size " +
              std::to_string(file_->size()) + ", created " +
              FormatTimestamp(h.created_us) + "\n";
  }

  void PrintBadHeader(const Status& s, std::optional<uint64_t> store_id) {
    if (json_) {
      JsonStart("segment");
      JsonField("status", "bad header");
      JsonField("error", s.ToString());
      JsonField("file_size", file_->size());
      if (store_id) JsonField("store_id_from_sibling", Hex64(*store_id));
      buf()->append("}\n");
      return;
    }
    *buf() += "segment " + file_->path +
              "\n  BAD SEGMENT HEADER: " + s.ToString() + "\n";
    *buf() += store_id ? "  checking records with store " + Hex64(*store_id) +
                             " (from another segment) and the number in the "
                             "file name\n"
                       : "  records can not be checked without the segment's "
                         "identity (no other segment in its directory has a "
                         "valid header)\n";
  }

  void PrintRecord(const WalkedRecord& r) {
    const auto& h = r.header;
    if (json_) {
      JsonStart("record");
      JsonField("offset", r.offset);
      JsonField("length", r.length);
      JsonField("status", RecordStatusName(r.status));
      if (r.header_valid) {
        JsonField("position", h.position);
        JsonBool("compressed", h.IsCompressed());
        JsonBool("commit", h.IsCommit());
        JsonField("synced_offset", h.synced_offset);
      }
      if (r.body_valid) {
        const auto& f = r.fields;
        JsonField("stream", f.stream);
        JsonField("revision", f.revision);
        JsonField("type", f.type);
        JsonField("id", f.id.ToString());
        JsonField("content_type",
                  f.content_type == ContentType::kJson ? "json" : "binary");
        JsonField("data_size", f.data.size());
        JsonField("metadata_size", f.metadata.size());
        JsonField("created", FormatTimestamp(f.created_us));
      }
      buf()->append("}\n");
      out_.MaybeFlush();
      return;
    }
    std::string line = "  offset " + std::to_string(r.offset);
    if (r.length > 0) line += "  length " + std::to_string(r.length);
    line += "  ";
    line += r.status == RecordStatus::kOk
                ? std::string("ok")
                : "DAMAGED (" + std::string(RecordStatusName(r.status)) + ")";
    if (r.header_valid) line += "  position " + std::to_string(h.position);
    if (r.body_valid) {
      const auto& f = r.fields;
      line += "  " + std::string(f.stream) + "@" + std::to_string(f.revision) +
              "  " + std::string(f.type) + "  data " +
              std::to_string(f.data.size()) + " B  metadata " +
              std::to_string(f.metadata.size()) + " B";
    }
    if (r.header_valid) {
      if (h.IsCompressed()) line += "  compressed";
      if (h.IsCommit()) line += "  commit";
    }
    line += '\n';
    buf()->append(line);
    out_.MaybeFlush();
  }

  void PrintSkipped(const SkippedBytes& b) {
    if (json_) {
      JsonStart("skipped");
      JsonField("from", b.begin);
      JsonField("to", b.end);
      JsonField("bytes", b.end - b.begin);
      JsonBool("all_zero", b.all_zero);
      buf()->append("}\n");
      return;
    }
    *buf() += "  skipped bytes [" + std::to_string(b.begin) + ", " +
              std::to_string(b.end) + "): " + std::to_string(b.end - b.begin) +
              (b.all_zero ? " zero bytes" : " bytes, not all zero") +
              (b.end == file_->size()
                   ? ", to the end of the file\n"
                   : ", resynchronised at the next valid record header\n");
  }

  void PrintEnd(const WalkResult& w) {
    if (json_) {
      JsonStart("end");
      JsonField("end_of_records", w.end_of_records);
      JsonField("records_ok", w.records_ok);
      JsonField("problems", w.problems);
      buf()->append("}\n");
      return;
    }
    *buf() += "  records end at offset " + std::to_string(w.end_of_records) +
              (w.problems == 0 && w.end_of_records < file_->size()
                   ? " (zeros from there on)"
                   : "") +
              ": " + std::to_string(w.records_ok) + " records ok, " +
              std::to_string(w.problems) + " problems\n";
  }

  const Io& io_;
  const bool json_;
  OutputBuffer out_;
  const SegmentFile* file_ = nullptr;
  uint64_t problems_ = 0;
  uint64_t errors_ = 0;
};

// The index files of an index directory: the manifest, then the tables
// in number order (and leftovers of interrupted writes); empty if there
// are none.
std::vector<std::string> IndexFilesIn(const std::string& dir) {
  std::vector<std::string> paths;
  auto listing = ListIndexDir(dir);
  if (!listing.ok()) return paths;
  if (listing->has_manifest) {
    paths.push_back(io::JoinPath(dir, index::kManifestFileName));
  }
  for (uint64_t number : listing->tables) {
    paths.push_back(io::JoinPath(dir, index::TableFileName(number)));
  }
  for (const std::string& name : listing->temporaries) {
    paths.push_back(io::JoinPath(dir, name));
  }
  return paths;
}

int RunDump(const Io& io, const DumpArgs& args) {
  std::error_code ec;
  std::vector<std::string> paths;
  std::vector<std::string> index_paths;
  if (std::filesystem::is_directory(args.path, ec)) {
    auto names = ListSegmentFiles(args.path);
    if (!names.ok()) return FailStatus(io, "dump", names.status());
    for (const SegmentName& name : *names) paths.push_back(name.path);
    if (paths.empty()) index_paths = IndexFilesIn(args.path);
    if (paths.empty() && index_paths.empty()) {
      return Fail(io, "dump",
                  "no segment files in " + args.path + " (nor index files)",
                  kExitError);
    }
  } else if (IsIndexFile(args.path)) {
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
