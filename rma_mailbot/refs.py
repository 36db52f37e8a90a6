"""Claim references ("CLM-00042") and order-number patterns: formatted and read in this one place. Pure.

A reference is text a customer can type, so a number past what the database holds is no claim:
at most MAX_DIGITS digits are read as a claim number, anything longer is just text.
"""

from __future__ import annotations

import itertools
import re

MAX_DIGITS = 12
# A subject naming a claim thousands of times costs a look-up or two.
MAX_IN_SUBJECT = 3


def claim_ref(prefix: str, claim_id: int) -> str:
    return f"{prefix}-{claim_id:05d}"


def claim_id_from(text: str) -> int | None:
    """'CLM-00042', 'clm-42' and '42' all name claim 42; None when the text names no claim."""
    found = re.fullmatch(rf"\s*(?:[A-Za-z]+-)?0*(\d{{1,{MAX_DIGITS}}})\s*", text)
    return int(found.group(1)) if found else None


def claim_ids_in(text: str, prefix: str) -> list[int]:
    """The first few claims a subject names, in order, each once: whole words only, in any case."""
    pattern = rf"(?<!\w){re.escape(prefix)}-0*(\d{{1,{MAX_DIGITS}}})(?!\w)"
    named = (int(m.group(1)) for m in re.finditer(pattern, text, re.IGNORECASE))
    return list(itertools.islice(dict.fromkeys(itertools.islice(named, 100)), MAX_IN_SUBJECT))


# Python's \b sees a CJK character as a word character, so "订单号SO-123456" holds no boundary before "SO".
# An order number is Latin letters and digits: in a configured pattern \b means "not beside one of those", or
# a capital glued to a word in small letters ("pedidoSO-510010"; not "ISO-123456").
_LATIN_BOUNDARY = r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_])|(?-i:(?<=[a-z])(?=[A-Z])))"
_WORD_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\b")


def order_number_pattern(pattern: str) -> re.Pattern[str]:
    """The configured order-number pattern, compiled to find the number whatever script stands beside it."""
    return re.compile(_WORD_BOUNDARY.sub(lambda m: m.group(1) + _LATIN_BOUNDARY, pattern), re.IGNORECASE)
