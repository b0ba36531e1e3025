"""ctypes declarations of Cairn's C API (engine/include/cairn/c.h).

Every struct here mirrors one of c.h field for field; every function gets
its argument and result types, so ctypes converts and checks them.
"""

import ctypes
from ctypes import (POINTER, CFUNCTYPE, c_char_p, c_int, c_int64, c_size_t,
                    c_uint8, c_uint32, c_uint64, c_void_p)


class Expected(ctypes.Structure):
    _fields_ = [("kind", c_int), ("revision", c_uint64)]


class EventData(ctypes.Structure):
    _fields_ = [
        ("id", c_uint8 * 16),
        ("type", c_char_p), ("type_len", c_size_t),
        ("data", c_char_p), ("data_len", c_size_t),
        ("metadata", c_char_p), ("metadata_len", c_size_t),
        ("content_type", c_int),
    ]


class AppendResult(ctypes.Structure):
    _fields_ = [
        ("first_revision", c_uint64), ("last_revision", c_uint64),
        ("first_position", c_uint64), ("last_position", c_uint64),
        ("idempotent_replay", c_int),
    ]


class Event(ctypes.Structure):
    # Pointers as c_void_p: the bytes are not NUL terminated.
    _fields_ = [
        ("stream", c_void_p), ("stream_len", c_size_t),
        ("revision", c_uint64), ("position", c_uint64),
        ("id", c_uint8 * 16),
        ("type", c_void_p), ("type_len", c_size_t),
        ("data", c_void_p), ("data_len", c_size_t),
        ("metadata", c_void_p), ("metadata_len", c_size_t),
        ("content_type", c_int),
        ("created_us", c_int64),
    ]


class ReadStreamOptions(ctypes.Structure):
    _fields_ = [
        ("direction", c_int), ("has_from", c_int), ("from_", c_uint64),
        ("max_count", c_uint64),
    ]


class ReadAllOptions(ctypes.Structure):
    _fields_ = [
        ("direction", c_int), ("has_from", c_int), ("from_", c_uint64),
        ("max_count", c_uint64),
        ("stream_prefix", c_char_p), ("stream_prefix_len", c_size_t),
        ("type_prefix", c_char_p), ("type_prefix_len", c_size_t),
    ]


class Stats(ctypes.Structure):
    _fields_ = [
        ("events", c_uint64), ("streams", c_uint64), ("segments", c_uint64),
        ("bytes", c_uint64), ("durable_position_end", c_uint64),
        ("index_checkpoint", c_uint64),
    ]


class BackupResult(ctypes.Structure):
    _fields_ = [
        ("end_position", c_uint64), ("bytes_copied", c_uint64),
        ("bytes_reused", c_uint64), ("files_copied", c_uint64),
        ("files_reused", c_uint64),
    ]


class SnapshotData(ctypes.Structure):
    _fields_ = [
        ("data", c_char_p), ("data_len", c_size_t),
        ("schema", c_char_p), ("schema_len", c_size_t),
        ("content_type", c_int),
    ]


class Snapshot(ctypes.Structure):
    # Pointers as c_void_p: the bytes are not NUL terminated.
    _fields_ = [
        ("revision", c_uint64),
        ("data", c_void_p), ("data_len", c_size_t),
        ("schema", c_void_p), ("schema_len", c_size_t),
        ("content_type", c_int),
        ("position", c_uint64),
        ("created_us", c_int64),
    ]


ON_EVENT = CFUNCTYPE(None, c_void_p, POINTER(Event))
ON_POSITION = CFUNCTYPE(None, c_void_p, c_uint64)
ON_STOPPED = CFUNCTYPE(None, c_void_p, c_int, c_char_p)


class SubscriptionCallbacks(ctypes.Structure):
    _fields_ = [
        ("context", c_void_p),
        ("on_event", ON_EVENT),
        ("on_caught_up", ON_POSITION),
        ("on_fell_behind", ON_POSITION),
        ("on_checkpoint", ON_POSITION),
        ("on_stopped", ON_STOPPED),
    ]


