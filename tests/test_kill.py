"""SIGKILL the daemon at random moments during a backlog, many times over; then count.

Nothing lost, no mail taken in twice, every reply marked sent exactly once. A reply can still go out
twice when a kill falls between the end of our DATA and the commit of its sent mark: the relay has
the mail once it has the final dot, whether or not we live to read its 250, and it cannot be asked
afterwards. Our own part of that window (from the 250 to the mark, which commits at once in the sent
journal) is a fraction of a millisecond; the rest is SMTP's last round trip, the relay's. So each
reply sent twice must be the one in hand when a kill struck, one per kill at most. Where the provider
files SMTP submissions in the Sent folder (Gmail, Microsoft 365), the bot looks there before sending a
row again, and the window closes: that variant must send no reply twice.

The relay runs in a process of its own, as a relay does: in this one, the thread that decides when
to kill would take turns (the GIL) with the relay's, and could never kill while the relay works.

KILL_MAILS, KILL_KILLS and KILL_SEED change the run (defaults 500, 50, 20261124).
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
import time
from dataclasses import dataclass

import pytest

from conftest import DaemonProcess, free_port, wait_until, write_config
from mails import claim_mail, write_orders

pytestmark = pytest.mark.dovecot

MAILS = int(os.environ.get("KILL_MAILS", "500"))
KILLS = int(os.environ.get("KILL_KILLS", "50"))
SEED = int(os.environ.get("KILL_SEED", "20261124"))
# A reply sent twice was the one in hand when a kill struck: its first copy reached the relay this close to
# a kill (measured: within 1.5 ms; a restart takes longer than this, so no kill is mistaken for another).
IN_HAND_SECONDS = 0.25

# An aiosmtpd relay that writes each message it accepts into a folder (whole, or not at all, named by the
# time it accepted it) before it answers 250; given an IMAP account, it first files the message in that
# account's Sent folder, as Gmail and Microsoft 365 do with SMTP submissions.
RELAY = """
import os, sys, time, uuid
import imapclient
from aiosmtpd.controller import Controller

port, folder, imap = int(sys.argv[1]), sys.argv[2], None
if len(sys.argv) > 3:
    host, imap_port, user, password = sys.argv[3:]
    imap = imapclient.IMAPClient(host, port=int(imap_port), ssl=False, timeout=10)
    imap.login(user, password)
    imap.create_folder("Sent")

class Relay:
    async def handle_DATA(self, server, session, envelope):
        if imap is not None:
            imap.append("Sent", envelope.original_content)
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        with open(os.path.join(folder, "." + name), "wb") as handle:
            handle.write(envelope.original_content)
        os.replace(os.path.join(folder, "." + name), os.path.join(folder, name))
        return "250 Message accepted for delivery"

