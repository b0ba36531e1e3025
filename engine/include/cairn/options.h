// Copyright (c) Cairn authors. Public API.
//
// Options for Store::Open. Every field states its default and what it means
// for crashes.
#ifndef CAIRN_OPTIONS_H_
#define CAIRN_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "cairn/export.h"

namespace cairn {

enum class Durability : uint8_t {
  // Default. An append is acknowledged only after its bytes are on stable
  // storage (fdatasync). Concurrent appends share one write and one
  // fdatasync (group commit). Survives process crashes and power loss:
  // an acknowledged append is never lost.
  kGroupCommit = 0,
  // An append is acknowledged once written to the OS page cache; the store
  // fdatasyncs every `sync_interval`. Survives a process crash (the kernel
  // still has the bytes); a power loss or kernel crash may lose appends
  // acknowledged during the last interval (never part of an append: appends
  // stay atomic, and the log stays gapless).
  kInterval = 1,
  // No fdatasync except on Close() and Sync(). Survives a process crash;
  // a power loss may lose any appends since the last Close()/Sync().
  // For tests, bulk loads and throw-away stores.
  kNone = 2,
};

// Progress of the log replay at open (see Options::open_progress).
struct OpenProgress {
  // Events replayed into the stream index so far.
  uint64_t events = 0;
  // Log bytes scanned so far, and an upper bound of the bytes to scan
  // (segments count at their capacity: the exact end is known only once
  // reached). `done` is set on the last call.
  uint64_t scanned_bytes = 0;
  uint64_t total_bytes = 0;
  bool done = false;
};

// How much a report to Options::logger matters.
enum class LogLevel : uint8_t {
  // Routine work the store did on its own: the log replayed into the
  // stream index after a crash, a spare segment file left by an earlier
  // run removed, an index rebuild that Options::rebuild_index asked for.
  kInfo = 0,
  // The store repaired something at open: a torn tail cut off, a segment
  // file whose creation was interrupted removed, an active segment extended
  // to its capacity, the stream index (or some of its tables) discarded and
  // rebuilt from the log.
  kWarning = 1,
  // Background work failed: an index flush or merge. The store keeps
  // answering correctly (the index keeps the entries in memory and retries
  // after a pause), but the index's memory and the replay of the next open
  // grow until the cause, a full disk say, is gone. The last such failure
  // is also in StoreStats::index.background_error.
  kError = 2,
};

// "info", "warning" or "error".
CAIRN_EXPORT const char* LogLevelName(LogLevel level);

// Receives one report: a sentence in English that names the file, where
// the report concerns one.
using Logger = std::function<void(LogLevel level, std::string_view message)>;

struct Options {
  // Create the directory and an empty store if none exists. Default true.
  bool create_if_missing = true;

  // Open without the writer lock, for reading only. Allowed while another
  // process has the store open for writing: a read-only store sees the
  // events that writer has made durable (never unsynced ones) and picks up
  // new ones on every read. Appends return a ReadOnly error. Its index
  // memory is bounded by index_memtable_events (set it as the writer's):
  // it takes up the writer's index tables as they appear, and waits for
  // them where they lag further (docs/architecture.md, "Read-only
  // openers"). Default false.
  bool read_only = false;

  // See Durability. Default kGroupCommit (durable acknowledgements).
  Durability durability = Durability::kGroupCommit;

  // kInterval only: how often written appends are fdatasynced. Bounds the
  // window of acknowledged appends a power loss can take. Default 10 ms.
  std::chrono::milliseconds sync_interval{10};

  // Size of each segment file. A segment is preallocated and zero-filled
  // in full before it is used (the next one in the background), so the
  // store's disk usage grows a segment at a time. Applies to segments
  // created from now on; existing segments keep theirs.
  // Default 64 MiB; min 64 KiB; max 4 GiB - 1.
  uint64_t segment_size = 64ull << 20;

  // Sealed segments kept open (memory-mapped) at once, least recently read
  // evicted first; a read of any other segment maps it again (verifying
  // its header again). Bounds what the store holds whatever the log's
  // length: one file descriptor (the active segment's) and at most this
  // many segment mappings plus the active one plus one per read in
  // progress (a read keeps a segment it uses mapped until it finishes).
  // Mind vm.max_map_count (65530 on Linux by default) when raising it. No
  // effect on durability. Default 64; 1..32768.
  uint64_t max_open_segments = 64;

  // Largest event accepted, counting type, data and metadata bytes.
  // Larger events are rejected with InvalidArgument before anything is
  // written. Default 16 MiB.
  uint64_t max_event_size = 16ull << 20;

