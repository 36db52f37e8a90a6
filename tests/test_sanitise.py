"""sanitise.py: a sender's text, decoded fully and only then cleaned, for our headers and replies."""

from __future__ import annotations

import base64
import email.policy

import pytest

from rma_mailbot.sanitise import one_line, plain_words


def b_word(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?b?{base64.b64encode(text.encode(charset)).decode()}?="


def q_word(text: str) -> str:
    return "=?utf-8?q?" + "".join(c if c.isalnum() else f"={ord(c):02X}" for c in text) + "?="


def nested(text: str, depth: int) -> str:
    for _ in range(depth):
        text = b_word(text)
    return text


# Code points that must never reach a header of ours or a line of a reply.
FORBIDDEN = {*map(chr, range(0x20)), *map(chr, range(0x7f, 0xa0)), "\u2028", "\u2029", "\u061c", "\u200e", "\u200f",
             *map(chr, range(0x202a, 0x202f)), *map(chr, range(0x2066, 0x206a))}

# (id, what arrives, what we may use)
ONE_LINE = [
    ("plain", "Return SO-200003", "Return SO-200003"),
    ("blanks_collapsed", "  a\tb  \r\n c ", "a b c"),
    ("q_crlf_bcc", "=?utf-8?q?Jane=0D=0ABcc:_evil@x.example?=", "Jane Bcc: evil@x.example"),
    ("b64_crlf_cc", b_word("Jane\r\nCc: evil@x.example"), "Jane Cc: evil@x.example"),
    ("lf_only", "=?utf-8?q?Jane=0AX-Injected:_1?=", "Jane X-Injected: 1"),
    ("word_inside_word", b_word("=?utf-8?q?Jane=0D=0ABcc:_evil@x.example?="), "Jane Bcc: evil@x.example"),
    ("q_word_inside_b_word_inside_q", q_word(b_word(q_word("a\r\nX-Injected: 1"))), "a X-Injected: 1"),
    ("eight_levels", nested("Jane\r\nBcc: evil@x.example", 8), "Jane Bcc: evil@x.example"),
    ("deeper_than_any_mail_program_is_dropped", "Jane " + nested("\r\nBcc: evil@x.example", 12), "Jane"),
    ("rlo_joining_a_word", "=\u202e?utf-8?q?a=0D=0ABcc:_evil@x.example?=", "a Bcc: evil@x.example"),
    ("latin1_bytes_declared_utf8", "=?utf-8?q?J=FCrgen_M=FCller?=", "Jürgen Müller"),
    ("utf8_bytes_declared_latin1", "=?iso-8859-1?q?Fr=C3=B6sche?=", "Frösche"),
    ("latin1_declared_latin1", "=?iso-8859-1?q?Gr=FC=DFe?=", "Grüße"),
    ("windows_1252_quotes", "=?windows-1252?q?=93Jane=94?=", "\u201cJane\u201d"),
    ("unknown_charset", "=?x-unknown?q?Gr=FC=DFe?=", "Grüße"),
    ("rfc2231_language", "=?utf-8*de?q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
    ("raw_latin1_bytes", "J\udcfcrgen", "Jürgen"),
    ("raw_utf8_bytes", "M\udcc3\udcbcller", "Müller"),
    ("character_split_across_words", "=?utf-8?b?w6==?= =?UTF-8?b?vA==?=ber", "über"),
    ("blank_between_words_is_no_text", "=?utf-8?q?Teile?=\r\n =?utf-8?q?_fehlen?=", "Teile fehlen"),
    ("blank_between_word_and_text_stays", "TEST =?utf-8?b?44OG44K544OI?=", "TEST テスト"),
    ("line_separator", "Return\u2028X-Injected: 1", "Return X-Injected: 1"),
    ("paragraph_separator", "Return\u2029X-Injected: 1", "Return X-Injected: 1"),
    ("next_line", "Return\x85X-Injected: 1", "Return X-Injected: 1"),
    ("encoded_line_separator", b_word("Return\u2028Bcc: evil@x.example"), "Return Bcc: evil@x.example"),
    ("rlo_file_name", "photo\u202egpj.exe", "photogpj.exe"),
    ("embeddings_isolates_and_marks", "\u202aa\u202bb\u202cc\u202dd\u2066e\u2067f\u2068g\u2069h\u200ei\u200fj\u061ck",
     "abcdefghijk"),
    ("nul_escape_del", "a\x00\x1b[31mb\x7fc", "a [31mb c"),
    ("c1_controls", "a\x80b\x9fc", "a b c"),
    ("lone_surrogate_from_a_codec", "=?unicode_escape?q?a\\ud800b?=", "ab"),
]


@pytest.mark.parametrize(("value", "expected"), [row[1:] for row in ONE_LINE], ids=[row[0] for row in ONE_LINE])
def test_one_line(value, expected):
    assert one_line(value) == expected


@pytest.mark.parametrize("value", [row[1] for row in ONE_LINE], ids=[row[0] for row in ONE_LINE])
def test_one_line_leaves_nothing_the_stdlib_would_decode_or_break_on(value):
    cleaned = one_line(value)
    assert not FORBIDDEN & set(cleaned)
    assert cleaned.splitlines() in ([], [cleaned])
    assert one_line(cleaned) == cleaned
    # The generator parses what we set: it must read our text as it is, with no word left to decode.
    assert str(email.policy.default.header_factory("Subject", cleaned)) == cleaned


@pytest.mark.parametrize(("header", "name", "address"), [
    ("=?utf-8?q?Jane=0D=0ABcc:_evil@x.example?= <jane@customer.example>", "Jane Bcc: evil@x.example",
     "jane@customer.example"),
    ('"=?utf-8?q?Jane=0D=0ABcc:_evil@x.example?=" <jane@customer.example>', "Jane Bcc: evil@x.example",
     "jane@customer.example"),
    (b_word("=?utf-8?q?Jane=0D=0ACc:_evil@x.example?=") + " <jane@customer.example>", "Jane Cc: evil@x.example",
     "jane@customer.example"),
    ("=?utf-8?q?Firma:_M=C3=BCller_GmbH?= <jane@customer.example>", "Firma: Müller GmbH", "jane@customer.example"),
], ids=["q_crlf_with_colon", "quoted_word", "nested", "colon_in_name"])
def test_plain_words_keep_the_mailbox_where_the_sender_put_it(header, name, address):
    [mailbox] = email.policy.default.header_factory("From", plain_words(header)).addresses
    assert (mailbox.display_name, mailbox.addr_spec) == (name, address)
