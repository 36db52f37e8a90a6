"""`rma-mailbot run`: APScheduler runs one poll cycle at a time; signals only set a flag."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from rma_mailbot.config import Config
from rma_mailbot.errors import MailbotError
from rma_mailbot.outbox import deliver_pending
from rma_mailbot.pipeline import Runtime, poll_once
from rma_mailbot.sources import open_source
from rma_mailbot.waiting import run_timers

# Waiting claims are looked at this often even when the mail server is unreachable.
TIMER_INTERVAL_SECONDS = 15 * 60

log = logging.getLogger(__name__)


class Daemon:
    def __init__(self, config: Config):
        self.config = config
        self.stopping = threading.Event()
        self.cycles = 0

    def clock(self) -> dt.datetime:
        return dt.datetime.now(self.config.tz)

    def cycle(self, rt: Runtime) -> None:
        """One poll; an error is logged and the next cycle tries again."""
        try:
            source = open_source(self.config)
        except MailbotError as exc:
            log.error("poll skipped: %s", exc)
            return
        try:
            report = poll_once(rt, source, self.clock, should_stop=self.stopping.is_set)
            log.info("poll done: %d new, %d duplicate, %d machine, %d quarantined, %d repl%s sent",
                     report.ingested, report.duplicates, report.machine, report.quarantined, report.replies_sent,
                     "y" if report.replies_sent == 1 else "ies")
        except MailbotError as exc:
            log.error("poll failed: %s", exc)
        finally:
            source.close()
            self.cycles += 1

    def timers(self, rt: Runtime) -> None:
        """Reminders, closings and delivery rechecks, then the replies they queued."""
        try:
            touched = run_timers(rt, self.clock())
            if touched:
                deliver_pending(rt.store, self.config, self.clock())
        except MailbotError as exc:
            log.error("waiting-claim timers failed: %s", exc)

    def run(self) -> None:
        rt = Runtime.open(self.config)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())
        # One worker: jobs share the database connection, so they take turns.
        scheduler = BackgroundScheduler(timezone=self.config.tz, executors={"default": ThreadPoolExecutor(1)})
        scheduler.add_job(self.cycle, "interval", args=[rt], seconds=max(self.config.bot.poll_interval_seconds, 1),
                          next_run_time=self.clock(), max_instances=1, coalesce=True, id="poll")
        scheduler.add_job(self.timers, "interval", args=[rt], seconds=TIMER_INTERVAL_SECONDS, max_instances=1,
                          coalesce=True, id="timers")
        scheduler.start()
        log.info("rma-mailbot running: polling %s every %ss", self.config.source.kind,
                 self.config.bot.poll_interval_seconds)
        self.stopping.wait()
        log.info("stopping: finishing the message in hand")
        scheduler.shutdown(wait=True)
        rt.close()
        log.info("stopped")
