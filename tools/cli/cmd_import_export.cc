// Copyright (c) Cairn authors.
//
// cairn import DIR FILE|- [--dry-run]
// cairn export DIR [--output FILE]
//
// export writes every event as one JSON line (tools/jsonl/event_format.h) in
// position order; import appends such lines, so export | import copies a
// store (with new `created` times: the store stamps events when it accepts
// them).
//
// Import speed comes from three things: consecutive lines of one stream are
// grouped into one multi-event append; up to kMaxOutstanding appends are in
// flight at once through AppendAsync, so the store's group commit writes
// many of them with one write; and the store is opened with
// Durability::kNone and made durable once, by Close(), before the summary
// is printed. The store's commit thread takes appends in submission order,
// so lines keep their order.
//
// Errors: import stops at the first bad line. Everything before that line
// is appended (and durable when import exits), nothing from that line on.
// To get that guarantee without a second pass over the input, each line is
// checked before it is queued against the rules the public API documents
// (stream and type names, event size), and a line with an "expected"
// version waits for its outcome before the next line is read.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <istream>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cairn/store.h"
#include "tools/cli/command.h"
#include "tools/jsonl/event_format.h"
#include "tools/jsonl/json.h"
#include "tools/jsonl/line_reader.h"

namespace cairn::tools {
namespace {

// Appends in flight at most: enough for group commit to fill large
// groups, few enough to bound the memory of queued events.
constexpr uint64_t kMaxOutstanding = 1024;
// Limits of one grouped append. Bytes are estimated with the stream name
// and a per-record allowance for framing, and also capped at a quarter of
// the segment size: an append must fit one segment with room to spare
// (Options::max_append_size), also with the smallest segments.
constexpr size_t kMaxGroupEvents = 512;
constexpr uint64_t kMaxGroupBytes = 1 << 20;
constexpr uint64_t kRecordAllowance = 128;
// Events per VisitAll call in export.
constexpr uint64_t kExportPage = 4096;

struct LineRange {
  uint64_t first = 0;
  uint64_t last = 0;

  std::string ToString() const {
    return first == last
               ? "line " + std::to_string(first)
               : "lines " + std::to_string(first) + "-" + std::to_string(last);
  }
};

// Keeps up to kMaxOutstanding AppendAsync calls in flight and records the
// first failure. Callbacks run on the store's commit thread (or, for an
// append the store rejects up front, inside AppendAsync on ours), so all
// shared state is under mu_, and Submit never holds mu_ while calling
// into the store.
class AsyncAppender {
 public:
  explicit AsyncAppender(Store* store) : store_(store) {}
  AsyncAppender(const AsyncAppender&) = delete;
  AsyncAppender& operator=(const AsyncAppender&) = delete;
  ~AsyncAppender() { Drain(); }

  void Submit(std::string stream, ExpectedVersion expected,
              std::vector<EventData> events, LineRange lines) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return outstanding_ < kMaxOutstanding; });
      ++outstanding_;
    }
    const uint64_t count = events.size();
    store_->AppendAsync(
        std::move(stream), expected, std::move(events),
        [this, lines, count](Result<AppendResult> result) {
          // Notify under the lock: once it is released, Drain may return
          // and the appender may be destroyed.
          std::lock_guard<std::mutex> lock(mu_);
          --outstanding_;
          if (result.ok()) {
            (result->idempotent_replay ? replayed_ : appended_) += count;
          } else {
            if (failure_.ok()) {
              failure_ = result.status();
              failure_lines_ = lines;
            }
            failed_.push_back(lines);
          }
          cv_.notify_all();
        });
  }

  // Waits until every submitted append has completed.
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return outstanding_ == 0; });
  }

  bool failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return !failure_.ok();
  }
  // Call after Drain().
  const Status& failure() const { return failure_; }
  LineRange failure_lines() const { return failure_lines_; }
  // Every failed append's lines, in line order. Call after Drain().
  std::vector<LineRange> failed_appends() const {
    std::vector<LineRange> out = failed_;
    std::sort(out.begin(), out.end(),
              [](const LineRange& a, const LineRange& b) {
                return a.first < b.first;
              });
    return out;
  }
  uint64_t appended() const { return appended_; }
  uint64_t replayed() const { return replayed_; }

 private:
  Store* const store_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t outstanding_ = 0;
  uint64_t appended_ = 0;
  uint64_t replayed_ = 0;
  Status failure_;
  LineRange failure_lines_;
  // At most kMaxOutstanding: reading stops at the first failure.
  std::vector<LineRange> failed_;
};

