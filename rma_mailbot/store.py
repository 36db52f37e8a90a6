"""SQLite through sqlite-utils: schema, migrations, and every write the bot makes.

Raw mails and attachments live beside the database, content-addressed by sha256, never
under a name a sender chose.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import sqlite_utils

from rma_mailbot.errors import ClaimNotFound, StoreError
from rma_mailbot.limits import mailbox_of
from rma_mailbot.models import (
    Check,
    Claim,
    ClaimFacts,
    ClaimKind,
    ClaimState,
    DecidedBy,
    Decision,
    Evidence,
    LabSource,
    OutboxState,
    Outcome,
    PartCount,
    Photo,
    Reason,
    Report,
    SourceRef,
    Statement,
)
from rma_mailbot.sent_journal import SentJournal, journal_path

migrations = sqlite_utils.Migrations("rma_mailbot")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["claims"].create({
        "id": int, "kind": str, "state": str, "order_id": str, "customer": str, "rma_number": str,
        "missing": str, "reasons": str, "checks": str, "photos": int, "facts": str,
        "claim_date": str, "recheck_on": str, "created_at": str, "updated_at": str,
    }, pk="id", not_null={"kind", "state", "customer", "created_at", "updated_at"})
    db["claims"].create_index(["state"])
    db["claims"].create_index(["rma_number"], unique=True)
    db["messages"].create({
        "id": int, "message_key": str, "message_id": str, "sha256": str, "received_at": str,
        "sender": str, "subject": str, "mail_class": str, "class_reason": str, "claim_id": int,
        "facts": str, "raw_path": str, "size": int, "created_at": str,
    }, pk="id", foreign_keys=[("claim_id", "claims", "id")], not_null={"message_key", "sha256", "mail_class"})
    db["messages"].create_index(["message_key"], unique=True)
    db["messages"].create_index(["claim_id"])
    db["locations"].create({
        "mailbox": str, "uidvalidity": int, "uid": str, "message": int, "moved": int,
    }, pk=("mailbox", "uidvalidity", "uid"), foreign_keys=[("message", "messages", "id")])
    db["folders"].create({"mailbox": str, "uidvalidity": int, "last_uid": int}, pk="mailbox")
    db["attachments"].create({
        "id": int, "claim_id": int, "message": int, "sha256": str, "content_type": str, "size": int,
        "is_photo": int, "width": int, "height": int, "is_report": int, "path": str,
    }, pk="id", foreign_keys=[("claim_id", "claims", "id"), ("message", "messages", "id")])
    db["attachments"].create_index(["message", "sha256"], unique=True)
    db["events"].create({
        "id": int, "claim_id": int, "message": int, "at": str, "kind": str, "detail": str,
    }, pk="id", foreign_keys=[("claim_id", "claims", "id")])
    db["events"].create_index(["claim_id"])
    db["outbox"].create({
        "id": int, "claim_id": int, "message_id": str, "reply_kind": str, "to_addr": str, "subject": str,
        "body_text": str, "raw": bytes, "state": str, "attempts": int, "last_error": str,
        "created_at": str, "sent_at": str,
    }, pk="id", foreign_keys=[("claim_id", "claims", "id")], not_null={"message_id", "raw", "state"})
    db["outbox"].create_index(["message_id"], unique=True)
    db["outbox"].create_index(["state"])
    db["rma_counters"].create({"year": int, "last_seq": int}, pk="year")


@migrations()
def m002_waiting_claims(db: sqlite_utils.Database) -> None:
    """When we last asked the customer, whether we reminded them, and the day a claim was judged on."""
    db["claims"].add_column("asked_at", str)
    db["claims"].add_column("reminded_at", str)
    db["claims"].add_column("judged_on", str)
    db["claims"].add_column("decided_by", str)  # policy, follow_up, timer (later: staff)


@migrations()
def m003_staff_review(db: sqlite_utils.Database) -> None:
    """Which routing rule sent a claim to staff, each message's authentication verdict, applied overrides."""
    db["claims"].add_column("routed_by", str)
    db["claims"].add_column("resolution", str)
    db["messages"].add_column("auth", str)
    db["overrides"].create({
        "id": str, "claim_id": int, "action": str, "by": str, "file": str, "entry_hash": str, "applied_at": str,
    }, pk="id", foreign_keys=[("claim_id", "claims", "id")])


