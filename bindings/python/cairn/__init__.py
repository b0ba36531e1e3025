"""Cairn, the embeddable event store, from Python.

A thin layer over Cairn's C API (``cairn/c.h``) through the standard
library's ``ctypes``: no compiler is needed to install it, only
``libcairn.so`` (Cairn built with ``-DBUILD_SHARED_LIBS=ON``). The library
is found through the ``CAIRN_LIBRARY`` environment variable (a path), else
the system's library search (``ctypes.util.find_library``).

    import cairn

    with cairn.Store.open("shop") as store:
        store.append("Order-1", [cairn.EventData("OrderPlaced", b'{"qty":2}')],
                     expected=cairn.NO_STREAM)
        for event in store.read_stream("Order-1"):
            print(event.revision, event.type, event.data)

Errors are exceptions: every one is a ``cairn.CairnError`` with a ``code``;
``WrongExpectedVersion`` carries ``actual_revision``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence, Tuple, Union

from cairn import _c

__all__ = [
    "ANY", "NO_STREAM", "STREAM_EXISTS", "EventData", "RecordedEvent",
    "AppendResult", "BackupResult", "Stats", "Store", "Subscription", "CairnError",
    "Snapshot", "Aggregate",
    "WrongExpectedVersion", "InvalidArgument", "NotFound", "Corruption",
    "StoreIOError", "ReadOnly", "Locked", "NoSpace", "Closed", "NotSupported", "LimitReached",
    "StreamDeleted",
    "version",
]

# Expected versions: one of these, or an int (the stream's exact last
# revision).
ANY = "any"
NO_STREAM = "no-stream"
STREAM_EXISTS = "stream-exists"

Expected = Union[str, int]


class CairnError(Exception):
    """A failed Cairn call. ``code`` is the C API's cairn_code."""

    code = -1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WrongExpectedVersion(CairnError):
    """The stream was not at the expected version. ``actual_revision`` is
    its last revision, or None when the stream does not exist."""

    code = 1

    def __init__(self, message: str, actual_revision: Optional[int]):
        super().__init__(message)
        self.actual_revision = actual_revision


class InvalidArgument(CairnError, ValueError):
    code = 2


class NotFound(CairnError, KeyError):
    code = 3

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class Corruption(CairnError):
    code = 4


class StoreIOError(CairnError, OSError):
    code = 5


class ReadOnly(CairnError):
    code = 6


class Locked(CairnError):
    code = 7


class NoSpace(CairnError):
    code = 8


class Closed(CairnError):
    code = 9


class NotSupported(CairnError):
    code = 10


class StreamDeleted(CairnError):
    code = 11


class LimitReached(CairnError):
    code = 12


_ERRORS = {cls.code: cls for cls in (
    InvalidArgument, NotFound, Corruption, StoreIOError, ReadOnly, Locked,
    NoSpace, Closed, NotSupported, StreamDeleted, LimitReached)}


def _load() -> ctypes.CDLL:
    path = os.environ.get("CAIRN_LIBRARY") or ctypes.util.find_library("cairn")
    if not path:
        raise ImportError(
            "libcairn not found: build Cairn with -DBUILD_SHARED_LIBS=ON and "
            "set CAIRN_LIBRARY to the path of libcairn.so")
    return _c.declare(ctypes.CDLL(path))


_lib = _load()


def _raise(code: int, err: ctypes.c_void_p) -> None:
    """Raises the exception for a failed call and frees its error."""
    try:
        if err:
            message = _lib.cairn_error_message(err).decode("utf-8", "replace")
        else:
            message = _lib.cairn_code_name(code).decode()
        if code == WrongExpectedVersion.code:
            actual = ctypes.c_uint64()
            known = err and _lib.cairn_error_actual_revision(
                err, ctypes.byref(actual))
            raise WrongExpectedVersion(message,
                                       actual.value if known else None)
        raise _ERRORS.get(code, CairnError)(message)
    finally:
        if err:
            _lib.cairn_error_free(err)


