/* Copyright (c) Cairn authors. Public API.
 *
 * The C API: Cairn for C programs and for other languages' foreign-function
 * interfaces (the Python module in bindings/python uses it through ctypes).
 * It has no C++ types and compiles as C11.
 *
 * Conventions
 * - Every call that can fail returns a cairn_code: CAIRN_OK (0) or the
 *   error's code. If `err` is not NULL and the call fails, *err receives a
 *   new error object (owned by the caller: cairn_error_free) with the
 *   message and, for a wrong expected version, the actual revision. Pass
 *   NULL to get the code alone.
 * - Strings are passed as pointer + length (they may hold any bytes, and
 *   need no terminating NUL); a NULL pointer with length 0 is the empty
 *   string, and a NULL pointer with another length is
 *   CAIRN_INVALID_ARGUMENT.
 * - Out parameters that receive an object or a value are set (NULL, 0)
 *   first, so a failed call leaves nothing to free.
 * - Ownership: a `cairn_xxx_t*` that a call returns through an out
 *   parameter belongs to the caller, who frees it with the matching
 *   cairn_xxx_free (or cairn_close + cairn_store_free for a store). Pointers
 *   inside a cairn_event_t (stream, type, data, metadata) belong to the
 *   object the event was read from: the list (valid until
 *   cairn_events_free) or, in a subscription callback, the store (valid
 *   during the callback only). Inputs are copied before a call returns; the
 *   caller keeps ownership of everything it passes in.
 * - Enumerations travel as int (their size in C is the compiler's choice);
 *   a value outside its enumeration is refused with CAIRN_INVALID_ARGUMENT.
 * - Thread-safety: a store may be used from any number of threads at once;
 *   an events list or an error object from one thread at a time.
 * - Lifetimes: a subscription and its store may be freed in either order.
 *   Closing the store stops its subscriptions (on_stopped gets
 *   CAIRN_CLOSED); a subscription's later calls then do nothing.
 */
#ifndef CAIRN_C_H_
#define CAIRN_C_H_

/* A C11 header: typedef, (void) and <stdint.h> are C, whatever the
 * C++-only checks of clang-tidy say when a C++ file includes it. */
/* NOLINTBEGIN(modernize-use-using) */
/* NOLINTBEGIN(modernize-deprecated-headers) */
/* NOLINTBEGIN(modernize-redundant-void-arg) */
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define CAIRN_C_EXPORT __attribute__((visibility("default")))
#else
#define CAIRN_C_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors ---------------------------------------------------------- */

/* The same codes, with the same numbers, as cairn::StatusCode. */
typedef enum cairn_code {
  CAIRN_OK = 0,
  CAIRN_WRONG_EXPECTED_VERSION = 1,
  CAIRN_INVALID_ARGUMENT = 2,
  CAIRN_NOT_FOUND = 3,
  CAIRN_CORRUPTION = 4,
  CAIRN_IO_ERROR = 5,
  CAIRN_READ_ONLY = 6,
  CAIRN_LOCKED = 7,
  CAIRN_NO_SPACE = 8,
  CAIRN_CLOSED = 9,
  CAIRN_NOT_SUPPORTED = 10,
  CAIRN_STREAM_DELETED = 11,
  CAIRN_LIMIT_REACHED = 12
} cairn_code;

typedef struct cairn_error_t cairn_error_t;

CAIRN_C_EXPORT cairn_code cairn_error_code(const cairn_error_t* err);
/* "WrongExpectedVersion: ..." as in cairn::Status::ToString(); NUL
 * terminated, owned by `err`. */
CAIRN_C_EXPORT const char* cairn_error_message(const cairn_error_t* err);
/* For CAIRN_WRONG_EXPECTED_VERSION: 1 and *revision = the stream's actual
 * last revision when it exists; 0 when the stream does not exist, or for
 * any other error. */
CAIRN_C_EXPORT int cairn_error_actual_revision(const cairn_error_t* err,
                                               uint64_t* revision);
CAIRN_C_EXPORT void cairn_error_free(cairn_error_t* err);
/* The name of a code, e.g. "Corruption" (static storage). */
CAIRN_C_EXPORT const char* cairn_code_name(int code);

