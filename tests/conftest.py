"""Real servers for the tests: a Dovecot per session on a loopback port, an aiosmtpd per test."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import mailbox
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from rma_mailbot.cli import cli
from rma_mailbot.pipeline import poll_once
from rma_mailbot.sources import open_source
from rma_mailbot.testing import (  # noqa: F401 - re-exported for the tests
    Dovecot,
    RecordingHandler,
    ServerError,
    dovecot_binary,
    free_port,
    smtp_recorder,
    wait_for_port,
)
from rma_mailbot.testing import dovecot as start_dovecot

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def test_ca():
    """A private CA, as a company running its own mail server would have; the servers' certificates."""
    import trustme

    return trustme.CA()


@pytest.fixture(scope="session")
def dovecot(test_ca) -> Dovecot:
    """One Dovecot for the session, with TLS from the test CA; each test takes a mailbox of its own."""
    if dovecot_binary() is None:
        reason = "Dovecot is not installed (apt-get install -y dovecot-imapd; the README's test command does it)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    cert = test_ca.issue_cert("127.0.0.1", "localhost")
    try:
        with start_dovecot(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes()) as server:
            yield server
    except ServerError as exc:
        pytest.fail(str(exc))


@dataclass
class Account:
    host: str
    port: int
    user: str
    password: str


@pytest.fixture
def imap_account(dovecot) -> Account:
    user, password = dovecot.add_user()
    return Account("127.0.0.1", dovecot.port, user, password)


@pytest.fixture
def imap(imap_account):
    """A logged-in imapclient on the test's own mailbox, for APPENDing and looking."""
    import imapclient

    client = imapclient.IMAPClient(imap_account.host, port=imap_account.port, ssl=False, timeout=10)
    client.login(imap_account.user, imap_account.password)
    yield client
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - a test may have dropped the session on purpose
        pass


@pytest.fixture
def smtp_server():
    with smtp_recorder() as server:
        yield server


def write_config(path: Path, *, source: str = "maildir", outbox: str = "folder", imap: Account | None = None,
                 smtp_port: int | None = None, orders_csv: Path | None = None, extra: str = "",
                 change=None) -> Path:
    """A config file for a test, derived from the shipped example so it stays in step with it.

    ``change`` may edit the parsed example (a dict) before it is written."""
    import tomllib

    import tomli_w

    data = tomllib.loads((REPO / "config.example.toml").read_text())
    data["source"]["kind"] = source
    data["outbox"]["mode"] = outbox
    data["orders"]["csv"] = str(orders_csv or path.parent / "orders.csv")
    if imap is not None:
        data["imap"].update(host=imap.host, port=imap.port, tls="none", username=imap.user,
                            password_env="TEST_IMAP_PASSWORD", timeout_seconds=10)
        os.environ["TEST_IMAP_PASSWORD"] = imap.password
    if smtp_port is not None:
        data["smtp"].update(host="127.0.0.1", port=smtp_port, tls="none", username="", timeout_seconds=10)
    if change is not None:
        change(data)
    path.write_text(tomli_w.dumps(data) + extra)
    return path


def claim_rows(store, claim_id: int | None = None) -> list[dict]:
    """The claims table's rows as stored (columns as the database holds them), for assertions on storage."""
    where, params = ("where id = ?", [claim_id]) if claim_id is not None else ("", [])
    return list(store.db.query(f"select * from claims {where} order by id", params))


def run_cli(*args, exit_code: int = 0):
    """The CLI run in-process, its exit code checked: a command that fails cannot let a test pass."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == exit_code, f"exit {result.exit_code}: {result.output}{result.exception or ''}"
    return result


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Bot:
    """The bot on a Maildir and a folder outbox, with a clock the test sets."""

    def __init__(self, config, rt, now):
        self.config, self.rt, self.now = config, rt, now
        self.inbox = mailbox.Maildir(config.maildir.path, create=True)

    def deliver(self, message, at: dt.datetime | None = None):
        stored = mailbox.MaildirMessage(message)
        stored.set_date((at or self.now).timestamp())
        return self.inbox.add(stored)

    def poll(self, now: dt.datetime | None = None):
        source = open_source(self.config)
        try:
            return poll_once(self.rt, source, lambda: now or self.now)
        finally:
            source.close()

    def claims(self):
        return claim_rows(self.rt.store)

    def claim(self, claim_id: int) -> dict:
        [row] = claim_rows(self.rt.store, claim_id)
        return row

    def replies(self):
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(self.config.outbox.folder.glob("*.eml"))]


class DaemonProcess:
    """`rma-mailbot run` as a real process, its log in a file (a pipe could fill and block it)."""

    def __init__(self, config, log_path):
        self.log_path = log_path
        self.log = log_path.open("a")
        self.process = subprocess.Popen([sys.executable, "-m", "rma_mailbot", "--config", str(config), "run"],
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self, sig=signal.SIGTERM) -> int:
        """The exit code after ``sig``; a daemon that does not stop within 30 s is killed (no test leaves one
        running) and the timeout raised."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


@pytest.fixture
def open_bot(tmp_path):
    """Opens a Bot on a fresh order book and config in the test's folder: open_bot(now, orders, change)."""
    from mails import write_orders
    from rma_mailbot import config as config_module
    from rma_mailbot.pipeline import Runtime

    opened = []

    def make(now: dt.datetime, orders: list[tuple], change=None) -> Bot:
        write_orders(tmp_path / "orders.csv", now.date(), orders)
        config = config_module.load(write_config(tmp_path / "config.toml", change=change))
        opened.append(Runtime.open(config))
        return Bot(config, opened[-1], now)

    yield make
    for rt in opened:
        rt.close()
