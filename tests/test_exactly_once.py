"""The exactly-once window: between the relay's 250 and our sent mark.

The mark must be durable at once, even while a mail's intake (in another thread, or another process)
holds the database's write lock; a reply a crash left `sending` is looked for in the Sent folder
before it is sent again, and a failing look puts it off rather than risk sending it twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import json
import mailbox
import signal
import socket
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
from rma_mailbot.models import OutboxState
from rma_mailbot.outbox import deliver_pending
from rma_mailbot.store import Store, iso

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


def smtp_config(tmp_path, port, imap=None, **outbox):
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    path = write_config(tmp_path / "config.toml", outbox="smtp", smtp_port=port, imap=imap,
                        change=lambda d: d["outbox"].update(outbox))
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


# --- the Sent folder -------------------------------------------------------------------------------

def dead_owner() -> str:
    """The owner id of a process that has exited, as a daemon killed while sending leaves it."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return f"{socket.gethostname()}:{child.stdout.strip()}"


def left_sending(store: Store, n: int) -> dict:
    reply = queue_reply(store, n)
    assert store.take_reply(reply["id"], dead_owner(), OutboxState.QUEUED, None)
    return reply


def other_mail(message_id: str, **headers) -> bytes:
    message = EmailMessage()
    message["From"] = "support@example.com"
    message["To"] = "someone@example.org"
    message["Subject"] = "Something else"
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Not the reply.")
    return message.as_bytes()


SENT_FOLDERS = [
    # (name, what the Sent folder holds besides, whether ours is filed there, replies the relay gets)
    ("filed", [], True, 0),
    ("filed among others", [other_mail("<reply10@example.com>"), other_mail("<reply@example.com>")], True, 0),
    ("empty", [], False, 1),
    ("near misses only", [other_mail("<reply10@example.com>"), other_mail("<reply1@example.com.other>"),
                          other_mail("<x@example.com>", In_Reply_To="<reply1@example.com>",
                                     References="<reply1@example.com>")], False, 1),
]


@pytest.mark.dovecot
@pytest.mark.parametrize(("others", "filed", "relayed"), [row[1:] for row in SENT_FOLDERS],
                         ids=[row[0] for row in SENT_FOLDERS])
def test_a_reply_left_sending_is_looked_for_in_the_sent_folder(tmp_path, relay, imap_account, imap, others, filed,
                                                              relayed):
    handler = RecordingHandler()
    _, config = smtp_config(tmp_path, relay(handler), imap=imap_account, sent_folder="Sent")
    store = Store(config.bot.database, config.bot.data_dir)
    reply = left_sending(store, 1)
    imap.create_folder("Sent")
    for raw in others + ([store.reply_bytes(reply)] if filed else []):
        imap.append("Sent", raw)
    report = deliver_pending(store, config, NOW)
    assert report.sent == 1
    assert len(handler.messages) == relayed
    if relayed:  # the same reply again
        assert email.message_from_bytes(handler.messages[0][2])["Message-ID"] == reply["message_id"]
    assert table_state(store, reply) == OutboxState.SENT
    assert reply_sent_events(store, reply) == 1
    store.close()


def unreachable(config):
    return dataclasses.replace(config, imap=dataclasses.replace(config.imap, port=free_port()))


def wrong_password(config, monkeypatch):
    monkeypatch.setenv("TEST_WRONG_IMAP_PASSWORD", "not-the-password")
    return dataclasses.replace(config, imap=dataclasses.replace(config.imap, password_env="TEST_WRONG_IMAP_PASSWORD"))


def no_such_folder(config):
    return dataclasses.replace(config, outbox=dataclasses.replace(config.outbox, sent_folder="Sent/Nowhere"))


CHECK_FAILURES = [
    ("nothing listens", lambda config, _: unreachable(config), "unreachable"),
    ("login refused", wrong_password, "login"),
    ("no such folder", lambda config, _: no_such_folder(config), "Sent/Nowhere"),
]


@pytest.mark.dovecot
@pytest.mark.parametrize(("break_it", "said"), [row[1:] for row in CHECK_FAILURES],
                         ids=[row[0] for row in CHECK_FAILURES])
def test_a_failing_look_in_the_sent_folder_puts_the_reply_off(tmp_path, relay, imap_account, imap, monkeypatch,
                                                             break_it, said):
    """It may have arrived: it is neither sent again nor lost, but looked for again after a backoff."""
    handler = RecordingHandler()
    _, config = smtp_config(tmp_path, relay(handler), imap=imap_account, sent_folder="Sent")
    store = Store(config.bot.database, config.bot.data_dir)
    reply = left_sending(store, 1)
    imap.create_folder("Sent")
    imap.append("Sent", store.reply_bytes(reply))

    report = deliver_pending(store, break_it(config, monkeypatch), NOW)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    assert handler.messages == []
    [row] = store.replies(reply["claim_id"])
    assert row["state"] == OutboxState.SENDING and said in row["last_error"]
    assert dt.timedelta(seconds=30) <= dt.datetime.fromisoformat(row["next_attempt_at"]) - NOW <= dt.timedelta(hours=1)
    assert deliver_pending(store, config, NOW).retrying == 0  # not asked again before its time
    assert store.replies(reply["claim_id"])[0]["attempts"] == row["attempts"]

    later = deliver_pending(store, config, NOW + dt.timedelta(hours=2))  # the server is back
    assert later.sent == 1
    assert handler.messages == []  # it was in the Sent folder
    assert table_state(store, reply) == OutboxState.SENT
    store.close()


@pytest.mark.dovecot
def test_a_look_that_keeps_failing_ends_in_sending_the_reply_again_once(tmp_path, relay, imap_account):
    """Never lost: after outbox.max_attempts failed looks, a possible duplicate beats no answer."""
    handler = RecordingHandler()
    _, config = smtp_config(tmp_path, relay(handler), imap=imap_account, sent_folder="Sent")
    broken = unreachable(config)
    store = Store(config.bot.database, config.bot.data_dir)
    reply = left_sending(store, 1)
    now = NOW
    for _ in range(config.outbox.max_attempts - 2):  # the first attempt was the send the crash cut off
        assert deliver_pending(store, broken, now).retrying == 1
        now += dt.timedelta(hours=2)
    assert handler.messages == []
    assert deliver_pending(store, broken, now).sent == 1
    assert len(handler.messages) == 1
    assert table_state(store, reply) == OutboxState.SENT
    assert deliver_pending(store, broken, now + dt.timedelta(hours=2)).sent == 0
    assert len(handler.messages) == 1
    store.close()


@pytest.mark.dovecot
@pytest.mark.parametrize(("folder", "said"), [
    ("Sent", "sent folder: ok: a reply a crash cut off is looked for in Sent"),
    ("Sent Items", "sent folder: FAILED: Sent Items does not exist"),
])
def test_check_config_tells_whether_the_sent_folder_is_there(tmp_path, relay, imap_account, imap, folder, said):
    config_path, _ = smtp_config(tmp_path, relay(RecordingHandler()), imap=imap_account, sent_folder=folder)
    imap.create_folder("Sent")
    result = CliRunner().invoke(cli, ["--config", str(config_path), "check-config"])
    assert said in result.output
    assert result.exit_code == (0 if folder == "Sent" else 1)


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
