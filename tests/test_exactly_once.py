"""The exactly-once window: between the relay's 250 and our sent mark.

The mark must be durable at once, even while a mail's intake (in another thread, or another process)
holds the database's write lock.
"""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import signal
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from conftest import RecordingHandler, free_port, wait_until, write_config
from mails import STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.cli import cli
from rma_mailbot.outbox import deliver_pending
from rma_mailbot.store import OutboxState, Store, iso

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)

# Another process in a write transaction (a second daemon, `apply-overrides`): SQLite's write lock.
HOLD_WRITE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


class IntakeInThisProcess:
    """A mail's intake in another thread of this process: Store.transaction() held, as ingest() holds it."""

    def __init__(self, store: Store):
        self._store = store
        self._held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold)

    def _hold(self):
        with self._store.transaction():
            self._held.set()
            self._release.wait(60)

    def take(self):
        self._thread.start()
        assert self._held.wait(30)

    def release(self):
        self._release.set()
        self._thread.join(30)


class WriterInAnotherProcess:
    def __init__(self, store: Store):
        self._database = store.database
        self._process: subprocess.Popen | None = None

    def take(self):
        self._process = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(self._database)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout.readline() == "held\n"

    def release(self):
        self._process.stdin.close()
        assert self._process.wait(30) == 0


class LockingRelay(RecordingHandler):
    """Has the write lock taken the moment a reply's DATA arrives, and only then answers 250: the relay
    accepts the reply while an intake holds the lock, as it does all the time in a backlog."""

    def __init__(self, holder):
        super().__init__()
        self.holder = holder

    async def handle_DATA(self, server, session, envelope):
        self.holder.take()
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay():
    """Start an aiosmtpd relay with the handler given; stopped at the end."""
    started = []

    def start(handler):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        return controller.port

    yield start
    for controller in started:
        controller.stop()


def smtp_config(tmp_path, port):
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    path = write_config(tmp_path / "config.toml", outbox="smtp", smtp_port=port)
    return path, config_module.load(path)


def queue_reply(store: Store, n: int) -> dict:
    """A reply in the outbox, queued as the pipeline queues one."""
    message = EmailMessage()
    message["From"] = "support@example.com"
    message["To"] = f"customer{n}@example.org"
    message["Subject"] = "Your return"
    message["Message-ID"] = f"<reply{n}@example.com>"
    message.set_content("Your RMA number is RMA-2026-00001.")
    with store.transaction():
        claim_id = store.create_claim(f"customer{n}@example.org", NOW.date(), NOW)
        store.queue_reply({"claim_id": claim_id, "message_id": message["Message-ID"], "reply_kind": "rma_confirmed",
                           "to_addr": message["To"], "subject": message["Subject"], "body_text": "RMA",
                           "created_at": iso(NOW)}, message.as_bytes())
    [row] = store.replies(claim_id)
    return row


def cli_json(config_path, *args) -> dict:
    result = CliRunner().invoke(cli, ["--config", str(config_path), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def table_state(store: Store, reply: dict) -> str:
    """The outbox table's own column, not what the journal makes of it."""
    return store.db.execute("select state from outbox where id = ?", [reply["id"]]).fetchone()[0]


def reply_sent_events(store: Store, reply: dict) -> int:
    return store.db.execute("select count(*) from events where claim_id = ? and kind = 'reply_sent'",
                            [reply["claim_id"]]).fetchone()[0]


@pytest.mark.parametrize("holder", [IntakeInThisProcess, WriterInAnotherProcess],
                         ids=["intake in another thread", "writer in another process"])
def test_the_sent_mark_is_durable_at_the_relays_250_while_the_write_lock_is_held(tmp_path, relay, holder):
    handler = LockingRelay(None)
    config_path, config = smtp_config(tmp_path, relay(handler))
    store = Store(config.bot.database, config.bot.data_dir)
    reply = queue_reply(store, 1)
    handler.holder = holder(store)
    sender = store.another_connection()  # as BackgroundDelivery's thread has one
    with ThreadPoolExecutor(1) as pool:
        delivery = pool.submit(deliver_pending, sender, config, NOW)
        try:
            wait_until(lambda: handler.messages, 10, "the relay to accept the reply")
            # What another process sees: a restart now would not send it again.
            wait_until(lambda: cli_json(config_path, "status")["outbox"] == {"sent": 1}, 10,
                       "the sent mark while the write lock is held")
            [shown] = cli_json(config_path, "show", str(reply["claim_id"]))["replies"]
            assert shown["state"] == "sent" and shown["sent_at"]
            assert not delivery.done()  # the lock is still held: the outbox table waits for it
        finally:
            handler.holder.release()
        assert delivery.result(timeout=30).sent == 1
    assert table_state(store, reply) == OutboxState.SENT  # folded in once the lock was free
    assert reply_sent_events(store, reply) == 1
    assert store.sent_journal.marks() == []
    assert len(handler.messages) == 1
    sender.close()
    store.close()


def test_a_kill_after_the_relays_250_never_sends_the_reply_again(tmp_path, relay):
    """`poll` SIGKILLed while its sent mark waits for the write lock another process holds."""
    handler = LockingRelay(None)
    config_path, config = smtp_config(tmp_path, relay(handler))
    store = Store(config.bot.database, config.bot.data_dir)
    handler.holder = WriterInAnotherProcess(store)
    mailbox.Maildir(config.maildir.path, create=True).add(
        claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
    poll = subprocess.Popen([sys.executable, "-m", "rma_mailbot", "--config", str(config_path), "poll"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: handler.messages, 30, "the relay to accept the reply")
        wait_until(lambda: cli_json(config_path, "status")["outbox"] == {"sent": 1}, 10, "the sent mark")
    finally:
        poll.send_signal(signal.SIGKILL)
        poll.wait()
        handler.holder.release()
    [reply] = store.replies_in_state(OutboxState.SENT)
    assert table_state(store, reply) == OutboxState.SENDING  # killed before the table had it
    again = CliRunner().invoke(cli, ["--config", str(config_path), "poll"])
    assert again.exit_code == 0, again.output
    assert len(handler.messages) == 1  # not sent again
    assert table_state(store, reply) == OutboxState.SENT
    assert reply_sent_events(store, reply) == 1
    assert store.sent_journal.marks() == []
    store.close()


def test_the_journal_is_named_after_its_database(tmp_path):
    """Two databases in one data directory never share their sent marks."""
    first = Store(tmp_path / "data" / "one.sqlite", tmp_path / "data")
    second = Store(tmp_path / "data" / "two.sqlite", tmp_path / "data")
    first.sent_journal.record("<reply1@example.com>", "smtp", NOW)
    assert [m.message_id for m in first.sent_journal.marks()] == ["<reply1@example.com>"]
    assert second.sent_journal.marks() == []
    first.close()
    second.close()
    with sqlite3.connect(tmp_path / "data" / "one.sent.sqlite") as db:
        assert db.execute("select message_id from sent").fetchall() == [("<reply1@example.com>",)]
