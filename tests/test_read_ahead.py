"""ReadAhead: the next item is made in a thread while this one is used, and never more than that."""

from __future__ import annotations

import threading

import pytest

from rma_mailbot.read_ahead import ReadAhead


class Source:
    """A generator of numbered items that records what it was asked for, and by which thread."""

    def __init__(self, count: int, fail_at: int | None = None, hold_from: int | None = None,
                 error: BaseException | None = None):
        self.count, self.fail_at, self.hold_from = count, fail_at, hold_from
        self.error = error
        self.failing = threading.Event()
        self.asked: list[int] = []
        self.threads: set[str] = set()
        self.closed_in = ""  # the thread that closed the generator
        self.consumer_left = threading.Event()

    def __iter__(self):
        try:
            for n in range(self.count):
                if self.hold_from is not None and n >= self.hold_from:
                    # An eager producer would be here while the consumer still holds item 0.
                    self.consumer_left.wait(timeout=10)
                self.asked.append(n)
                self.threads.add(threading.current_thread().name)
                if n == self.fail_at:
                    self.failing.set()
                    raise self.error or ValueError(f"item {n} is broken")
                yield n
        finally:
            self.closed_in = threading.current_thread().name


@pytest.mark.parametrize("count", [0, 1, 2, 25])
def test_every_item_comes_in_order_from_the_other_thread(count):
    source = Source(count)
    with ReadAhead(iter(source), name="maker") as items:
        assert list(items) == list(range(count))
    assert source.asked == list(range(count))
    assert source.threads <= {"maker"}


@pytest.mark.parametrize("error", [ValueError("item 2 is broken"), SystemExit("item 2 is broken")])
def test_an_error_is_raised_where_its_item_would_have_come(error):
    """Any exception, not only an Exception: else the consumer would wait for ever."""
    source = Source(5, fail_at=2, error=error)
    got = []
    with pytest.raises(type(error), match="item 2 is broken"), ReadAhead(iter(source)) as items:
        for item in items:
            got.append(item)
    assert got == [0, 1]


def test_an_error_of_the_consumer_stops_the_thread_and_closes_the_source():
    source = Source(100, hold_from=2)
    with pytest.raises(RuntimeError, match="storing failed"), ReadAhead(iter(source)) as items:
        for _ in items:
            source.consumer_left.set()
            raise RuntimeError("storing failed")
    assert len(source.asked) <= 3 and source.closed_in == "read-ahead"


def test_an_error_made_after_the_consumer_left_is_logged(caplog):
    source = Source(5, fail_at=1)
    with ReadAhead(iter(source)) as items:
        for _ in items:
            assert source.failing.wait(timeout=10)  # item 1 is failing while item 0 is in hand
            break  # and nobody will read that failure
    assert "reading ahead failed after the reader stopped: item 1 is broken" in caplog.text


def test_leaving_early_makes_at_most_the_next_item_and_closes_the_source():
    source = Source(100, hold_from=2)
    with ReadAhead(iter(source)) as items:
        for item in items:
            assert item == 0
            break
        source.consumer_left.set()
    assert source.asked in ([0], [0, 1])  # item 0, and perhaps item 1 made while item 0 was in hand
    assert source.closed_in == "read-ahead"  # its finally ran in the thread that ran it, not at collection
