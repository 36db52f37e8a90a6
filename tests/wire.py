"""What a reply of ours may hold, checked on its raw bytes: our headers, once each, and nothing else."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

OUR_HEADERS = {"date", "message-id", "x-auto-response-suppress", "x-rma-claim", "mime-version", "content-type",
               "from", "to", "subject", "in-reply-to", "references", "auto-submitted"}
PART_HEADERS = {"content-type", "content-transfer-encoding", "content-disposition", "mime-version"}
# Line and paragraph separators and bidi controls: never in anything we write or echo.
INVISIBLE = {"\x85", "\u2028", "\u2029", "\u061c", "\u200e", "\u200f", *map(chr, range(0x202a, 0x202f)),
             *map(chr, range(0x2066, 0x206a))}
CONTROLS = {*map(chr, range(0x20)), "\x7f"}


def header_names(block: bytes) -> list[str]:
    """The name of each header of a raw header block: every line that is not a folded continuation."""
    lines = block.split(b"\r\n")
    assert all(line[:1] in (b" ", b"\t") or b":" in line for line in lines), block
    return [line.split(b":", 1)[0].decode("ascii").lower() for line in lines if line[:1] not in (b" ", b"\t")]


def assert_only_our_headers(raw: bytes, customer: str) -> EmailMessage:
    """The reply's raw bytes: CRLF lines only, our headers once each, To the customer alone, and no line
    break, separator or bidi control in any decoded header, none of the latter in any body."""
    assert b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = header_names(head)
    assert len(names) == len(set(names)) and set(names) <= OUR_HEADERS, names
    # Headers are ASCII, or UTF-8 (RFC 6532) when the address is not ASCII.
    headers = email.message_from_string(head.decode("utf-8") + "\r\n\r\n", policy=email.policy.default)
    assert [a.addr_spec for a in headers["To"].addresses] == [customer], str(headers["To"])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = list(message.walk())
    for part in parts[1:]:
        assert {key.lower() for key in part.keys()} <= PART_HEADERS, part.keys()
    for part in [headers, *parts[1:]]:
        for key, value in part.items():
            assert not (INVISIBLE | CONTROLS) & set(str(value)), (key, str(value))
    for part in parts:
        if not part.is_multipart():
            assert not INVISIBLE & set(part.get_content()), part.get_content_type()
    return headers
