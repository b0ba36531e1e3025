// Copyright (c) Cairn authors.
//
// The C API (cairn/c.h) over the public C++ API. Nothing here reaches below
// engine/include/cairn: the build gives this folder no other include root.
#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/c.h"
#include "cairn/cairn.h"

struct cairn_error_t {
  cairn_code code = CAIRN_OK;
  std::string message;
  bool has_actual = false;
  uint64_t actual = 0;
};

struct cairn_options_t {
  cairn::Options options;
  int durability = CAIRN_DURABILITY_GROUP_COMMIT;  // checked by cairn_open
};

struct cairn_scavenge_options_t {
  cairn::ScavengeOptions options;  // no progress callback through C
};

struct cairn_store_t {
  std::unique_ptr<cairn::Store> store;
};

struct cairn_metadata_t {
  std::string json;
  bool has_revision = false;
  uint64_t revision = 0;
};

struct cairn_events_t {
  std::vector<cairn::RecordedEvent> events;
  uint64_t last_revision = 0;
  bool end_of_stream = false;
  bool has_next = false;
  uint64_t next_position = 0;
};

struct cairn_aggregate_t {
  std::optional<cairn::Snapshot> snapshot;
  cairn_events_t events;  // after the snapshot
  uint64_t next_revision = 0;
};

namespace {

using cairn::Status;

static_assert(static_cast<int>(cairn::StatusCode::kLimitReached) ==
                  CAIRN_LIMIT_REACHED,
              "cairn_code mirrors cairn::StatusCode");

// What View throws for a NULL pointer with a length: Guard answers it with
// InvalidArgument before anything changes.
class NullWithLength : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The bytes a caller passed as pointer and length. NULL stands for the
// empty string with length 0 only; with another length it is refused, never
// read as empty (a NULL prefix with a length would otherwise drop a filter).
std::string_view View(const char* data, size_t size) {
  if (data != nullptr) return std::string_view(data, size);
  if (size != 0) {
    throw NullWithLength("a NULL pointer with a length of " +
                         std::to_string(size));
  }
  return std::string_view();
}

// Reports `status`: its code, and through *err (if asked for) an error
// object; when even that cannot be allocated, *err is NULL and the code
// alone reports the failure.
cairn_code Fail(const Status& status, cairn_error_t** err) noexcept {
  const auto code = static_cast<cairn_code>(status.code());
  if (err == nullptr) return code;
  *err = nullptr;
  try {
    auto e = std::make_unique<cairn_error_t>();
    e->code = code;
    e->message = status.ToString();
    if (const auto* wrong = status.wrong_expected_version()) {
      if (wrong->actual_revision.has_value()) {
        e->has_actual = true;
        e->actual = *wrong->actual_revision;
      }
    }
    *err = e.release();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the code is the report
  }
  return code;
}

cairn_code Invalid(const char* message, cairn_error_t** err) {
  return Fail(Status::InvalidArgument(message), err);
}

// Runs `body`, turning an exception (from an allocation, say) into an error
// code: no C++ exception may unwind into C frames.
template <typename Body>
cairn_code Guard(cairn_error_t** err, Body&& body) noexcept {
  try {
    return body();
  } catch (const NullWithLength& e) {
    return Fail(Status::InvalidArgument(e.what()), err);
  } catch (const std::bad_alloc&) {
    return Fail(Status::IOError("out of memory"), err);
  } catch (const std::exception& e) {
    return Fail(Status::IOError(e.what()), err);
  } catch (...) {
    return Fail(Status::IOError("unknown C++ exception"), err);
  }
}

std::optional<cairn::ExpectedVersion> ExpectedFrom(cairn_expected_t expected) {
  switch (expected.kind) {
    case CAIRN_EXPECT_ANY:
      return cairn::ExpectedVersion::Any();
    case CAIRN_EXPECT_NO_STREAM:
      return cairn::ExpectedVersion::NoStream();
    case CAIRN_EXPECT_STREAM_EXISTS:
      return cairn::ExpectedVersion::StreamExists();
    case CAIRN_EXPECT_EXACT:
      return cairn::ExpectedVersion::Exact(expected.revision);
    default:
      return std::nullopt;
  }
}

void FillAppendResult(const cairn::AppendResult& in,
                      cairn_append_result_t* out) {
  if (out == nullptr) return;
  out->first_revision = in.first_revision.value();
  out->last_revision = in.last_revision.value();
  out->first_position = in.first_position.value();
  out->last_position = in.last_position.value();
  out->idempotent_replay = in.idempotent_replay ? 1 : 0;
}

cairn::EventId IdFrom(const uint8_t bytes[16]) {
  std::array<uint8_t, 16> id;
  std::memcpy(id.data(), bytes, id.size());
  return cairn::EventId(id);
}

void Fill(const cairn::RecordedEventView& e, cairn_event_t* out) {
  out->stream = e.stream.data();
  out->stream_len = e.stream.size();
  out->revision = e.revision.value();
  out->position = e.position.value();
  std::memcpy(out->id, e.id.bytes().data(), 16);
  out->type = e.type.data();
  out->type_len = e.type.size();
  out->data = e.data.data();
  out->data_len = e.data.size();
  out->metadata = e.metadata.data();
  out->metadata_len = e.metadata.size();
  out->content_type = static_cast<int>(e.content_type);
  out->created_us = e.created_us;
}

// Forwards a subscription's calls to the C callbacks.
class CallbackHandler final : public cairn::SubscriptionHandler {
 public:
  explicit CallbackHandler(const cairn_subscription_callbacks_t& callbacks)
      : callbacks_(callbacks) {}

