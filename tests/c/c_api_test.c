/* Copyright (c) Cairn authors.
 *
 * The C API from a C11 program: open, append (expected versions, ids,
 * idempotent retries, typed errors with the actual revision), read a stream
 * and the global log, subscribe with callbacks, stats, and bad input. Each
 * check prints its name; the last line is "N passed, N failed" and the exit
 * code is nonzero if any check failed. Usage: c_api_test DIR (a fresh,
 * writable directory; the store is DIR/store, its backup DIR/backup).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/c.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (cond) {                                                              \
      ++passed;                                                              \
    } else {                                                                 \
      ++failed;                                                              \
      (void)fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
    }                                                                        \
  } while (0)

static cairn_event_data_t Event(const char* type, const char* data) {
  cairn_event_data_t e;
  memset(&e, 0, sizeof e);
  cairn_event_id_generate(e.id);
  e.type = type;
  e.type_len = strlen(type);
  e.data = data;
  e.data_len = strlen(data);
  e.content_type = CAIRN_CONTENT_JSON;
  return e;
}

static int Equals(const char* bytes, size_t len, const char* text) {
  return len == strlen(text) && memcmp(bytes, text, len) == 0;
}

/* What a subscription saw; the callbacks run on its own thread. */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int events;
  int caught_up;
  int stopped;
  cairn_code stop_code;
  uint64_t last_position;
  int in_order;
} Seen;

static void OnEvent(void* context, const cairn_event_t* event) {
  Seen* seen = context;
  pthread_mutex_lock(&seen->mu);
  if (seen->events > 0 && event->position <= seen->last_position) {
    seen->in_order = 0;
  }
  seen->last_position = event->position;
  ++seen->events;
  pthread_cond_broadcast(&seen->cv);
  pthread_mutex_unlock(&seen->mu);
}

static void OnCaughtUp(void* context, uint64_t position) {
  Seen* seen = context;
  (void)position;
  pthread_mutex_lock(&seen->mu);
  seen->caught_up = 1;
  pthread_cond_broadcast(&seen->cv);
  pthread_mutex_unlock(&seen->mu);
}

static void OnStopped(void* context, cairn_code code, const char* message) {
  Seen* seen = context;
  (void)message;
  pthread_mutex_lock(&seen->mu);
  seen->stopped = 1;
  seen->stop_code = code;
  pthread_cond_broadcast(&seen->cv);
  pthread_mutex_unlock(&seen->mu);
}

/* Waits (no timeout: ctest's bounds the run) until `count` events arrived. */
static void WaitForEvents(Seen* seen, int count) {
  pthread_mutex_lock(&seen->mu);
  while (seen->events < count) pthread_cond_wait(&seen->cv, &seen->mu);
  pthread_mutex_unlock(&seen->mu);
}

