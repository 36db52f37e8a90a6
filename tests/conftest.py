"""Real servers for the tests: a Dovecot per session on a loopback port, an aiosmtpd per test."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import itertools
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rma_mailbot.pipeline import poll_once
from rma_mailbot.sources import open_source

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, deadline_s: float, process: subprocess.Popen | None = None) -> None:
    """Block until something accepts connections on the port (a readiness check, not a sleep)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {deadline_s}s")


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
disable_plaintext_auth = no
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={dir}/home/%u
}}
mail_location = maildir:{dir}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


# Every mailbox exists from the start: Dovecot may not notice a passwd file changed within a second.
USER_POOL = 500


def user_credentials(n: int) -> tuple[str, str]:
    return f"support{n}@example.com", f"secret-{n}"


@pytest.fixture(scope="session")
def test_ca():
    """A private CA, as a company running its own mail server would have; the servers' certificates."""
    import trustme

    return trustme.CA()


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP, and STARTTLS
    tls_port: int  # implicit TLS
    config: Path
    _users: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_user(self) -> tuple[str, str]:
        """A fresh mailbox for one test: (username, password)."""
        n = next(self._users)
        if n > USER_POOL:
            raise RuntimeError(f"more than {USER_POOL} mailboxes asked for: raise USER_POOL")
        return user_credentials(n)

    def kick(self, user: str) -> None:
        subprocess.run(["doveadm", "-c", str(self.config), "kick", user], check=False, capture_output=True)


@pytest.fixture(scope="session")
def dovecot(test_ca) -> Dovecot:
    binary = _dovecot_binary()
    if binary is None:
        reason = "Dovecot is not installed (apt-get install -y dovecot-imapd; the README's test command does it)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    # Not under pytest's tmp root: that is mode 0700, and Dovecot's workers run as nobody.
    root = Path(tempfile.mkdtemp(prefix="rma-mailbot-dovecot-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        user, group = "nobody", "nogroup"
    else:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = user
    for sub in ("run", "state", "home", "mail"):
        (root / sub).mkdir()
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in map(user_credentials,
                                                                                 range(1, USER_POOL + 1))))
    port, tls_port = free_port(), free_port()
    cert = test_ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    config = root / "dovecot.conf"
    config.write_text(DOVECOT_CONF.format(dir=root, user=user, group=group, port=port, tls_port=tls_port))
    if os.geteuid() == 0:
        for sub in ("home", "mail"):
            shutil.chown(root / sub, "nobody", "nogroup")
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 20, process)
        wait_for_port(tls_port, 20, process)
    except RuntimeError as exc:
        output = process.stdout.read().decode(errors="replace") if process.poll() is not None else ""
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        process.kill()
        pytest.fail(f"Dovecot did not start: {exc}\n{output}\n{log}")
    yield Dovecot(root=root, port=port, tls_port=tls_port, config=config)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(root, ignore_errors=True)


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


class RecordingHandler:
    """What the SMTP server accepted: (envelope sender, recipients, bytes) per message."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


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
        return self.rt.store.claims()

    def replies(self):
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(self.config.outbox.folder.glob("*.eml"))]