  void OnEvent(const cairn::RecordedEventView& event) override {
    if (callbacks_.on_event == nullptr) return;
    cairn_event_t out;
    Fill(event, &out);
    callbacks_.on_event(callbacks_.context, &out);
  }
  void OnCaughtUp(cairn::GlobalPosition position) override {
    if (callbacks_.on_caught_up != nullptr) {
      callbacks_.on_caught_up(callbacks_.context, position.value());
    }
  }
  void OnFellBehind(cairn::GlobalPosition position) override {
    if (callbacks_.on_fell_behind != nullptr) {
      callbacks_.on_fell_behind(callbacks_.context, position.value());
    }
  }
  void OnCheckpoint(cairn::GlobalPosition position) override {
    if (callbacks_.on_checkpoint != nullptr) {
      callbacks_.on_checkpoint(callbacks_.context, position.value());
    }
  }
  void OnStopped(const Status& status) override {
    if (callbacks_.on_stopped == nullptr) return;
    const auto code = static_cast<cairn_code>(status.code());
    std::string message;
    try {
      if (!status.ok()) message = status.ToString();
    } catch (...) {  // NOLINT(bugprone-empty-catch): the code name stands in
    }
    // On the subscription's thread, where nothing may throw: without the
    // memory for the message, the code's name stands in for it.
    callbacks_.on_stopped(callbacks_.context, code,
                          message.empty() && !status.ok()
                              ? cairn_code_name(code)
                              : message.c_str());
  }

 private:
  const cairn_subscription_callbacks_t callbacks_;
};

}  // namespace

struct cairn_subscription_t {
  std::unique_ptr<cairn::Subscription> subscription;
};