static void TestAppendAndRead(cairn_store_t* store) {
  cairn_expected_t no_stream = {CAIRN_EXPECT_NO_STREAM, 0};
  cairn_event_data_t placed[2] = {Event("OrderPlaced", "{\"qty\":2}"),
                                  Event("OrderPaid", "{\"amount\":4}")};
  cairn_append_result_t result;
  cairn_error_t* err = NULL;
  CHECK(cairn_append(store, "Order-1", 7, no_stream, placed, 2, &result,
                     &err) == CAIRN_OK);
  CHECK(err == NULL);
  CHECK(result.first_revision == 0 && result.last_revision == 1);
  CHECK(result.first_position == 0 && result.last_position == 1);
  CHECK(result.idempotent_replay == 0);

  /* The same append again (same ids) is a retry, not a duplicate. */
  CHECK(cairn_append(store, "Order-1", 7, no_stream, placed, 2, &result,
                     &err) == CAIRN_OK);
  CHECK(result.idempotent_replay == 1 && result.first_position == 0);

  /* A stale expected revision: a typed error with the actual revision. */
  cairn_expected_t exact0 = {CAIRN_EXPECT_EXACT, 0};
  cairn_event_data_t shipped = Event("OrderShipped", "{}");
  CHECK(cairn_append(store, "Order-1", 7, exact0, &shipped, 1, &result, &err) ==
        CAIRN_WRONG_EXPECTED_VERSION);
  CHECK(err != NULL);
  CHECK(cairn_error_code(err) == CAIRN_WRONG_EXPECTED_VERSION);
  uint64_t actual = 99;
  CHECK(cairn_error_actual_revision(err, &actual) == 1 && actual == 1);
  CHECK(strstr(cairn_error_message(err), "WrongExpectedVersion") != NULL);
  cairn_error_free(err);
  err = NULL;

  /* No stream yet: the error says so (no actual revision). */
  cairn_expected_t exists = {CAIRN_EXPECT_STREAM_EXISTS, 0};
  CHECK(cairn_append(store, "User-7", 6, exists, &shipped, 1, NULL, &err) ==
        CAIRN_WRONG_EXPECTED_VERSION);
  CHECK(cairn_error_actual_revision(err, &actual) == 0);
  cairn_error_free(err);
  err = NULL;

  cairn_expected_t any = {CAIRN_EXPECT_ANY, 0};
  cairn_event_data_t user = Event("UserCreated", "{\"name\":\"Ada\"}");
  CHECK(cairn_append(store, "User-7", 6, any, &user, 1, &result, NULL) ==
        CAIRN_OK);
  CHECK(result.first_position == 2);

  /* Read the stream forwards and backwards. */
  cairn_events_t* events = NULL;
  CHECK(cairn_read_stream(store, "Order-1", 7, NULL, &events, &err) ==
        CAIRN_OK);
  CHECK(cairn_events_count(events) == 2);
  cairn_event_t e;
  CHECK(cairn_events_get(events, 0, &e) == 1);
  CHECK(Equals(e.stream, e.stream_len, "Order-1"));
  CHECK(Equals(e.type, e.type_len, "OrderPlaced"));
  CHECK(Equals(e.data, e.data_len, "{\"qty\":2}"));
  CHECK(memcmp(e.id, placed[0].id, 16) == 0);
  CHECK(e.revision == 0 && e.position == 0 && e.created_us > 0);
  CHECK(e.content_type == CAIRN_CONTENT_JSON);
  CHECK(cairn_events_get(events, 2, &e) == 0);
  CHECK(cairn_events_last_revision(events) == 1);
  CHECK(cairn_events_end_of_stream(events) == 1);
  cairn_events_free(events);

  cairn_read_stream_options_t backward = {CAIRN_BACKWARD, 0, 0, 1};
  CHECK(cairn_read_stream(store, "Order-1", 7, &backward, &events, NULL) ==
        CAIRN_OK);
  CHECK(cairn_events_count(events) == 1);
  CHECK(cairn_events_get(events, 0, &e) == 1 && e.revision == 1);
  cairn_events_free(events);

  CHECK(cairn_read_stream(store, "Nope", 4, NULL, &events, NULL) ==
        CAIRN_NOT_FOUND);
  CHECK(events == NULL);

  /* The global log, whole and filtered by stream prefix, in pages. */
  CHECK(cairn_read_all(store, NULL, &events, NULL) == CAIRN_OK);
  CHECK(cairn_events_count(events) == 3);
  uint64_t next = 0;
  CHECK(cairn_events_next_position(events, &next) == 0);
  cairn_events_free(events);

  cairn_read_all_options_t users;
  memset(&users, 0, sizeof users);
  users.stream_prefix = "User-";
  users.stream_prefix_len = 5;
  CHECK(cairn_read_all(store, &users, &events, NULL) == CAIRN_OK);
  CHECK(cairn_events_count(events) == 1);
  CHECK(cairn_events_get(events, 0, &e) == 1 && e.position == 2);
  cairn_events_free(events);

  cairn_read_all_options_t page;
  memset(&page, 0, sizeof page);
  page.max_count = 2;
  CHECK(cairn_read_all(store, &page, &events, NULL) == CAIRN_OK);
  CHECK(cairn_events_count(events) == 2);
  CHECK(cairn_events_next_position(events, &next) == 1 && next == 2);
  cairn_events_free(events);

  int exists_flag = 0;
  uint64_t revision = 0;
  CHECK(cairn_stream_revision(store, "Order-1", 7, &exists_flag, &revision,
                              NULL) == CAIRN_OK);
  CHECK(exists_flag == 1 && revision == 1);
  CHECK(cairn_stream_revision(store, "Nope", 4, &exists_flag, &revision,
                              NULL) == CAIRN_OK);
  CHECK(exists_flag == 0);

  cairn_stats_t stats;
  CHECK(cairn_stats(store, &stats, NULL) == CAIRN_OK);
  CHECK(stats.events == 3 && stats.streams == 2 && stats.segments >= 1);
  CHECK(stats.durable_position_end == 3);
}