class SubscriptionOptions(ctypes.Structure):
    _fields_ = [
        ("stream", c_char_p), ("stream_len", c_size_t),
        ("from_revision", c_uint64),
        ("has_from_position", c_int), ("from_position", c_uint64),
        ("from_end", c_int),
        ("stream_prefix", c_char_p), ("stream_prefix_len", c_size_t),
        ("type_prefix", c_char_p), ("type_prefix_len", c_size_t),
    ]


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Sets argtypes/restype of every C API function on `lib`."""
    err = POINTER(c_void_p)
    functions = {
        "cairn_error_code": (c_int, [c_void_p]),
        "cairn_error_message": (c_char_p, [c_void_p]),
        "cairn_error_actual_revision": (c_int, [c_void_p, POINTER(c_uint64)]),
        "cairn_error_free": (None, [c_void_p]),
        "cairn_code_name": (c_char_p, [c_int]),
        "cairn_options_create": (c_void_p, []),
        "cairn_options_free": (None, [c_void_p]),
        "cairn_options_set_create_if_missing": (None, [c_void_p, c_int]),
        "cairn_options_set_read_only": (None, [c_void_p, c_int]),
        "cairn_options_set_durability": (None, [c_void_p, c_int]),
        "cairn_options_set_sync_interval_ms": (None, [c_void_p, c_uint32]),
        "cairn_options_set_segment_size": (None, [c_void_p, c_uint64]),
        "cairn_options_set_compression_threshold": (None,
                                                    [c_void_p, c_uint32]),
        "cairn_options_set_idempotency_window": (None, [c_void_p, c_uint64]),
        "cairn_open": (c_int, [c_char_p, c_void_p, POINTER(c_void_p), err]),
        "cairn_close": (c_int, [c_void_p, err]),
        "cairn_store_free": (None, [c_void_p]),
        "cairn_sync": (c_int, [c_void_p, err]),
        "cairn_append": (c_int, [c_void_p, c_char_p, c_size_t, Expected,
                                 POINTER(EventData), c_size_t,
                                 POINTER(AppendResult), err]),
        "cairn_event_id_generate": (None, [POINTER(c_uint8)]),
        "cairn_delete": (c_int, [c_void_p, c_char_p, c_size_t, Expected,
                                 POINTER(c_uint64), err]),
        "cairn_tombstone": (c_int, [c_void_p, c_char_p, c_size_t, Expected,
                                    POINTER(c_uint64), err]),
        "cairn_set_stream_metadata": (c_int, [c_void_p, c_char_p, c_size_t,
                                              Expected, c_char_p, c_size_t,
                                              POINTER(AppendResult), err]),
        "cairn_get_stream_metadata": (c_int, [c_void_p, c_char_p, c_size_t,
                                              POINTER(c_void_p), err]),
        "cairn_metadata_json": (c_void_p, [c_void_p, POINTER(c_size_t)]),
        "cairn_metadata_revision": (c_int, [c_void_p, POINTER(c_uint64)]),
        "cairn_metadata_free": (None, [c_void_p]),
        "cairn_events_count": (c_size_t, [c_void_p]),
        "cairn_events_get": (c_int, [c_void_p, c_size_t, POINTER(Event)]),
        "cairn_events_last_revision": (c_uint64, [c_void_p]),
        "cairn_events_end_of_stream": (c_int, [c_void_p]),
        "cairn_events_next_position": (c_int, [c_void_p, POINTER(c_uint64)]),
        "cairn_events_free": (None, [c_void_p]),
        "cairn_read_stream": (c_int, [c_void_p, c_char_p, c_size_t,
                                      POINTER(ReadStreamOptions),
                                      POINTER(c_void_p), err]),
        "cairn_read_all": (c_int, [c_void_p, POINTER(ReadAllOptions),
                                   POINTER(c_void_p), err]),
        "cairn_stream_revision": (c_int, [c_void_p, c_char_p, c_size_t,
                                          POINTER(c_int), POINTER(c_uint64),
                                          err]),
        "cairn_stats": (c_int, [c_void_p, POINTER(Stats), err]),
        "cairn_backup": (c_int, [c_void_p, c_char_p, POINTER(BackupResult),
                                 err]),
        "cairn_save_snapshot": (c_int, [c_void_p, c_char_p, c_size_t,
                                        c_uint64, POINTER(SnapshotData),
                                        c_uint64, POINTER(c_uint64), err]),
        "cairn_load_aggregate": (c_int, [c_void_p, c_char_p, c_size_t,
                                         c_uint64, POINTER(c_void_p), err]),
        "cairn_aggregate_snapshot": (c_int, [c_void_p, POINTER(Snapshot)]),
        "cairn_aggregate_events": (c_void_p, [c_void_p]),
        "cairn_aggregate_next_revision": (c_uint64, [c_void_p]),
        "cairn_aggregate_free": (None, [c_void_p]),
        "cairn_subscribe": (c_int, [c_void_p, POINTER(SubscriptionOptions),
                                    POINTER(SubscriptionCallbacks),
                                    POINTER(c_void_p), err]),
        "cairn_subscription_stop": (None, [c_void_p]),
        "cairn_subscription_position": (c_uint64, [c_void_p]),
        "cairn_subscription_free": (None, [c_void_p]),
        "cairn_version": (c_char_p, []),
    }
    for name, (restype, argtypes) in functions.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib
