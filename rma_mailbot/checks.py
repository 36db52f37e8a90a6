"""What `check-config` tries after the file itself is valid: each thing the bot will touch."""

from __future__ import annotations

from collections.abc import Iterator

from rma_mailbot.config import Config, OutboxMode, SourceKind
from rma_mailbot.errors import MailbotError
from rma_mailbot.orders import OrderBook
from rma_mailbot.outbox import smtp_connect
from rma_mailbot.sources.imap import connect as imap_connect


def check_connections(config: Config) -> Iterator[tuple[str, bool, str]]:
    """(name, ok, message) for the order book, the IMAP login and the SMTP connection."""
    try:
        yield "orders", True, f"{len(OrderBook(config.orders))} orders in {config.orders.csv}"
    except MailbotError as exc:
        yield "orders", False, str(exc)
    if config.source.kind is SourceKind.MAILDIR:
        yield "maildir", True, f"reading {config.maildir.path}"
    if config.source.kind is SourceKind.IMAP or config.outbox.mode is OutboxMode.DRAFTS:
        yield _imap(config)
    if config.outbox.mode is OutboxMode.SMTP:
        yield _smtp(config)
        if config.outbox.sent_folder:
            yield _sent_folder(config)
    if config.outbox.mode is OutboxMode.FOLDER:
        yield "outbox", True, f"replies are written to {config.outbox.folder}"


def _imap(config: Config) -> tuple[str, bool, str]:
    imap = config.imap
    try:
        client = imap_connect(imap)
    except MailbotError as exc:
        return "imap", False, str(exc)
    try:
        if not client.folder_exists(imap.folder):
            return "imap", False, f"logged in as {imap.username}, but folder {imap.folder} does not exist"
        status = client.folder_status(imap.folder, [b"MESSAGES"])
        return "imap", True, (f"logged in to {imap.host}:{imap.port} as {imap.username}; {imap.folder} holds "
                              f"{status[b'MESSAGES']} message(s)")
    finally:
        client.logout()


def _sent_folder(config: Config) -> tuple[str, bool, str]:
    folder = config.outbox.sent_folder
    try:
        client = imap_connect(config.imap)
    except MailbotError as exc:
        return "sent folder", False, str(exc)
    try:
        if not client.folder_exists(folder):
            return "sent folder", False, (f"{folder} does not exist for {config.imap.username}: a reply a crash cut "
                                          "off cannot be looked for there")
        return "sent folder", True, f"a reply a crash cut off is looked for in {folder} before it is sent again"
    finally:
        client.logout()


def _smtp(config: Config) -> tuple[str, bool, str]:
    smtp = config.smtp
    try:
        client = smtp_connect(smtp)
    except MailbotError as exc:
        return "smtp", False, str(exc)
    client.quit()
    login = f" as {smtp.username}" if smtp.username else ""
    return "smtp", True, f"connected to {smtp.host}:{smtp.port} ({smtp.tls}){login}"
