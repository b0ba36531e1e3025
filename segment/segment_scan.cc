// Copyright (c) Cairn authors.
#include "segment/segment_scan.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "segment/checksum.h"
#include "segment/durable_mark.h"
#include "segment/little_endian.h"

namespace cairn::segment {
namespace {

// Zero-checks compare against this block: memcmp is vectorised, and the
// tail of a preallocated segment can be hundreds of MiB of zeros.
constexpr size_t kZeroBlockSize = 4096;
constexpr uint8_t kZeroBlock[kZeroBlockSize] = {};

std::string At(uint64_t offset) {
  return " at offset " + std::to_string(offset);
}

std::string Hex(unsigned v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  s += kDigits[(v >> 4) & 0xf];
  s += kDigits[v & 0xf];
  return s;
}

// Why the header at `offset` did not decode as kOk.
std::string DescribeHeader(const uint8_t* p, size_t available, uint64_t offset,
                           uint64_t seed, HeaderCheck check,
                           const RecordHeader& h) {
  if (available < kRecordHeaderSize) {
    return "incomplete record header" + At(offset) + ": only " +
           std::to_string(available) + " bytes before the end of the segment";
  }
  const uint32_t computed =
      static_cast<uint32_t>(Checksum64(p + 4, kRecordHeaderSize - 4, seed));
  if (LoadLE<uint32_t>(p) != computed) {
    return "bad header checksum" + At(offset);
  }
  if (check == HeaderCheck::kTruncated) {
    return "record" + At(offset) + " (position " + std::to_string(h.position) +
           ") has a " + std::to_string(h.body_length) + "-byte body but only " +
           std::to_string(available - kRecordHeaderSize) +
           " bytes remain in the segment";
  }
  if (h.type != RecordType::kEvent && h.type != RecordType::kContinuation) {
    return "unknown record type " +
           std::to_string(static_cast<unsigned>(h.type)) + At(offset);
  }
  if ((h.flags & ~kKnownFlags) != 0) {
    return "unknown record flags " + Hex(h.flags) + At(offset);
  }
  if (h.body_length < (h.type == RecordType::kEvent
                           ? kEventBodyFixedSize
                           : kContinuationBodyMinSize)) {
    return "record body length " + std::to_string(h.body_length) + At(offset) +
           " is shorter than the fixed event body";
  }
  return "nonzero reserved header field" + At(offset);
}

// A valid record header in (from, size - kRecordHeaderSize] whose
// synced_offset lies past `from`: proof that the bytes at `from` had been
// fdatasynced before that record was written.
struct Voucher {
  uint64_t offset = 0;
  RecordHeader header;
};

bool FindVoucher(const uint8_t* data, size_t size, uint64_t from, uint64_t seed,
                 Voucher* voucher) {
  if (size < kRecordHeaderSize || size - kRecordHeaderSize < from + 1) {
    return false;
  }
  const size_t last = size - kRecordHeaderSize;
  size_t o = from + 1;
  // Records are not aligned, so every offset is a candidate. memchr finds
  // the type bytes fast; the reserved field, the flags and synced_offset
  // reject nearly every remaining candidate before a checksum is
  // computed.
  RecordCandidates candidates(data, last);
  while (o <= last) {
    const std::optional<size_t> hit = candidates.Next(o);
    if (!hit) return false;
    o = *hit;
    const uint8_t* p = data + o;
    if (p[6] == 0 && p[7] == 0 && (p[5] & ~kKnownFlags) == 0 &&
        LoadLE<uint32_t>(p + 12) > from) {
      RecordHeader h;
      if (DecodeRecordHeader(p, size - o, seed, &h) == HeaderCheck::kOk &&
          h.synced_offset > from) {
        voucher->offset = o;
        voucher->header = h;
        return true;
      }
    }
    ++o;
  }
  return false;
}

// Whether a continuation at `offset` whose append began before the scan's
// start (a resumed scan) names a head there that checks out
// (EventDecoder::Head); where that head lies goes to *head_offset.
bool HeadBeforeStart(const uint8_t* data, uint64_t offset, uint64_t start,
                     const RecordHeader& continuation, uint64_t seed,
                     uint64_t* head_offset) {
  const uint64_t at = offset - ContinuationBackOffset(data + offset);
  HeadFields head;
  if (at >= start || !EventDecoder(data + kSegmentHeaderSize, seed)
                          .Head(data + offset, continuation, &head)) {
    return false;
  }
  *head_offset = at;
  return true;
}

}  // namespace

std::optional<size_t> RecordCandidates::Next(size_t from) {
  constexpr RecordType kTypes[] = {RecordType::kEvent,
                                   RecordType::kContinuation};
  size_t best = kNone;
  for (size_t i = 0; i < 2; ++i) {
    if (!next_[i] || (*next_[i] != kNone && *next_[i] < from)) {
      next_[i] = kNone;
      if (from <= last_) {
        const void* hit = std::memchr(
            data_ + from + 4, static_cast<int>(kTypes[i]), last_ - from + 1);
        if (hit != nullptr) {
          next_[i] =
              static_cast<size_t>(static_cast<const uint8_t*>(hit) - data_) - 4;
        }
      }
    }
    best = std::min(best, *next_[i]);
  }
  if (best == kNone) return std::nullopt;
  return best;
}

size_t FirstNonZero(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const size_t chunk = std::min(kZeroBlockSize, n - i);
    if (std::memcmp(p + i, kZeroBlock, chunk) != 0) {
      while (p[i] == 0) ++i;
      return i;
    }
    i += chunk;
  }
  return n;
}

