"""A sender's text made fit for a header of ours or a line of a reply. Pure: str in, str out.

Decode first, then clean. Encoded words (RFC 2047) are decoded until none is left, since a word may
decode to another word, and 8-bit bytes are read by what they are; only then are line breaks, controls
and direction overrides removed. Cleaning first let a word that decodes to CR LF through, and the
stdlib's generator wrote that line break raw into our reply (the class of CVE-2024-6923).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import itertools
import re

import idna

# An encoded word as leniently as the stdlib's header parser reads one (any charset, blanks inside):
# every word it would decode when it folds a header of ours, we have decoded already.
_WORD = r"=\?[^?]*\?[bBqQ]\?[^?]*\?="
_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([bBqQ])\?([^?]*)\?=")
# The blanks between adjacent encoded words are not text (RFC 2047 6.2).
_WORD_RUN = re.compile(rf"{_WORD}(?:\s*{_WORD})*")
# Mail programs nest no words at all; a sender nesting deeper than this is playing tricks.
MAX_NESTING = 8
# 8-bit bytes in a header, as the stdlib's parser keeps them (surrogateescape).
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
# Line breaks of every kind str.splitlines() knows (U+2028, U+2029, U+0085 among them), C0 and C1
# controls: each becomes a space.
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Direction overrides, isolates and marks make text read other than it is ("photo\u202egpj.exe");
# a lone surrogate no charset can write. Removed.
_INVISIBLE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def one_line(value: str) -> str:
    """``value`` decoded, then one line of visible text: no line break, control or bidi control, blanks
    collapsed. For anything that goes in a header of ours or is echoed in a reply."""
    return " ".join(_BREAKS.sub(" ", _decoded(value)).split())


# What a terminal acts on or hides rather than shows: every control but the line feed (ESC starts escape
# sequences, C1's CSI too), separators, bidi controls and lone surrogates.
_NOT_FOR_TERMINAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e"
                               "\u2066-\u2069\ud800-\udfff]")


def for_terminal(text: str) -> str:
    """``text`` with each character a terminal would act on or hide written as its escape (\\x1b, \\u202e):
    staff see that a sender put it there, and their terminal does nothing with it."""
    return _NOT_FOR_TERMINAL.sub(lambda found: found.group(0).encode("unicode_escape",
                                                                     "backslashreplace").decode("ascii"), text)


def a_labels(domain: str) -> str:
    """A domain that is not ASCII in IDNA 2008 A-labels ("münchen.example" -> "xn--mnchen-3ya.example"), as
    an address that needs no SMTPUTF8 writes it; one that is no valid IDN stays as it is."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain


def _decoded(value: str) -> str:
    """8-bit bytes and encoded words, however deeply nested, decoded; invisible characters are removed
    before each look for a word, since removing one could join the pieces of a word ("=\u202e?...")."""
    text = _ESCAPED_BYTES.sub(lambda run: text_of(run.group(0).encode("ascii", "surrogateescape")), value)
    for depth in itertools.count():
        text = _INVISIBLE.sub("", text)
        if not _ENCODED_WORD.search(text):
            return text
        # Deeper than MAX_NESTING the words are dropped: each pass shortens the text, so this ends.
        text = _WORD_RUN.sub(_decode_run if depth < MAX_NESTING else "", text)


def plain_words(value: str) -> str:
    """An address header with each run of encoded words made one base64 word of its cleaned text.

    The word keeps its place among the header's quotes, brackets and commas, so that a parser still
    splits name from address where the sender put them, but nothing in it decodes to a line break.
    """
    return _WORD_RUN.sub(lambda run: _base64_word(one_line(run.group(0))), value)


def text_of(data: bytes, charset: str = "") -> str:
    """Bytes as text: by their declared charset when it reads them, else UTF-8, else Windows-1252 (what
    "Latin-1" mail really is), else Latin-1, which reads anything. 8-bit bytes declared in a one-byte
    charset that read as UTF-8 are UTF-8: Latin-1 text almost never does, and programs declare wrongly."""
    tried = (charset, "utf-8", "cp1252")
    if not data.isascii() and _one_byte(charset):
        tried = ("utf-8", *tried)
    for codec in filter(None, tried):
        try:
            return data.decode(codec)
        except (LookupError, ValueError):  # an unknown charset, or bytes it does not read
            continue
    return data.decode("latin-1")


def _one_byte(charset: str) -> bool:
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return False
    return name == "ascii" or name.startswith(("iso8859-", "cp125"))


def _decode_run(run: re.Match) -> str:
    chunks: list[tuple[str, bytes]] = []
    for word in _ENCODED_WORD.finditer(run.group(0)):
        charset, encoding, encoded = word.groups()
        charset = charset.partition("*")[0].lower()  # RFC 2231 adds a language: utf-8*de
        if encoding in "bB":
            data = _base64(encoded)
        else:
            data = binascii.a2b_qp(encoded.encode(errors="replace"), header=True)
        if chunks and chunks[-1][0] == charset:
            # Mail programs split a multi-byte character across two words: join the bytes first.
            chunks[-1] = (charset, chunks[-1][1] + data)
        else:
            chunks.append((charset, data))
    return "".join(text_of(data, charset) for charset, data in chunks)


def _base64(encoded: str) -> bytes:
    # As lenient as mail programs: stray characters skipped, missing padding added.
    digits = _NOT_BASE64.sub("", encoded)
    digits = digits[:len(digits) - (len(digits) % 4 == 1)]
    return base64.b64decode(digits + "=" * (-len(digits) % 4))


def _base64_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="