extern "C" {

// ---- Errors ----

cairn_code cairn_error_code(const cairn_error_t* err) {
  return err == nullptr ? CAIRN_OK : err->code;
}

const char* cairn_error_message(const cairn_error_t* err) {
  return err == nullptr ? "" : err->message.c_str();
}

int cairn_error_actual_revision(const cairn_error_t* err, uint64_t* revision) {
  if (err == nullptr || !err->has_actual) return 0;
  if (revision != nullptr) *revision = err->actual;
  return 1;
}

void cairn_error_free(cairn_error_t* err) { delete err; }

const char* cairn_code_name(int code) {
  if (code < CAIRN_OK || code > CAIRN_LIMIT_REACHED) return "Unknown";
  // StatusCodeName's views are string literals, so NUL terminated.
  return cairn::StatusCodeName(static_cast<cairn::StatusCode>(code)).data();
}

// ---- Options and opening ----

cairn_options_t* cairn_options_create(void) {
  return new (std::nothrow) cairn_options_t;
}

void cairn_options_free(cairn_options_t* options) { delete options; }

void cairn_options_set_create_if_missing(cairn_options_t* options, int value) {
  if (options == nullptr) return;
  options->options.create_if_missing = value != 0;
}

void cairn_options_set_read_only(cairn_options_t* options, int value) {
  if (options == nullptr) return;
  options->options.read_only = value != 0;
}

void cairn_options_set_durability(cairn_options_t* options, int value) {
  if (options == nullptr) return;
  // Validated by cairn_open (an unknown mode is InvalidArgument there).
  options->durability = value;
}

void cairn_options_set_sync_interval_ms(cairn_options_t* options,
                                        uint32_t value) {
  if (options == nullptr) return;
  options->options.sync_interval = std::chrono::milliseconds(value);
}

void cairn_options_set_segment_size(cairn_options_t* options, uint64_t value) {
  if (options == nullptr) return;
  options->options.segment_size = value;
}

void cairn_options_set_compression_threshold(cairn_options_t* options,
                                             uint32_t value) {
  if (options == nullptr) return;
  options->options.compression_threshold = value;
}

void cairn_options_set_idempotency_window(cairn_options_t* options,
                                          uint64_t value) {
  if (options == nullptr) return;
  options->options.idempotency_window = value;
}

cairn_code cairn_open(const char* path, const cairn_options_t* options,
                      cairn_store_t** store, cairn_error_t** err) {
  if (store != nullptr) *store = nullptr;
  return Guard(err, [&]() -> cairn_code {
    if (path == nullptr || store == nullptr) {
      return Invalid("cairn_open: path and store must not be NULL", err);
    }
    *store = nullptr;
    cairn::Options chosen;
    if (options != nullptr) {
      chosen = options->options;
      switch (options->durability) {
        case CAIRN_DURABILITY_GROUP_COMMIT:
          chosen.durability = cairn::Durability::kGroupCommit;
          break;
        case CAIRN_DURABILITY_INTERVAL:
          chosen.durability = cairn::Durability::kInterval;
          break;
        case CAIRN_DURABILITY_NONE:
          chosen.durability = cairn::Durability::kNone;
          break;
        default:
          return Invalid("cairn_open: unknown durability mode", err);
      }
    }
    auto opened = cairn::Store::Open(path, chosen);
    if (!opened.ok()) return Fail(opened.status(), err);
    auto* out = new (std::nothrow) cairn_store_t;
    if (out == nullptr) return Fail(Status::IOError("out of memory"), err);
    out->store = std::move(opened).value();
    *store = out;
    return CAIRN_OK;
  });
}

cairn_code cairn_close(cairn_store_t* store, cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr) return Invalid("cairn_close: store is NULL", err);
    Status s = store->store->Close();
    return s.ok() ? CAIRN_OK : Fail(s, err);
  });
}

void cairn_store_free(cairn_store_t* store) { delete store; }

cairn_code cairn_sync(cairn_store_t* store, cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr) return Invalid("cairn_sync: store is NULL", err);
    Status s = store->store->Sync();
    return s.ok() ? CAIRN_OK : Fail(s, err);
  });
}

// ---- Appending ----

cairn_code cairn_append(cairn_store_t* store, const char* stream,
                        size_t stream_len, cairn_expected_t expected,
                        const cairn_event_data_t* events, size_t count,
                        cairn_append_result_t* result, cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || (events == nullptr && count > 0)) {
      return Invalid("cairn_append: store and events must not be NULL", err);
    }
    auto version = ExpectedFrom(expected);
    if (!version) {
      return Invalid("cairn_append: unknown expected version kind", err);
    }
    std::vector<cairn::EventData> data;
    data.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const cairn_event_data_t& in = events[i];
      if (in.content_type != CAIRN_CONTENT_BINARY &&
          in.content_type != CAIRN_CONTENT_JSON) {
        return Invalid("cairn_append: unknown content type", err);
      }
      cairn::EventData e;
      e.id = IdFrom(in.id);
      e.type = View(in.type, in.type_len);
      e.data = View(in.data, in.data_len);
      e.metadata = View(in.metadata, in.metadata_len);
      e.content_type = static_cast<cairn::ContentType>(in.content_type);
      data.push_back(std::move(e));
    }
    auto appended =
        store->store->Append(View(stream, stream_len), *version, data);
    if (!appended.ok()) return Fail(appended.status(), err);
    FillAppendResult(*appended, result);
    return CAIRN_OK;
  });
}

// ---- Stream lifecycle ----