/* ---- Options and opening --------------------------------------------- */

typedef enum cairn_durability {
  CAIRN_DURABILITY_GROUP_COMMIT = 0, /* acknowledged after fdatasync */
  CAIRN_DURABILITY_INTERVAL = 1,     /* fdatasync every sync interval */
  CAIRN_DURABILITY_NONE = 2          /* fdatasync on sync/close/roll */
} cairn_durability;

/* Options with the defaults of cairn::Options (docs/durability.md says
 * what each durability mode survives). cairn_options_create returns NULL
 * without memory; the setters ignore a NULL `options`. */
typedef struct cairn_options_t cairn_options_t;
CAIRN_C_EXPORT cairn_options_t* cairn_options_create(void);
CAIRN_C_EXPORT void cairn_options_free(cairn_options_t* options);
CAIRN_C_EXPORT void cairn_options_set_create_if_missing(
    cairn_options_t* options, int value);
CAIRN_C_EXPORT void cairn_options_set_read_only(cairn_options_t* options,
                                                int value);
/* `value`: a cairn_durability; cairn_open refuses an unknown one. */
CAIRN_C_EXPORT void cairn_options_set_durability(cairn_options_t* options,
                                                 int value);
CAIRN_C_EXPORT void cairn_options_set_sync_interval_ms(cairn_options_t* options,
                                                       uint32_t value);
CAIRN_C_EXPORT void cairn_options_set_segment_size(cairn_options_t* options,
                                                   uint64_t value);
CAIRN_C_EXPORT void cairn_options_set_compression_threshold(
    cairn_options_t* options, uint32_t value);
CAIRN_C_EXPORT void cairn_options_set_idempotency_window(
    cairn_options_t* options, uint64_t value);

typedef struct cairn_store_t cairn_store_t;

/* Opens (or creates) the store in directory `path` (NUL terminated), as
 * cairn::Store::Open. `options` may be NULL (defaults); it is copied. */
CAIRN_C_EXPORT cairn_code cairn_open(const char* path,
                                     const cairn_options_t* options,
                                     cairn_store_t** store,
                                     cairn_error_t** err);
/* Finishes queued appends, makes them durable and releases the store's
 * files. Later calls on the store return CAIRN_CLOSED. Idempotent. */
CAIRN_C_EXPORT cairn_code cairn_close(cairn_store_t* store,
                                      cairn_error_t** err);
/* Closes the store if it is open and frees it. NULL is ignored. */
CAIRN_C_EXPORT void cairn_store_free(cairn_store_t* store);
/* Makes every acknowledged append durable now. */
CAIRN_C_EXPORT cairn_code cairn_sync(cairn_store_t* store, cairn_error_t** err);

/* ---- Appending --------------------------------------------------------- */

typedef enum cairn_expected_kind {
  CAIRN_EXPECT_ANY = 0,
  CAIRN_EXPECT_NO_STREAM = 1,
  CAIRN_EXPECT_STREAM_EXISTS = 2,
  CAIRN_EXPECT_EXACT = 3 /* the stream's last revision is `revision` */
} cairn_expected_kind;

typedef struct cairn_expected_t {
  int kind;          /* a cairn_expected_kind */
  uint64_t revision; /* CAIRN_EXPECT_EXACT only */
} cairn_expected_t;

typedef enum cairn_content_type {
  CAIRN_CONTENT_BINARY = 0,
  CAIRN_CONTENT_JSON = 1
} cairn_content_type;

/* An event to append. An all-zero id asks the store to generate one; keep
 * your own id (cairn_event_id_generate) to retry an append safely. */
typedef struct cairn_event_data_t {
  uint8_t id[16];
  const char* type;
  size_t type_len;
  const char* data;
  size_t data_len;
  const char* metadata;
  size_t metadata_len;
  int content_type; /* a cairn_content_type */
} cairn_event_data_t;

typedef struct cairn_append_result_t {
  uint64_t first_revision;
  uint64_t last_revision;
  uint64_t first_position;
  uint64_t last_position;
  int idempotent_replay; /* 1: a retry, nothing was written */
} cairn_append_result_t;