// The name rules of Options (stream names and event types): valid UTF-8
// without control characters (C0, DEL, C1).
bool IsPrintableName(std::string_view name) {
  if (!json::IsValidUtf8(name)) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) return false;
    // U+0080..U+009F are encoded as C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < name.size() &&
        static_cast<unsigned char>(name[i + 1]) < 0xA0) {
      return false;
    }
  }
  return true;
}

// Checks a line against the documented limits of `options`, so a line the
// store would reject is reported by number before anything after it runs.
bool CheckLine(const EventLine& line, const Options& options,
               std::string* error) {
  const std::string& stream = line.stream;
  if (stream.empty() || stream.size() > options.max_stream_name_length) {
    *error = "stream name must be 1 to " +
             std::to_string(options.max_stream_name_length) + " bytes";
    return false;
  }
  if (stream[0] == '$') {
    *error = "stream name starts with '$', reserved for system streams";
    return false;
  }
  if (!IsPrintableName(stream)) {
    *error = "stream name must be valid UTF-8 without control characters";
    return false;
  }
  const std::string& type = line.event.type;
  if (type.empty() || type.size() > options.max_type_length) {
    *error = "event type must be 1 to " +
             std::to_string(options.max_type_length) + " bytes";
    return false;
  }
  if (!IsPrintableName(type)) {
    *error = "event type must be valid UTF-8 without control characters";
    return false;
  }
  uint64_t size =
      type.size() + line.event.data.size() + line.event.metadata.size();
  if (size > options.max_event_size) {
    *error = "event is " + std::to_string(size) +
             " bytes (type + data + metadata), more than the limit of " +
             std::to_string(options.max_event_size);
    return false;
  }
  return true;
}

// Consecutive lines of one stream without an expected version, to be
// appended as one append.
struct PendingGroup {
  std::string stream;
  std::vector<EventData> events;
  std::set<EventId> ids;  // an append must not repeat an id
  uint64_t bytes = 0;
  LineRange lines;
  // The first line's revision and id, when it has both (export's lines).
  std::optional<uint64_t> first_revision;
  EventId first_id;

  bool empty() const { return events.empty(); }
  bool Accepts(const EventLine& line, uint64_t max_bytes) const {
    return !empty() && line.stream == stream &&
           events.size() < kMaxGroupEvents &&
           bytes + EstimatedSize(line) <= max_bytes &&
           (line.event.id.IsNil() || ids.count(line.event.id) == 0);
  }
  static uint64_t EstimatedSize(const EventLine& line) {
    return line.stream.size() + line.event.type.size() +
           line.event.data.size() + line.event.metadata.size() +
           kRecordAllowance;
  }
};

struct ImportArgs {
  std::string dir;
  std::string file;
  bool dry_run = false;
  uint64_t segment_size = Options().segment_size;
};

class Importer {
 public:
  Importer(const Io& io, const ImportArgs& args) : io_(io), args_(args) {
    options_.segment_size = args.segment_size;
    options_.durability = Durability::kNone;
    max_group_bytes_ = std::min(
        {kMaxGroupBytes, options_.max_append_size, options_.segment_size / 4});
  }

