"""The Python module against a real store (libcairn.so from CAIRN_LIBRARY)."""

import threading
import uuid

import pytest

import cairn


@pytest.fixture
def store(tmp_path):
    s = cairn.Store.open(tmp_path / "store", segment_size=1 << 20)
    yield s
    s.close()


def test_append_read_and_retry(store):
    placed = cairn.EventData("OrderPlaced", b'{"qty":2}', id=uuid.uuid4())
    paid = cairn.EventData("OrderPaid", '{"amount":4}', id=uuid.uuid4())
    first = store.append("Order-1", [placed, paid], expected=cairn.NO_STREAM)
    assert (first.first_revision, first.last_revision) == (0, 1)
    assert (first.first_position, first.last_position) == (0, 1)
    assert not first.idempotent_replay

    retry = store.append("Order-1", [placed, paid], expected=cairn.NO_STREAM)
    assert retry.idempotent_replay and retry.first_position == 0

    events = list(store.read_stream("Order-1"))
    assert [e.revision for e in events] == [0, 1]
    assert events[0].id == placed.id
    assert events[0].type == "OrderPlaced" and events[0].data == b'{"qty":2}'
    assert events[1].data == b'{"amount":4}' and events[1].json
    assert events[0].stream == "Order-1" and events[0].created_us > 0
    assert [e.revision for e in store.read_stream("Order-1", backward=True)
            ] == [1, 0]
    assert store.stream_revision("Order-1") == 1
    assert store.stream_revision("Nope") is None


def test_metadata_soft_delete_and_tombstone(store):
    assert store.get_metadata("s") == ("{}", None)
    store.append("s", [cairn.EventData("E", "{}") for _ in range(3)])
    text = '{"$maxCount":2, "owner":"ops"}'
    set_ = store.set_metadata("s", text, expected=cairn.NO_STREAM)
    assert set_.first_revision == 0
    assert store.get_metadata("s") == (text, 0)
    assert [e.revision for e in store.read_stream("s")] == [1, 2]
    with pytest.raises(cairn.InvalidArgument):
        store.set_metadata("s", '{"$maxCount":0}')
    with pytest.raises(cairn.WrongExpectedVersion):
        store.set_metadata("s", "{}", expected=5)

    store.delete("s", expected=2)
    with pytest.raises(cairn.NotFound):
        list(store.read_stream("s"))
    store.append("s", [cairn.EventData("E", "{}")])
    assert [e.revision for e in store.read_stream("s")] == [3]

    store.tombstone("s")
    with pytest.raises(cairn.StreamDeleted):
        list(store.read_stream("s"))
    with pytest.raises(cairn.StreamDeleted):
        store.append("s", [cairn.EventData("E", "{}")])


def test_snapshots_save_and_load_aggregate(store):
    store.append("Cart-1", [cairn.EventData("Added", "{}") for _ in range(5)])
    empty = store.load_aggregate("Cart-1")
    assert empty.snapshot is None
    assert [e.revision for e in empty.events] == [0, 1, 2, 3, 4]

    position = store.save_snapshot("Cart-1", 2, '{"items":3}',
                                   schema="Cart/v1", json=True)
    loaded = store.load_aggregate("Cart-1")
    assert loaded.snapshot.revision == 2
    assert loaded.snapshot.data == b'{"items":3}' and loaded.snapshot.json
    assert loaded.snapshot.schema == "Cart/v1"
    assert loaded.snapshot.position == position
    assert [e.revision for e in loaded.events] == [3, 4]
    assert loaded.end_of_stream and loaded.last_revision == 4

    part = store.load_aggregate("Cart-1", max_count=1)
    assert [e.revision for e in part.events] == [3]
    assert not part.end_of_stream and part.next_revision == 4
    rest = list(store.read_stream("Cart-1", from_revision=part.next_revision))
    assert [e.revision for e in rest] == [4]

    with pytest.raises(cairn.InvalidArgument):
        store.save_snapshot("Cart-1", 5, b"beyond the end")
    with pytest.raises(cairn.InvalidArgument):
        store.save_snapshot("Cart-1", 1, b"x", keep=0)
    with pytest.raises(cairn.NotFound):
        store.load_aggregate("Cart-9")
    store.tombstone("Cart-1")
    with pytest.raises(cairn.StreamDeleted):
        store.load_aggregate("Cart-1")


def test_wrong_expected_version_carries_the_actual_revision(store):
    store.append("s", [cairn.EventData("A")], expected=cairn.NO_STREAM)
    with pytest.raises(cairn.WrongExpectedVersion) as info:
        store.append("s", [cairn.EventData("B")], expected=5)
    assert info.value.actual_revision == 0
    assert info.value.code == 1
    with pytest.raises(cairn.WrongExpectedVersion) as info:
        store.append("t", [cairn.EventData("B")], expected=cairn.STREAM_EXISTS)
    assert info.value.actual_revision is None
    assert store.stream_revision("s") == 0


def test_bad_input_is_a_typed_error_and_writes_nothing(store):
    with pytest.raises(cairn.InvalidArgument):
        store.append("", [cairn.EventData("A")])
    with pytest.raises(cairn.InvalidArgument):
        store.append("$all", [cairn.EventData("A")])
    with pytest.raises(cairn.InvalidArgument):
        store.append("s", [])
    with pytest.raises(cairn.InvalidArgument):
        store.append("s", [cairn.EventData("A")], expected="sometimes")
    with pytest.raises(cairn.InvalidArgument):
        store.append("s", [cairn.EventData("A")], expected=-1)
    with pytest.raises(cairn.NotFound):
        list(store.read_stream("missing"))
    assert store.stats().events == 0


