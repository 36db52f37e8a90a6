"""Throwaway mail servers on loopback, for the tests and the benchmarks: Dovecot and an SMTP recorder.

Dovecot runs unprivileged from a config written into a temp dir, as the invoking user; every mailbox
exists from the start, because Dovecot may not notice a passwd file that changed within a second.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

USER_POOL = 500

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
{ssl}
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


class ServerError(RuntimeError):
    """A throwaway server could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, deadline_s: float, process: subprocess.Popen | None = None) -> None:
    """Block until something accepts connections on the port (a readiness check, not a sleep)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerError(f"server exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServerError(f"nothing listens on 127.0.0.1:{port} after {deadline_s}s")


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)


def user_credentials(n: int) -> tuple[str, str]:
    return f"support{n}@example.com", f"secret-{n}"


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP, and STARTTLS when started with a certificate
    tls_port: int  # implicit TLS (0: none)
    config: Path
    _users: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_user(self) -> tuple[str, str]:
        """A fresh mailbox: (username, password)."""
        n = next(self._users)
        if n > USER_POOL:
            raise ServerError(f"more than {USER_POOL} mailboxes asked for: raise USER_POOL")
        return user_credentials(n)

    def kick(self, user: str) -> None:
        """Drop every session of the user, as a server restart would."""
        subprocess.run(["doveadm", "-c", str(self.config), "kick", user], check=False, capture_output=True)


@contextlib.contextmanager
def dovecot(cert_pem: bytes = b"", key_pem: bytes = b"") -> Iterator[Dovecot]:
    """A Dovecot on free loopback ports, with TLS when a certificate is given; removed afterwards."""
    binary = dovecot_binary()
    if binary is None:
        raise ServerError("Dovecot is not installed (apt-get install -y dovecot-imapd)")
    # Not under a 0700 temp root: Dovecot's workers run as nobody.
    root = Path(tempfile.mkdtemp(prefix="rma-mailbot-dovecot-"))
    root.chmod(0o755)
    user, group = ("nobody", "nogroup") if os.geteuid() == 0 else (pwd.getpwuid(os.getuid()).pw_name,) * 2
    for sub in ("run", "state", "home", "mail"):
        (root / sub).mkdir()
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in map(user_credentials,
                                                                                 range(1, USER_POOL + 1))))
    port, tls_port = free_port(), free_port() if cert_pem else 0
    ssl = "ssl = no"
    if cert_pem:
        (root / "cert.pem").write_bytes(cert_pem)
        (root / "key.pem").write_bytes(key_pem)
        ssl = f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem"
    config = root / "dovecot.conf"
    config.write_text(DOVECOT_CONF.format(dir=root, user=user, group=group, port=port, tls_port=tls_port, ssl=ssl))
    if os.geteuid() == 0:
        for sub in ("home", "mail"):
            shutil.chown(root / sub, "nobody", "nogroup")
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for listening in (port, tls_port):
            if listening:
                wait_for_port(listening, 20, process)
    except ServerError as exc:
        output = process.stdout.read().decode(errors="replace") if process.poll() is not None else ""
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        process.kill()
        shutil.rmtree(root, ignore_errors=True)
        raise ServerError(f"Dovecot did not start: {exc}\n{output}\n{log}") from None
    try:
        yield Dovecot(root=root, port=port, tls_port=tls_port, config=config)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


class RecordingHandler:
    """An aiosmtpd handler keeping what it accepted: (envelope sender, recipients, bytes, time)."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each message, for latency
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        self.arrivals.append(time.monotonic())
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_recorder(**controller_options) -> Iterator[tuple[object, RecordingHandler]]:
    """aiosmtpd's Controller on a free loopback port: (controller, handler)."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **controller_options)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()
