// Copyright (c) Cairn authors.
#include "inspect/index_verify.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "engine/io/file_system.h"
#include "engine/src/segment_cache.h"
#include "index/block_filter.h"
#include "index/format.h"
#include "index/manifest.h"
#include "index/table.h"
#include "inspect/index_files.h"
#include "inspect/status_finding.h"
#include "segment/record.h"
#include "segment/segment_header.h"

namespace cairn::inspect {
namespace {

// Entry mismatches listed per table before the rest are only counted: a
// table of another log would otherwise print a line per entry.
constexpr uint64_t kMaxEntryFindings = 20;
// A writer that merges tables while verify reads them can remove a listed
// table after a newer manifest no longer lists it: the check starts over
// when the manifest changed under it, this many times at most.
constexpr int kAttempts = 3;

// Segments the cross-checks keep mapped at once: a store of any number of
// segments is verified within a few mappings (and no kept descriptor).
constexpr size_t kOpenSegments = 16;

// The log's records, located by position for the cross-checks.
class LogReader {
 public:
  explicit LogReader(const VerifiedLog& log)
      : log_(log), cache_(io::PosixFileSystem(), kOpenSegments) {}

  uint64_t end_position() const {
    return log_.segments.empty() ? 0 : log_.segments.back().end_position;
  }

  struct Record {
    std::string_view stream;
    uint64_t revision = 0;
    EventId id;
  };

  // The record at (position, offset), or why there is none. Its views
  // point into the cache's mapping: valid until the next Read. With
  // `at_or_after`, any record at that offset of the segment holding
  // `position` whose position is not below it will do (an anchor of a
  // table with gaps); its position goes there.
  std::optional<std::string> Read(uint64_t position, uint32_t offset,
                                  Record* out,
                                  uint64_t* at_or_after = nullptr) const {
    auto it =
        std::upper_bound(log_.segments.begin(), log_.segments.end(), position,
                         [](uint64_t p, const VerifiedLog::Segment& s) {
                           return p < s.header.first_position;
                         });
    if (it == log_.segments.begin() || position >= (it - 1)->end_position) {
      return "position " + std::to_string(position) + " is not in the log";
    }
    const VerifiedLog::Segment& seg = *(it - 1);
    // A segment that no longer opens (or was replaced since its check)
    // reads as one that holds no such offset.
    auto map = cache_.Get(seg.path, seg.header);
    if (!map.ok() || offset >= (*map)->size()) {
      return "offset " + std::to_string(offset) + " is outside segment " +
             seg.path;
    }
    const uint8_t* data = (*map)->data();
    const size_t size = (*map)->size();
    segment::RecordHeader header;
    if (segment::DecodeRecordHeader(data + offset, size - offset, seg.seed,
                                    &header) != segment::HeaderCheck::kOk) {
      return "no record starts at offset " + std::to_string(offset) + " of " +
             seg.path;
    }
    if (at_or_after != nullptr ? header.position < position
                               : header.position != position) {
      return "the record at offset " + std::to_string(offset) + " of " +
             seg.path + " has position " + std::to_string(header.position);
    }
    std::string_view type;
    segment::EventDecoder decoder(data + segment::kSegmentHeaderSize, seg.seed);
    if (!decoder.PeekKey(data + offset, header, &out->stream, &type,
                         &out->revision)) {
      return "the record at offset " + std::to_string(offset) +
             " does not decode";
    }
    out->id = segment::PeekEventId(data + offset);
    if (at_or_after != nullptr) *at_or_after = header.position;
    return std::nullopt;
  }

 private:
  const VerifiedLog& log_;
  mutable engine::SegmentCache cache_;
};

class IndexChecker {
 public:
  IndexChecker(const std::string& store_dir, const VerifiedLog& log)
      : dir_(IndexDirOf(store_dir)), log_(log), reader_(log) {}

  IndexReport Run() {
    for (int attempt = 1;; ++attempt) {
      report_ = IndexReport();
      gap_ranges_.clear();
      const std::optional<uint64_t> generation = CheckOnce();
      if (report_.problems == 0 || attempt == kAttempts) break;
      // Changed under us by a live writer: look again.
      if (!generation || !ManifestReplacedSince(dir_, *generation)) break;
    }
    return std::move(report_);
  }

 private:
  void Problem(const std::string& file, uint64_t offset, std::string message) {
    ++report_.problems;
    report_.findings.push_back({file, offset, std::move(message), false});
  }
  void Warning(const std::string& file, uint64_t offset, std::string message) {
    ++report_.warnings;
    report_.findings.push_back({file, offset, std::move(message), true});
  }
  void StatusProblem(const std::string& file, const Status& s) {
    StatusFinding f = FindingOf(file, s);
    Problem(f.file, f.offset, std::move(f.message));
  }

