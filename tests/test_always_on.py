"""Always on, never twice: IDLE push, dropped connections, outages, server surprises, two daemons."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import functools
import json
import threading
import time

import imapclient
import pytest
from click.testing import CliRunner

from conftest import DaemonProcess, free_port, run_cli, wait_until, write_config
from mails import STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.cli import cli
from rma_mailbot.pipeline import Runtime, ingest, poll_once
from rma_mailbot.sources import open_source
from rma_mailbot.store import Store

pytestmark = pytest.mark.dovecot


def customers(n: int) -> list[tuple]:
    """n orders, one customer each, all returnable today."""
    return [(f"SO-{400000 + i}", f"buyer{i}@example.org", -5, -3, "DHL Express", 1, "LM358N", 5) for i in range(n)]


@functools.cache  # the same mail is the same bytes: a second built later would carry another Date
def return_mail(i: int) -> bytes:
    return claim_mail(f"buyer{i}@example.org", f"Return SO-{400000 + i}", "Ordered by mistake, please take it back.",
                      message_id=f"<claim{i}@example.org>").as_bytes()


def status(config) -> dict:
    """`status --json`; {} until the daemon has made its database."""
    result = CliRunner().invoke(cli, ["--config", str(config), "status", "--json"])
    return json.loads(result.output) if result.exit_code == 0 else {}


@pytest.fixture
def live(tmp_path, imap_account, imap, smtp_server):
    """A config for the daemon on the test's own Dovecot mailbox, polling only every 5 minutes."""
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS + customers(300))
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port,
                          change=lambda d: d["bot"].update(poll_interval_seconds=300))
    return config, imap, handler


def replies_to(handler, address: str) -> int:
    return sum(1 for _, tos, _ in handler.messages if address in tos)


def test_idle_answers_at_once_and_survives_a_dropped_connection(live, tmp_path, dovecot, imap_account):
    config, imap, handler = live
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    try:
        wait_until(lambda: status(config).get("idle_connected"), 30, "IDLE to connect")
        # The poll interval is 5 minutes: only IDLE can bring this reply within seconds.
        imap.append("INBOX", return_mail(1))
        wait_until(lambda: replies_to(handler, "buyer1@example.org") == 1, 20, "the reply woken by IDLE")

        dovecot.kick(imap_account.user)  # the server drops every session of this user
        fresh = imapclient.IMAPClient(imap_account.host, port=imap_account.port, ssl=False, timeout=10)
        fresh.login(imap_account.user, imap_account.password)
        wait_until(lambda: "imap idle is back" in daemon.output(), 30, "IDLE to reconnect")
        fresh.append("INBOX", return_mail(2))
        wait_until(lambda: replies_to(handler, "buyer2@example.org") == 1, 20, "the reply after reconnecting")
        fresh.logout()
        running = status(config)
        assert running["daemon"]["running"] and running["idle_connected"]
        assert running["claims"] == {"approved": 2}
    finally:
        code = daemon.stop()
    assert code == 0
    log = daemon.output()
    assert log.count("imap idle unavailable") == 1  # once per outage, not once per retry
    assert "Traceback" not in log
    stopped = status(config)
    assert not stopped["daemon"]["running"] and not stopped["idle_connected"]