  // Largest append accepted (sum of its events' sizes). An append never
  // spans segments (that keeps it atomic), so the effective limit is at
  // most half of segment_size. Default 32 MiB.
  uint64_t max_append_size = 32ull << 20;

  // Longest stream name accepted, in bytes. Names are 1..N bytes of valid
  // UTF-8 without control characters. Names starting with '$' are system
  // streams (as in KurrentDB, any caller may append to them), except
  // "$all", the derived `$ce-`/`$et-` streams and the metadata streams
  // "$$<stream>" (written only through SetStreamMetadataJson and Delete),
  // which appends refuse. Default 1024.
  uint32_t max_stream_name_length = 1024;

  // Longest event type accepted, in bytes (same character rules as stream
  // names, '$' allowed). Default 1024.
  uint32_t max_type_length = 1024;

  // Events whose data+metadata are at least this many bytes are stored
  // LZ4-compressed when that makes them smaller; 0 disables compression.
  // Recorded per record, so changing it never affects existing data.
  // Default 4096.
  uint32_t compression_threshold = 4096;

  // Group commit: the most bytes one write+fdatasync gathers. A larger cap
  // raises throughput under load and the size of the unsynced window a
  // crash can tear (a torn window is always truncated whole on reopen).
  // Default 4 MiB.
  uint64_t max_group_bytes = 4ull << 20;

  // --- The stream index (docs/architecture.md, "The stream index") ---
  // The index is derived data kept in DIR/index/: written in the
  // background, it never lists an event that is not durable in the log,
  // and missing or damaged index files are rebuilt from the log at open.
  // No setting below can lose an event.

  // Events indexed in memory before they are written out as an index
  // table. After a crash, an open replays at most about this many events
  // (plus what was appended while the last table was being written); after
  // a clean Close, none. Also bounds the index's memory (about 65 bytes per
  // event, twice while a table is written; a read_only opener beside a
  // writer holds at most four times this many). Default 262144; 1..2^31.
  uint64_t index_memtable_events = 1ull << 18;

  // Streams whose last revision is cached in memory (about 100 bytes each
  // plus names longer than 15 bytes; streams not used recently are evicted
  // first). A read of a stream also caches that its metadata stream has no
  // events, when it has none. Larger: fewer index lookups for appends to and
  // reads of many streams. Default 65536; min 1; values above 2^31 act as
  // 2^31.
  uint64_t index_cache_streams = 1ull << 16;

  // How far back a retried append with ExpectedVersion Any or StreamExists
  // is recognised: its first event id must be among the events of the
  // stream's last this-many revisions (retries with an exact or no-stream
  // expectation are recognised at any age). Survives restarts. Such an
  // append carrying client ids costs a lookup of its ids in the in-memory
  // index, plus a read of the index-file entries of the window's revisions
  // that memory no longer holds (none while the stream's last this-many
  // events are among the last index_memtable_events appended).
  // Default 1024; 1..1048576.
  uint64_t idempotency_window = 1024;

  // Maintain the category and event-type streams `$ce-<category>` and
  // `$et-<type>` (docs/architecture.md, "Category and event-type streams"):
  // read-only streams with gapless revisions of their own, in commit
  // order, whose events are the original events (RecordedEvent::
  // link_revision holds the revision in the category or type stream).
  // They live in a second index (DIR/index/links/), derived data like the
  // stream index: never listing what the log has not made durable, and
  // rebuilt from the log where missing or damaged, so a crash loses
  // nothing. Costs two index entries per event (on disk and in memory,
  // twice the stream index's) and a little append latency.
  // false: nothing is maintained, and reading or subscribing to such a
  // stream is NotSupported. Reopening with true after appends made with
  // false catches the index up from the log at open (replaying what it
  // lacks, like a rebuild; open_progress reports it). Default true.
  bool category_and_type_streams = true;

  // Discard the index and rebuild it from the whole log at open (what
  // `cairn index rebuild` does). Writers only. A crash during the rebuild
  // leaves a partial index the next open continues. Default false.
  bool rebuild_index = false;

  // Called on the opening thread while Open replays the log into the index
  // (after a crash, a rebuild, or for a read-only opener the unindexed
  // tail), at most every few MiB and once with done = true. Default: none.
  std::function<void(const OpenProgress&)> open_progress;

  // Receives the store's reports of what it does on its own (see
  // LogLevel): recovery actions at open and failures of background work,
  // which leave no other trace. Called on the opening thread and on the
  // store's background threads, possibly from two at once: it must be
  // thread-safe, return quickly and not call the store. No call
  // follows the return of Close(). Default: none, and nothing is reported (a
  // library does not write to its host's standard error; the `cairn` command
  // line prints warnings and errors there).
  Logger logger;
};

}  // namespace cairn

#endif  // CAIRN_OPTIONS_H_