  // Returns the manifest's generation if it was read.
  std::optional<uint64_t> CheckOnce() {
    auto listing = ListIndexDir(dir_);
    if (!listing.ok()) {
      if (!listing.status().IsNotFound()) StatusProblem(dir_, listing.status());
      return std::nullopt;
    }
    report_.present = true;
    for (const std::string& name : listing->temporaries) {
      Warning(io::JoinPath(dir_, name), 0,
              "leftover of an interrupted index write; the next writable "
              "open removes it");
    }
    const std::string manifest_path =
        io::JoinPath(dir_, index::kManifestFileName);
    if (!listing->has_manifest) {
      Problem(manifest_path, 0,
              listing->tables.empty()
                  ? "the index directory has no MANIFEST"
                  : "the index directory has " +
                        std::to_string(listing->tables.size()) +
                        " table(s) but no MANIFEST");
      return std::nullopt;
    }
    index::Manifest m;
    Status s = index::ReadManifest(io::PosixFileSystem(), dir_, &m);
    if (!s.ok()) {
      StatusProblem(manifest_path, s);
      return std::nullopt;
    }
    report_.checkpoint = m.end_position();
    report_.tables = m.tables.size();
    if (!CheckManifest(manifest_path, m)) return m.generation;

    std::set<uint64_t> listed;
    for (const index::ManifestTable& t : m.tables) listed.insert(t.number);
    for (uint64_t number : listing->tables) {
      if (listed.count(number) == 0) {
        Warning(io::JoinPath(dir_, index::TableFileName(number)), 0,
                "index table not listed in the manifest (left by an "
                "interrupted flush or merge); the next writable open "
                "removes it");
      }
    }
    report_.checked_against_log =
        log_.healthy && m.end_position() <= reader_.end_position();
    if (report_.checked_against_log) {
      seen_.assign(m.end_position(), false);
    }
    for (const index::ManifestTable& t : m.tables) CheckTable(m, t);
    if (report_.checked_against_log) {
      // A table with gaps has no entries for the positions a scavenge
      // removed; the segment checks vouch that they are gone.
      for (const auto& [first, end] : gap_ranges_) {
        for (uint64_t p = first; p < end && p < seen_.size(); ++p) {
          seen_[p] = true;
        }
      }
      ReportUncovered(manifest_path);
    }
    return m.generation;
  }

  // The manifest's own fields against the log; false if its tables are
  // not worth checking (another store).
  bool CheckManifest(const std::string& path, const index::Manifest& m) {
    if (!log_.segments.empty() && m.store_id != log_.store_id) {
      Problem(path, 16,
              "the index belongs to another store (" + Hex64(m.store_id) +
                  "; the log's is " + Hex64(log_.store_id) + ")");
      return false;
    }
    if (m.stream_hash_id != index::kStreamHashId) {
      Problem(path, 32,
              "the index was built with stream hash function " +
                  std::to_string(m.stream_hash_id) + " (this build uses " +
                  std::to_string(index::kStreamHashId) + ")");
      return false;
    }
    if (m.anchor_stride == 0) {
      Problem(path, 36, "the index's anchor stride is 0");
      return false;
    }
    if (!m.tables.empty() && m.tables.front().first_position != 0) {
      Problem(path, 56 + 8,
              "the first index table starts at position " +
                  std::to_string(m.tables.front().first_position) +
                  ", not at the log's first position 0");
    }
    if (log_.healthy && m.end_position() > reader_.end_position()) {
      Problem(path, 0,
              "the index checkpoint " + std::to_string(m.end_position()) +
                  " is past the end of the log (" +
                  std::to_string(reader_.end_position()) +
                  "): the index describes another log");
    }
    return true;
  }

  void CheckTable(const index::Manifest& m, const index::ManifestTable& t) {
    const std::string path = io::JoinPath(dir_, index::TableFileName(t.number));
    io::FileSystem* fs = io::PosixFileSystem();
    if (!fs->Exists(path)) {
      Problem(path, 0, "index table listed in the manifest is missing");
      return;
    }
    auto opened =
        index::Table::Open(fs, path, m.store_id, t.number, m.anchor_stride);
    if (!opened.ok()) {
      StatusProblem(path, opened.status());
      return;
    }
    const index::Table& table = **opened;
    const index::TableInfo& info = table.info();
    if (info.first_position != t.first_position ||
        info.end_position != t.end_position ||
        info.entry_count != t.entry_count || info.level != t.level ||
        info.last_offset != t.last_offset) {
      Problem(path, 32,
              "index table header does not match its manifest record");
    }
    if (info.has_gaps()) {
      gap_ranges_.emplace_back(info.first_position, info.end_position);
    }
    CheckUncheckedBytes(path, table);
    CheckEntries(path, table);
    if (report_.checked_against_log) CheckAnchors(path, table);
  }

