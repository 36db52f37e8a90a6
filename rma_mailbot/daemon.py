"""`rma-mailbot run`: APScheduler schedules the cycles, IMAP IDLE wakes them early; signals only set a flag.

One worker thread runs the jobs (they share the database connection, so they take turns). A poll
cycle repeats while new mail was announced during it, so nothing waits for the next interval. A
failing mail server is retried with backoff and logged once per outage.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from rma_mailbot.config import Config, SourceKind
from rma_mailbot.errors import MailbotError
from rma_mailbot.health import Outages, backoff
from rma_mailbot.idle import IdleWatcher
from rma_mailbot.outbox import deliver_pending
from rma_mailbot.pipeline import Runtime, poll_once
from rma_mailbot.sources import open_source
from rma_mailbot.store import Store, iso
from rma_mailbot.waiting import run_timers

# Waiting claims and outbox retries are looked at this often, even while the mail server is unreachable.
TIMER_INTERVAL_SECONDS = 60

log = logging.getLogger(__name__)


def stop_on_signal(stopping: threading.Event):
    """A signal handler: the first signal asks for a clean stop (the message in hand is finished); a second
    stops at once, as a crash would: whatever was in hand is taken in or sent again at the next start."""
    def handle(signum, _frame) -> None:
        if stopping.is_set():
            os.write(2, b"rma-mailbot: second stop signal, stopping at once\n")  # no logging: its locks may be held
            os._exit(128 + signum)
        stopping.set()
    return handle


class Daemon:
    def __init__(self, config: Config):
        self.config = config
        self.stopping = threading.Event()
        self.outages = Outages()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._cycling = False
        self._scheduler: BackgroundScheduler | None = None
        self._idle_store: Store | None = None

    def clock(self) -> dt.datetime:
        return dt.datetime.now(self.config.tz)

    def new_mail(self) -> None:
        """Called by the IDLE watcher: poll now, or again right after the poll in hand."""
        with self._lock:
            self._wake.set()
            if not self._cycling and self._scheduler is not None and not self.stopping.is_set():
                self._scheduler.modify_job("poll", next_run_time=self.clock())

    def cycle(self, rt: Runtime) -> None:
        with self._lock:
            self._cycling = True
        try:
            while not self.stopping.is_set():
                self._wake.clear()
                if not self._poll(rt):
                    return
                with self._lock:
                    if not self._wake.is_set():
                        return
        finally:
            with self._lock:
                self._cycling = False

    def _poll(self, rt: Runtime) -> bool:
        """One poll; False when the mail server failed (the next poll is put off by backoff)."""
        now = self.clock()
        try:
            source = open_source(self.config)
        except MailbotError as exc:
            failures = self.outages.failed("mail source", str(exc), now)
            rt.store.set_health(now, last_poll_error=str(exc))
            self._postpone(backoff(failures, base=5.0, ceiling=float(max(self.config.bot.poll_interval_seconds, 5))))
            return False
        try:
            report = poll_once(rt, source, self.clock, should_stop=self.stopping.is_set)
        except MailbotError as exc:
            log.error("poll failed: %s", exc)
            rt.store.set_health(now, last_poll_error=str(exc))
            return False
        finally:
            source.close()
        self.outages.recovered("mail source", now)
        self.outages.report("outbox", report.delivery_error, now)
        if report.fetched or report.replies_sent:
            log.info("poll: %d new, %d duplicate, %d machine, %d quarantined, %d repl%s sent", report.ingested,
                     report.duplicates, report.machine, report.quarantined, report.replies_sent,
                     "y" if report.replies_sent == 1 else "ies")
        return True

    def _postpone(self, seconds: float) -> None:
        if self._scheduler is not None:
            self._scheduler.modify_job("poll", next_run_time=self.clock() + dt.timedelta(seconds=seconds))

    def timers(self, rt: Runtime) -> None:
        """Reminders, closings and delivery rechecks, and outbox retries, even while the mail server is down."""
        try:
            run_timers(rt, self.clock())
            delivery = deliver_pending(rt.store, self.config, self.clock())
            self.outages.report("outbox", delivery.transport_error, self.clock())
        except MailbotError as exc:
            log.error("waiting-claim timers failed: %s", exc)

    def _idle_state(self, connected: bool) -> None:
        """Called from the IDLE thread, which writes through a connection of its own."""
        if self._idle_store is None:
            self._idle_store = Store(self.config.bot.database, self.config.bot.data_dir)
        self._idle_store.set_health(self.clock(), idle_connected=connected)

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):  # first: a stop during start-up is a clean stop too
            signal.signal(signum, stop_on_signal(self.stopping))
        rt = Runtime.open(self.config)
        rt.store.set_health(self.clock(), pid=os.getpid(), started_at=iso(self.clock()), stopped_at="",
                            idle_connected=False)
        scheduler = self._scheduler = BackgroundScheduler(timezone=self.config.tz,
                                                          executors={"default": ThreadPoolExecutor(1)})
        scheduler.add_job(self.cycle, "interval", args=[rt], seconds=max(self.config.bot.poll_interval_seconds, 1),
                          next_run_time=self.clock(), max_instances=1, coalesce=True, id="poll")
        scheduler.add_job(self.timers, "interval", args=[rt], seconds=TIMER_INTERVAL_SECONDS, max_instances=1,
                          coalesce=True, id="timers")
        scheduler.start()
        if self.config.source.kind is SourceKind.IMAP:
            IdleWatcher(self.config.imap, self.new_mail, self.stopping, self.outages, self._idle_state).start()
        log.info("rma-mailbot running (pid %d): %s inbox, polling every %ss%s", os.getpid(), self.config.source.kind,
                 self.config.bot.poll_interval_seconds,
                 ", woken by IMAP IDLE" if self.config.source.kind is SourceKind.IMAP else "")
        self.stopping.wait()
        log.info("stopping: finishing the message in hand")
        scheduler.shutdown(wait=True)
        rt.store.set_health(self.clock(), stopped_at=iso(self.clock()), idle_connected=False)
        rt.close()
        log.info("stopped")