static void TestBadInput(cairn_store_t* store) {
  cairn_error_t* err = NULL;
  cairn_expected_t any = {CAIRN_EXPECT_ANY, 0};
  cairn_event_data_t e = Event("T", "{}");
  /* Empty and reserved stream names, no events, an unknown kind. */
  CHECK(cairn_append(store, "", 0, any, &e, 1, NULL, &err) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(err != NULL && strlen(cairn_error_message(err)) > 0);
  cairn_error_free(err);
  CHECK(cairn_append(store, "$all", 4, any, &e, 1, NULL, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_append(store, "s", 1, any, &e, 0, NULL, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  cairn_expected_t bogus = {42, 0};
  CHECK(cairn_append(store, "s", 1, bogus, &e, 1, NULL, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  e.content_type = 7;
  CHECK(cairn_append(store, "s", 1, any, &e, 1, NULL, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  cairn_read_stream_options_t sideways = {5, 0, 0, 0};
  cairn_events_t* events = NULL;
  CHECK(cairn_read_stream(store, "s", 1, &sideways, &events, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(cairn_append(NULL, "s", 1, any, &e, 1, NULL, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  /* A NULL pointer with a length is refused, never read as empty: not as
   * an event's data, nor as a prefix (which would drop the filter). */
  e = Event("T", "{}");
  e.data = NULL;
  CHECK(cairn_append(store, "s", 1, any, &e, 1, NULL, &err) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(cairn_error_message(err), "NULL") != NULL);
  cairn_error_free(err);
  err = NULL;
  cairn_read_all_options_t prefix;
  memset(&prefix, 0, sizeof prefix);
  prefix.direction = CAIRN_FORWARD;
  prefix.stream_prefix_len = 5;
  events = (cairn_events_t*)&prefix; /* not NULL: the call resets it */
  CHECK(cairn_read_all(store, &prefix, &events, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(events == NULL);
  /* Out parameters are reset even when the store is NULL. */
  events = (cairn_events_t*)&prefix;
  CHECK(cairn_read_stream(NULL, "s", 1, NULL, &events, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(events == NULL);
  int exists = 7;
  uint64_t revision = 7;
  CHECK(cairn_stream_revision(NULL, "s", 1, &exists, &revision, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(exists == 0 && revision == 0);
  /* NULL options and ids are ignored by the calls that return nothing. */
  cairn_options_set_segment_size(NULL, 1);
  cairn_options_set_read_only(NULL, 1);
  cairn_event_id_generate(NULL);
  /* Nothing of that was written. */
  cairn_stats_t stats;
  CHECK(cairn_stats(store, &stats, NULL) == CAIRN_OK && stats.events == 3);
  CHECK(strcmp(cairn_code_name(CAIRN_CORRUPTION), "Corruption") == 0);
  CHECK(strcmp(cairn_code_name(99), "Unknown") == 0);
  /* An unknown durability mode is refused by the open. */
  cairn_options_t* options = cairn_options_create();
  cairn_options_set_durability(options, 9);
  cairn_store_t* other = NULL;
  CHECK(cairn_open("/nonexistent-unused", options, &other, NULL) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(other == NULL);
  cairn_options_free(options);
}

static void TestSubscription(cairn_store_t* store) {
  Seen seen;
  memset(&seen, 0, sizeof seen);
  pthread_mutex_init(&seen.mu, NULL);
  pthread_cond_init(&seen.cv, NULL);
  seen.in_order = 1;
  cairn_subscription_callbacks_t callbacks;
  memset(&callbacks, 0, sizeof callbacks);
  callbacks.context = &seen;
  callbacks.on_event = OnEvent;
  callbacks.on_caught_up = OnCaughtUp;
  callbacks.on_stopped = OnStopped;
  cairn_subscription_t* sub = NULL;
  CHECK(cairn_subscribe(store, NULL, &callbacks, &sub, NULL) == CAIRN_OK);
  WaitForEvents(&seen, 3); /* history */
  cairn_expected_t any = {CAIRN_EXPECT_ANY, 0};
  cairn_event_data_t live = Event("Live", "{}");
  CHECK(cairn_append(store, "Live-1", 6, any, &live, 1, NULL, NULL) ==
        CAIRN_OK);
  WaitForEvents(&seen, 4); /* and live */
  cairn_subscription_stop(sub);
  pthread_mutex_lock(&seen.mu);
  CHECK(seen.stopped == 1 && seen.stop_code == CAIRN_OK);
  CHECK(seen.events == 4 && seen.in_order && seen.last_position == 3);
  pthread_mutex_unlock(&seen.mu);
  CHECK(cairn_subscription_position(sub) == 4);
  cairn_subscription_free(sub);
}

/* Runs on the store the other tests left (positions 0..3 are taken). */
static void TestLifecycle(cairn_store_t* store) {
  cairn_expected_t any = {CAIRN_EXPECT_ANY, 0};
  cairn_expected_t no_stream = {CAIRN_EXPECT_NO_STREAM, 0};
  cairn_error_t* err = NULL;
  cairn_metadata_t* meta = NULL;
  CHECK(cairn_get_stream_metadata(store, "Order-1", 7, &meta, NULL) ==
        CAIRN_OK);
  CHECK(Equals(cairn_metadata_json(meta, NULL), 2, "{}"));
  CHECK(cairn_metadata_revision(meta, NULL) == 0);
  cairn_metadata_free(meta);
  const char* json = "{\"$maxCount\":1, \"x\":1}";
  cairn_append_result_t result;
  CHECK(cairn_set_stream_metadata(store, "Order-1", 7, no_stream, json,
                                  strlen(json), &result, NULL) == CAIRN_OK);
  CHECK(result.first_revision == 0 && result.first_position == 4);
  CHECK(cairn_set_stream_metadata(store, "Order-1", 7, any, "{\"$maxAge\":0}",
                                  13, NULL, &err) == CAIRN_INVALID_ARGUMENT);
  cairn_error_free(err);
  err = NULL;
  CHECK(cairn_get_stream_metadata(store, "Order-1", 7, &meta, NULL) ==
        CAIRN_OK);
  size_t len = 0;
  const char* got = cairn_metadata_json(meta, &len);
  CHECK(Equals(got, len, json));
  uint64_t revision = 99;
  CHECK(cairn_metadata_revision(meta, &revision) == 1 && revision == 0);
  cairn_metadata_free(meta);
  cairn_events_t* events = NULL;
  CHECK(cairn_read_stream(store, "Order-1", 7, NULL, &events, NULL) ==
        CAIRN_OK);
  CHECK(cairn_events_count(events) == 1); /* $maxCount 1 */
  cairn_events_free(events);

  uint64_t position = 0;
  CHECK(cairn_delete(store, "Order-1", 7, any, &position, NULL) == CAIRN_OK);
  CHECK(position == 5);
  CHECK(cairn_read_stream(store, "Order-1", 7, NULL, &events, NULL) ==
        CAIRN_NOT_FOUND);
  CHECK(cairn_tombstone(store, "User-7", 6, no_stream, NULL, &err) ==
        CAIRN_WRONG_EXPECTED_VERSION);
  cairn_error_free(err);
  CHECK(cairn_tombstone(store, "User-7", 6, any, &position, NULL) == CAIRN_OK);
  CHECK(position == 6);
  cairn_event_data_t e = Event("E", "{}");
  CHECK(cairn_append(store, "User-7", 6, any, &e, 1, NULL, NULL) ==
        CAIRN_STREAM_DELETED);

  /* A scavenge removes the tombstoned stream's events for good. */
  cairn_scavenge_result_t scavenged;
  memset(&scavenged, 0, sizeof scavenged);
  CHECK(cairn_scavenge(store, &scavenged, NULL) == CAIRN_OK);
  CHECK(scavenged.events_removed >= 1 && scavenged.stopped == 0);
  CHECK(scavenged.bytes_before >= scavenged.bytes_after);
  CHECK(cairn_read_stream(store, "User-7", 6, NULL, &events, NULL) ==
        CAIRN_STREAM_DELETED);
  CHECK(cairn_stop_scavenge(store, NULL) == CAIRN_NOT_FOUND);
  CHECK(cairn_scavenge(NULL, NULL, NULL) == CAIRN_INVALID_ARGUMENT);

  /* Options: a throttled run in small pieces; a throttle out of range is
   * refused with the engine's message. */
  cairn_scavenge_options_t* options = cairn_scavenge_options_create();
  CHECK(options != NULL);
  cairn_scavenge_options_set_throttle_percent(options, 50);
  cairn_scavenge_options_set_bytes_per_sync(options, 4096);
  memset(&scavenged, 0, sizeof scavenged);
  CHECK(cairn_scavenge_with_options(store, options, &scavenged, NULL) ==
        CAIRN_OK);
  CHECK(scavenged.events_removed == 0 && scavenged.stopped == 0);
  cairn_scavenge_options_set_throttle_percent(options, 0);
  err = NULL;
  CHECK(cairn_scavenge_with_options(store, options, NULL, &err) ==
        CAIRN_INVALID_ARGUMENT);
  CHECK(err != NULL &&
        strstr(cairn_error_message(err), "throttle_percent") != NULL);
  cairn_error_free(err);
  cairn_scavenge_options_free(options);
  CHECK(cairn_scavenge_with_options(store, NULL, NULL, NULL) == CAIRN_OK);
}

/* Snapshots of a fresh stream: save, load, bad input. */
static void TestSnapshots(cairn_store_t* store) {
  cairn_expected_t any = {CAIRN_EXPECT_ANY, 0};
  cairn_event_data_t events3[3] = {Event("A", "{}"), Event("B", "{}"),
                                   Event("C", "{}")};
  CHECK(cairn_append(store, "Cart-1", 6, any, events3, 3, NULL, NULL) ==
        CAIRN_OK);
  cairn_aggregate_t* aggregate = NULL;
  cairn_snapshot_t snap;
  CHECK(cairn_load_aggregate(store, "Cart-1", 6, 0, &aggregate, NULL) ==
        CAIRN_OK);
  CHECK(cairn_aggregate_snapshot(aggregate, &snap) == 0);
  CHECK(cairn_events_count(cairn_aggregate_events(aggregate)) == 3);
  cairn_aggregate_free(aggregate);

  cairn_snapshot_data_t state = {"{\"n\":2}", 7, "Cart/v1", 7,
                                 CAIRN_CONTENT_JSON};
  uint64_t position = 0;
  CHECK(cairn_save_snapshot(store, "Cart-1", 6, 1, &state, 0, &position,
                            NULL) == CAIRN_OK);
  CHECK(position > 0);
  cairn_error_t* err = NULL;
  CHECK(cairn_save_snapshot(store, "Cart-1", 6, 3, &state, 0, NULL, &err) ==
        CAIRN_INVALID_ARGUMENT);
  cairn_error_free(err);
  CHECK(cairn_save_snapshot(store, "Cart-9", 6, 0, &state, 0, NULL, NULL) ==
        CAIRN_NOT_FOUND);

  CHECK(cairn_load_aggregate(store, "Cart-1", 6, 0, &aggregate, NULL) ==
        CAIRN_OK);
  CHECK(cairn_aggregate_snapshot(aggregate, &snap) == 1);
  CHECK(snap.revision == 1 && snap.position == position);
  CHECK(Equals(snap.data, snap.data_len, "{\"n\":2}"));
  CHECK(Equals(snap.schema, snap.schema_len, "Cart/v1"));
  CHECK(snap.content_type == CAIRN_CONTENT_JSON && snap.created_us > 0);
  const cairn_events_t* after = cairn_aggregate_events(aggregate);
  CHECK(cairn_events_count(after) == 1);
  cairn_event_t e;
  CHECK(cairn_events_get(after, 0, &e) == 1 && e.revision == 2);
  CHECK(cairn_events_last_revision(after) == 2);
  CHECK(cairn_events_end_of_stream(after) == 1);
  CHECK(cairn_aggregate_next_revision(aggregate) == 3);
  cairn_aggregate_free(aggregate);
  CHECK(cairn_load_aggregate(store, "Cart-9", 6, 0, &aggregate, NULL) ==
        CAIRN_NOT_FOUND);
  CHECK(aggregate == NULL);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    (void)fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  CHECK(strlen(cairn_version()) >= 5);
  char store_dir[4096];
  char backup_dir[4096];
  if (snprintf(store_dir, sizeof store_dir, "%s/store", argv[1]) >=
          (int)sizeof store_dir ||
      snprintf(backup_dir, sizeof backup_dir, "%s/backup", argv[1]) >=
          (int)sizeof backup_dir) {
    (void)fprintf(stderr, "DIR is too long: %s\n", argv[1]);
    return 2;
  }
  cairn_error_t* err = NULL;
  cairn_store_t* store = NULL;
  cairn_options_t* options = cairn_options_create();
  cairn_options_set_segment_size(options, 1u << 20);
  CHECK(cairn_open(store_dir, options, &store, &err) == CAIRN_OK);
  cairn_options_free(options);
  if (store == NULL) {
    (void)fprintf(stderr, "open: %s\n", cairn_error_message(err));
    return 1;
  }
  TestAppendAndRead(store);
  TestBadInput(store);
  TestSubscription(store);

  /* A second writer is refused while the first holds the store. */
  cairn_store_t* second = NULL;
  CHECK(cairn_open(store_dir, NULL, &second, NULL) == CAIRN_LOCKED);
  CHECK(second == NULL);

  /* A subscription that outlives its store: closing the store stops it
   * (CAIRN_CLOSED), and it is freed after the store. */
  Seen late;
  memset(&late, 0, sizeof late);
  pthread_mutex_init(&late.mu, NULL);
  pthread_cond_init(&late.cv, NULL);
  cairn_subscription_callbacks_t callbacks;
  memset(&callbacks, 0, sizeof callbacks);
  callbacks.context = &late;
  callbacks.on_event = OnEvent;
  callbacks.on_stopped = OnStopped;
  cairn_subscription_t* outliving = NULL;
  CHECK(cairn_subscribe(store, NULL, &callbacks, &outliving, NULL) == CAIRN_OK);
  WaitForEvents(&late, 4);

  CHECK(cairn_close(store, NULL) == CAIRN_OK);
  CHECK(cairn_close(store, NULL) == CAIRN_OK); /* idempotent */
  cairn_events_t* events = NULL;
  CHECK(cairn_read_all(store, NULL, &events, NULL) == CAIRN_CLOSED);
  pthread_mutex_lock(&late.mu);
  CHECK(late.stopped == 1 && late.stop_code == CAIRN_CLOSED);
  pthread_mutex_unlock(&late.mu);
  cairn_store_free(store);
  cairn_subscription_stop(outliving); /* harmless now */
  cairn_subscription_free(outliving);

  /* A backup of the closed store's files, taken through a read-only open,
   * opens with the same events. */
  options = cairn_options_create();
  cairn_options_set_read_only(options, 1);
  CHECK(cairn_open(store_dir, options, &store, NULL) == CAIRN_OK);
  cairn_backup_result_t backup;
  memset(&backup, 0, sizeof backup);
  CHECK(cairn_backup(store, backup_dir, &backup, NULL) == CAIRN_OK);
  CHECK(backup.end_position == 4 && backup.files_copied >= 1);
  CHECK(cairn_backup(store, NULL, NULL, NULL) == CAIRN_INVALID_ARGUMENT);
  cairn_store_free(store);
  CHECK(cairn_open(backup_dir, options, &store, NULL) == CAIRN_OK);
  cairn_options_free(options);
  CHECK(cairn_read_all(store, NULL, &events, NULL) == CAIRN_OK);
  CHECK(cairn_events_count(events) == 4);
  cairn_events_free(events);
  cairn_store_free(store);

  /* Reopened read-only: everything is there. */
  options = cairn_options_create();
  cairn_options_set_read_only(options, 1);
  CHECK(cairn_open(store_dir, options, &store, NULL) == CAIRN_OK);
  cairn_options_free(options);
  CHECK(cairn_read_all(store, NULL, &events, NULL) == CAIRN_OK);
  CHECK(cairn_events_count(events) == 4);
  cairn_events_free(events);
  cairn_expected_t any = {CAIRN_EXPECT_ANY, 0};
  cairn_event_data_t e = Event("T", "{}");
  CHECK(cairn_append(store, "s", 1, any, &e, 1, NULL, NULL) == CAIRN_READ_ONLY);
  cairn_store_free(store);

  /* Writable again, for the stream lifecycle calls. */
  CHECK(cairn_open(store_dir, NULL, &store, NULL) == CAIRN_OK);
  TestLifecycle(store);
  TestSnapshots(store);
  cairn_store_free(store);

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