@migrations()
def m004_attachment_kinds(db: sqlite_utils.Database) -> None:
    """What a part claimed to be, its sender's name for it (shown, never a path), and why it was refused."""
    db["attachments"].add_column("declared_type", str)
    db["attachments"].add_column("filename", str)
    db["attachments"].add_column("refused", str)


@migrations()
def m005_always_on(db: sqlite_utils.Database) -> None:
    """Who is sending a reply and until when, when to retry it; the daemon's health for `status`."""
    db["outbox"].add_column("owner", str)
    db["outbox"].add_column("next_attempt_at", str)
    db["health"].create({"key": str, "value": str, "updated_at": str}, pk="key")


@migrations()
def m006_indexes_for_backlogs(db: sqlite_utils.Database) -> None:
    """The per-mail look-ups, each by an index: without them a backlog slows down as the database grows."""
    db["messages"].create_index(["message_id"])
    db["claims"].create_index(["customer", "created_at"])
    db["outbox"].create_index(["to_addr", "created_at"])
    db["outbox"].create_index(["claim_id"])
    db["attachments"].create_index(["claim_id"])


@migrations()
def m007_outbox_bytes_in_files(db: sqlite_utils.Database) -> None:
    """A queued mail's bytes go beside the database, like the mails we receive: a warehouse mail carries
    photos, and a megabyte inside the row was rewritten by every change of the row's state."""
    db["outbox"].add_column("raw_path", str)
    db["outbox"].transform(not_null={"raw": False})


@migrations()
def m008_reply_limits_per_mailbox(db: sqlite_utils.Database) -> None:
    """The reply limits count per mailbox (limits.mailbox_of), not per spelling of an address."""
    db["outbox"].add_column("to_mailbox", str)
    for row in list(db.query("select id, to_addr from outbox")):
        db.execute("update outbox set to_mailbox = ? where id = ?", [mailbox_of(row["to_addr"] or ""), row["id"]])
    db["outbox"].create_index(["to_mailbox", "created_at"])


# Every outbox column but the bytes of replies queued before m007 (read by reply_bytes()).
REPLY_COLUMNS = ("id, claim_id, message_id, reply_kind, to_addr, subject, body_text, raw_path, state, attempts, "
                 "last_error, created_at, sent_at, owner, next_attempt_at")


def iso(moment: dt.datetime) -> str:
    """Stored times are UTC, so that they compare as text whatever zone the clock reports."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def atomic_write(target: Path, data: bytes) -> None:
    """The file appears whole or not at all, even if the process dies mid-write.

    No fsync: like the database (WAL, synchronous=NORMAL) a file survives the process being killed,
    and an fsync per attachment was the largest single cost of taking in a backlog."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, target)


def _enable_wal(db: sqlite_utils.Database, patience_seconds: float = 30) -> None:
    """WAL mode, waited for: on a new database, a second process starting at the same moment may hold a lock,
    and SQLite answers the switch with "database is locked" at once, without its busy handler."""
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class BlobStore:
    """Files named by the sha256 of their bytes; writing the same bytes twice is a no-op."""

    def __init__(self, root: Path):
        self.root = root

    def put(self, data: bytes, suffix: str, digest: str = "") -> tuple[str, str]:
        """``digest``: the bytes' sha256, when the caller has it already (a photo's, from parsing)."""
        digest = digest or hashlib.sha256(data).hexdigest()
        relative = f"{digest[:2]}/{digest}{suffix}"
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
        return digest, relative

    def path(self, relative: str) -> Path:
        return self.root / relative


