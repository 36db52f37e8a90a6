"""Claim references, formatted and read in one place: a number past the database's is just text."""

from __future__ import annotations

import pytest

from rma_mailbot.parse import MAX_REFERENCES, parse
from rma_mailbot.refs import claim_id_from, claim_ids_in, claim_ref


@pytest.mark.parametrize("text, claim_id", [
    ("CLM-00042", 42), ("clm-42", 42), ("42", 42), (" CLM-000000000042 ", 42), ("CLM-999999999999", 999999999999),
    ("CLM-9999999999999", None), ("CLM-99999999999999999999999", None), ("CLM-", None), ("CLM-4x2", None),
    ("", None),
])
def test_claim_id_from(text, claim_id):
    assert claim_id_from(text) == claim_id


@pytest.mark.parametrize("subject, ids", [
    ("Re: [CLM-00042] parcel", [42]),
    ("re: [clm-00042] and CLM-7", [42, 7]),
    ("Re: [CLM-99999999999999999999999] parcel", []),
    ("CLM-000011x and XCLM-00001 and CLM-00001", [1]),
])
def test_claim_ids_in(subject, ids):
    assert claim_ids_in(subject, "CLM") == ids


def test_claim_ref_round_trip():
    assert claim_ref("CLM", 42) == "CLM-00042" and claim_id_from(claim_ref("CLM", 42)) == 42


def test_only_the_newest_references_are_looked_up():
    ids = " ".join(f"<r{n}@example.org>" for n in range(5000))
    raw = f"From: a@example.org\r\nIn-Reply-To: <r4999@example.org>\r\nReferences: {ids}\r\n\r\nhi\r\n".encode()
    mail = parse(raw)
    assert len(mail.references) == MAX_REFERENCES and mail.references[-1] == "<r4999@example.org>"
    assert mail.thread_ids[:2] == ("<r4999@example.org>", "<r4998@example.org>")
