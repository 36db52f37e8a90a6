"""Producing the next item in a thread of its own while the caller works on this one."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

_ITEM, _END, _ERROR = "item", "end", "error"


class ReadAhead(Generic[T]):
    """Iterates ``items`` in a thread, at most one item ahead of the consumer: while the pipeline
    ingests one batch, the next is fetched and parsed, and no more than that is held in memory.

    An exception from ``items`` is raised to the consumer where that item would have come. Leaving the
    block stops the thread once the item in hand is made; the items after it are never made."""

    def __init__(self, items: Iterable[T], name: str = "read-ahead", stopping: threading.Event | None = None):
        """``stopping`` is set when the block is left: ``items`` may watch it to cut short the item in hand."""
        self._items = iter(items)
        self._ready: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
        self._turn = threading.Semaphore(1)  # taken to make an item, given back when one is consumed
        self._stopping = stopping or threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)

    def __enter__(self) -> ReadAhead[T]:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stopping.set()
        self._turn.release()  # wakes the thread if it waits for its turn
        self._thread.join()
        while not self._ready.empty():  # left early: an error made meanwhile would otherwise go unseen
            kind, value = self._ready.get()
            if kind == _ERROR:
                log.warning("reading ahead failed after the reader stopped: %s", value)

    def __iter__(self) -> Iterator[T]:
        while True:
            kind, value = self._ready.get()
            self._turn.release()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]

    def _produce(self) -> None:
        try:
            while True:
                self._turn.acquire()
                if self._stopping.is_set():
                    break
                try:
                    item = next(self._items)
                except StopIteration:
                    self._ready.put((_END, None))
                    return
                self._ready.put((_ITEM, item))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it (else it waits for ever)
            self._ready.put((_ERROR, exc))
            return
        close = getattr(self._items, "close", None)
        if close is not None:
            close()  # a generator's finally blocks run now, in this thread, not at garbage collection
