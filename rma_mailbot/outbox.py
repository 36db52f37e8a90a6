"""Deliver queued replies exactly once: by SMTP, into the IMAP Drafts folder, or as .eml files.

A row goes queued -> sending -> sent. The sent mark is written to the sent journal first (see
sent_journal.py), which commits at once, and folded into the outbox table after. A row found in
``sending`` at start-up was cut off by a crash: where the transport can tell (a file, a draft)
whether it arrived, that answer is taken; otherwise it is sent again, the window DESIGN.md describes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import smtplib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rma_mailbot.config import Config, OutboxMode, SmtpConfig, TLSMode
from rma_mailbot.errors import DeliveryError, SourceError
from rma_mailbot.health import backoff
from rma_mailbot.sources.imap import tls_context
from rma_mailbot.store import OutboxState, Store, atomic_write

log = logging.getLogger(__name__)


class Transport(Protocol):
    def deliver(self, raw: bytes, sender: str, recipient: str, message_id: str) -> None: ...

    def delivered(self, message_id: str) -> bool | None:
        """True or False when the transport can tell whether a message arrived, else None."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    transport_error: str = ""  # the relay (or Drafts folder) could not be reached at all


class FolderTransport:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, message_id: str) -> Path:
        # The file name derives from our own Message-ID, never from anything a customer wrote.
        return self.folder / f"{hashlib.sha256(message_id.encode()).hexdigest()[:24]}.eml"

    def deliver(self, raw: bytes, sender: str, recipient: str, message_id: str) -> None:
        atomic_write(self.path_for(message_id), raw)

    def delivered(self, message_id: str) -> bool:
        return self.path_for(message_id).exists()

    def close(self) -> None:
        pass


class DraftsTransport:
    """Shadow mode: replies land in the Drafts folder for staff to check and send themselves."""

    def __init__(self, config: Config):
        from rma_mailbot.sources.imap import connect

        self._folder = config.outbox.drafts_folder
        self._client = connect(config.imap)
        if not self._client.folder_exists(self._folder):
            self._client.create_folder(self._folder)

    def deliver(self, raw: bytes, sender: str, recipient: str, message_id: str) -> None:
        from rma_mailbot.sources.imap import IMAP_ERRORS

        try:
            self._client.append(self._folder, raw, flags=[b"\\Draft"])
        except IMAP_ERRORS as exc:
            raise DeliveryError(f"IMAP APPEND to {self._folder} failed: {exc}") from None

    def delivered(self, message_id: str) -> bool:
        self._client.select_folder(self._folder, readonly=True)
        return bool(self._client.search(["HEADER", "Message-ID", message_id]))

    def close(self) -> None:
        try:
            self._client.logout()
        except Exception:  # noqa: BLE001 - a dead connection needs no goodbye
            pass


def smtp_connect(config: SmtpConfig) -> smtplib.SMTP:
    """The one place that opens a socket to the SMTP server."""
    try:
        if config.tls is TLSMode.IMPLICIT:
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds,
                                      context=tls_context(config.ca_file))
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
            if config.tls is TLSMode.STARTTLS:
                client.starttls(context=tls_context(config.ca_file))
        if config.username:
            client.login(config.username, config.password())
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login to {config.host}:{config.port} as {config.username} failed: "
                            f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}") from None
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP server {config.host}:{config.port} unreachable: {exc}") from None
    return client