namespace {

cairn_code Deleting(const char* name, bool tombstone, cairn_store_t* store,
                    const char* stream, size_t stream_len,
                    cairn_expected_t expected, uint64_t* position,
                    cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr) {
      return Invalid((std::string(name) + ": store must not be NULL").c_str(),
                     err);
    }
    auto version = ExpectedFrom(expected);
    if (!version) {
      return Invalid(
          (std::string(name) + ": unknown expected version kind").c_str(), err);
    }
    const std::string_view s = View(stream, stream_len);
    auto done = tombstone ? store->store->Tombstone(s, *version)
                          : store->store->Delete(s, *version);
    if (!done.ok()) return Fail(done.status(), err);
    if (position != nullptr) *position = done->position.value();
    return CAIRN_OK;
  });
}

}  // namespace

cairn_code cairn_delete(cairn_store_t* store, const char* stream,
                        size_t stream_len, cairn_expected_t expected,
                        uint64_t* position, cairn_error_t** err) {
  return Deleting("cairn_delete", /*tombstone=*/false, store, stream,
                  stream_len, expected, position, err);
}

cairn_code cairn_tombstone(cairn_store_t* store, const char* stream,
                           size_t stream_len, cairn_expected_t expected,
                           uint64_t* position, cairn_error_t** err) {
  return Deleting("cairn_tombstone", /*tombstone=*/true, store, stream,
                  stream_len, expected, position, err);
}

cairn_code cairn_set_stream_metadata(cairn_store_t* store, const char* stream,
                                     size_t stream_len,
                                     cairn_expected_t expected,
                                     const char* json, size_t json_len,
                                     cairn_append_result_t* result,
                                     cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr) {
      return Invalid("cairn_set_stream_metadata: store must not be NULL", err);
    }
    auto version = ExpectedFrom(expected);
    if (!version) {
      return Invalid("cairn_set_stream_metadata: unknown expected version kind",
                     err);
    }
    auto set = store->store->SetStreamMetadataJson(
        View(stream, stream_len), *version, View(json, json_len));
    if (!set.ok()) return Fail(set.status(), err);
    FillAppendResult(*set, result);
    return CAIRN_OK;
  });
}

cairn_code cairn_get_stream_metadata(cairn_store_t* store, const char* stream,
                                     size_t stream_len,
                                     cairn_metadata_t** metadata,
                                     cairn_error_t** err) {
  if (metadata != nullptr) *metadata = nullptr;
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || metadata == nullptr) {
      return Invalid(
          "cairn_get_stream_metadata: store and metadata must not be NULL",
          err);
    }
    auto got = store->store->GetStreamMetadata(View(stream, stream_len));
    if (!got.ok()) return Fail(got.status(), err);
    auto out = std::make_unique<cairn_metadata_t>();
    out->json = std::move(got->json);
    if (got->metastream_revision) {
      out->has_revision = true;
      out->revision = got->metastream_revision->value();
    }
    *metadata = out.release();
    return CAIRN_OK;
  });
}

const char* cairn_metadata_json(const cairn_metadata_t* metadata, size_t* len) {
  if (metadata == nullptr) {
    if (len != nullptr) *len = 0;
    return "";
  }
  if (len != nullptr) *len = metadata->json.size();
  return metadata->json.c_str();
}

int cairn_metadata_revision(const cairn_metadata_t* metadata,
                            uint64_t* revision) {
  if (metadata == nullptr || !metadata->has_revision) return 0;
  if (revision != nullptr) *revision = metadata->revision;
  return 1;
}

void cairn_metadata_free(cairn_metadata_t* metadata) { delete metadata; }

void cairn_event_id_generate(uint8_t id[16]) {
  if (id == nullptr) return;
  try {
    std::memcpy(id, cairn::EventId::Generate().bytes().data(), 16);
  } catch (...) {
    // No random source: the nil id, for which an append generates one
    // (and reports the failure with a code if it cannot either).
    std::memset(id, 0, 16);
  }
}

// ---- Reading ----

size_t cairn_events_count(const cairn_events_t* events) {
  return events == nullptr ? 0 : events->events.size();
}

int cairn_events_get(const cairn_events_t* events, size_t i,
                     cairn_event_t* out) {
  if (events == nullptr || out == nullptr || i >= events->events.size()) {
    return 0;
  }
  Fill(events->events[i].View(), out);
  return 1;
}

uint64_t cairn_events_last_revision(const cairn_events_t* events) {
  return events == nullptr ? 0 : events->last_revision;
}