/* Appends `count` (at least 1) events to the stream atomically if
 * `expected` holds, and returns once the append is durable (by the
 * store's durability mode). `result` may be NULL. */
CAIRN_C_EXPORT cairn_code
cairn_append(cairn_store_t* store, const char* stream, size_t stream_len,
             cairn_expected_t expected, const cairn_event_data_t* events,
             size_t count, cairn_append_result_t* result, cairn_error_t** err);

/* ---- Stream lifecycle (cairn/store.h says what each does) -------------- */

/* Soft delete: the stream reads as CAIRN_NOT_FOUND until appended to
 * again. `expected` is checked against the stream. *position (may be
 * NULL) = where the delete was recorded in the global log. */
CAIRN_C_EXPORT cairn_code cairn_delete(cairn_store_t* store, const char* stream,
                                       size_t stream_len,
                                       cairn_expected_t expected,
                                       uint64_t* position, cairn_error_t** err);
/* Tombstone: every later read of or append to the stream fails with
 * CAIRN_STREAM_DELETED. */
CAIRN_C_EXPORT cairn_code cairn_tombstone(cairn_store_t* store,
                                          const char* stream, size_t stream_len,
                                          cairn_expected_t expected,
                                          uint64_t* position,
                                          cairn_error_t** err);

/* Replaces the stream's metadata JSON ($maxCount, $maxAge, $tb,
 * $cacheControl, $acl, custom properties; stored byte for byte).
 * `expected` is checked against the metadata's own revision. `result`
 * (may be NULL) gets the metadata event's revision and position. */
CAIRN_C_EXPORT cairn_code cairn_set_stream_metadata(
    cairn_store_t* store, const char* stream, size_t stream_len,
    cairn_expected_t expected, const char* json, size_t json_len,
    cairn_append_result_t* result, cairn_error_t** err);

/* A stream's metadata, owning its bytes. */
typedef struct cairn_metadata_t cairn_metadata_t;
/* On CAIRN_OK, *metadata is a new object (owned by the caller:
 * cairn_metadata_free). */
CAIRN_C_EXPORT cairn_code cairn_get_stream_metadata(cairn_store_t* store,
                                                    const char* stream,
                                                    size_t stream_len,
                                                    cairn_metadata_t** metadata,
                                                    cairn_error_t** err);
/* The JSON as written ("{}" when none was set), NUL terminated, owned by
 * `metadata`; *len (may be NULL) = its length. */
CAIRN_C_EXPORT const char* cairn_metadata_json(const cairn_metadata_t* metadata,
                                               size_t* len);
/* 1 and *revision = the metadata's revision (for CAIRN_EXPECT_EXACT on the
 * next write); 0 when none was ever set (use CAIRN_EXPECT_NO_STREAM). */
CAIRN_C_EXPORT int cairn_metadata_revision(const cairn_metadata_t* metadata,
                                           uint64_t* revision);
CAIRN_C_EXPORT void cairn_metadata_free(cairn_metadata_t* metadata);

/* A random (version 4) UUID for an event id; the nil id (all zeros, for
 * which an append generates one) if the system has no random source. A
 * NULL `id` is ignored. */
CAIRN_C_EXPORT void cairn_event_id_generate(uint8_t id[16]);

/* ---- Reading ----------------------------------------------------------- */

typedef struct cairn_event_t {
  const char* stream;
  size_t stream_len;
  uint64_t revision;
  uint64_t position;
  uint8_t id[16];
  const char* type;
  size_t type_len;
  const char* data;
  size_t data_len;
  const char* metadata;
  size_t metadata_len;
  int content_type;   /* a cairn_content_type */
  int64_t created_us; /* microseconds since the Unix epoch */
} cairn_event_t;

/* The events of a read, owning their bytes. */
typedef struct cairn_events_t cairn_events_t;
CAIRN_C_EXPORT size_t cairn_events_count(const cairn_events_t* events);
/* Fills *out with event `i` (< count); its pointers stay valid until the
 * list is freed. Returns 0 if `i` is out of range. */
CAIRN_C_EXPORT int cairn_events_get(const cairn_events_t* events, size_t i,
                                    cairn_event_t* out);
