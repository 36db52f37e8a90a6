"""Reading customers' PDF reports in a process of our own, under CPU and memory limits.

A PDF of a few kB can cost minutes of CPU and gigabytes to read. pdf.read_pdf() caps what it reads; it
runs in ReportReader's process, whose RLIMIT_CPU and RLIMIT_AS stop what the caps do not foresee. Reports
are read while the mail is parsed (parse_pool), so never inside the pipeline's write transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing
import resource
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from rma_mailbot.models import MailClass, ParsedMail, PdfReading
from rma_mailbot.workers import worker_start

log = logging.getLogger(__name__)

# What one report may cost the reader process: a lab's report of 20 pages takes well under a second.
CPU_SECONDS = 5
MEMORY_BYTES = 128 * 2**20
MAX_REPORTS_PER_MAIL = 5


def with_readings(mail: ParsedMail, read: Callable[[bytes], PdfReading]) -> ParsedMail:
    """The mail with each PDF it carries read, when it comes from a customer (only theirs are evidence).
    The first MAX_REPORTS_PER_MAIL different PDFs are read; the others are unreadable, not read at all."""
    if mail.mail_class is not MailClass.CUSTOMER or not any(p.is_pdf for p in mail.parts):
        return mail
    too_many = PdfReading(unreadable=f"more than {MAX_REPORTS_PER_MAIL} reports in one mail")
    readings: dict[bytes, PdfReading] = {}
    parts = []
    for part in mail.parts:
        if part.is_pdf:
            if part.payload not in readings:
                readings[part.payload] = read(part.payload) if len(readings) < MAX_REPORTS_PER_MAIL else too_many
            part = dataclasses.replace(part, pdf=readings[part.payload])
        parts.append(part)
    return dataclasses.replace(mail, parts=tuple(parts))


class ReportReader:
    """Reads PDFs in a process of its own, under RLIMIT_CPU and RLIMIT_AS: a PDF that would take more
    ends only that process, and is unreadable. Started on the first PDF. ``read`` is what the process
    runs on each PDF: pdf.read_pdf, unless a test gives another."""

    def __init__(self, read: Callable[[bytes], PdfReading] | None = None):
        self._read = read
        self._executor: ProcessPoolExecutor | None = None

    def read(self, payload: bytes) -> PdfReading:
        try:
            return self._pool().submit(_read_within_limits, payload, self._read).result()
        except BrokenProcessPool:
            self.close()
            log.warning("the report reader ended on a %d-byte PDF (past its CPU or memory limit); it is unreadable",
                        len(payload))
            return PdfReading(unreadable=f"reading took more than {CPU_SECONDS} CPU seconds or "
                                         f"{MEMORY_BYTES // 2**20} MB")
        except Exception as exc:  # noqa: BLE001 - what read() itself could not catch (a MemoryError on the way)
            log.warning("reading a %d-byte PDF failed: %s", len(payload), type(exc).__name__)
            return PdfReading(unreadable=f"reading failed ({type(exc).__name__})")

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_reader_start)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _reader_start() -> None:
    worker_start()
    # RLIMIT_AS counts what is mapped, not what is used: the interpreter's own mappings come on top.
    _lower(resource.RLIMIT_AS, _mapped_bytes() + MEMORY_BYTES)
    _lower(resource.RLIMIT_CORE, 0)  # the CPU limit kills with SIGXCPU, which would dump a core


def _read_within_limits(payload: bytes, read: Callable[[bytes], PdfReading] | None) -> PdfReading:
    # CPU time adds up over the process's life: each PDF gets CPU_SECONDS beyond what was spent before it.
    # Past the soft limit the kernel sends SIGXCPU, whose default action ends the process.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (_within(math.ceil(usage.ru_utime + usage.ru_stime) + CPU_SECONDS, hard),
                                             hard))
    if read is None:
        from rma_mailbot.pdf import read_pdf  # here, in the reader only: pypdf costs a process 13 MB

        read = read_pdf
    return read(payload)


def _lower(which: int, limit: int) -> None:
    """Soft and hard limit to ``limit``, or to the hard limit already set when that is lower."""
    limit = _within(limit, resource.getrlimit(which)[1])
    resource.setrlimit(which, (limit, limit))


def _within(limit: int, hard: int) -> int:
    return limit if hard == resource.RLIM_INFINITY else min(limit, hard)


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()