int cairn_events_end_of_stream(const cairn_events_t* events) {
  return events != nullptr && events->end_of_stream ? 1 : 0;
}

int cairn_events_next_position(const cairn_events_t* events,
                               uint64_t* position) {
  if (events == nullptr || !events->has_next) return 0;
  if (position != nullptr) *position = events->next_position;
  return 1;
}

void cairn_events_free(cairn_events_t* events) { delete events; }

cairn_code cairn_read_stream(cairn_store_t* store, const char* stream,
                             size_t stream_len,
                             const cairn_read_stream_options_t* options,
                             cairn_events_t** events, cairn_error_t** err) {
  if (events != nullptr) *events = nullptr;
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || events == nullptr) {
      return Invalid("cairn_read_stream: store and events must not be NULL",
                     err);
    }
    *events = nullptr;
    cairn::ReadStreamOptions read;
    if (options != nullptr) {
      if (options->direction != CAIRN_FORWARD &&
          options->direction != CAIRN_BACKWARD) {
        return Invalid("cairn_read_stream: unknown direction", err);
      }
      read.direction = static_cast<cairn::Direction>(options->direction);
      if (options->has_from) read.from = cairn::StreamRevision(options->from);
      if (options->max_count != 0) read.max_count = options->max_count;
    }
    auto result = store->store->ReadStream(View(stream, stream_len), read);
    if (!result.ok()) return Fail(result.status(), err);
    auto* out = new (std::nothrow) cairn_events_t;
    if (out == nullptr) return Fail(Status::IOError("out of memory"), err);
    out->events = std::move(result->events);
    out->last_revision = result->last_revision.value();
    out->end_of_stream = result->end_of_stream;
    *events = out;
    return CAIRN_OK;
  });
}

cairn_code cairn_read_all(cairn_store_t* store,
                          const cairn_read_all_options_t* options,
                          cairn_events_t** events, cairn_error_t** err) {
  if (events != nullptr) *events = nullptr;
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || events == nullptr) {
      return Invalid("cairn_read_all: store and events must not be NULL", err);
    }
    *events = nullptr;
    cairn::ReadAllOptions read;
    if (options != nullptr) {
      if (options->direction != CAIRN_FORWARD &&
          options->direction != CAIRN_BACKWARD) {
        return Invalid("cairn_read_all: unknown direction", err);
      }
      read.direction = static_cast<cairn::Direction>(options->direction);
      if (options->has_from) read.from = cairn::GlobalPosition(options->from);
      if (options->max_count != 0) read.max_count = options->max_count;
      read.stream_prefix =
          View(options->stream_prefix, options->stream_prefix_len);
      read.type_prefix = View(options->type_prefix, options->type_prefix_len);
    }
    auto result = store->store->ReadAll(read);
    if (!result.ok()) return Fail(result.status(), err);
    auto* out = new (std::nothrow) cairn_events_t;
    if (out == nullptr) return Fail(Status::IOError("out of memory"), err);
    out->events = std::move(result->events);
    if (result->next_position) {
      out->has_next = true;
      out->next_position = result->next_position->value();
    }
    *events = out;
    return CAIRN_OK;
  });
}

cairn_code cairn_stream_revision(cairn_store_t* store, const char* stream,
                                 size_t stream_len, int* exists,
                                 uint64_t* revision, cairn_error_t** err) {
  if (exists != nullptr) *exists = 0;
  if (revision != nullptr) *revision = 0;
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || exists == nullptr || revision == nullptr) {
      return Invalid("cairn_stream_revision: NULL argument", err);
    }
    auto result = store->store->GetStreamRevision(View(stream, stream_len));
    if (!result.ok()) return Fail(result.status(), err);
    *exists = result->has_value() ? 1 : 0;
    *revision = result->has_value() ? (*result)->value() : 0;
    return CAIRN_OK;
  });
}

cairn_code cairn_stats(cairn_store_t* store, cairn_stats_t* stats,
                       cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || stats == nullptr) {
      return Invalid("cairn_stats: NULL argument", err);
    }
    auto result = store->store->GetStats();
    if (!result.ok()) return Fail(result.status(), err);
    stats->events = result->events;
    stats->streams = result->streams;
    stats->segments = result->segments;
    stats->bytes = result->bytes;
    stats->durable_position_end = result->durable_position_end.value();
    stats->index_checkpoint = result->index_checkpoint.value();
    return CAIRN_OK;
  });
}

