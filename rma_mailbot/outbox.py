"""Deliver queued replies exactly once: by SMTP, into the IMAP Drafts folder, or as .eml files.

A row goes queued -> sending -> sent. A row found in ``sending`` at start-up was cut off by a
crash: where the transport can tell (a file, a draft) whether it arrived, that answer is
taken; otherwise it is sent again, the window DESIGN.md describes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rma_mailbot.config import Config, OutboxMode, SmtpConfig, TLSMode
from rma_mailbot.errors import DeliveryError, SourceError
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
    context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    try:
        if config.tls is TLSMode.IMPLICIT:
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
            if config.tls is TLSMode.STARTTLS:
                client.starttls(context=context)
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


def deliver_pending(store: Store, config: Config, now: dt.datetime) -> DeliveryReport:
    """Send every queued reply once; connect only when there is something to send."""
    pending = store.replies_in_state(OutboxState.SENDING, OutboxState.QUEUED)
    if not pending:
        return DeliveryReport()
    try:
        transport = open_transport(config)
    except DeliveryError as exc:
        log.warning("outbox: %d repl%s waiting: %s", len(pending), "y" if len(pending) == 1 else "ies", exc)
        return DeliveryReport(retrying=len(pending))
    sent = failed = retrying = 0
    try:
        for row in pending:
            if row["state"] == OutboxState.SENDING and transport.delivered(row["message_id"]):
                store.set_reply_state(row["id"], OutboxState.SENT, now)
                sent += 1
                continue
            store.set_reply_state(row["id"], OutboxState.SENDING, now)
            try:
                transport.deliver(row["raw"], config.bot.support_address, row["to_addr"], row["message_id"])
            except DeliveryError as exc:
                final = exc.permanent or row["attempts"] + 1 >= config.outbox.max_attempts
                store.set_reply_state(row["id"], OutboxState.FAILED if final else OutboxState.QUEUED, now, str(exc))
                log.warning("reply %s to claim %s %s: %s", row["message_id"], row["claim_id"],
                            "failed" if final else "will be retried", exc)
                failed += final
                retrying += not final
                continue
            store.set_reply_state(row["id"], OutboxState.SENT, now)
            store.add_event(row["claim_id"], "reply_sent", {"message_id": row["message_id"],
                                                            "mode": config.outbox.mode.value}, now)
            log.info("claim %s: reply %s sent to %s", row["claim_id"], row["reply_kind"], row["to_addr"])
            sent += 1
    finally:
        transport.close()
    return DeliveryReport(sent=sent, failed=failed, retrying=retrying)