def test_reads_page_through_the_log(store):
    for i in range(25):
        store.append(f"Order-{i % 3}", [cairn.EventData("E", str(i))])
    store.append("User-1", [cairn.EventData("U")])
    everything = list(store.read_all(page_size=4))
    assert [e.position for e in everything] == list(range(26))
    orders = list(store.read_all(stream_prefix="Order-", page_size=5))
    assert len(orders) == 25 and all(e.stream.startswith("Order-")
                                     for e in orders)
    backward = list(store.read_all(backward=True, max_count=3))
    assert [e.position for e in backward] == [25, 24, 23]
    stream = list(store.read_stream("Order-0", page_size=2))
    assert [e.revision for e in stream] == list(range(9))
    assert [e.revision for e in store.read_stream("Order-0", from_revision=7)
            ] == [7, 8]
    stats = store.stats()
    assert stats.events == 26 and stats.streams == 4
    assert stats.durable_position_end == 26


def test_subscription_delivers_history_then_live_events(store):
    store.append("a", [cairn.EventData("E", b"0")])
    with store.subscribe() as subscription:
        seen = []
        iterator = iter(subscription)
        seen.append(next(iterator))
        writer = threading.Thread(
            target=lambda: store.append("b", [cairn.EventData("E", b"1")]))
        writer.start()
        seen.append(next(iterator))
        writer.join()
    assert [(e.stream, e.position) for e in seen] == [("a", 0), ("b", 1)]
    assert list(subscription) == []  # stopped


def test_filtered_stream_subscription(store):
    for i in range(5):
        store.append("x" if i % 2 else "y", [cairn.EventData("E", str(i))])
    with store.subscribe(stream="x") as subscription:
        got = [next(iter(subscription)).revision for _ in range(2)]
    assert got == [0, 1]


def test_closed_and_locked(tmp_path):
    path = tmp_path / "store"
    store = cairn.Store.open(path)
    with pytest.raises(cairn.Locked):
        cairn.Store.open(path)
    store.close()
    store.close()  # idempotent
    with pytest.raises(cairn.Closed):
        store.append("s", [cairn.EventData("A")])
    reader = cairn.Store.open(path, read_only=True)
    with pytest.raises(cairn.ReadOnly):
        reader.append("s", [cairn.EventData("A")])
    reader.close()


def test_version():
    assert cairn.version().count(".") == 2


def _finishes(target, timeout=10.0) -> bool:
    """Runs `target` on a thread; whether it returned within `timeout`."""
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive()


def test_close_with_a_full_subscription_buffer(store):
    # The subscription's thread waits for room in its buffer, and closing
    # the store waits for that thread: the close must end the wait, even
    # when the loop that would make room is the one closing the store.
    for i in range(5):
        store.append("s", [cairn.EventData("E", str(i))])
    subscription = store.subscribe(buffer=1)
    iterator = iter(subscription)
    assert next(iterator).position == 0
    assert _finishes(store.close)
    got = []
    with pytest.raises(cairn.Closed):
        for event in iterator:
            got.append(event.position)
    assert got == list(range(1, len(got) + 1))  # what was buffered, in order
    subscription.stop()


def test_stop_from_another_thread_ends_the_loop(store):
    subscription = store.subscribe(from_end=True)
    seen = []
    consumer = threading.Thread(
        target=lambda: seen.extend(subscription), daemon=True)
    consumer.start()
    subscription.caught_up.wait(10)
    assert _finishes(subscription.stop)
    consumer.join(10)
    assert not consumer.is_alive() and seen == []


def test_dropped_subscriptions_stop(store):
    # A dropped subscription stops at once. One in a reference cycle waits
    # for the collector, which may finalize it on its own thread, inside a
    # callback: freeing it there must neither wait for that very callback
    # nor free the callback while it runs.
    import gc
    import time
    import weakref
    for i in range(50):
        store.append("s", [cairn.EventData("E", str(i))] * 20)
    dropped = weakref.ref(store.subscribe(buffer=10))
    assert dropped() is None
    thresholds = gc.get_threshold()
    gc.set_threshold(1)
    try:
        cycle = {"subscription": store.subscribe(buffer=10)}
        cycle["self"] = cycle
        collected = weakref.ref(cycle["subscription"])
        del cycle
        # This thread allocates nothing meanwhile: the subscription's own
        # thread, which does, runs the collector.
        time.sleep(1.0)
    finally:
        gc.set_threshold(*thresholds)
    gc.collect()
    assert collected() is None
    assert store.stats().events == 1000


def test_backup_is_a_store_with_the_same_events(store, tmp_path):
    store.append("Order-1", [cairn.EventData("OrderPlaced", b"{}")])
    store.append("Order-2", [cairn.EventData("OrderPlaced", b"{}")])
    result = store.backup(tmp_path / "backup")
    assert result.end_position == 2 and result.files_copied >= 1
    again = store.backup(tmp_path / "backup")
    assert again.end_position == 2
    with pytest.raises(cairn.InvalidArgument):
        store.backup(tmp_path)  # holds the store: not a backup
    copy = cairn.Store.open(tmp_path / "backup", read_only=True)
    try:
        assert [e.stream for e in copy.read_all()] == ["Order-1", "Order-2"]
    finally:
        copy.close()