cairn_code cairn_backup(cairn_store_t* store, const char* destination,
                        cairn_backup_result_t* result, cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || destination == nullptr) {
      return Invalid("cairn_backup: NULL argument", err);
    }
    auto backup = store->store->Backup(destination, cairn::BackupOptions());
    if (!backup.ok()) return Fail(backup.status(), err);
    if (result != nullptr) {
      result->end_position = backup->end_position.value();
      result->bytes_copied = backup->bytes_copied;
      result->bytes_reused = backup->bytes_reused;
      result->files_copied = backup->files_copied;
      result->files_reused = backup->files_reused;
    }
    return CAIRN_OK;
  });
}

cairn_scavenge_options_t* cairn_scavenge_options_create(void) {
  return new (std::nothrow) cairn_scavenge_options_t;
}

void cairn_scavenge_options_free(cairn_scavenge_options_t* options) {
  delete options;
}

void cairn_scavenge_options_set_throttle_percent(
    cairn_scavenge_options_t* options, uint32_t value) {
  // Validated by the scavenge (outside 1 to 100 is InvalidArgument there).
  options->options.throttle_percent = value;
}

void cairn_scavenge_options_set_bytes_per_sync(
    cairn_scavenge_options_t* options, uint64_t value) {
  options->options.bytes_per_sync = value;
}

cairn_code cairn_scavenge(cairn_store_t* store, cairn_scavenge_result_t* result,
                          cairn_error_t** err) {
  return cairn_scavenge_with_options(store, nullptr, result, err);
}

cairn_code cairn_scavenge_with_options(cairn_store_t* store,
                                       const cairn_scavenge_options_t* options,
                                       cairn_scavenge_result_t* result,
                                       cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr) return Invalid("cairn_scavenge: NULL store", err);
    auto scavenged = store->store->Scavenge(
        options != nullptr ? options->options : cairn::ScavengeOptions());
    if (!scavenged.ok()) return Fail(scavenged.status(), err);
    if (result != nullptr) {
      result->end_position = scavenged->end_position.value();
      result->events_examined = scavenged->events_examined;
      result->events_removed = scavenged->events_removed;
      result->parts_examined = scavenged->parts_examined;
      result->parts_rewritten = scavenged->parts_rewritten;
      result->bytes_before = scavenged->bytes_before;
      result->bytes_after = scavenged->bytes_after;
      result->duration_us = scavenged->duration_us;
      result->stopped = scavenged->stopped ? 1 : 0;
    }
    return CAIRN_OK;
  });
}

cairn_code cairn_stop_scavenge(cairn_store_t* store, cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr) {
      return Invalid("cairn_stop_scavenge: NULL store", err);
    }
    cairn::Status s = store->store->StopScavenge();
    return s.ok() ? CAIRN_OK : Fail(s, err);
  });
}

// ---- Snapshots ----

cairn_code cairn_save_snapshot(cairn_store_t* store, const char* stream,
                               size_t stream_len, uint64_t revision,
                               const cairn_snapshot_data_t* snapshot,
                               uint64_t keep, uint64_t* position,
                               cairn_error_t** err) {
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || snapshot == nullptr) {
      return Invalid("cairn_save_snapshot: store and snapshot must not be NULL",
                     err);
    }
    if (snapshot->content_type != CAIRN_CONTENT_BINARY &&
        snapshot->content_type != CAIRN_CONTENT_JSON) {
      return Invalid("cairn_save_snapshot: unknown content type", err);
    }
    cairn::SnapshotData data;
    data.data = std::string(View(snapshot->data, snapshot->data_len));
    data.schema = std::string(View(snapshot->schema, snapshot->schema_len));
    data.content_type = static_cast<cairn::ContentType>(snapshot->content_type);
    cairn::SaveSnapshotOptions options;
    if (keep != 0) options.keep = keep;
    auto saved = store->store->SaveSnapshot(View(stream, stream_len),
                                            cairn::StreamRevision(revision),
                                            data, options);
    if (!saved.ok()) return Fail(saved.status(), err);
    if (position != nullptr) *position = saved->position.value();
    return CAIRN_OK;
  });
}

