"""A message's identity: its Message-ID together with a digest of its content. Pure.

Carrier and shop systems reuse Message-IDs, so an id alone would silently drop a different mail
under a reused one. The raw bytes alone would take one mail in twice when it arrives by two routes
(each relay adds its own Received lines) or once from a Maildir and once over IMAP (LF against
CRLF). So the digest covers what the sender wrote: the originator's headers and the body, with
line ends made one, and nothing a relay or our own server adds on the way.
"""

from __future__ import annotations

import hashlib
import re

ORIGINATOR_HEADERS = frozenset({
    b"from", b"sender", b"reply-to", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to",
    b"references", b"mime-version", b"content-type", b"content-transfer-encoding",
})
_FIELD_START = re.compile(rb"\n(?![ \t])")


def content_digest(raw: bytes) -> str:
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    head, _, body = text.partition(b"\n\n")
    fields = []
    for field in _FIELD_START.split(head):
        name, colon, value = field.partition(b":")
        name = name.strip().lower()
        if colon and name in ORIGINATOR_HEADERS:
            fields.append(name + b":" + b" ".join(value.split()))  # unfolded: a relay may fold anew
    if not fields:  # not a mail as RFC 5322 writes one: nothing to go by but every byte
        return hashlib.sha256(raw).hexdigest()
    digest = hashlib.sha256()
    for field in sorted(fields):
        digest.update(field + b"\n")
    digest.update(b"\n" + body.rstrip(b"\n"))
    return digest.hexdigest()


def message_key(message_id: str, digest: str) -> str:
    """Ids hold no white space (RFC 5322's msg-id), so the space keeps the two parts apart."""
    return f"{message_id} {digest}" if message_id else f"content:{digest}"


def legacy_key(message_id: str, raw: bytes) -> str:
    """The key an older version stored a mail under: its Message-ID alone, or the sha256 of its bytes."""
    return message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