  int Run() {
    const auto start = std::chrono::steady_clock::now();
    std::ifstream file;
    std::istream* input = &io_.in;
    if (args_.file != "-") {
      file.open(args_.file, std::ios::binary);
      if (!file) {
        return FailStatus(io_, kName,
                          Status::IOError("cannot open " + args_.file, errno));
      }
      input = &file;
    }
    if (!args_.dry_run) {
      auto store = OpenStore(args_.dir, /*read_only=*/false, options_);
      if (!store.ok()) return FailStatus(io_, kName, store.status());
      store_ = std::move(store.value());
      auto stats = store_->GetStats();
      if (!stats.ok()) return FailStatus(io_, kName, stats.status());
      streams_before_ = stats->events > 0;
      appender_ = std::make_unique<AsyncAppender>(store_.get());
    }
    int code = ReadLines(*input);
    if (!args_.dry_run) {
      appender_->Drain();
      if (code == kExitOk && !appender_->failure().ok()) {
        code = ReportStoreFailure();
      }
      Status closed = store_->Close();  // makes every append durable
      if (!closed.ok() && code == kExitOk) {
        code = FailStatus(io_, kName, closed);
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    PrintSummary(code, seconds);
    return code;
  }

 private:
  static constexpr std::string_view kName = "import";
  // The longest line an event of Options::max_event_size bytes needs: its
  // data and metadata in base64 (4 bytes per 3), plus 1 MiB for the names,
  // the id and the other fields.
  static size_t MaxLineBytes() {
    return Options().max_event_size / 3 * 4 + 4 + (1 << 20);
  }

  int ReadLines(std::istream& input) {
    LineReader reader(input.rdbuf(), MaxLineBytes());
    std::string_view text;
    EventLine line;
    std::string error;
    while (reader.Next(&text) || reader.too_long()) {
      if (reader.too_long()) {
        ++line_number_;
        // Reading stops here, so a dry run lists no line after it.
        if (args_.dry_run) ++bad_lines_;
        return BadLine("the line is longer than " +
                       std::to_string(MaxLineBytes()) +
                       " bytes, more than any event's line");
      }
      ++line_number_;
      if (json::TrimWhitespace(text).empty()) continue;  // blank line
      if (!ParseEventLine(text, &line, &error) ||
          !CheckLine(line, options_, &error)) {
        if (!args_.dry_run) return BadLine(error);
        // A dry run lists every bad line, so they can be fixed at once.
        ++bad_lines_;
        Fail(io_, kName, "line " + std::to_string(line_number_) + ": " + error,
             kExitError);
        continue;
      }
      ++lines_ok_;
      streams_.insert(line.stream);
      if (args_.dry_run) continue;
      if (line.expected) {
        // Its outcome decides whether the import goes on, so it runs
        // alone and is waited for.
        FlushGroup();
        LineRange lines{line_number_, line_number_};
        last_sent_ = line_number_;
        std::vector<EventData> events;
        events.push_back(std::move(line.event));
        appender_->Submit(std::move(line.stream), *line.expected,
                          std::move(events), lines);
        appender_->Drain();
      } else {
        if (!group_.Accepts(line, max_group_bytes_)) FlushGroup();
        AddToGroup(std::move(line));
      }
      if (appender_->failed()) return kExitOk;  // reported after Drain
    }
    FlushGroup();
    return bad_lines_ == 0 ? kExitOk : kExitError;
  }

  int BadLine(const std::string& error) {
    // The lines before this one are appended; this one and later are not.
    FlushGroup();
    stopped_at_ = line_number_;
    return Fail(io_, kName,
                "line " + std::to_string(line_number_) + ": " + error,
                kExitError);
  }

  void AddToGroup(EventLine&& line) {
    if (group_.empty()) {
      group_.stream = std::move(line.stream);
      group_.lines.first = line_number_;
      group_.first_revision = line.revision;
      group_.first_id = line.event.id;
    }
    group_.lines.last = line_number_;
    group_.bytes += PendingGroup::EstimatedSize(line);
    if (!line.event.id.IsNil()) group_.ids.insert(line.event.id);
    group_.events.push_back(std::move(line.event));
  }

  void FlushGroup() {
    if (group_.empty() || appender_ == nullptr) {
      group_ = PendingGroup();
      return;
    }
    last_sent_ = group_.lines.last;
    const ExpectedVersion expected = GroupExpected();
    appender_->Submit(std::move(group_.stream), expected,
                      std::move(group_.events), group_.lines);
    group_ = PendingGroup();
  }

  // Any, unless the group is already in the store: the store holds its
  // first event (same id) at the revision the line names, as after a
  // re-import of an export or an import run again after a failure. Then it
  // is appended as a retry at that revision (Exact), which the store
  // recognises however old, where Any is recognised only within the
  // stream's last idempotency_window events. Only streams the store had
  // before the import are checked, each until a group of it is not there.
  ExpectedVersion GroupExpected() {
    if (!group_.first_revision || group_.first_id.IsNil() || !streams_before_ ||
        new_streams_.contains(group_.stream)) {
      return ExpectedVersion::Any();
    }
    const uint64_t revision = *group_.first_revision;
    ReadStreamOptions one;
    one.from = StreamRevision(revision);
    one.max_count = 1;
    auto read = store_->ReadStream(group_.stream, one);
    if (read.ok() && !read->events.empty() &&
        read->events[0].revision.value() == revision &&
        read->events[0].id == group_.first_id) {
      return revision == 0 ? ExpectedVersion::NoStream()
                           : ExpectedVersion::Exact(revision - 1);
    }
    new_streams_.insert(group_.stream);
    return ExpectedVersion::Any();
  }

  int ReportStoreFailure() {
    const Status& s = appender_->failure();
    failed_ = appender_->failed_appends();
    stopped_at_ = failed_.front().first;
    std::string message = appender_->failure_lines().ToString() + ": ";
    message += s.IsWrongExpectedVersion()
                   ? "wrong expected version: " + s.message()
                   : s.ToString();
    int code = ExitCodeFor(s);
    if (code == kExitUsage) code = kExitError;  // bad input, not bad usage
    return Fail(io_, kName, message, code);
  }

  void PrintSummary(int code, double seconds) {
    if (args_.dry_run) {
      if (code == kExitOk) {
        io_.out << "checked " << lines_ok_ << " events for " << streams_.size()
                << " streams: no errors\n";
      } else {
        io_.err << "cairn import: checked " << lines_ok_ + bad_lines_
                << " lines: " << bad_lines_ << " bad\n";
      }
      return;
    }
    const uint64_t appended = appender_->appended();
    const uint64_t replayed = appender_->replayed();
    std::ostream& out = code == kExitOk ? io_.out : io_.err;
    char rate[64];
    int n = std::snprintf(
        rate, sizeof(rate), "%.2f s, %.0f events/s", seconds,
        seconds > 0 ? static_cast<double>(appended) / seconds : 0.0);
    if (code == kExitOk) {
      out << "imported " << appended << " events into " << streams_.size()
          << " streams in " << std::string(rate, n > 0 ? n : 0);
    } else {
      out << "cairn import: stopped at line " << stopped_at_ << "; " << appended
          << " events were imported";
      // Appends sent before the store reported the failure completed on
      // their own: name exactly which lines are not in the store.
      if (!failed_.empty() && last_sent_ > failed_.front().last) {
        out << ", from every line up to " << last_sent_ << " but ";
        for (size_t i = 0; i < failed_.size() && i < kListedFailures; ++i) {
          out << (i > 0 ? ", " : "") << failed_[i].ToString();
        }
        if (failed_.size() > kListedFailures) {
          out << " and " << failed_.size() - kListedFailures << " more appends";
        }
      }
    }
    if (replayed > 0) {
      out << "; " << replayed
          << " events were already in the store (same ids) and were skipped";
    }
    out << '\n';
  }

  const Io& io_;
  const ImportArgs& args_;
  Options options_;
  uint64_t max_group_bytes_ = 0;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AsyncAppender> appender_;
  PendingGroup group_;
  std::unordered_set<std::string> streams_;
  uint64_t line_number_ = 0;
  uint64_t lines_ok_ = 0;
  uint64_t stopped_at_ = 0;
  uint64_t last_sent_ = 0;       // the last line sent to the store
  bool streams_before_ = false;  // the store had events at the start
  // Streams whose events of this import are not in the store already.
  std::unordered_set<std::string> new_streams_;
  std::vector<LineRange> failed_;  // the appends the store refused
  static constexpr size_t kListedFailures = 10;
  uint64_t bad_lines_ = 0;
};

struct ExportArgs {
  std::string dir;
  std::string output;
};

int RunExport(const Io& io, const ExportArgs& args) {
  constexpr std::string_view kName = "export";
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  std::ofstream file;
  std::ostream* sink = &io.out;
  if (!args.output.empty() && args.output != "-") {
    file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!file) {
      return FailStatus(io, kName,
                        Status::IOError("cannot create " + args.output, errno));
    }
    sink = &file;
  }
  OutputBuffer out(*sink);
  ReadAllOptions options;
  options.max_count = kExportPage;
  uint64_t events = 0;
  while (true) {
    auto next = (*store)->VisitAll(options, [&](const RecordedEventView& e) {
      AppendEventJsonLine(e, PayloadStyle::kExact, out.buffer());
      out.MaybeFlush();
      ++events;
      return true;
    });
    if (!next.ok()) {
      out.Flush();
      return FailStatus(io, kName, next.status());
    }
    if (!next->has_value()) break;
    options.from = **next;
  }
  if (!out.Flush()) return Fail(io, kName, "cannot write output", kExitError);
  if (sink == &file) {
    file.close();
    if (!file) {
      return Fail(io, kName, "cannot write " + args.output, kExitError);
    }
    io.out << "exported " << events << " events to " << args.output << '\n';
  }
  return kExitOk;
}

}  // namespace

Command AddImportCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* sub = app.add_subcommand(
      "import",
      "Append events from JSON Lines (the format export writes); stops at "
      "the first bad line");
  sub->add_option("DIR", args->dir, "Store directory (created if missing)")
      ->required();
  sub->add_option("FILE", args->file, "Input file, or - for standard input")
      ->required();
  sub->add_flag("--dry-run", args->dry_run,
                "Only check every line; do not open or change the store");
  sub->add_option("--segment-size", args->segment_size,
                  "Size of segment files created from now on, in bytes")
      ->transform(UnsignedDecimal())
      ->capture_default_str();
  return {sub, [io, args] { return Importer(io, *args).Run(); }};
}

Command AddExportCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* sub = app.add_subcommand(
      "export",
      "Write every event as JSON Lines that import accepts (read-only)");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  sub->add_option("--output,-o", args->output,
                  "Write to this file instead of standard output");
  return {sub, [io, args] { return RunExport(io, *args); }};
}

}  // namespace cairn::tools
