"""Deliver queued replies exactly once: by SMTP, into the IMAP Drafts folder, or as .eml files.

A row goes queued -> sending -> sent. The sent mark is written to the sent journal first (see
sent_journal.py), which commits at once, and folded into the outbox table after. A row found in
``sending`` at start-up was cut off by a crash: where the transport can tell (a file, a draft, the
Sent folder the provider files SMTP submissions in) whether it arrived, that answer is taken;
otherwise it is sent again: a reply cut off between the end of its DATA and the commit of its sent mark may
reach the customer twice (README, "No answer twice from a crash"; tests/test_kill.py measures how often).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
import os
import smtplib
import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import imapclient

from rma_mailbot.config import Config, ImapConfig, OutboxMode, SmtpConfig, TLSMode
from rma_mailbot.errors import DeliveryError, SourceError, UnsendableAddress
from rma_mailbot.health import backoff
from rma_mailbot.models import ClaimState, OutboxState
from rma_mailbot.sources.imap import IMAP_ERRORS, tls_context
from rma_mailbot.sources.imap import connect as imap_connect
from rma_mailbot.store import Store, atomic_write

log = logging.getLogger(__name__)


class Transport(Protocol):
    def deliver(self, raw: bytes, sender: str, recipient: str, message_id: str) -> None: ...

    def delivered(self, message_id: str) -> bool | None:
        """True or False when the transport can tell whether a message arrived, else None; a
        DeliveryError when it could tell but cannot be asked now."""

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


def folder_holds(client: imapclient.IMAPClient, folder: str, message_id: str) -> bool:
    """Whether an IMAP folder holds a message with this Message-ID (ours, with its angle brackets)."""
    try:
        client.select_folder(folder, readonly=True)
        return bool(client.search(["HEADER", "Message-ID", message_id]))
    except IMAP_ERRORS as exc:
        raise DeliveryError(f"cannot look in IMAP folder {folder}: {exc}") from None


def _logout(client: imapclient.IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - a dead connection needs no goodbye
        pass


class DraftsTransport:
    """Shadow mode: replies land in the Drafts folder for staff to check and send themselves."""

    def __init__(self, config: Config):
        self._folder = config.outbox.drafts_folder
        self._client = imap_connect(config.imap)
        if not self._client.folder_exists(self._folder):
            self._client.create_folder(self._folder)

    def deliver(self, raw: bytes, sender: str, recipient: str, message_id: str) -> None:
        try:
            self._client.append(self._folder, raw, flags=[b"\\Draft"])
        except IMAP_ERRORS as exc:
            raise DeliveryError(f"IMAP APPEND to {self._folder} failed: {exc}") from None

    def delivered(self, message_id: str) -> bool:
        return folder_holds(self._client, self._folder, message_id)

    def close(self) -> None:
        _logout(self._client)


class SentFolder:
    """The IMAP folder the provider files our SMTP submissions in (Gmail and Microsoft 365 do): it can
    tell whether a reply a crash left `sending` reached the relay. Connects only when first asked."""

    def __init__(self, config: ImapConfig, folder: str):
        self._config = config
        self._folder = folder
        self._client: imapclient.IMAPClient | None = None

    def holds(self, message_id: str) -> bool:
        try:
            self._client = self._client or imap_connect(self._config)
        except SourceError as exc:
            raise DeliveryError(f"cannot look in IMAP folder {self._folder}: {exc}") from None
        try:
            return folder_holds(self._client, self._folder, message_id)
        except DeliveryError:
            self.close()  # the next question starts on a fresh connection
            raise

    def close(self) -> None:
        if self._client is not None:
            _logout(self._client)
            self._client = None


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
    def __init__(self, config: SmtpConfig, sent_folder: SentFolder | None = None):
        self._config = config
        self._client = smtp_connect(config)
        self._sent_folder = sent_folder

    def deliver(self, raw: bytes, sender: str, recipient: str, message_id: str) -> None:
        try:
            options = self._mail_options(sender, recipient)
            refused = self._client.sendmail(sender, [recipient], raw, mail_options=options)
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

    def _mail_options(self, sender: str, recipient: str) -> tuple[str, ...]:
        """SMTPUTF8 (RFC 6531) for an address that is not ASCII; a relay without it cannot carry one."""
        if sender.isascii() and recipient.isascii():
            return ()
        self._client.ehlo_or_helo_if_needed()
        if not self._client.has_extn("smtputf8"):
            raise UnsendableAddress(f"{recipient} is not an ASCII address, and the SMTP server "
                                    f"{self._config.host}:{self._config.port} does not offer SMTPUTF8")
        return ("SMTPUTF8",)

    def delivered(self, message_id: str) -> bool | None:
        # An SMTP relay cannot be asked what it accepted; the Sent folder it files submissions in can.
        return self._sent_folder.holds(message_id) if self._sent_folder else None

    def close(self) -> None:
        try:
            self._client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        if self._sent_folder is not None:
            self._sent_folder.close()


def open_transport(config: Config) -> Transport:
    if config.outbox.mode is OutboxMode.FOLDER:
        return FolderTransport(config.outbox.folder)
    if config.outbox.mode is OutboxMode.DRAFTS:
        try:
            return DraftsTransport(config)
        except SourceError as exc:
            raise DeliveryError(str(exc)) from None
    sent_folder = SentFolder(config.imap, config.outbox.sent_folder) if config.outbox.sent_folder else None
    return SmtpTransport(config.smtp, sent_folder)


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


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    RETRYING = "retrying"


def deliver_pending(store: Store, config: Config, now: dt.datetime) -> DeliveryReport:
    """Send every reply that is due, each exactly once; connect only when there is something to send.

    A row is taken by marking it `sending` with our owner id in one conditional UPDATE, so that two
    daemons by mistake never both send it. A row left `sending` by a dead process is checked with the
    transport (the file, the draft, the Sent folder) and sent again only when the transport cannot tell.
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
    outcomes: collections.Counter[Outcome] = collections.Counter()
    try:
        for row in rows:
            if store.take_reply(row["id"], me, row["state"], row["owner"]):  # else another process took it
                outcomes[_deliver_one(store, config, transport, row, now)] += 1
    finally:
        transport.close()
    return DeliveryReport(sent=outcomes[Outcome.SENT], failed=outcomes[Outcome.FAILED],
                          retrying=outcomes[Outcome.RETRYING])