  // What Table::Open does not look at, though the writer writes it zero:
  // the reserved header field, and the gaps between the anchors, the
  // filters and the entries (covered by no checksum).
  void CheckUncheckedBytes(const std::string& path, const index::Table& table) {
    const index::TableInfo& info = table.info();
    auto file = io::PosixFileSystem()->OpenFile(path, io::OpenMode::kReadOnly);
    if (!file.ok()) return;
    uint8_t reserved[4] = {};
    size_t got = 0;
    if ((*file)->Read(68, reserved, 4, &got).ok() && got == 4 &&
        index::Get32(reserved) != 0) {
      Problem(path, 68, "index table reserved field is not zero");
    }
    const uint64_t anchors_end =
        table.anchors_offset() + info.anchor_count() * 4;
    auto check_gap = [&](uint64_t begin, uint64_t end, const char* between) {
      std::string gap(end - begin, '\0');
      if ((*file)->Read(begin, gap.data(), gap.size(), &got).ok() &&
          got == gap.size()) {
        const size_t nonzero = gap.find_first_not_of('\0');
        if (nonzero != std::string::npos) {
          Problem(path, begin + nonzero,
                  std::string("nonzero bytes between the index ") + between);
        }
      }
    };
    if (info.has_filters()) {
      check_gap(anchors_end, table.filters_offset(), "anchors and filters");
      check_gap(
          table.filters_offset() + info.block_count() * info.summary_size(),
          table.entries_offset(), "filters and entries");
    } else {
      check_gap(anchors_end, table.entries_offset(), "anchors and entries");
    }
  }

  void CheckEntries(const std::string& path, const index::Table& table) {
    const index::TableInfo& info = table.info();
    const uint64_t entries_offset = table.entries_offset();
    uint64_t entry_findings = 0;
    uint64_t more = 0;
    auto entry_problem = [&](uint64_t offset, const std::string& message) {
      if (entry_findings++ < kMaxEntryFindings) {
        Problem(path, offset, message);
      } else {
        ++more;
      }
    };
    index::Entry previous;
    bool has_previous = false;  // (std::optional trips -Wmaybe-uninitialized)
    uint64_t new_streams = 0;
    bool all_blocks_read = true;
    for (uint64_t b = 0; b < info.block_count(); ++b) {
      auto block = table.Block(b);
      if (!block.ok()) {
        StatusProblem(path, block.status());
        has_previous = false;
        all_blocks_read = false;
        continue;
      }
      const uint64_t n = table.EntriesIn(b);
      CheckFilter(path, table, b, *block);
      for (uint64_t k = 0; k < n; ++k) {
        const uint64_t at =
            entries_offset + b * index::kTableBlockSize + k * index::kEntrySize;
        const index::Entry e =
            index::DecodeEntry(*block + k * index::kEntrySize);
        ++report_.entries;
        if (e.revision == 0) ++new_streams;
        if (has_previous && !index::EntryLess(previous, e)) {
          entry_problem(at, "index entries out of order");
        }
        previous = e;
        has_previous = true;
        if (e.position < info.first_position ||
            e.position >= info.end_position) {
          entry_problem(at, "index entry position " +
                                std::to_string(e.position) +
                                " is outside the table's range " +
                                std::to_string(info.first_position) + ".." +
                                std::to_string(info.end_position));
          continue;
        }
        if (!report_.checked_against_log) continue;
        // The table's own range can pass the manifest's checkpoint (a
        // header that disagrees with its manifest record, reported above).
        if (e.position >= seen_.size()) {
          entry_problem(at, "index entry position " +
                                std::to_string(e.position) +
                                " is past the manifest's checkpoint " +
                                std::to_string(seen_.size()));
          continue;
        }
        if (seen_[e.position]) {
          entry_problem(at, "position " + std::to_string(e.position) +
                                " has more than one index entry");
          continue;
        }
        seen_[e.position] = true;
        CheckEntryAgainstLog(e, at, entry_problem);
      }
      for (uint64_t i = n * index::kEntrySize; i < index::kTableBlockSize;
           ++i) {
        if ((*block)[i] != 0) {
          Problem(path, entries_offset + b * index::kTableBlockSize + i,
                  "nonzero padding after the last index entry");
          break;
        }
      }
    }
    if (more > 0) {
      Problem(path, entries_offset,
              "and " + std::to_string(more) + " more index entry problems");
    }
    if (all_blocks_read && new_streams != info.new_streams) {
      Problem(path, 72,
              "index table header says " + std::to_string(info.new_streams) +
                  " new streams, its entries have " +
                  std::to_string(new_streams));
    }
  }

