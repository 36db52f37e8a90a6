"""IMAP IDLE: the server tells us about new mail the moment it arrives, so the poll runs at once.

Guards imapclient's known failure: once the server drops the connection, ``idle_check`` returns an
empty list at once, for ever (a busy loop). A BYE, or an empty answer long before the timeout, is
taken as a dead connection, and the watcher reconnects with backoff. IDLE is renewed well before
the 29 minutes after which servers may drop it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from rma_mailbot.config import ImapConfig
from rma_mailbot.errors import SourceError
from rma_mailbot.health import Outages, backoff
from rma_mailbot.sources.imap import IMAP_ERRORS, connect

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0  # how often the watcher looks up from IDLE (to notice a stop)
RENEW_SECONDS = 10 * 60
NEW_MAIL = {b"EXISTS", b"RECENT"}


class DeadConnection(Exception):
    """The IDLE connection is gone, whatever imapclient says."""


class IdleWatcher(threading.Thread):
    def __init__(self, config: ImapConfig, on_new_mail: Callable[[], None], stopping: threading.Event,
                 outages: Outages, on_state: Callable[[bool], None]):
        super().__init__(name="imap-idle", daemon=True)
        self._config = config
        self._on_new_mail = on_new_mail
        self._stopping = stopping
        self._outages = outages
        self._on_state = on_state

    def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            client = None
            try:
                client = connect(self._config)
                if not client.has_capability("IDLE"):
                    log.info("the IMAP server has no IDLE: new mail is found by polling only")
                    return
                client.select_folder(self._config.folder, readonly=True)
                self._outages.recovered("imap idle", dt.datetime.now(dt.UTC))
                failures = 0
                self._on_state(True)
                self._on_new_mail()  # whatever arrived while we were not listening
                self._watch(client)
            except (SourceError, DeadConnection, *IMAP_ERRORS) as exc:
                self._on_state(False)
                failures = self._outages.failed("imap idle", str(exc) or type(exc).__name__, dt.datetime.now(dt.UTC))
                self._stopping.wait(backoff(failures, base=1.0, ceiling=300.0))
            finally:
                if client is not None:
                    _close(client)
        self._on_state(False)

    def _watch(self, client) -> None:
        client.idle()
        renewed = time.monotonic()
        while not self._stopping.is_set():
            started = time.monotonic()
            responses = client.idle_check(timeout=CHECK_SECONDS)
            if any(r and r[0] == b"BYE" for r in responses):
                raise DeadConnection("the server said BYE")
            if not responses and time.monotonic() - started < CHECK_SECONDS / 2:
                raise DeadConnection("IDLE returned at once with nothing: the connection was dropped")
            if any(len(r) > 1 and r[1] in NEW_MAIL for r in responses):
                self._on_new_mail()
            if time.monotonic() - renewed > RENEW_SECONDS:
                client.idle_done()
                client.idle()
                renewed = time.monotonic()
        client.idle_done()


def _close(client) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - a dead connection needs no goodbye
        pass