/* A stream read: the stream's last revision and whether the read reached
 * the end of the stream in its direction. A read of the global log: 0. */
CAIRN_C_EXPORT uint64_t
cairn_events_last_revision(const cairn_events_t* events);
CAIRN_C_EXPORT int cairn_events_end_of_stream(const cairn_events_t* events);
/* A read of the global log: 1 and *position = where a following read in the
 * same direction starts, or 0 when the read reached the end of the log. */
CAIRN_C_EXPORT int cairn_events_next_position(const cairn_events_t* events,
                                              uint64_t* position);
CAIRN_C_EXPORT void cairn_events_free(cairn_events_t* events);

typedef enum cairn_direction {
  CAIRN_FORWARD = 0,
  CAIRN_BACKWARD = 1
} cairn_direction;

typedef struct cairn_read_stream_options_t {
  int direction;      /* a cairn_direction */
  int has_from;       /* 0: from the start (forward) or the last event */
  uint64_t from;      /* first revision, when has_from */
  uint64_t max_count; /* 0 is taken as the default, 4096 */
} cairn_read_stream_options_t;

/* Reads a stream's events. CAIRN_NOT_FOUND if it has none. `options` may be
 * NULL (forward from the start, up to 4096 events). */
CAIRN_C_EXPORT cairn_code
cairn_read_stream(cairn_store_t* store, const char* stream, size_t stream_len,
                  const cairn_read_stream_options_t* options,
                  cairn_events_t** events, cairn_error_t** err);

typedef struct cairn_read_all_options_t {
  int direction;      /* a cairn_direction */
  int has_from;       /* 0: the start (forward) or the last event */
  uint64_t from;      /* first position, when has_from */
  uint64_t max_count; /* matching events; 0 is taken as the default, 4096 */
  const char* stream_prefix; /* only streams starting with it; may be NULL */
  size_t stream_prefix_len;
  const char* type_prefix; /* only types starting with it; may be NULL */
  size_t type_prefix_len;
} cairn_read_all_options_t;

/* Reads the global log in position order. `options` may be NULL. */
CAIRN_C_EXPORT cairn_code
cairn_read_all(cairn_store_t* store, const cairn_read_all_options_t* options,
               cairn_events_t** events, cairn_error_t** err);

/* The stream's last revision: *exists = 1 and *revision set, or *exists =
 * 0 when the stream has no events. */
CAIRN_C_EXPORT cairn_code cairn_stream_revision(cairn_store_t* store,
                                                const char* stream,
                                                size_t stream_len, int* exists,
                                                uint64_t* revision,
                                                cairn_error_t** err);

typedef struct cairn_stats_t {
  uint64_t events;               /* visible events (the next position) */
  uint64_t streams;              /* streams with at least one event */
  uint64_t segments;             /* log files */
  uint64_t bytes;                /* bytes of stored records */
  uint64_t durable_position_end; /* every event below it is durable */
  uint64_t index_checkpoint;     /* a reopen replays the log from here */
} cairn_stats_t;

CAIRN_C_EXPORT cairn_code cairn_stats(cairn_store_t* store,
                                      cairn_stats_t* stats,
                                      cairn_error_t** err);

/* ---- Snapshots (cairn/snapshot.h) -------------------------------------- */

/* A snapshot to save: the state, and its content type or schema version
 * (e.g. "OrderState/v2"; may be empty). */
typedef struct cairn_snapshot_data_t {
  const char* data;
  size_t data_len;
  const char* schema;
  size_t schema_len;
  int content_type; /* a cairn_content_type */
} cairn_snapshot_data_t;

/* Saves `snapshot` as the stream's state after its event at `revision`,
 * keeping the newest `keep` snapshots of the stream (0 is taken as the
 * default, 1). CAIRN_INVALID_ARGUMENT when `revision` is beyond the
 * stream's last revision or below its first readable one; see
 * Store::SaveSnapshot. *position (may be NULL) = where the snapshot was
 * recorded in the global log. */
CAIRN_C_EXPORT cairn_code
cairn_save_snapshot(cairn_store_t* store, const char* stream, size_t stream_len,
                    uint64_t revision, const cairn_snapshot_data_t* snapshot,
                    uint64_t keep, uint64_t* position, cairn_error_t** err);