  // A block's summary (from version 3) verifies: the filter is exactly the
  // filter of the block's hashes (a missing bit would make lookups miss the
  // block's stream; an extra one only costs reads), and from version 4 the
  // part directory names each part's first key and checksum.
  void CheckFilter(const std::string& path, const index::Table& table,
                   uint64_t b, const uint8_t* block) {
    Status s = table.VerifySummary(b, block);
    if (!s.ok()) StatusProblem(path, s);
  }

  template <typename Report>
  void CheckEntryAgainstLog(const index::Entry& e, uint64_t at,
                            Report& entry_problem) {
    LogReader::Record record;
    const std::string what = "index entry (position " +
                             std::to_string(e.position) + ", offset " +
                             std::to_string(e.offset) + ")";
    if (auto why = reader_.Read(e.position, e.offset, &record)) {
      entry_problem(at, what + " names no record: " + *why);
      return;
    }
    if (index::DefaultStreamHash(record.stream) != e.hash) {
      entry_problem(at, what + " has stream hash " + Hex64(e.hash) +
                            " but the record's stream '" +
                            std::string(record.stream) + "' hashes to " +
                            Hex64(index::DefaultStreamHash(record.stream)));
    }
    if (record.revision != e.revision) {
      entry_problem(at, what + " has revision " + std::to_string(e.revision) +
                            " but the record has revision " +
                            std::to_string(record.revision));
    }
    if (index::IdTag(record.id) != e.id_tag) {
      entry_problem(at, what + " has id tag " + Hex32(e.id_tag) +
                            " but the record's event id " +
                            record.id.ToString() + " has tag " +
                            Hex32(index::IdTag(record.id)));
    }
  }

  void CheckAnchors(const std::string& path, const index::Table& table) {
    const index::TableInfo& info = table.info();
    const uint32_t stride = info.anchor_stride;
    const uint64_t anchors_offset = table.anchors_offset();
    uint64_t k = 0;
    LogReader::Record record;
    for (uint64_t p = (info.first_position + stride - 1) / stride * stride;
         p < info.end_position; p += stride, ++k) {
      const uint32_t offset = table.Anchor(p).value_or(0);
      // With gaps an anchor names the first kept record at or after its
      // position, or the end of its segment's records (the end of a
      // scavenged segment's file), where no record starts: that case is
      // not told apart from a wrong offset here.
      uint64_t found = 0;
      auto why = info.has_gaps() ? reader_.Read(p, offset, &record, &found)
                                 : reader_.Read(p, offset, &record);
      const bool maybe_end =
          info.has_gaps() && why &&
          (why->starts_with("no record") || why->starts_with("offset"));
      if (why && !maybe_end) {
        Problem(path, anchors_offset + 4 * k,
                "anchor of position " + std::to_string(p) + " (offset " +
                    std::to_string(offset) + ") is wrong: " + *why);
      }
    }
    if (info.entry_count > 0) {
      if (auto why =
              reader_.Read(info.last_position, info.last_offset, &record)) {
        Problem(path, 64,
                "last_offset " + std::to_string(info.last_offset) +
                    " is wrong: " + *why);
      }
    }
  }

  void ReportUncovered(const std::string& manifest_path) {
    uint64_t reported = 0;
    for (uint64_t p = 0; p < seen_.size();) {
      if (seen_[p]) {
        ++p;
        continue;
      }
      uint64_t end = p;
      while (end < seen_.size() && !seen_[end]) ++end;
      if (reported++ < kMaxEntryFindings) {
        Problem(manifest_path, 0,
                end - p == 1
                    ? "no index entry for position " + std::to_string(p)
                    : "no index entries for positions " + std::to_string(p) +
                          ".." + std::to_string(end - 1));
      }
      p = end;
    }
  }

  const std::string dir_;
  const VerifiedLog& log_;
  LogReader reader_;
  IndexReport report_;
  std::vector<bool> seen_;  // positions below the checkpoint with an entry
  // Ranges of the tables with gaps: positions without entries are removed.
  std::vector<std::pair<uint64_t, uint64_t>> gap_ranges_;
};

}  // namespace

IndexReport VerifyIndex(const std::string& store_dir, const VerifiedLog& log) {
  return IndexChecker(store_dir, log).Run();
}

}  // namespace cairn::inspect
