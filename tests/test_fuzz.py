"""Fuzzing parse and extract with mutated corpus messages: ParseError is the only error allowed."""

from __future__ import annotations

import csv
import json
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS
from rma_mailbot.errors import ParseError
from rma_mailbot.extract import extract
from rma_mailbot.parse import parse
from rma_mailbot.store import facts_from_dict, facts_to_dict

ORDER = re.compile(r"\bSO-?\d{6}\b", re.I)
LABS = ("SGS", "Intertek")
# Small files mutate fastest and still cover every kind of message in the corpus.
SEEDS = sorted(
    row["path"] for row in csv.DictReader((CORPUS / "labels.csv").open())
    if (CORPUS / row["path"]).stat().st_size < 64_000
)


NASTY = [b"\r\n", b"\n\n", b"--", b"=?utf-8?b?", b"Content-Type: multipart/mixed; boundary=x\r\n", b"\x00",
         b"\xff\xfe", b"Content-Transfer-Encoding: base64\r\n", b"=\r\n", b"begin 644 x\n", b"\x78\x9f\x3e\x22"]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray((CORPUS / draw(st.sampled_from(SEEDS))).read_bytes())
    for _ in range(draw(st.integers(0, 8))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat_line", "drop_line"]))
        if kind == "flip" and data:
            data[where] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[where:]
        elif kind == "insert":
            data[where:where] = draw(st.sampled_from(NASTY)) + draw(st.binary(max_size=16))
        else:
            lines = data.split(b"\n")
            at = draw(st.integers(0, max(len(lines) - 1, 0)))
            if kind == "repeat_line":
                lines[at:at] = [lines[at]] * draw(st.integers(1, 50)) if lines else []
            elif lines:
                del lines[at]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


# FUZZ_EXAMPLES=5000 for a longer local run; CI runs a fixed, reproducible sample.
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None, database=None,
          derandomize=os.environ.get("CI") == "true",
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_parse_and_extract_survive_mutated_corpus_mail(data):
    try:
        parsed = parse(data, own_addresses=frozenset({"support@example.com"}))
    except ParseError:
        return
    facts = extract(parsed, ORDER, LABS)
    # what the store keeps of any mail's facts is what it reads back, and an order number is one the pattern names
    assert facts_from_dict(json.loads(json.dumps(facts_to_dict(facts)))) == facts
    assert facts.order_number == "" or re.fullmatch(r"SO\d{6}", facts.order_number)
    assert "\r" not in parsed.subject and "\n" not in parsed.subject