def _call(function, *args) -> None:
    err = ctypes.c_void_p()
    code = function(*args, ctypes.byref(err))
    if code != 0:
        _raise(code, err)


def _bytes(value: Union[str, bytes, None]) -> bytes:
    if value is None:
        return b""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def version() -> str:
    """The version of the libcairn in use."""
    return _lib.cairn_version().decode()


@dataclass
class EventData:
    """An event to append. ``id`` None: the store generates one; keep your
    own (``uuid.uuid4()``) to retry an append safely."""

    type: str
    data: Union[bytes, str] = b""
    metadata: Union[bytes, str] = b""
    id: Optional[uuid.UUID] = None
    json: bool = True


@dataclass(frozen=True)
class RecordedEvent:
    stream: str
    revision: int
    position: int
    id: uuid.UUID
    type: str
    data: bytes
    metadata: bytes
    json: bool
    created_us: int  # microseconds since the Unix epoch


@dataclass(frozen=True)
class AppendResult:
    first_revision: int
    last_revision: int
    first_position: int
    last_position: int
    idempotent_replay: bool


@dataclass(frozen=True)
class Stats:
    events: int
    streams: int
    segments: int
    bytes: int
    durable_position_end: int
    index_checkpoint: int


@dataclass(frozen=True)
class BackupResult:
    end_position: int   # the backup holds every event below it
    bytes_copied: int   # written by this run
    bytes_reused: int   # kept from an older backup
    files_copied: int
    files_reused: int


@dataclass(frozen=True)
class Snapshot:
    revision: int  # the state after the stream's event at this revision
    data: bytes
    schema: str
    json: bool
    position: int  # of the snapshot event in the global log
    created_us: int


@dataclass(frozen=True)
class Aggregate:
    """The newest usable snapshot (None: none) and the events after it.
    When ``end_of_stream`` is false, more events follow: read them with
    ``read_stream(stream, from_revision=next_revision)``."""

    snapshot: Optional[Snapshot]
    events: list
    last_revision: int
    end_of_stream: bool
    next_revision: int


def _event(e: _c.Event) -> RecordedEvent:
    return RecordedEvent(
        stream=ctypes.string_at(e.stream, e.stream_len).decode("utf-8"),
        revision=e.revision,
        position=e.position,
        id=uuid.UUID(bytes=bytes(e.id)),
        type=ctypes.string_at(e.type, e.type_len).decode("utf-8"),
        data=ctypes.string_at(e.data, e.data_len),
        metadata=ctypes.string_at(e.metadata, e.metadata_len),
        json=e.content_type == 1,
        created_us=e.created_us,
    )


class _Events:
    """A C events list, freed when done."""

    def __init__(self, handle: ctypes.c_void_p):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        _lib.cairn_events_free(self.handle)

    def items(self) -> list:
        out = []
        e = _c.Event()
        for i in range(_lib.cairn_events_count(self.handle)):
            _lib.cairn_events_get(self.handle, i, ctypes.byref(e))
            out.append(_event(e))
        return out


