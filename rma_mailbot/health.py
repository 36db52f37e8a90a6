"""Outages logged once, not once per retry; backoff with jitter; the health record `status` shows."""

from __future__ import annotations

import datetime as dt
import logging
import random

log = logging.getLogger(__name__)


def backoff(failures: int, *, base: float, ceiling: float) -> float:
    """Seconds to wait after the n-th failure in a row: doubling, capped, jittered so that
    several clients do not come back at the same instant."""
    return min(ceiling, base * 2 ** max(failures - 1, 0)) * random.uniform(0.75, 1.25)


class Outages:
    """Remembers which dependencies (imap, smtp, ...) are failing, to log each outage once."""

    def __init__(self) -> None:
        self._since: dict[str, tuple[dt.datetime, int]] = {}

    def failed(self, what: str, error: str, now: dt.datetime) -> int:
        """Record a failure; returns how many in a row."""
        since, count = self._since.get(what, (now, 0))
        if count == 0:
            log.error("%s unavailable: %s (retrying with backoff; logged again when it is back)", what, error)
        else:
            log.debug("%s still unavailable (%d failures): %s", what, count + 1, error)
        self._since[what] = (since, count + 1)
        return count + 1

    def recovered(self, what: str, now: dt.datetime) -> None:
        if what in self._since:
            since, count = self._since.pop(what)
            log.warning("%s is back after %s and %d failed attempt(s)", what, now - since, count)

    def report(self, what: str, error: str, now: dt.datetime) -> None:
        if error:
            self.failed(what, error, now)
        else:
            self.recovered(what, now)