class Store:
    def __init__(self, database: Path, data_dir: Path, *, read_only: bool = False):
        """Open (and migrate) the database; ``read_only`` opens it for looking only, changing nothing."""
        self.blobs = BlobStore(data_dir)
        self.database = database
        self.sent_journal = SentJournal(journal_path(database), read_only=read_only)
        # Connections of one process take turns here: SQLite's own busy handler polls with sleeps of
        # up to 100 ms, which made a delivery thread and the pipeline wait on each other.
        self._writer = threading.Lock()
        if read_only:
            if not database.exists():
                raise StoreError(f"no database at {database} yet: run `rma-mailbot poll` first")
            connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            self.db = sqlite_utils.Database(connection)
            if migrations.pending(self.db):
                raise StoreError(f"{database} is from an older version: run `rma-mailbot poll` once to update it")
            return
        database.parent.mkdir(parents=True, exist_ok=True)
        # timeout: a second process (the CLI while the daemon runs) waits for the lock, not fails.
        # isolation_level=None: no implicit transactions; every write is in an explicit one (transaction()),
        # or commits on its own.
        self.db = sqlite_utils.Database(sqlite3.connect(str(database), timeout=30, check_same_thread=False,
                                                        isolation_level=None))
        _enable_wal(self.db)
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        # Under the write lock, so that two processes starting together do not both migrate (or both make
        # the sent journal).
        with self.transaction():
            migrations.apply(self.db)
            self.sent_journal.open()

    def close(self) -> None:
        self.db.close()
        self.sent_journal.close()

    def another_connection(self) -> Store:
        """The same database and files through a connection of its own, for a second thread."""
        other = Store(self.database, self.blobs.root)
        other._writer = self._writer
        return other

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction. IMMEDIATE takes the write lock up front, so a second process (a
        second daemon, apply-overrides) waits for it instead of failing on a stale read; nested calls
        become savepoints."""
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        with self._writer:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.conn.rollback()
                raise
            self.db.conn.execute("COMMIT")

    # --- messages and where they sit on the source -------------------------------------------

    def location_known(self, ref: SourceRef) -> bool:
        return self._one("select 1 from locations where mailbox=? and uidvalidity=? and uid=?",
                         [ref.mailbox, ref.uidvalidity, ref.uid]) is not None

    def message_by_key(self, message_key: str) -> dict | None:
        return self._one("select * from messages where message_key = ?", [message_key])

    def message_with_id(self, message_id: str) -> dict | None:
        return self._one("select id from messages where message_id = ? limit 1", [message_id])

    def message(self, message_row: int) -> dict:
        row = self._one("select * from messages where id = ?", [message_row])
        if row is None:
            raise ClaimNotFound(f"no stored message {message_row}")
        return row

    def quarantined(self) -> list[dict]:
        return list(self.db.query(
            "select m.*, l.mailbox, l.uidvalidity, l.uid from messages m left join locations l on l.message = m.id "
            "where m.mail_class = 'quarantined' group by m.id order by m.id"))

    def forget_message(self, message_row: int) -> tuple[SourceRef | None, dict]:
        """Remove a message row (to take it in again); returns where it sat and the row."""
        row = self.message(message_row)
        location = self._one("select * from locations where message = ? limit 1", [message_row])
        self.db.execute("delete from locations where message = ?", [message_row])
        self.db.execute("update events set message = null where message = ?", [message_row])
        self.db.execute("delete from attachments where message = ?", [message_row])
        self.db.execute("delete from messages where id = ?", [message_row])
        ref = SourceRef(location["mailbox"], location["uidvalidity"], location["uid"]) if location else None
        return ref, row

    def add_location(self, ref: SourceRef, message_row: int) -> None:
        self._insert("locations", {"mailbox": ref.mailbox, "uidvalidity": ref.uidvalidity, "uid": ref.uid,
                                   "message": message_row, "moved": 0}, conflict="replace")

    def unmoved(self, mailbox: str, uidvalidity: int) -> list[SourceRef]:
        rows = self.db.query("select uid from locations where mailbox=? and uidvalidity=? and moved=0",
                             [mailbox, uidvalidity])
        return [SourceRef(mailbox, uidvalidity, row["uid"]) for row in rows]

    def mark_moved(self, refs: list[SourceRef]) -> None:
        with self.transaction():
            for ref in refs:
                self.db.execute("update locations set moved=1 where mailbox=? and uidvalidity=? and uid=?",
                                [ref.mailbox, ref.uidvalidity, ref.uid])

    def folder_state(self, mailbox: str) -> tuple[int, int] | None:
        row = self._one("select uidvalidity, last_uid from folders where mailbox = ?", [mailbox])
        return (row["uidvalidity"], row["last_uid"]) if row else None

    def advance_watermark(self, ref: SourceRef) -> None:
        """Raise the folder's last UID to this message's, or start it afresh under a new UIDVALIDITY:
        one statement, as it runs once per message."""
        self.db.execute(
            "insert into folders (mailbox, uidvalidity, last_uid) values (?, ?, ?) on conflict(mailbox) do update "
            "set last_uid = case when folders.uidvalidity = excluded.uidvalidity "
            "then max(folders.last_uid, excluded.last_uid) else excluded.last_uid end, "
            "uidvalidity = excluded.uidvalidity",
            [ref.mailbox, ref.uidvalidity, int(ref.uid)])

    def insert_message(self, row: dict) -> int:
        return self._insert("messages", row)

    def set_message_claim(self, message_row: int, claim_id: int) -> None:
        self.db.execute("update messages set claim_id = ? where id = ?", [claim_id, message_row])

    # --- claims --------------------------------------------------------------------------------

    def claim(self, claim_id: int) -> Claim:
        row = self._one("select * from claims where id = ?", [claim_id])
        if row is None:
            raise ClaimNotFound(f"no claim {claim_id}")
        return claim_from_row(row)

    def claims(self, state: str | None = None) -> list[Claim]:
        where, params = ("where state = ?", [state]) if state else ("", [])
        return self._claims(f"select * from claims {where} order by id", params)

    def claim_of(self, message_ids: list[str]) -> int | None:
        """The claim that one of these Message-IDs (ours, or the customer's earlier mail) belongs to."""
        if not message_ids:
            return None
        marks = ",".join("?" * len(message_ids))
        row = self._one(
            f"select claim_id from outbox where message_id in ({marks}) union all "
            f"select claim_id from messages where message_id in ({marks}) and claim_id is not null limit 1",
            message_ids + message_ids)
        return row["claim_id"] if row else None

    def claims_on_order(self, customer: str, order_id: str) -> list[Claim]:
        """The customer's claims on an order, newest first."""
        return self._claims("select * from claims where customer = ? and order_id = ? order by id desc",
                            [customer, order_id])

    def earlier_claim_on_order(self, claim: Claim, order_id: str) -> bool:
        """Whether the customer has an earlier claim on the order that is open or has an RMA number."""
        return self._one(
            "select 1 from claims where customer = ? and order_id = ? and id < ? and (rma_number is not null "
            "or state in ('awaiting_evidence', 'awaiting_delivery', 'in_review')) limit 1",
            [claim.customer, order_id, claim.id]) is not None

    def reply_of_kind(self, message_ids: tuple[str, ...], reply_kind: str) -> dict | None:
        """The mail of ours of this kind (a warehouse check) named first among these Message-IDs."""
        if not message_ids:
            return None
        marks = ",".join("?" * len(message_ids))
        found = {r["message_id"]: r for r in self.db.query(
            f"select id, claim_id, message_id from outbox where reply_kind = ? and message_id in ({marks})",
            [reply_kind, *message_ids])}
        return next((found[m] for m in message_ids if m in found), None)

    def is_our_reply(self, message_id: str) -> bool:
        return self._one("select 1 from outbox where message_id = ?", [message_id]) is not None

    def reply_by_message_id(self, message_id: str) -> dict | None:
        return self._one("select id, claim_id, message_id, to_addr, state from outbox where message_id = ?",
                         [message_id])

    # A claim's messages include the warehouse's answers and bounces: our replies thread on the customer's own.
    def first_customer_message(self, claim_id: int) -> dict | None:
        return self._one("select * from messages where claim_id = ? and mail_class = 'customer' order by id limit 1",
                         [claim_id])

    def last_customer_message(self, claim_id: int) -> dict | None:
        return self._one("select * from messages where claim_id = ? and mail_class = 'customer' order by id desc "
                         "limit 1", [claim_id])

    def replied_with(self, claim_id: int, reply_kind: str) -> bool:
        row = self._one("select 1 from outbox where claim_id = ? and reply_kind = ?", [claim_id, reply_kind])
        return row is not None

    def create_claim(self, customer: str, claim_date: dt.date, now: dt.datetime) -> int:
        return self.db["claims"].insert({
            "kind": ClaimKind.UNKNOWN.value, "state": ClaimState.IN_REVIEW.value, "customer": customer,
            "claim_date": claim_date.isoformat(), "photos": 0, "missing": "[]", "reasons": "[]", "checks": "[]",
            "facts": json.dumps(facts_to_dict(ClaimFacts())), "created_at": iso(now), "updated_at": iso(now),
        }).last_pk

    def record_decision(self, claim_id: int, facts: ClaimFacts, order_id: str | None, decision: Decision,
                        rma_number: str | None, now: dt.datetime, judged_on: dt.date | None = None,
                        decided_by: DecidedBy = DecidedBy.POLICY) -> None:
        update = {
            "decided_by": decided_by.value,
            "kind": facts.kind.value, "state": decision.state.value, "order_id": order_id,
            "missing": json.dumps([m.value for m in decision.missing]),
            "reasons": json.dumps([r.value for r in decision.reasons]),
            "photos": len(facts.photos), "facts": json.dumps(facts_to_dict(facts)),
            "recheck_on": decision.recheck_on.isoformat() if decision.recheck_on else None,
            "updated_at": iso(now),
        }
        if decision.checks:  # a staff decision keeps the policy's clauses on show
            update["checks"] = json.dumps(checks_to_list(decision.checks))
        if rma_number:
            update["rma_number"] = rma_number
        if judged_on:
            update["judged_on"] = judged_on.isoformat()
        self._update("claims", claim_id, update)

    def set_claim(self, claim_id: int, now: dt.datetime, **fields) -> None:
        self._update("claims", claim_id, {**fields, "updated_at": iso(now)})

    def waiting_since(self, asked_before: dt.datetime) -> list[Claim]:
        """Claims waiting for the customer's evidence since before the given moment."""
        return self._claims("select * from claims where state = ? and asked_at < ? order by id",
                            [ClaimState.AWAITING_EVIDENCE.value, iso(asked_before)])

    def due_for_recheck(self, today: dt.date) -> list[Claim]:
        return self._claims("select * from claims where state = ? and recheck_on < ? order by id",
                            [ClaimState.AWAITING_DELIVERY.value, today.isoformat()])

    def _claims(self, sql: str, params: list) -> list[Claim]:
        return [claim_from_row(row) for row in self.db.query(sql, params)]

    def next_rma_number(self, fmt: str, year: int) -> str:
        """Unique and never reused: the counter only ever grows, inside the caller's transaction."""
        self.db.execute("insert or ignore into rma_counters (year, last_seq) values (?, 0)", [year])
        self.db.execute("update rma_counters set last_seq = last_seq + 1 where year = ?", [year])
        seq = self._one("select last_seq from rma_counters where year = ?", [year])["last_seq"]
        return fmt.format(year=year, seq=seq)

    # --- attachments, events ------------------------------------------------------------------

    def add_attachment(self, row: dict) -> None:
        self._insert("attachments", row, conflict="ignore")

    def claim_attachment_bytes(self, claim_id: int) -> int:
        row = self._one("select coalesce(sum(size), 0) n from attachments where claim_id = ? and path is not null",
                        [claim_id])
        return row["n"]

    def attachments(self, claim_id: int) -> list[dict]:
        return list(self.db.query("select * from attachments where claim_id = ? order by id", [claim_id]))

    def add_event(self, claim_id: int | None, kind: str, detail: dict, now: dt.datetime,
                  message_row: int | None = None) -> None:
        self._insert("events", {"claim_id": claim_id, "message": message_row, "at": iso(now), "kind": kind,
                                  "detail": json.dumps(detail, ensure_ascii=False)})

    def events(self, claim_id: int) -> list[dict]:
        return list(self.db.query("select * from events where claim_id = ? order by id", [claim_id]))

    # --- outbox --------------------------------------------------------------------------------

    def queue_reply(self, row: dict, raw: bytes) -> int:
        _, raw_path = self.blobs.put(raw, ".eml")
        return self._insert("outbox", {**row, "to_mailbox": mailbox_of(row["to_addr"]), "raw_path": raw_path,
                                       "state": OutboxState.QUEUED, "attempts": 0})

    def reply_bytes(self, reply: dict) -> bytes:
        if reply["raw_path"]:
            return self.blobs.path(reply["raw_path"]).read_bytes()
        # Queued before m007: the bytes are still in the row.
        return self._one("select raw from outbox where id = ?", [reply["id"]])["raw"]

    def outbox_total(self) -> int:
        return self.db["outbox"].count

    def replies(self, claim_id: int) -> list[dict]:
        return self._with_sent_marks(
            self.db.query(f"select {REPLY_COLUMNS} from outbox where claim_id = ? order by id", [claim_id]))

    def replies_in_state(self, *states: str) -> list[dict]:
        # A reply the journal holds as sent is still `sending` in the table until folded in.
        wanted = {*states, OutboxState.SENDING} if OutboxState.SENT in states else set(states)
        marks = ",".join("?" * len(wanted))
        rows = self.db.query(f"select {REPLY_COLUMNS} from outbox where state in ({marks}) order by id", list(wanted))
        return [row for row in self._with_sent_marks(rows) if row["state"] in states]

    def deliverable(self, now: dt.datetime) -> list[dict]:
        """Queued replies whose retry time has come, and replies left `sending` by a process now gone
        (the caller asks whose) unless their check is put off to a retry time."""
        return list(self.db.query(
            f"select {REPLY_COLUMNS} from outbox where state in (?, ?) and coalesce(next_attempt_at, '') <= ? "
            "order by id", [OutboxState.QUEUED, OutboxState.SENDING, iso(now)]))

    def fold_sent_journal(self) -> None:
        """Carry the journal's sent marks into the outbox table, each once, then forget them. Idempotent:
        any process may fold any mark, and a kill between the two steps leaves only a mark already applied."""
        marks = self.sent_journal.marks()
        if not marks:
            return
        with self.transaction():
            for mark in marks:
                # Only a row still `sending`: a bounce may already have marked it failed.
                folded = self.db.execute(
                    "update outbox set state = ?, sent_at = ?, last_error = '', next_attempt_at = null, owner = null "
                    "where message_id = ? and state = ? returning claim_id",
                    [OutboxState.SENT, mark.sent_at, mark.message_id, OutboxState.SENDING]).fetchall()
                for (claim_id,) in folded:
                    self.add_event(claim_id, "reply_sent", {"message_id": mark.message_id, "mode": mark.mode},
                                   dt.datetime.fromisoformat(mark.sent_at))
        self.sent_journal.forget([mark.message_id for mark in marks])

    def _with_sent_marks(self, rows) -> list[dict]:
        """Rows as the journal has them: `sent` when the relay took a reply and the mark is not folded in yet."""
        marks = {mark.message_id: mark for mark in self.sent_journal.marks()}
        return [{**row, "state": OutboxState.SENT, "sent_at": marks[row["message_id"]].sent_at, "owner": None}
                if row["state"] == OutboxState.SENDING and row["message_id"] in marks else row for row in rows]

    def take_reply(self, reply_id: int, owner: str, expected_state: str, expected_owner: str | None) -> bool:
        """Mark a reply `sending` by us, if nobody else took it first: two daemons never send one reply."""
        with self.transaction():
            cursor = self.db.execute(
                "update outbox set state = ?, owner = ?, attempts = attempts + 1 "
                "where id = ? and state = ? and coalesce(owner, '') = ?",
                [OutboxState.SENDING, owner, reply_id, expected_state, expected_owner or ""])
            return cursor.rowcount == 1

    def set_reply_state(self, reply_id: int, state: str, now: dt.datetime, error: str = "",
                        retry_at: dt.datetime | None = None) -> None:
        with self.transaction():
            self.db.execute(
                "update outbox set state = ?, last_error = ?, sent_at = coalesce(?, sent_at), next_attempt_at = ?,"
                " owner = case when ? = 'sending' then owner else null end where id = ?",
                [state, error, iso(now) if state == OutboxState.SENT else None, iso(retry_at) if retry_at else None,
                 state, reply_id])

    def outbox_counts(self) -> dict[str, int]:
        counts = {r["state"]: r["n"] for r in self.db.query("select state, count(*) n from outbox group by state")}
        marked = [mark.message_id for mark in self.sent_journal.marks()]
        if marked:  # sent by the journal, `sending` in the table until folded in
            settled = self._one(f"select count(*) n from outbox where state = ? and message_id in "
                                f"({','.join('?' * len(marked))})", [OutboxState.SENDING, *marked])["n"]
            counts[OutboxState.SENT] = counts.get(OutboxState.SENT, 0) + settled
            counts[OutboxState.SENDING] = counts.get(OutboxState.SENDING, 0) - settled
        return {state: n for state, n in counts.items() if n}

    def replies_to_since(self, address: str, since: dt.datetime) -> int:
        row = self._one("select count(*) n from outbox where to_mailbox = ? and created_at >= ? and reply_kind != ?",
                        [mailbox_of(address), iso(since), "warehouse_check"])
        return row["n"]

    def set_health(self, now: dt.datetime, **values: object) -> None:
        with self.transaction():
            for key, value in values.items():
                self.db["health"].upsert({"key": key, "value": json.dumps(value), "updated_at": iso(now)}, pk="key")

    def health(self) -> dict[str, tuple[object, str]]:
        if not self.db["health"].exists():
            return {}
        return {r["key"]: (json.loads(r["value"]), r["updated_at"]) for r in self.db.query("select * from health")}

    def auth_failures(self, claim_id: int) -> tuple[str, ...]:
        """SPF, DKIM or DMARC failures our server reported on any of the claim's mails."""
        # The customer's own mails only: anyone can send a mail that fails, naming the claim in its subject.
        rows = self.db.query("select auth from messages where claim_id = ? and auth is not null "
                             "and mail_class = 'customer'", [claim_id])
        return tuple(dict.fromkeys(f for row in rows for f in json.loads(row["auth"])))

    def claims_by_customer_since(self, customer: str, since: dt.datetime) -> int:
        row = self._one("select count(*) n from claims where customer = ? and created_at >= ?", [customer, iso(since)])
        return row["n"]

    def override_applied(self, entry_id: str) -> dict | None:
        return self._one("select * from overrides where id = ?", [entry_id])

    def record_override(self, row: dict) -> None:
        """Inside the caller's transaction: a second process applying the same entry fails here, not twice."""
        self._insert("overrides", row)

    def counts(self) -> dict[str, int]:
        return {row["state"]: row["n"] for row in self.db.query("select state, count(*) n from claims group by state")}

    def _insert(self, table: str, row: dict, conflict: str = "abort") -> int:
        """A plain INSERT: sqlite-utils' insert looks the table's columns up on every call, which
        costs more than the insert on the per-message path."""
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        cursor = self.db.execute(f"insert or {conflict} into {table} ({columns}) values ({marks})", list(row.values()))
        return cursor.lastrowid

    def _update(self, table: str, row_id: int, fields: dict) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(f"update {table} set {assignments} where id = ?", [*fields.values(), row_id])

    def _one(self, sql: str, params: list) -> dict | None:
        return next(iter(self.db.query(sql, params)), None)


def checks_to_list(checks: tuple[Check, ...]) -> list[dict]:
    return [{"reason": c.reason.value, "outcome": c.outcome.value, "evidence": c.evidence} for c in checks]


def claim_from_row(row: dict) -> Claim:
    def moment(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    def day(value: str | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    return Claim(
        id=row["id"], customer=row["customer"], kind=ClaimKind(row["kind"]), state=ClaimState(row["state"]),
        claim_date=day(row["claim_date"]), created_at=moment(row["created_at"]), updated_at=moment(row["updated_at"]),
        order_id=row["order_id"], rma_number=row["rma_number"],
        missing=tuple(Evidence(m) for m in json.loads(row["missing"] or "[]")),
        reasons=tuple(Reason(r) for r in json.loads(row["reasons"] or "[]")),
        checks=tuple(Check(Reason(c["reason"]), Outcome(c["outcome"]), c.get("evidence", ""))
                     for c in json.loads(row["checks"] or "[]")),
        photos=row["photos"] or 0, facts=facts_from_dict(json.loads(row["facts"] or "{}")),
        recheck_on=day(row["recheck_on"]), asked_at=moment(row["asked_at"]), reminded_at=moment(row["reminded_at"]),
        judged_on=day(row["judged_on"]), decided_by=DecidedBy(row["decided_by"]) if row["decided_by"] else None,
        routed_by=row["routed_by"], resolution=row["resolution"],
    )


def facts_to_dict(facts: ClaimFacts) -> dict:
    return asdict(facts)


def facts_from_dict(data: dict) -> ClaimFacts:
    if not data:
        return ClaimFacts()
    return ClaimFacts(
        order_number=data.get("order_number", ""),
        kind=ClaimKind(data.get("kind", ClaimKind.UNKNOWN)),
        kind_sentence=data.get("kind_sentence", ""),
        kind_by_model=bool(data.get("kind_by_model", False)),
        statements=tuple(Statement(Evidence(s["evidence"]), s["sentence"], int(s.get("boxes", 0)))
                         for s in data.get("statements", [])),
        photos=tuple(Photo(**p) for p in data.get("photos", [])),
        reports=tuple(Report(r["sha256"], r.get("lab", ""), LabSource(r.get("found_in", LabSource.NONE)),
                             tuple(r.get("active", ())), r.get("unreadable", "")) for r in data.get("reports", [])),
        missing_parts=tuple((part, int(qty)) for part, qty in data.get("missing_parts", [])),
        opened_sensitive=data.get("opened_sensitive", ""),
        opened_parts=tuple(data.get("opened_parts", ())),
        counts=tuple(PartCount(c["part"], int(c["number"]), c["sentence"]) for c in data.get("counts", [])),
    )