class Store:
    """An open store. Use as a context manager, or call close()."""

    def __init__(self, handle: ctypes.c_void_p):
        self._handle = handle
        # Set when closing begins: the store's close waits for its
        # subscriptions' threads, so they stop waiting for buffer room.
        self._closing = threading.Event()

    @classmethod
    def open(cls, path: Union[str, os.PathLike], *,
             create_if_missing: bool = True, read_only: bool = False,
             durability: str = "group-commit",
             segment_size: Optional[int] = None) -> "Store":
        """Opens (or creates) the store in directory ``path``.
        ``durability``: "group-commit" (acknowledged once durable),
        "interval" or "none" (docs/durability.md)."""
        modes = {"group-commit": 0, "interval": 1, "none": 2}
        if durability not in modes:
            raise InvalidArgument(f"unknown durability {durability!r}")
        options = _lib.cairn_options_create()
        try:
            _lib.cairn_options_set_create_if_missing(options,
                                                     int(create_if_missing))
            _lib.cairn_options_set_read_only(options, int(read_only))
            _lib.cairn_options_set_durability(options, modes[durability])
            if segment_size is not None:
                _lib.cairn_options_set_segment_size(options, segment_size)
            handle = ctypes.c_void_p()
            _call(_lib.cairn_open, os.fsencode(path), options,
                  ctypes.byref(handle))
        finally:
            _lib.cairn_options_free(options)
        return cls(handle)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._closing.set()
            _free(_lib.cairn_store_free, handle)

    def close(self) -> None:
        """Stops the store's subscriptions, finishes queued appends and
        makes them durable. Idempotent."""
        if self._handle:
            self._closing.set()
            _call(_lib.cairn_close, self._handle)

    def sync(self) -> None:
        _call(_lib.cairn_sync, self._live())

    def _live(self) -> ctypes.c_void_p:
        if not self._handle:
            raise Closed("the store was freed")
        return self._handle

    def append(self, stream: str, events: Sequence[EventData], *,
               expected: Expected = ANY) -> AppendResult:
        """Appends ``events`` to ``stream`` atomically if ``expected`` holds
        (ANY, NO_STREAM, STREAM_EXISTS or the exact last revision)."""
        kind, revision = _expected(expected)
        array = (_c.EventData * len(events))()
        keep = []  # the bytes the C structs point at, alive for the call
        for slot, e in zip(array, events):
            fields = [_bytes(e.type), _bytes(e.data), _bytes(e.metadata)]
            keep.extend(fields)
            if e.id is not None:
                ctypes.memmove(slot.id, e.id.bytes, 16)
            slot.type, slot.type_len = fields[0], len(fields[0])
            slot.data, slot.data_len = fields[1], len(fields[1])
            slot.metadata, slot.metadata_len = fields[2], len(fields[2])
            slot.content_type = 1 if e.json else 0
        name = _bytes(stream)
        result = _c.AppendResult()
        _call(_lib.cairn_append, self._live(), name, len(name),
              _c.Expected(kind, revision), array, len(events),
              ctypes.byref(result))
        return _append_result(result)

    def delete(self, stream: str, *, expected: Expected = ANY) -> int:
        """Soft-deletes ``stream`` (it reads as NotFound until appended to
        again); returns the delete's position in the global log."""
        return self._deleting(_lib.cairn_delete, stream, expected)

    def tombstone(self, stream: str, *, expected: Expected = ANY) -> int:
        """Tombstones ``stream``: later reads and appends raise
        StreamDeleted. Returns the tombstone's position."""
        return self._deleting(_lib.cairn_tombstone, stream, expected)

    def _deleting(self, function, stream: str, expected: Expected) -> int:
        kind, revision = _expected(expected)
        name = _bytes(stream)
        position = ctypes.c_uint64()
        _call(function, self._live(), name, len(name),
              _c.Expected(kind, revision), ctypes.byref(position))
        return position.value

    def get_metadata(self, stream: str) -> Tuple[str, Optional[int]]:
        """The stream's metadata JSON as written ("{}" when none) and its
        revision (None when never set: write it with expected=NO_STREAM)."""
        name = _bytes(stream)
        handle = ctypes.c_void_p()
        _call(_lib.cairn_get_stream_metadata, self._live(), name, len(name),
              ctypes.byref(handle))
        try:
            length = ctypes.c_size_t()
            text = ctypes.string_at(
                _lib.cairn_metadata_json(handle, ctypes.byref(length)),
                length.value).decode("utf-8")
            revision = ctypes.c_uint64()
            has = _lib.cairn_metadata_revision(handle, ctypes.byref(revision))
            return text, revision.value if has else None
        finally:
            _lib.cairn_metadata_free(handle)

    def set_metadata(self, stream: str, metadata: str, *,
                     expected: Expected = ANY) -> AppendResult:
        """Replaces the stream's metadata JSON; ``expected`` is checked
        against the metadata's own revision."""
        kind, revision = _expected(expected)
        name = _bytes(stream)
        text = _bytes(metadata)
        result = _c.AppendResult()
        _call(_lib.cairn_set_stream_metadata, self._live(), name, len(name),
              _c.Expected(kind, revision), text, len(text),
              ctypes.byref(result))
        return _append_result(result)

    def save_snapshot(self, stream: str, revision: int,
                      data: Union[bytes, str], *, schema: str = "",
                      json: bool = False, keep: int = 1) -> int:
        """Saves ``data`` as the stream's state after its event at
        ``revision`` (``schema``: its content type or schema version),
        keeping the newest ``keep`` snapshots. Returns the snapshot's
        position in the global log. InvalidArgument when ``revision`` is
        beyond the stream's end or below its first readable event."""
        if keep < 1:
            raise InvalidArgument("keep must be >= 1")
        name = _bytes(stream)
        payload = _bytes(data)
        schema_bytes = _bytes(schema)
        snapshot = _c.SnapshotData(payload, len(payload), schema_bytes,
                                   len(schema_bytes), 1 if json else 0)
        position = ctypes.c_uint64()
        _call(_lib.cairn_save_snapshot, self._live(), name, len(name),
              revision, ctypes.byref(snapshot), keep, ctypes.byref(position))
        return position.value

    def load_aggregate(self, stream: str, *,
                       max_count: int = 4096) -> Aggregate:
        """The newest usable snapshot of the stream plus at most
        ``max_count`` events after it. Raises NotFound or StreamDeleted as
        a read of the stream does."""
        if max_count < 1:
            raise InvalidArgument("max_count must be >= 1")
        name = _bytes(stream)
        handle = ctypes.c_void_p()
        _call(_lib.cairn_load_aggregate, self._live(), name, len(name),
              max_count, ctypes.byref(handle))
        try:
            snapshot = None
            s = _c.Snapshot()
            if _lib.cairn_aggregate_snapshot(handle, ctypes.byref(s)):
                snapshot = Snapshot(
                    revision=s.revision,
                    data=ctypes.string_at(s.data, s.data_len),
                    schema=ctypes.string_at(s.schema,
                                            s.schema_len).decode("utf-8"),
                    json=s.content_type == 1,
                    position=s.position,
                    created_us=s.created_us)
            events = _lib.cairn_aggregate_events(handle)
            return Aggregate(
                snapshot=snapshot,
                events=_Events(events).items(),
                last_revision=_lib.cairn_events_last_revision(events),
                end_of_stream=bool(_lib.cairn_events_end_of_stream(events)),
                next_revision=_lib.cairn_aggregate_next_revision(handle))
        finally:
            _lib.cairn_aggregate_free(handle)

    def read_stream(self, stream: str, *, from_revision: Optional[int] = None,
                    backward: bool = False, max_count: Optional[int] = None,
                    page_size: int = 4096) -> Iterator[RecordedEvent]:
        """The stream's events, a page at a time. Raises NotFound (when
        iterated) if the stream has no events."""
        name = _bytes(stream)

        def page(start: Optional[int], count: int):
            options = _c.ReadStreamOptions(
                1 if backward else 0, start is not None, start or 0, count)
            handle = ctypes.c_void_p()
            _call(_lib.cairn_read_stream, self._live(), name, len(name),
                  ctypes.byref(options), ctypes.byref(handle))
            with _Events(handle) as events:
                items = events.items()
                end = _lib.cairn_events_end_of_stream(handle)
            if end or not items or (backward and items[-1].revision == 0):
                return items, None
            last = items[-1].revision
            return items, last - 1 if backward else last + 1

        return _paged(page, from_revision, max_count, page_size)

    def read_all(self, *, from_position: Optional[int] = None,
                 backward: bool = False, stream_prefix: str = "",
                 type_prefix: str = "", max_count: Optional[int] = None,
                 page_size: int = 4096) -> Iterator[RecordedEvent]:
        """The global log in position order (filtered by prefixes), a page
        at a time."""
        streams, types = _bytes(stream_prefix), _bytes(type_prefix)

        def page(start: Optional[int], count: int):
            options = _c.ReadAllOptions(
                1 if backward else 0, start is not None, start or 0, count,
                streams, len(streams), types, len(types))
            handle = ctypes.c_void_p()
            _call(_lib.cairn_read_all, self._live(), ctypes.byref(options),
                  ctypes.byref(handle))
            following = ctypes.c_uint64()
            with _Events(handle) as events:
                items = events.items()
                more = _lib.cairn_events_next_position(
                    handle, ctypes.byref(following))
            return items, following.value if more else None

        return _paged(page, from_position, max_count, page_size)

    def stream_revision(self, stream: str) -> Optional[int]:
        """The stream's last revision, or None if it has no events."""
        name = _bytes(stream)
        exists, revision = ctypes.c_int(), ctypes.c_uint64()
        _call(_lib.cairn_stream_revision, self._live(), name, len(name),
              ctypes.byref(exists), ctypes.byref(revision))
        return revision.value if exists.value else None

    def stats(self) -> Stats:
        s = _c.Stats()
        _call(_lib.cairn_stats, self._live(), ctypes.byref(s))
        return Stats(s.events, s.streams, s.segments, s.bytes,
                     s.durable_position_end, s.index_checkpoint)

    def backup(self, destination: Union[str, os.PathLike]) -> BackupResult:
        """Copies a consistent backup into `destination` while appends go
        on; incremental when it holds an older backup of this store. The
        copy opens as a store (see Store::Backup in cairn/store.h)."""
        r = _c.BackupResult()
        _call(_lib.cairn_backup, self._live(), os.fsencode(destination),
              ctypes.byref(r))
        return BackupResult(r.end_position, r.bytes_copied, r.bytes_reused,
                            r.files_copied, r.files_reused)

    def subscribe(self, *, stream: Optional[str] = None,
                  from_revision: int = 0,
                  from_position: Optional[int] = None, from_end: bool = False,
                  stream_prefix: str = "", type_prefix: str = "",
                  buffer: int = 1024) -> "Subscription":
        """Follows the global log (or one stream): history, then live
        appends, each durable event once and in order. Iterate it; at most
        ``buffer`` events wait between the store and the loop."""
        return Subscription(self, stream, from_revision, from_position,
                            from_end, stream_prefix, type_prefix, buffer)