def test_smtp_outage_replies_wait_and_go_out_when_the_relay_returns(tmp_path, imap_account, imap):
    from aiosmtpd.controller import Controller

    from conftest import RecordingHandler

    port = free_port()
    write_orders(tmp_path / "orders.csv", dt.date.today(), customers(3))
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account, smtp_port=port)
    for i in range(3):
        imap.append("INBOX", return_mail(i))
    down = run_cli("--config", config, "poll")
    assert down.exit_code == 0 and "replies wait in the outbox" in down.output
    assert status(config)["outbox"] == {"queued": 3}

    handler = RecordingHandler()
    relay = Controller(handler, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        up = run_cli("--config", config, "poll")
        assert "3 sent" in up.output
        assert sorted(to for _, [to], _ in handler.messages) == [f"buyer{i}@example.org" for i in range(3)]
        assert status(config)["outbox"] == {"sent": 3}
    finally:
        relay.stop()


def test_permanent_refusal_is_shown_in_status(live):
    config, imap, handler = live
    handler.refuse["buyer7@example.org"] = "550 5.1.1 no such user"
    imap.append("INBOX", return_mail(7))
    run_cli("--config", config, "poll")
    report = status(config)
    [failure] = report["failed_deliveries"]
    assert failure["to"] == "buyer7@example.org" and "550" in failure["error"]
    text = run_cli("--config", config, "status").output
    assert "failed deliveries:" in text and "buyer7@example.org: " in text


# --- server-side surprises -------------------------------------------------------------------------

def open_bot(config):
    cfg = config_module.load(config)
    return cfg, Runtime.open(cfg)


def test_message_expunged_by_another_client_mid_fetch(live):
    config, imap, handler = live
    for i in range(5):
        imap.append("INBOX", return_mail(i))
    cfg, rt = open_bot(config)
    source = open_source(cfg)
    try:
        scan = source.scan(rt.store)
        assert scan.total == 5
        imap.select_folder("INBOX")
        gone = sorted(imap.search("ALL"))[2]
        imap.delete_messages([gone])
        imap.expunge()  # another client removes one between our search and our fetch
        outcomes = [ingest(rt, mail, dt.datetime.now(dt.UTC))[0] for batch in scan.batches for mail in batch]
        assert outcomes == ["ingested"] * 4
    finally:
        source.close()
        rt.close()
    assert len(json.loads(run_cli("--config", config, "claims", "--json").output)) == 4


def test_processed_folder_deleted_is_made_again(live):
    config, imap, handler = live
    imap.append("INBOX", return_mail(1))
    run_cli("--config", config, "poll")
    imap.select_folder("INBOX")
    imap.delete_folder("Processed")
    imap.append("INBOX", return_mail(2))
    result = run_cli("--config", config, "poll")
    assert result.exit_code == 0 and "1 new" in result.output
    imap.select_folder("INBOX")
    assert imap.search("ALL") == []
    imap.select_folder("Processed")
    assert len(imap.search("ALL")) == 1
    assert replies_to(handler, "buyer2@example.org") == 1


def test_real_uidvalidity_change_rescans_without_duplicates(tmp_path, imap_account, imap, smtp_server):
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), customers(4))
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port,
                          change=lambda d: d["imap"].update(folder="Support", processed_folder=""))
    imap.create_folder("Support")
    for i in range(2):
        imap.append("Support", return_mail(i))
    run_cli("--config", config, "poll")
    before = imap.select_folder("Support")[b"UIDVALIDITY"]
    imap.select_folder("INBOX")
    imap.delete_folder("Support")  # the folder is made anew: every UID means something else now
    imap.create_folder("Support")
    for i in range(4):  # the two old mails come back, and two new ones
        imap.append("Support", return_mail(i))
    assert imap.select_folder("Support")[b"UIDVALIDITY"] != before
    result = run_cli("--config", config, "poll")
    assert "2 new, 2 already stored" in result.output
    assert sorted(to for _, [to], _ in handler.messages) == [f"buyer{i}@example.org" for i in range(4)]


def test_two_daemons_by_mistake_answer_each_mail_once(live, tmp_path):
    config, imap, handler = live
    config.write_text(config.read_text().replace("poll_interval_seconds = 300", "poll_interval_seconds = 1"))
    for i in range(60):
        imap.append("INBOX", return_mail(i))
    first = DaemonProcess(config, tmp_path / "first.log")
    second = DaemonProcess(config, tmp_path / "second.log")
    try:
        wait_until(lambda: len(handler.messages) >= 60, 90, "60 replies")
        wait_until(lambda: status(config).get("outbox") == {"sent": 60}, 30, "the outbox to settle")
    finally:
        codes = first.stop(), second.stop()
    assert codes == (0, 0), first.output()[-3000:] + second.output()[-3000:]
    store = Store(config_module.load(config).bot.database, tmp_path / "data", read_only=True)
    try:
        assert store.db["claims"].count == 60
    finally:
        store.close()
    ids = [email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] for _, _, raw in handler.messages]
    assert len(ids) == len(set(ids)) == 60
    assert sorted(to for _, [to], _ in handler.messages) == sorted(f"buyer{i}@example.org" for i in range(60))