/* A loaded snapshot; its pointers belong to the aggregate it came from. */
typedef struct cairn_snapshot_t {
  uint64_t revision; /* the state after the stream's event at this revision */
  const char* data;
  size_t data_len;
  const char* schema;
  size_t schema_len;
  int content_type;   /* a cairn_content_type */
  uint64_t position;  /* of the snapshot event in the global log */
  int64_t created_us; /* when it was saved */
} cairn_snapshot_t;

/* An aggregate: the newest usable snapshot and the events after it. */
typedef struct cairn_aggregate_t cairn_aggregate_t;
/* Loads the stream's aggregate (Store::LoadAggregate): at most `max_count`
 * events after the snapshot (0 is taken as the default, 4096). On CAIRN_OK,
 * *aggregate is a new object (owned by the caller: cairn_aggregate_free). */
CAIRN_C_EXPORT cairn_code cairn_load_aggregate(
    cairn_store_t* store, const char* stream, size_t stream_len,
    uint64_t max_count, cairn_aggregate_t** aggregate, cairn_error_t** err);
/* 1 and *out filled when the aggregate has a snapshot; 0 when the events
 * start at the stream's first readable event. */
CAIRN_C_EXPORT int cairn_aggregate_snapshot(const cairn_aggregate_t* aggregate,
                                            cairn_snapshot_t* out);
/* The events after the snapshot, owned by the aggregate (never pass them
 * to cairn_events_free): cairn_events_count/get, and last_revision and
 * end_of_stream as for a stream read. */
CAIRN_C_EXPORT const cairn_events_t* cairn_aggregate_events(
    const cairn_aggregate_t* aggregate);
/* Where reading the rest of the stream continues when the events did not
 * reach its end. */
CAIRN_C_EXPORT uint64_t
cairn_aggregate_next_revision(const cairn_aggregate_t* aggregate);
CAIRN_C_EXPORT void cairn_aggregate_free(cairn_aggregate_t* aggregate);

/* What a backup did (Store::Backup in cairn/store.h). */
typedef struct cairn_backup_result_t {
  uint64_t end_position; /* the backup holds every event below it */
  uint64_t bytes_copied; /* written to the destination by this run */
  uint64_t bytes_reused; /* kept from an older backup there */
  uint64_t files_copied;
  uint64_t files_reused;
} cairn_backup_result_t;

/* Hot backup into the directory `destination` (NUL-terminated; created if
 * missing, or an older backup of this store, which makes the run
 * incremental) while appends go on. `result` may be NULL. The copy opens
 * as a store holding every event durable when the backup started; see
 * Store::Backup for the errors and crash semantics. */
CAIRN_C_EXPORT cairn_code cairn_backup(cairn_store_t* store,
                                       const char* destination,
                                       cairn_backup_result_t* result,
                                       cairn_error_t** err);

/* What a scavenge did (Store::Scavenge in cairn/store.h). */
typedef struct cairn_scavenge_result_t {
  uint64_t end_position; /* every event below it was examined */
  uint64_t events_examined;
  uint64_t events_removed;
  uint64_t parts_examined; /* parts of the log */
  uint64_t parts_rewritten;
  uint64_t bytes_before; /* disk bytes of the rewritten parts */
  uint64_t bytes_after;
  uint64_t duration_us;
  int stopped; /* cairn_stop_scavenge ended it early */
} cairn_scavenge_result_t;

/* Removes, online, the events no read can return any more (deleted,
 * tombstoned, beyond $maxCount, $maxAge or $tb) and gives their disk space
 * back; see Store::Scavenge for what it keeps, the errors and the crash
 * semantics. Blocks until done. `result` may be NULL. */
CAIRN_C_EXPORT cairn_code cairn_scavenge(cairn_store_t* store,
                                         cairn_scavenge_result_t* result,
                                         cairn_error_t** err);
/* How a scavenge runs, with the defaults of cairn::ScavengeOptions: the
 * share of the time it works (1 to 100, KurrentDB's throttlePercent;
 * cairn_scavenge_with_options refuses anything else), and the bytes of a
 * rewritten part written between fdatasyncs (0: the whole part). */
