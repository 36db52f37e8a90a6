"""What `check-config` tries after the file itself is valid: each thing the bot will touch."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from rma_mailbot.config import Config, OutboxMode, SourceKind
from rma_mailbot.errors import MailbotError
from rma_mailbot.orders import OrderBook
from rma_mailbot.outbox import smtp_connect
from rma_mailbot.sources.imap import connect as imap_connect


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"  # works, but not as the operator likely means
    FAILED = "FAILED"


def check_connections(config: Config) -> Iterator[tuple[str, Status, str]]:
    """(name, status, message) for the order book, the IMAP login, the SMTP connection, and settings that
    quietly disable something."""
    try:
        yield "orders", Status.OK, f"{len(OrderBook(config.orders))} orders in {config.orders.csv}"
    except MailbotError as exc:
        yield "orders", Status.FAILED, str(exc)
    if config.source.kind is SourceKind.MAILDIR:
        yield "maildir", Status.OK, f"reading {config.maildir.path}"
    if config.source.kind is SourceKind.IMAP or config.outbox.mode is OutboxMode.DRAFTS:
        yield _imap(config)
    if config.outbox.mode is OutboxMode.SMTP:
        yield _smtp(config)
        if config.outbox.sent_folder:
            yield _sent_folder(config)
    if config.outbox.mode is OutboxMode.FOLDER:
        yield "outbox", Status.OK, f"replies are written to {config.outbox.folder}"
    if config.warehouse is not None and not config.review.authserv_id:
        yield "review", Status.WARNING, ("review.authserv_id is empty: no server's Authentication-Results can be "
                                         "trusted, so the warehouse's answers by mail are never applied, only shown "
                                         "to staff; set it to the authserv-id your receiving mail server writes")


def _imap(config: Config) -> tuple[str, Status, str]:
    imap = config.imap
    try:
        client = imap_connect(imap)
    except MailbotError as exc:
        return "imap", Status.FAILED, str(exc)
    try:
        if not client.folder_exists(imap.folder):
            return "imap", Status.FAILED, f"logged in as {imap.username}, but folder {imap.folder} does not exist"
        status = client.folder_status(imap.folder, [b"MESSAGES"])
        return "imap", Status.OK, (f"logged in to {imap.host}:{imap.port} as {imap.username}; {imap.folder} holds "
                              f"{status[b'MESSAGES']} message(s)")
    finally:
        client.logout()


def _sent_folder(config: Config) -> tuple[str, Status, str]:
    folder = config.outbox.sent_folder
    try:
        client = imap_connect(config.imap)
    except MailbotError as exc:
        return "sent folder", Status.FAILED, str(exc)
    try:
        if not client.folder_exists(folder):
            return "sent folder", Status.FAILED, (f"{folder} does not exist for {config.imap.username}: a reply a "
                                                  "crash cut off cannot be looked for there")
        return "sent folder", Status.OK, f"a reply a crash cut off is looked for in {folder} before it is sent again"
    finally:
        client.logout()


def _smtp(config: Config) -> tuple[str, Status, str]:
    smtp = config.smtp
    try:
        client = smtp_connect(smtp)
    except MailbotError as exc:
        return "smtp", Status.FAILED, str(exc)
    client.quit()
    login = f" as {smtp.username}" if smtp.username else ""
    return "smtp", Status.OK, f"connected to {smtp.host}:{smtp.port} ({smtp.tls}){login}"