cairn_code cairn_load_aggregate(cairn_store_t* store, const char* stream,
                                size_t stream_len, uint64_t max_count,
                                cairn_aggregate_t** aggregate,
                                cairn_error_t** err) {
  if (aggregate != nullptr) *aggregate = nullptr;
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || aggregate == nullptr) {
      return Invalid(
          "cairn_load_aggregate: store and aggregate must not be NULL", err);
    }
    *aggregate = nullptr;
    cairn::LoadAggregateOptions options;
    if (max_count != 0) options.max_count = max_count;
    auto loaded =
        store->store->LoadAggregate(View(stream, stream_len), options);
    if (!loaded.ok()) return Fail(loaded.status(), err);
    auto* out = new (std::nothrow) cairn_aggregate_t;
    if (out == nullptr) return Fail(Status::IOError("out of memory"), err);
    out->snapshot = std::move(loaded->snapshot);
    out->events.events = std::move(loaded->events);
    out->events.last_revision = loaded->last_revision.value();
    out->events.end_of_stream = loaded->end_of_stream;
    out->next_revision = loaded->next_revision.value();
    *aggregate = out;
    return CAIRN_OK;
  });
}

int cairn_aggregate_snapshot(const cairn_aggregate_t* aggregate,
                             cairn_snapshot_t* out) {
  if (aggregate == nullptr || !aggregate->snapshot || out == nullptr) return 0;
  const cairn::Snapshot& s = *aggregate->snapshot;
  out->revision = s.revision.value();
  out->data = s.data.data();
  out->data_len = s.data.size();
  out->schema = s.schema.data();
  out->schema_len = s.schema.size();
  out->content_type = static_cast<int>(s.content_type);
  out->position = s.position.value();
  out->created_us = s.created_us;
  return 1;
}

const cairn_events_t* cairn_aggregate_events(
    const cairn_aggregate_t* aggregate) {
  return aggregate == nullptr ? nullptr : &aggregate->events;
}

uint64_t cairn_aggregate_next_revision(const cairn_aggregate_t* aggregate) {
  return aggregate == nullptr ? 0 : aggregate->next_revision;
}

void cairn_aggregate_free(cairn_aggregate_t* aggregate) { delete aggregate; }

// ---- Subscriptions ----

cairn_code cairn_subscribe(cairn_store_t* store,
                           const cairn_subscription_options_t* options,
                           const cairn_subscription_callbacks_t* callbacks,
                           cairn_subscription_t** subscription,
                           cairn_error_t** err) {
  if (subscription != nullptr) *subscription = nullptr;
  return Guard(err, [&]() -> cairn_code {
    if (store == nullptr || callbacks == nullptr || subscription == nullptr) {
      return Invalid("cairn_subscribe: NULL argument", err);
    }
    *subscription = nullptr;
    cairn::SubscriptionOptions subscribe;
    if (options != nullptr) {
      if (options->stream != nullptr) {
        subscribe.stream =
            std::string(View(options->stream, options->stream_len));
        subscribe.from_revision = cairn::StreamRevision(options->from_revision);
      }
      if (options->has_from_position) {
        subscribe.from_position = cairn::GlobalPosition(options->from_position);
      }
      subscribe.from_end = options->from_end != 0;
      subscribe.stream_prefix =
          View(options->stream_prefix, options->stream_prefix_len);
      subscribe.type_prefix =
          View(options->type_prefix, options->type_prefix_len);
    }
    auto handler = std::make_shared<CallbackHandler>(*callbacks);
    auto started = store->store->Subscribe(subscribe, std::move(handler));
    if (!started.ok()) return Fail(started.status(), err);
    auto* out = new (std::nothrow) cairn_subscription_t;
    if (out == nullptr) return Fail(Status::IOError("out of memory"), err);
    out->subscription = std::move(started).value();
    *subscription = out;
    return CAIRN_OK;
  });
}

void cairn_subscription_stop(cairn_subscription_t* sub) {
  if (sub != nullptr) sub->subscription->Stop();
}

uint64_t cairn_subscription_position(const cairn_subscription_t* sub) {
  return sub == nullptr ? 0 : sub->subscription->position().value();
}

void cairn_subscription_free(cairn_subscription_t* sub) { delete sub; }

// ---- Version ----

const char* cairn_version(void) { return cairn::Version(); }

}  // extern "C"