typedef struct cairn_scavenge_options_t cairn_scavenge_options_t;
CAIRN_C_EXPORT cairn_scavenge_options_t* cairn_scavenge_options_create(void);
CAIRN_C_EXPORT void cairn_scavenge_options_free(
    cairn_scavenge_options_t* options);
CAIRN_C_EXPORT void cairn_scavenge_options_set_throttle_percent(
    cairn_scavenge_options_t* options, uint32_t value);
CAIRN_C_EXPORT void cairn_scavenge_options_set_bytes_per_sync(
    cairn_scavenge_options_t* options, uint64_t value);
/* cairn_scavenge with `options` (NULL: the defaults). */
CAIRN_C_EXPORT cairn_code cairn_scavenge_with_options(
    cairn_store_t* store, const cairn_scavenge_options_t* options,
    cairn_scavenge_result_t* result, cairn_error_t** err);
/* Asks a running cairn_scavenge (on another thread) to stop after its
 * current step; CAIRN_NOT_FOUND if none runs. */
CAIRN_C_EXPORT cairn_code cairn_stop_scavenge(cairn_store_t* store,
                                              cairn_error_t** err);

/* ---- Subscriptions ----------------------------------------------------- */

/* Called on the subscription's own thread, one call at a time. Any callback
 * may be NULL. A callback must not stop or free its own subscription, nor
 * close or free the store: those calls join or end the very thread the
 * callback runs on (freeing the subscription there aborts the process). */
typedef struct cairn_subscription_callbacks_t {
  void* context; /* passed to every callback */
  /* The event's pointers are valid during the call only. */
  void (*on_event)(void* context, const cairn_event_t* event);
  /* Everything durable so far was delivered; live from `position`. */
  void (*on_caught_up)(void* context, uint64_t position);
  /* The subscription fell behind and catches up from `position`. */
  void (*on_fell_behind)(void* context, uint64_t position);
  /* Filtered subscriptions: every event before `position` was examined. */
  void (*on_checkpoint)(void* context, uint64_t position);
  /* Last call: CAIRN_OK after cairn_subscription_stop (or free), else the
   * error that ended the subscription; `message` valid during the call. */
  void (*on_stopped)(void* context, cairn_code code, const char* message);
} cairn_subscription_callbacks_t;

typedef struct cairn_subscription_options_t {
  const char* stream; /* NULL: the global log; else this stream only */
  size_t stream_len;
  uint64_t from_revision; /* a stream: first revision delivered */
  int has_from_position;  /* the global log: start at from_position */
  uint64_t from_position;
  int from_end; /* the global log: only events appended from now on */
  const char* stream_prefix; /* the global log: filters, may be NULL */
  size_t stream_prefix_len;
  const char* type_prefix;
  size_t type_prefix_len;
} cairn_subscription_options_t;

typedef struct cairn_subscription_t cairn_subscription_t;

/* Starts a subscription that delivers events (only durable ones) to the
 * callbacks, catching up from history and then following live appends.
 * `options` may be NULL: the global log from its start. */
CAIRN_C_EXPORT cairn_code cairn_subscribe(
    cairn_store_t* store, const cairn_subscription_options_t* options,
    const cairn_subscription_callbacks_t* callbacks,
    cairn_subscription_t** subscription, cairn_error_t** err);
/* Stops delivery; returns after the last callback (on_stopped). */
CAIRN_C_EXPORT void cairn_subscription_stop(cairn_subscription_t* sub);
/* The position after the last event examined: a resume point. */
CAIRN_C_EXPORT uint64_t
cairn_subscription_position(const cairn_subscription_t* sub);
/* Stops the subscription if needed and frees it. NULL is ignored. */
CAIRN_C_EXPORT void cairn_subscription_free(cairn_subscription_t* sub);

/* ---- Version ------------------------------------------------------------ */

/* The library's version, "MAJOR.MINOR.PATCH" (static storage). */
CAIRN_C_EXPORT const char* cairn_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

/* NOLINTEND(modernize-redundant-void-arg) */
/* NOLINTEND(modernize-deprecated-headers) */
/* NOLINTEND(modernize-use-using) */
#endif /* CAIRN_C_H_ */
