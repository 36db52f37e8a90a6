"""Parsing in worker processes: while the pipeline stores and answers one mail, the next ones are parsed.

parse() is pure, so it can run anywhere. A process of its own also keeps a mail that crashes a decoder
(a hostile HEIC or TNEF) from taking the bot down: that mail comes back as a ParseError and is
quarantined, and the pool is started again for the others. A customer's PDFs are read here too, by the
report reader's process (reports.py), wherever the mail itself was parsed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from rma_mailbot.errors import ParseError
from rma_mailbot.models import ParsedMail
from rma_mailbot.parse import parse
from rma_mailbot.reports import ReportReader, with_readings
from rma_mailbot.workers import worker_start

log = logging.getLogger(__name__)

# Below this many mails (an IDLE wake-up brings one) parsing here is quicker than a trip to a worker.
MIN_BATCH = 8

Parsed = ParsedMail | ParseError


def default_processes() -> int:
    """One core for the pipeline itself, the others parse; none on a single core."""
    return max((os.cpu_count() or 1) - 1, 0)


def parse_or_error(raw: bytes, options: dict) -> Parsed:
    """The parsed mail, or why it could not be parsed: never an exception, so that no mail can stop a poll."""
    try:
        return parse(raw, **options)
    except ParseError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a bug or a decoder's surprise: quarantine the mail, go on
        log.exception("parsing a %d-byte message failed", len(raw))
        return ParseError(f"parsing failed: {type(exc).__name__}: {exc}")


class ParsePool:
    """Parses batches of raw mails, in order; started on first use, so commands that parse nothing never
    pay for it. ``worker`` is the function the processes run (tests give one that crashes)."""

    def __init__(self, processes: int, options: dict, worker: Callable[[bytes, dict], Parsed] = parse_or_error):
        self._processes = processes
        self._options = options
        self._worker = worker
        self._executor: ProcessPoolExecutor | None = None
        self._reports = ReportReader()

    def parse_all(self, raws: list[bytes]) -> Iterator[Parsed]:
        """Each mail's ParsedMail, its customer's PDFs read, or ParseError; in the order given, as soon as
        it is ready."""
        for parsed in self._parsed(raws):
            yield parsed if isinstance(parsed, ParseError) else with_readings(parsed, self._reports.read)

    def _parsed(self, raws: list[bytes]) -> Iterator[Parsed]:
        if self._processes < 1 or len(raws) < MIN_BATCH:
            yield from (self._worker(raw, self._options) for raw in raws)
            return
        ahead = 2 * self._processes + 2  # enough to keep the workers busy; more would only hold memory
        futures: deque = deque()
        for n in range(len(raws)):
            try:
                while len(futures) < ahead and n + len(futures) < len(raws):
                    futures.append(self._pool().submit(self._worker, raws[n + len(futures)], self._options))
                yield futures.popleft().result()
            except BrokenProcessPool:
                # Every mail still pending failed with the worker: parse them one by one to find the culprit.
                self._stop_workers()
                yield from (self._alone(raw) for raw in raws[n:])
                return

    def _alone(self, raw: bytes) -> Parsed:
        try:
            return self._pool().submit(self._worker, raw, self._options).result()
        except BrokenProcessPool:
            self._stop_workers()
            log.error("a parser process died on a %d-byte message; it is quarantined", len(raw))
            return ParseError("the parser process died on this message (a decoder crashed on an attachment)")

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the parent has threads (delivery, IDLE) and an open database.
            self._executor = ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=worker_start)
        return self._executor

    def close(self) -> None:
        self._reports.close()
        self._stop_workers()

    def _stop_workers(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