controller = Controller(Relay(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


@dataclass(frozen=True)
class Relayed:
    to: str
    message_id: str
    at: float  # time.time() when the relay accepted it


class RelayProcess:
    def __init__(self, folder, imap_account=None):
        self.folder = folder
        self.port = free_port()
        folder.mkdir()
        login = [imap_account.host, str(imap_account.port), imap_account.user, imap_account.password] \
            if imap_account else []
        self._process = subprocess.Popen([sys.executable, "-c", RELAY, str(self.port), str(folder), *login],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout.readline() == "ready\n"

    def _names(self) -> list[str]:
        return [name for name in os.listdir(self.folder) if not name.startswith(".")]

    def accepted(self) -> int:
        return len(self._names())

    def messages(self) -> list[Relayed]:
        """In the order the relay accepted them."""
        relayed = []
        for name in sorted(self._names(), key=lambda n: int(n.split("-")[0])):
            message = email.message_from_bytes((self.folder / name).read_bytes(), policy=email.policy.default)
            relayed.append(Relayed(message["To"].addresses[0].addr_spec, message["Message-ID"],
                                   int(name.split("-")[0]) / 1e9))
        return relayed

    def stop(self):
        self._process.stdin.close()
        assert self._process.wait(30) == 0


@pytest.fixture(params=["plain relay", "relay files in Sent"])
def relay(request, tmp_path, imap_account):
    files_in_sent = request.param == "relay files in Sent"
    process = RelayProcess(tmp_path / "relayed", imap_account if files_in_sent else None)
    yield process, files_in_sent
    process.stop()


def count(database, sql: str) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=30) as db:
        try:
            return db.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # the schema is still being made


def cut_off_by(sent: list[Relayed], kills: list[float]) -> list[int]:
    """For each copy the relay accepted before the same reply came again, the kill that cut it off."""
    copies = collections.defaultdict(list)
    for relayed in sent:
        copies[relayed.message_id].append(relayed)
    culprits = []
    for earlier in (c for same in copies.values() for c in same[:-1]):
        nearest = min(range(len(kills)), key=lambda k: abs(kills[k] - earlier.at))
        assert abs(kills[nearest] - earlier.at) <= IN_HAND_SECONDS, f"{earlier} was sent again, not by a kill"
        culprits.append(nearest)
    return culprits


def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(tmp_path, imap_account, imap, relay,
                                                                          capsys):
    relay, files_in_sent = relay
    customers = [f"k{i}@example.org" for i in range(MAILS)]
    write_orders(tmp_path / "orders.csv", dt.date.today(),
                 [(f"SO-{500000 + i}", c, -5, -3, "DHL Express", 1, "LM358N", 5) for i, c in enumerate(customers)])

    def settings(data):
        data["bot"].update(poll_interval_seconds=1)
        if files_in_sent:
            data["outbox"].update(sent_folder="Sent")

    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=relay.port, change=settings)
    for i, customer in enumerate(customers):
        imap.append("INBOX", claim_mail(customer, f"Return SO-{500000 + i}", "Ordered by mistake.",
                                        message_id=f"<kill{i}@example.org>").as_bytes())
    database = tmp_path / "data" / "rma.sqlite"
    rng = random.Random(SEED)
    log_path = tmp_path / "daemon.log"

    def claims() -> int:
        return count(database, "select count(*) from claims")

    # Each kill waits for the intake or the sending to get a random distance further: on average the
    # backlog's length over the number of kills, so that the kills spread over the whole backlog.
    step = max(1, 2 * MAILS // KILLS - 1)
    kills = []
    for _ in range(KILLS):
        daemon = DaemonProcess(config, log_path)
        progress, what = rng.choice([(claims, "claims to be taken in"), (relay.accepted, "replies to go out")])
        goal = min(MAILS, progress() + rng.randint(1, step))
        try:
            wait_until(lambda g=goal, p=progress, d=daemon.process: p() >= g or d.poll() is not None, 60, what)
            assert daemon.process.poll() is None, log_path.read_text()[-3000:]  # it never stops on its own
        except BaseException:
            daemon.stop(signal.SIGKILL)  # a timed-out test leaves no daemon behind
            raise
        kills.append(time.time())
        daemon.stop(signal.SIGKILL)  # reaped, as systemd would: a zombie would still look alive

    daemon = DaemonProcess(config, log_path)
    pid = daemon.process.pid
    try:
        wait_until(lambda: count(database, f"select count(*) from health where key = 'pid' and value = '{pid}'"),
                   60, "the last daemon to start")
        wait_until(lambda: count(database, "select count(*) from outbox where state = 'sent'") == MAILS, 120,
                   "every reply to be sent")
    finally:
        code = daemon.stop()
    assert code == 0, log_path.read_text()[-3000:]

    sent = relay.messages()
    resent = len(sent) - len({s.message_id for s in sent})
    with capsys.disabled():
        print(f"\nkill test ({'relay files in Sent' if files_in_sent else 'plain relay'}, seed {SEED}): {KILLS} "
              f"SIGKILLs over {MAILS} mails; {resent} reply(ies) sent twice ({resent / KILLS:.0%} of kills)")
    assert claims() == MAILS  # nothing lost, nothing taken in twice
    assert count(database, "select count(distinct customer) from claims") == MAILS
    assert count(database, "select count(*) from messages") == MAILS
    assert count(database, "select count(*) from outbox") == MAILS  # one reply queued per claim
    assert count(database, "select count(*) from events where kind = 'reply_sent'") == MAILS  # marked once each
    assert count(tmp_path / "data" / "rma.sent.sqlite", "select count(*) from sent") == 0  # all folded in
    assert sorted({s.to for s in sent}) == sorted(customers)  # every customer answered ...
    assert len({s.message_id for s in sent}) == MAILS  # ... by one reply, a second copy being the same again
    culprits = cut_off_by(sent, kills)
    assert len(set(culprits)) == len(culprits)  # one reply in hand per kill at most
    if files_in_sent:
        assert resent == 0  # the Sent folder knows every reply the relay accepted


def test_a_second_stop_signal_stops_at_once():
    # The first signal only sets the flag the daemon's loop waits on; the second exits there and then.
    script = ("import os, signal, threading\n"
              "from rma_mailbot.daemon import stop_on_signal\n"
              "stopping = threading.Event()\n"
              "signal.signal(signal.SIGTERM, stop_on_signal(stopping))\n"
              "os.kill(os.getpid(), signal.SIGTERM)\n"
              "print('asked to stop:', stopping.is_set(), flush=True)\n"
              "os.kill(os.getpid(), signal.SIGTERM)\n"
              "print('still running', flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout == "asked to stop: True\n"
    assert done.returncode == 128 + signal.SIGTERM
    assert "stopping at once" in done.stderr