size_t EndOfNonZero(const uint8_t* p, size_t n) {
  while (n > 0) {
    const size_t chunk = std::min(kZeroBlockSize, n);
    if (std::memcmp(p + n - chunk, kZeroBlock, chunk) != 0) {
      while (p[n - 1] == 0) --n;
      return n;
    }
    n -= chunk;
  }
  return 0;
}

Status ScanSegment(
    const uint8_t* data, size_t size, const SegmentHeader& header,
    const std::string& file, const SegmentScanOptions& options,
    const std::function<void(std::span<const ScannedRecord>)>& on_append,
    SegmentScanResult* result) {
  const bool resume = options.start_offset != 0;
  const uint64_t start_offset =
      resume ? options.start_offset : kSegmentHeaderSize;
  const uint64_t start_position =
      resume ? options.start_position : header.first_position;
  *result = SegmentScanResult{};
  result->end_offset = start_offset;
  result->next_position = start_position;
  if (size < kSegmentHeaderSize) {
    return Status::Corruption(file, 0, "segment is shorter than its header");
  }
  if (start_offset < kSegmentHeaderSize || start_offset > size) {
    return Status::Corruption(file, start_offset,
                              "scan start is outside the segment");
  }
  const uint64_t seed = header.Seed();
  // Read before any record: a writer beside a reader marks only records
  // it has written already, so the scan below sees everything it marks.
  std::optional<DurableMark> mark = options.known_mark != nullptr
                                        ? *options.known_mark
                                        : NewestDurableMark(data, size, header);
  // A resumed scan that starts past the mark has nothing to check.
  if (mark && mark->end_offset < start_offset) mark.reset();
  bool mark_reached = false;
  // Called at every append boundary: the mark must fall on one, with the
  // position it names.
  auto at_boundary = [&](uint64_t end, uint64_t next) -> Status {
    if (!mark || end != mark->end_offset) return Status::Ok();
    if (next != mark->next_position) {
      return Status::Corruption(
          file, end,
          "the durable-end mark (sequence " + std::to_string(mark->sequence) +
              ") names position " + std::to_string(mark->next_position) +
              " at this offset, but the records end at position " +
              std::to_string(next) + " here");
    }
    mark_reached = true;
    return Status::Ok();
  };
  Status marked = at_boundary(start_offset, start_position);
  if (!marked.ok()) return marked;

  uint64_t offset = start_offset;
  uint64_t expected = start_position;
  uint64_t last_commit_end = start_offset;
  uint64_t committed_next = start_position;
  uint64_t kept = 0;
  std::vector<ScannedRecord> pending;
  // Where the head of the append being read lies: its first record, or
  // for a scan resumed in the middle of an append, before the start; 0
  // (never a record's offset) when it has none.
  uint64_t head_offset = 0;
  // Why the scan stopped before reaching zeros or the end; empty if it did
  // not stop early.
  std::string problem;
  while (offset < size) {
    RecordHeader h;
    const HeaderCheck check =
        DecodeRecordHeader(data + offset, size - offset, seed, &h);
    if (check == HeaderCheck::kZero) break;
    if (check != HeaderCheck::kOk) {
      problem =
          DescribeHeader(data + offset, size - offset, offset, seed, check, h);
      break;
    }
    if (h.position != expected) {
      // A header that passes its checksum was written whole by a writer of
      // this segment; a torn write cannot produce one at the wrong place.
      // So this is misplaced or stale data, never a tail to truncate.
      result->end_offset = last_commit_end;
      result->next_position = committed_next;
      result->records = kept;
      return Status::Corruption(file, offset,
                                "position gap: expected position " +
                                    std::to_string(expected) + ", found " +
                                    std::to_string(h.position));
    }
    if (!VerifyRecordBody(data + offset, h, seed)) {
      problem = "bad body checksum" + At(offset) + " (position " +
                std::to_string(h.position) + ")";
      break;
    }
    if (!CheckEventBody(data + offset, h)) {
      problem = "malformed event body" + At(offset) + " (position " +
                std::to_string(h.position) + "): inconsistent lengths";
      break;
    }
    // A continuation follows the head of its append, and names it.
    if (pending.empty()) {
      head_offset = h.type == RecordType::kEvent ? offset : 0;
    }
    if (h.type == RecordType::kContinuation) {
      uint64_t earlier = 0;
      if (pending.empty() && offset == start_offset && resume &&
          HeadBeforeStart(data, offset, start_offset, h, seed, &earlier)) {
        head_offset = earlier;
      }
      if (!HasContinuationRecords(header.format_version) || head_offset == 0 ||
          ContinuationBackOffset(data + offset) != offset - head_offset) {
        problem = "continuation record" + At(offset) + " (position " +
                  std::to_string(h.position) +
                  ") does not name the head of its append";
        break;
      }
    }
    pending.push_back(ScannedRecord{offset, h});
    ++expected;
    offset += h.RecordSize();
    if (h.IsCommit()) {
      if (on_append) on_append(pending);
      kept += pending.size();
      pending.clear();
      last_commit_end = offset;
      committed_next = expected;
      marked = at_boundary(last_commit_end, committed_next);
      if (!marked.ok()) {
        result->end_offset = last_commit_end;
        result->next_position = committed_next;
        result->records = kept;
        return marked;
      }
      if (committed_next >= options.stop_at_position) {
        result->end_offset = last_commit_end;
        result->next_position = committed_next;
        result->records = kept;
        return Status::Ok();
      }
    }
  }

  result->end_offset = last_commit_end;
  result->next_position = committed_next;
  result->records = kept;
  const size_t nonzero =
      FirstNonZero(data + last_commit_end, size - last_commit_end);
  const bool clean_end = nonzero == size - last_commit_end;

  if (clean_end) {
    problem.clear();
  } else if (problem.empty()) {
    if (!pending.empty()) {
      problem = "incomplete append" + At(last_commit_end) + ": " +
                std::to_string(pending.size()) +
                " record(s) without a commit record";
    } else {
      problem = "nonzero bytes" + At(last_commit_end + nonzero) +
                " after zeroed space" + At(offset);
    }
  } else if (!pending.empty()) {
    problem += ", after " + std::to_string(pending.size()) +
               " record(s) of an incomplete append";
  }

  if (mark && !mark_reached) {
    // The writer marked this end only after an fdatasync had made every
    // record below it durable: no crash can take them away.
    const std::string said =
        "the durable-end mark (sequence " + std::to_string(mark->sequence) +
        ") says the records up to offset " + std::to_string(mark->end_offset) +
        " (position " + std::to_string(mark->next_position) + ") were durable";
    if (last_commit_end > mark->end_offset) {
      return Status::Corruption(file, mark->end_offset,
                                said + ", but no append ends at that offset");
    }
    return Status::Corruption(
        file, last_commit_end,
        said + ", but the whole appends end here" +
            (clean_end ? std::string(" (zeros follow)") : ": " + problem));
  }
  if (clean_end) return Status::Ok();

  if (!options.is_last) {
    return Status::Corruption(
        file, last_commit_end,
        "damaged or unexpected bytes after the last whole append of a "
        "segment that is not the last one (it was sealed, so nothing can be "
        "torn there): " +
            problem);
  }
  if (committed_next < options.durable_position_end) {
    return Status::Corruption(
        file, last_commit_end,
        "record at position " + std::to_string(committed_next) +
            " was acknowledged durable but is damaged or missing: " + problem);
  }
  Voucher voucher;
  if (FindVoucher(data, size, last_commit_end, seed, &voucher)) {
    return Status::Corruption(
        file, last_commit_end,
        problem + "; the valid record" + At(voucher.offset) + " (position " +
            std::to_string(voucher.header.position) +
            ") was written after the segment had been synced up to offset " +
            std::to_string(voucher.header.synced_offset) +
            ", so this is damage to durable data, not a torn write");
  }
  result->torn_tail = true;
  result->torn_offset = last_commit_end;
  return Status::Ok();
}

}  // namespace cairn::segment
