"""The sent marks, in a small SQLite file of their own beside the database.

A reply the relay has answered 250 for must be marked sent before anything else can happen to the
process: a kill between the two sends it again after the restart. The main database cannot take
that mark at once, as a mail's intake holds its write lock (in another thread, or another
process) for as long as the intake takes. Nothing but these marks is ever written here, and each
mark is one short statement, so it commits straight away. `Store.fold_sent_journal` then carries
the marks into the outbox table and removes them; until it has, the store's reads show such a
reply as sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SentMark:
    message_id: str
    sent_at: str  # ISO 8601, UTC
    mode: str  # the outbox mode it left by


def journal_path(database: Path) -> Path:
    """Named after its database (rma.sqlite: rma.sent.sqlite), so that two databases never share one."""
    return database.with_name(f"{database.stem}.sent{database.suffix}")


class SentJournal:
    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self._read_only = read_only
        self._db: sqlite3.Connection | None = None

    def open(self) -> sqlite3.Connection | None:
        """The connection, made (and the file) on first use; None when looking only and there is no file."""
        if self._db is None:
            if self._read_only:
                if not self.path.exists():
                    return None
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                                           check_same_thread=False)
            else:
                # Autocommit: each statement is its own transaction. WAL with synchronous=NORMAL, like
                # the database: a commit survives the process being killed, without an fsync.
                self._db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False,
                                           isolation_level=None)
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._db.execute("create table if not exists sent (message_id text primary key, sent_at text "
                                 "not null, mode text not null)")
        return self._db

    def record(self, message_id: str, mode: str, now: dt.datetime) -> None:
        """Durable when this returns."""
        self.open().execute("insert or ignore into sent (message_id, sent_at, mode) values (?, ?, ?)",
                             [message_id, now.astimezone(dt.UTC).isoformat(timespec="seconds"), mode])

    def marks(self) -> list[SentMark]:
        db = self.open()
        if db is None:
            return []
        return [SentMark(*row) for row in db.execute("select message_id, sent_at, mode from sent order by rowid")]

    def forget(self, message_ids: list[str]) -> None:
        """Once folded into the outbox table, a mark is no longer needed."""
        self.open().executemany("delete from sent where message_id = ?", [[m] for m in message_ids])

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