def _paged(page, start: Optional[int], max_count: Optional[int],
           page_size: int) -> Iterator[RecordedEvent]:
    """Yields the events of page(start, count) -> (items, next start or
    None), page after page, up to max_count events in all."""
    if page_size < 1:
        raise InvalidArgument("page_size must be at least 1")
    remaining = max_count
    while remaining is None or remaining > 0:
        count = page_size if remaining is None else min(page_size, remaining)
        items, start = page(start, count)
        yield from items
        if remaining is not None:
            remaining -= len(items)
        if start is None:
            return


def _append_result(result: "_c.AppendResult") -> AppendResult:
    return AppendResult(result.first_revision, result.last_revision,
                        result.first_position, result.last_position,
                        bool(result.idempotent_replay))


def _expected(expected: Expected) -> tuple:
    if isinstance(expected, bool):
        raise InvalidArgument("expected version must be a kind or an int")
    if isinstance(expected, int):
        if expected < 0:
            raise InvalidArgument("expected revision must not be negative")
        return 3, expected
    kinds = {ANY: 0, NO_STREAM: 1, STREAM_EXISTS: 2}
    if expected not in kinds:
        raise InvalidArgument(f"unknown expected version {expected!r}")
    return kinds[expected], 0


_STOP = object()


def _free(free, handle, keep=None) -> None:
    """Frees a store or subscription handle. The garbage collector may
    finalize one on a subscription's own thread (one Python did not start)
    while it calls back, where freeing would wait for that very call to
    return: a new thread frees it then, holding `keep` (the callbacks) until
    done."""
    ident = threading.get_ident()
    if all(thread.ident != ident for thread in threading.enumerate()):
        threading.Thread(target=lambda: (free(handle), keep)).start()
    else:
        free(handle)