class SmtpTransport:
    def __init__(self, config: SmtpConfig):
        self._client = smtp_connect(config)

    def deliver(self, raw: bytes, sender: str, recipient: str, message_id: str) -> None:
        try:
            refused = self._client.sendmail(sender, [recipient], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise DeliveryError(f"{recipient} refused: {code} {text.decode(errors='replace')}",
                                permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}",
                                permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP error: {exc}") from None
        if refused:
            raise DeliveryError(f"{recipient} refused: {refused}", permanent=True)

    def delivered(self, message_id: str) -> None:
        return None  # an SMTP relay cannot be asked what it accepted

    def close(self) -> None:
        try:
            self._client.quit()
        except (smtplib.SMTPException, OSError):
            pass


def open_transport(config: Config) -> Transport:
    if config.outbox.mode is OutboxMode.FOLDER:
        return FolderTransport(config.outbox.folder)
    if config.outbox.mode is OutboxMode.DRAFTS:
        try:
            return DraftsTransport(config)
        except SourceError as exc:
            raise DeliveryError(str(exc)) from None
    return SmtpTransport(config.smtp)


RETRY_BASE_SECONDS = 60
RETRY_CEILING_SECONDS = 3600


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(owner: str | None) -> bool:
    """Whether the process that marked a reply `sending` is dead (a crash left the row behind)."""
    if not owner:
        return True
    host, _, pid = owner.rpartition(":")
    if owner == owner_id():
        return True  # ours, yet not being sent now: an earlier cycle of ours was cut off
    if host != socket.gethostname() or not pid.isdigit():
        return False  # cannot tell for another machine: leave it to that machine
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def deliver_pending(store: Store, config: Config, now: dt.datetime) -> DeliveryReport:
    """Send every reply that is due, each exactly once; connect only when there is something to send.

    A row is taken by marking it `sending` with our owner id in one conditional UPDATE, so that two
    daemons by mistake never both send it. A row left `sending` by a dead process is checked with the
    transport (the file, the draft) and sent again only when the transport cannot tell.
    """
    store.fold_sent_journal()  # sent marks a killed process wrote but did not fold in: those rows are done
    rows = [r for r in store.deliverable(now) if r["state"] == OutboxState.QUEUED or owner_gone(r["owner"])]
    if not rows:
        return DeliveryReport()
    try:
        transport = open_transport(config)
    except DeliveryError as exc:
        return DeliveryReport(retrying=len(rows), transport_error=str(exc))
    me = owner_id()
    sent = failed = retrying = 0
    try:
        for row in rows:
            if not store.take_reply(row["id"], me, row["state"], row["owner"]):
                continue  # another process took it
            if row["state"] == OutboxState.SENDING and transport.delivered(row["message_id"]):
                _mark_sent(store, config, row, now)
                sent += 1
                continue
            try:
                transport.deliver(store.reply_bytes(row), config.bot.support_address, row["to_addr"], row["message_id"])
            except DeliveryError as exc:
                final = exc.permanent or row["attempts"] + 1 >= config.outbox.max_attempts
                retry = None if final else now + dt.timedelta(seconds=backoff(
                    row["attempts"] + 1, base=RETRY_BASE_SECONDS, ceiling=RETRY_CEILING_SECONDS))
                store.set_reply_state(row["id"], OutboxState.FAILED if final else OutboxState.QUEUED, now, str(exc),
                                      retry_at=retry)
                if final:
                    store.add_event(row["claim_id"], "reply_failed", {"message_id": row["message_id"],
                                                                      "error": str(exc)}, now)
                log.warning("reply %s to claim %s %s: %s", row["message_id"], row["claim_id"],
                            "failed for good" if final else f"will be retried after {retry:%H:%M:%S}", exc)
                failed += final
                retrying += not final
                continue
            _mark_sent(store, config, row, now)
            sent += 1
    finally:
        transport.close()
    return DeliveryReport(sent=sent, failed=failed, retrying=retrying)


def _mark_sent(store: Store, config: Config, row: dict, now: dt.datetime) -> None:
    # The journal first: it commits at once, while the database's write lock may be held by a mail's
    # intake for as long as that takes. A kill before this line sends the reply again; after it, never.
    store.sent_journal.record(row["message_id"], config.outbox.mode.value, now)
    store.fold_sent_journal()
    log.info("claim %s: reply %s sent to %s", row["claim_id"], row["reply_kind"], row["to_addr"])
