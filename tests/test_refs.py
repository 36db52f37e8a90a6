"""Claim references, formatted and read in one place: a number past the database's is just text."""

from __future__ import annotations

import pytest

from rma_mailbot.parse import MAX_REFERENCES, parse
from rma_mailbot.refs import claim_id_from, claim_ids_in, claim_ref, order_number_pattern


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


SHIPPED_PATTERN = r"\bSO-?\d{6}\b"


@pytest.mark.parametrize("text, found", [
    ("订单号SO-510010，谢谢", ["SO-510010"]),  # a CJK character is a word character to Python's \b
    ("訂單編號：SO510010貨未到", ["SO510010"]),
    ("注文番号SO-510010です", ["SO-510010"]),
    ("Bestellung SO-510010.", ["SO-510010"]),
    ("(so-510010)", ["so-510010"]),
    ("XSO-510010", []),  # still not inside a Latin word or number
    ("SO-5100101", []),
    ("ISO-510010", []),
    ("Concerniente pedidoSO-510010: la caja", ["SO-510010"]),  # a capital glued to a word in small letters
    ("pedidoso-510010", []),
])
def test_order_numbers_are_found_whatever_script_stands_beside_them(text, found):
    assert order_number_pattern(SHIPPED_PATTERN).findall(text) == found


def test_an_escaped_backslash_before_b_is_left_alone():
    assert order_number_pattern(r"A\\bB").pattern == r"A\\bB"


def test_the_configured_pattern_reads_chinese_mails(tmp_path):
    from conftest import write_config
    from rma_mailbot import config as config_module
    from rma_mailbot.extract import extract

    config = config_module.load(write_config(tmp_path / "config.toml"))
    mail = parse("From: jun@example.cn\r\nSubject: =?utf-8?b?6K6i5Y2V?=\r\n\r\n订单号SO-510010的货少了\r\n"
                 .encode())
    assert extract(mail, config.order_number_re).order_number == "SO510010"