def test_poll_once_stops_between_messages(live):
    config, imap, handler = live
    for i in range(3):
        imap.append("INBOX", return_mail(i))
    cfg, rt = open_bot(config)
    source = open_source(cfg)
    seen = []

    def stop_after_one() -> bool:
        seen.append(1)
        return len(seen) > 1

    try:
        report = poll_once(rt, source, lambda: dt.datetime.now(dt.UTC), should_stop=stop_after_one)
    finally:
        source.close()
        rt.close()
    assert report.ingested == 1
    imap.select_folder("INBOX")
    assert len(imap.search("ALL")) == 2  # the rest waits for the next start


def test_a_backlog_in_batches_is_fetched_ahead_on_one_connection_at_a_time(live):
    """The next batch is fetched (and parsed) by the read-ahead thread while this one is stored and
    answered here; the connection is never seen in use by two threads at once (imapclient is not
    thread-safe), every batch is moved, and nothing is answered twice."""
    config, imap, handler = live
    for i in range(7):
        imap.append("INBOX", return_mail(i))
    cfg, rt = open_bot(config)
    cfg = dataclasses.replace(cfg, imap=dataclasses.replace(cfg.imap, batch_messages=2))
    source = open_source(cfg)
    in_use = threading.Lock()
    overlaps, users = [], set()

    def one_at_a_time(method):
        def guarded(*args, **kwargs):
            users.add(threading.current_thread().name)
            if not in_use.acquire(blocking=False):
                overlaps.append(method.__name__)
                return method(*args, **kwargs)
            try:
                time.sleep(0.05)  # a slow server: a command from the other thread would come in meanwhile
                return method(*args, **kwargs)
            finally:
                in_use.release()
        return guarded

    for name in ("fetch", "move", "copy", "uid_expunge", "add_flags", "expunge", "search", "folder_exists"):
        setattr(source.client, name, one_at_a_time(getattr(source.client, name)))
    try:
        report = poll_once(rt, source, lambda: dt.datetime.now(dt.UTC))
    finally:
        source.close()
        rt.close()
    assert (report.fetched, report.ingested, report.replies_sent) == (7, 7, 7)
    assert overlaps == []
    assert {"read-ahead", "MainThread"} <= users  # fetched there, moved here
    imap.select_folder("INBOX")
    assert imap.search("ALL") == []
    assert sorted(to for _, [to], _ in handler.messages) == sorted(f"buyer{i}@example.org" for i in range(7))


def test_temporary_refusal_is_retried_after_a_backoff(live):
    config, imap, handler = live
    handler.refuse["buyer3@example.org"] = "451 4.7.1 greylisted, try again later"
    imap.append("INBOX", return_mail(3))
    run_cli("--config", config, "poll")
    database = config_module.load(config).bot.database
    store = Store(database, database.parent)
    try:
        [row] = store.replies_in_state("queued")
        assert row["attempts"] == 1 and "451" in row["last_error"]
        due = dt.datetime.fromisoformat(row["next_attempt_at"])
        assert dt.timedelta(seconds=40) < due - dt.datetime.now(dt.UTC) < dt.timedelta(seconds=80)
        run_cli("--config", config, "poll")
        assert store.replies_in_state("queued")[0]["attempts"] == 1  # not before its time
        del handler.refuse["buyer3@example.org"]
        with store.transaction():  # as if the minute had passed
            store.db.execute("update outbox set next_attempt_at = ?", ["2000-01-01T00:00:00+00:00"])
    finally:
        store.close()
    run_cli("--config", config, "poll")
    assert replies_to(handler, "buyer3@example.org") == 1
    assert status(config)["outbox"] == {"sent": 1}
