"""SIGKILL the daemon at random moments during a backlog, many times over; then count.

Zero lost, zero duplicated, except inside the window DESIGN.md describes: between the SMTP
server accepting a reply and our write that marks it sent. A relay cannot be asked what it
accepted, so a reply caught in that window is sent again after the restart (with the same
Message-ID). The test measures how often that happens and prints it.
"""

from __future__ import annotations

import collections
import datetime as dt
import email
import email.policy
import os
import random
import signal
import sqlite3
import subprocess
import sys

import pytest

from conftest import wait_until, write_config
from mails import claim_mail, write_orders

pytestmark = pytest.mark.dovecot

MAILS = 200
KILLS = 12


def count(database, sql: str) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=30) as db:
        try:
            return db.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # the schema is still being made


def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(tmp_path, imap_account, imap,
                                                                          smtp_server, capsys):
    controller, handler = smtp_server
    customers = [f"k{i}@example.org" for i in range(MAILS)]
    write_orders(tmp_path / "orders.csv", dt.date.today(),
                 [(f"SO-{500000 + i}", c, -5, -3, "DHL Express", 1, "LM358N", 5) for i, c in enumerate(customers)])
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port, change=lambda d: d["bot"].update(poll_interval_seconds=1))
    for i, customer in enumerate(customers):
        imap.append("INBOX", claim_mail(customer, f"Return SO-{500000 + i}", "Ordered by mistake.",
                                        message_id=f"<kill{i}@example.org>").as_bytes())
    database = tmp_path / "data" / "rma.sqlite"
    rng = random.Random(int(os.environ.get("KILL_SEED", "20261124")))
    log = (tmp_path / "daemon.log").open("a")

    def start():
        return subprocess.Popen([sys.executable, "-m", "rma_mailbot", "--config", str(config), "run"],
                                stdout=log, stderr=subprocess.STDOUT)

    kills = 0
    for _ in range(KILLS):
        claims, sent = count(database, "select count(*) from claims"), len(handler.messages)
        if sent >= MAILS:
            break
        daemon = start()
        # Kill while taking mail in, or while sending, at a random distance ahead.
        if rng.random() < 0.5:
            goal = min(MAILS, claims + rng.randint(1, 40))
            wait_until(lambda g=goal, d=daemon: count(database, "select count(*) from claims") >= g
                       or d.poll() is not None, 60, "claims to be taken in")
        else:
            goal = min(MAILS, sent + rng.randint(1, 40))
            wait_until(lambda g=goal, d=daemon: len(handler.messages) >= g or d.poll() is not None, 60,
                       "replies to go out")
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()  # reaped, as systemd would: a zombie would still look alive
        kills += 1

    daemon = start()
    try:
        wait_until(lambda: count(database, f"select count(*) from health where key = 'pid' and value = '{daemon.pid}'"),
                   60, "the last daemon to start")
        wait_until(lambda: count(database, "select count(*) from outbox where state = 'sent'") == MAILS, 120,
                   "every reply to be sent")
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        log.close()

    assert count(database, "select count(*) from claims") == MAILS  # zero lost, zero twice
    assert count(database, "select count(distinct customer) from claims") == MAILS
    assert count(database, "select count(*) from outbox") == MAILS  # one reply queued per claim
    sent = [(tos[0], email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
            for _, tos, raw in handler.messages]
    per_recipient = collections.Counter(to for to, _ in sent)
    assert set(per_recipient) == set(customers)  # every customer answered
    resent = sum(n - 1 for n in per_recipient.values())
    per_message_id = collections.Counter(mid for _, mid in sent)
    assert len(per_message_id) == MAILS  # a second copy is always the same reply, sent again
    assert resent <= kills  # at most the one reply in hand when a kill struck
    with capsys.disabled():
        print(f"\nkill test: {kills} SIGKILLs over {MAILS} mails; the accepted-but-not-yet-marked window was hit "
              f"{resent} time(s) ({resent / kills:.0%} of kills); nothing lost")