class _Feed:
    """What a subscription's callbacks share with its iterator. Kept apart
    from the Subscription, which the callbacks then do not keep alive: a
    dropped subscription is freed (and stopped) at once, by the thread
    that dropped it."""

    def __init__(self, buffer: int, closing: threading.Event):
        # Unbounded, so the end always gets through; events take a slot of
        # `room` first, which bounds them.
        self.queue: "queue.SimpleQueue" = queue.SimpleQueue()
        self.room = threading.Semaphore(max(1, buffer))
        self.stopping = threading.Event()
        self.closing = closing
        self.error: Optional[CairnError] = None
        self.caught_up = threading.Event()

    def on_event(self, _context, event) -> None:
        # Waits for room on the subscription's own thread, and gives up
        # once stop() was called or the store is closing: both wait for
        # this thread.
        while not (self.stopping.is_set() or self.closing.is_set()):
            if self.room.acquire(timeout=0.05):
                self.queue.put(_event(event.contents))
                return

    def on_caught_up(self, _context, _position) -> None:
        self.caught_up.set()

    def on_stopped(self, _context, code, message) -> None:
        if code != 0:
            text = message.decode("utf-8", "replace")
            self.error = _ERRORS.get(code, CairnError)(text)
        self.queue.put(_STOP)


class Subscription:
    """Iterate to receive events; ``stop()`` (or leaving a ``with`` block)
    ends it. Iteration raises the error that ended the subscription, if one
    did (``Closed`` when the store closed)."""

    def __init__(self, store: Store, stream, from_revision, from_position,
                 from_end, stream_prefix, type_prefix, buffer):
        self._store = store  # kept alive while the subscription runs
        self._feed = _Feed(buffer, store._closing)
        self.caught_up = self._feed.caught_up
        self._callbacks = _c.SubscriptionCallbacks()
        # ctypes callbacks must outlive every call into them.
        self._on_event = _c.ON_EVENT(self._feed.on_event)
        self._on_caught_up = _c.ON_POSITION(self._feed.on_caught_up)
        self._on_stopped = _c.ON_STOPPED(self._feed.on_stopped)
        self._callbacks.on_event = self._on_event
        self._callbacks.on_caught_up = self._on_caught_up
        self._callbacks.on_stopped = self._on_stopped
        self._names = [_bytes(stream) if stream is not None else None,
                       _bytes(stream_prefix), _bytes(type_prefix)]
        options = _c.SubscriptionOptions()
        if stream is not None:
            options.stream = self._names[0]
            options.stream_len = len(self._names[0])
            options.from_revision = from_revision
        if from_position is not None:
            options.has_from_position = 1
            options.from_position = from_position
        options.from_end = int(from_end)
        options.stream_prefix = self._names[1]
        options.stream_prefix_len = len(self._names[1])
        options.type_prefix = self._names[2]
        options.type_prefix_len = len(self._names[2])
        self._handle = ctypes.c_void_p()
        _call(_lib.cairn_subscribe, store._live(), ctypes.byref(options),
              ctypes.byref(self._callbacks), ctypes.byref(self._handle))

    def __iter__(self) -> Iterator[RecordedEvent]:
        return self

    def __next__(self) -> RecordedEvent:
        feed = self._feed
        if feed.stopping.is_set():
            raise StopIteration
        item = feed.queue.get()
        if item is _STOP:
            feed.stopping.set()
            if feed.error is not None:
                raise feed.error
            raise StopIteration
        feed.room.release()
        return item

    @property
    def position(self) -> int:
        """The position after the last event the subscription's thread
        examined. That counts the events waiting in the buffer (up to
        ``buffer``) and those stop() discards: to resume without a gap, start
        from the position after the last event the loop processed."""
        return _lib.cairn_subscription_position(self._handle)

    def stop(self) -> None:
        if self._handle:
            self._feed.stopping.set()
            _lib.cairn_subscription_stop(self._handle)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self) -> None:
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._feed.stopping.set()
            _free(_lib.cairn_subscription_free, handle,
                  keep=(self._callbacks, self._on_event, self._on_caught_up,
                        self._on_stopped))