def _deliver_one(store: Store, config: Config, transport: Transport, row: dict, now: dt.datetime) -> Outcome:
    if row["state"] == OutboxState.SENDING:  # cut off by a crash: it may have arrived before
        try:
            arrived = transport.delivered(row["message_id"])
        except DeliveryError as exc:
            if row["attempts"] + 1 < config.outbox.max_attempts:
                return _check_later(store, row, now, exc)
            # Sending it again may duplicate it; not sending it would leave the customer without an answer.
            log.warning("reply %s to claim %s: sending it again unchecked after %d attempts: %s",
                        row["message_id"], row["claim_id"], row["attempts"] + 1, exc)
            arrived = None
        if arrived:
            log.info("reply %s to claim %s had arrived before the crash: not sent again", row["message_id"],
                     row["claim_id"])
            _mark_sent(store, config, row, now)
            return Outcome.SENT
    try:
        transport.deliver(store.reply_bytes(row), config.bot.support_address, row["to_addr"], row["message_id"])
    except DeliveryError as exc:
        return _not_delivered(store, config, row, now, exc)
    _mark_sent(store, config, row, now)
    return Outcome.SENT


def _retry_time(row: dict, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=backoff(row["attempts"] + 1, base=RETRY_BASE_SECONDS,
                                              ceiling=RETRY_CEILING_SECONDS))


def _check_later(store: Store, row: dict, now: dt.datetime, exc: DeliveryError) -> Outcome:
    """The transport could not be asked whether the reply arrived: it stays `sending` (it may have), and
    is asked again after a backoff, like a failed send, rather than risk sending it twice."""
    retry = _retry_time(row, now)
    store.set_reply_state(row["id"], OutboxState.SENDING, now, str(exc), retry_at=retry)
    log.warning("reply %s to claim %s may have been sent before a crash; asking again after %s: %s",
                row["message_id"], row["claim_id"], f"{retry:%H:%M:%S}", exc)
    return Outcome.RETRYING


def _not_delivered(store: Store, config: Config, row: dict, now: dt.datetime, exc: DeliveryError) -> Outcome:
    final = exc.permanent or row["attempts"] + 1 >= config.outbox.max_attempts
    retry = None if final else _retry_time(row, now)
    store.set_reply_state(row["id"], OutboxState.FAILED if final else OutboxState.QUEUED, now, str(exc),
                          retry_at=retry)
    if final:
        store.add_event(row["claim_id"], "reply_failed", {"message_id": row["message_id"], "error": str(exc)}, now)
    if isinstance(exc, UnsendableAddress):  # staff must reach this customer another way
        store.set_claim(row["claim_id"], now, state=ClaimState.IN_REVIEW.value, routed_by="unsendable-address")
    log.warning("reply %s to claim %s %s: %s", row["message_id"], row["claim_id"],
                "failed for good" if final else f"will be retried after {retry:%H:%M:%S}", exc)
    return Outcome.FAILED if final else Outcome.RETRYING


def _mark_sent(store: Store, config: Config, row: dict, now: dt.datetime) -> None:
    # The journal first: it commits at once, while the database's write lock may be held by a mail's
    # intake for as long as that takes. A kill before this line sends the reply again; after it, never.
    store.sent_journal.record(row["message_id"], config.outbox.mode.value, now)
    store.fold_sent_journal()
    log.info("claim %s: reply %s sent to %s", row["claim_id"], row["reply_kind"], row["to_addr"])
