"""A message's identity: its Message-ID together with a digest of its content. Pure.

Carrier and shop systems reuse Message-IDs, so an id alone would silently drop a different mail
under a reused one. The raw bytes alone would take one mail in twice when it arrives by two routes:
each relay adds its own Received lines, a relay without 8BITMIME re-encodes the body as
quoted-printable or base64, a Maildir has LF where IMAP has CRLF. So the digest covers what the
sender wrote, as the parser reads it: the originator's fields in their order, and each part's type
and decoded content; nothing a relay or our own server adds or re-encodes on the way.
"""

from __future__ import annotations

import email
import hashlib
from email.message import Message

ORIGINATOR_FIELDS = frozenset({
    "from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
    "content-type",
})


def digest(raw: bytes, message: Message | None = None) -> str:
    """The content digest of a mail; ``message``: the same bytes as the stdlib parsed them, if at hand."""
    message = message if message is not None else email.message_from_bytes(raw)
    fields = [(name.strip().lower(), " ".join(str(value).split())) for name, value in message.raw_items()
              if name.strip().lower() in ORIGINATOR_FIELDS]
    if not fields:  # not a mail as RFC 5322 writes one: nothing to go by but every byte
        return raw_digest(raw)
    hashed = hashlib.sha256()
    for name, value in fields:  # in their order: of two From fields, the parser takes the first
        hashed.update(f"{name}:{value}\n".encode("utf-8", "surrogateescape"))
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True) or b""
        if part.get_content_maintype() == "text":  # line ends as the transport wrote them
            content = content.replace(b"\r\n", b"\n").rstrip(b"\n")
        hashed.update(f"\n{part.get_content_type()} {len(content)}\n".encode() + content)
    return hashed.hexdigest()


def raw_digest(raw: bytes) -> str:
    """Of bytes that are no mail to parse (quarantined, or read from their head only): every byte counts."""
    return hashlib.sha256(raw).hexdigest()


def message_key(message_id: str, content_digest: str) -> str:
    """Ids hold no white space (RFC 5322's msg-id), so the space keeps the two parts apart."""
    return f"{message_id} {content_digest}" if message_id else f"content:{content_digest}"


def legacy_key(message_id: str, raw: bytes) -> str:
    """The key an older version stored a mail under: its Message-ID alone, or the sha256 of its bytes."""
    return message_id or "sha256:" + raw_digest(raw)
