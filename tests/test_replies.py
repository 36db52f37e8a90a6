"""replies.py: Decision + claim -> EmailMessage (templates, threading and loop headers, no injection)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email
import email.policy
import re

import pytest

from rma_mailbot import replies
from rma_mailbot.errors import UnsafeHeader
from rma_mailbot.models import Evidence, Reason, ReplyKind
from rma_mailbot.policy import CLAUSES
from rma_mailbot.replies import EVIDENCE_HELP, Envelope, ReplyContext
from rma_mailbot.resources import templates_dir
from wire import INVISIBLE, assert_only_our_headers, header_names

ENV = replies.environment(templates_dir())
NOW = dt.datetime(2025, 3, 11, 9, 30, tzinfo=dt.UTC)
REPLY_ID = "<20250311093000.1.CLM-00001@example.com>"
RECHECK = dt.date(2025, 3, 28)


def context(kind: ReplyKind, **changes) -> ReplyContext:
    base = ReplyContext(
        kind=kind,
        claim_ref="CLM-00001",
        customer_name="Jane Doe",
        order_id="SO104233",
        rma_number="RMA-2025-00042",
        missing=(),
        reasons=(),
        recheck_on=None,
        company="KST",
        support_name="KST Returns Desk",
    )
    return dataclasses.replace(base, **changes)


def envelope(**changes) -> Envelope:
    base = Envelope(
        support_address="support@example.com",
        support_name="KST Returns Desk",
        customer="jane@customer.example",
        customer_name="Jane Doe",
        subject="Missing items in SO104233",
        in_reply_to="<m2@customer.example>",
        references=("<m1@customer.example>",),
    )
    return dataclasses.replace(base, **changes)


def build(ctx: ReplyContext, env: Envelope | None = None):
    return replies.build(ENV, ctx, env or envelope(), message_id=REPLY_ID, now=NOW)


def reparse(message) -> email.message.EmailMessage:
    return email.message_from_bytes(replies.to_bytes(message), policy=email.policy.default)


RETURN_REASONS = (Reason.RETURN_WINDOW_OPEN, Reason.CUSTOMER_PAYS_FEES, Reason.FREIGHT_PREPAID_NO_COD)

# (id, context, must contain, must not contain)
BODIES = [
    ("ask_evidence_order_number", context(ReplyKind.ASK_EVIDENCE, order_id="", missing=(Evidence.ORDER_NUMBER,)),
     [EVIDENCE_HELP[Evidence.ORDER_NUMBER], "CLM-00001", "Dear Jane Doe,"], ["SO104233"]),
    ("ask_evidence_one_item", context(ReplyKind.ASK_EVIDENCE, missing=(Evidence.QUALITY_REPORT,),
                                      reasons=(Reason.REPORT_REQUIRED,)),
     [EVIDENCE_HELP[Evidence.QUALITY_REPORT], CLAUSES[Reason.REPORT_REQUIRED], "order SO104233"], []),
    ("ask_evidence_unknown_order", context(ReplyKind.ASK_EVIDENCE, missing=(Evidence.ORDER_NUMBER,),
                                           reasons=(Reason.ORDER_UNKNOWN,)),
     [EVIDENCE_HELP[Evidence.ORDER_NUMBER], CLAUSES[Reason.ORDER_UNKNOWN]], []),
    ("rma_confirmed_return", context(ReplyKind.RMA_CONFIRMED, reasons=RETURN_REASONS, claim_kind="return"),
     ["RMA-2025-00042", "SO104233", "CLM-00001", "prepaid", "COD", "no substitution", "original packaging",
      "ESD or moisture-sensitive", CLAUSES[Reason.CUSTOMER_PAYS_FEES], "purchased from KST"], []),
    ("rma_confirmed_non_receipt", context(ReplyKind.RMA_CONFIRMED, reasons=(Reason.DELIVERY_OVERDUE,)),
     ["RMA-2025-00042", "SO104233", CLAUSES[Reason.DELIVERY_OVERDUE], "refund or the reshipment"],
     ["COD", "no substitution"]),  # nothing is to be returned
    ("declined_return_window", context(ReplyKind.DECLINED, reasons=(Reason.RETURN_WINDOW_CLOSED,)),
     [CLAUSES[Reason.RETURN_WINDOW_CLOSED], "CLM-00001", "SO104233"], ["RMA-2025-00042"]),
    ("declined_warranty", context(ReplyKind.DECLINED, reasons=(Reason.WARRANTY_EXPIRED,)),
     [CLAUSES[Reason.WARRANTY_EXPIRED]], ["RMA-2025-00042", CLAUSES[Reason.RETURN_WINDOW_CLOSED]]),
    ("in_transit", context(ReplyKind.IN_TRANSIT, recheck_on=RECHECK, reasons=(Reason.DELIVERY_IN_TRANSIT,)),
     ["2025-03-28", "extreme weather", "customs", "SO104233", "CLM-00001"], ["RMA-2025-00042"]),
    ("in_review_plain", context(ReplyKind.IN_REVIEW, reasons=(Reason.KIND_UNCLEAR,)),
     ["CLM-00001", "reviewing", "SO104233"], ["warehouse", "RMA-2025-00042"]),
    ("in_review_warehouse", context(ReplyKind.IN_REVIEW, reasons=(Reason.WAREHOUSE_CHECK,)),
     ["CLM-00001", "warehouse", "packing pictures and video records"], ["RMA-2025-00042"]),
    ("wrong_sender", context(ReplyKind.WRONG_SENDER, reasons=(Reason.SENDER_NOT_ORDER_OWNER,)),
     ["CLM-00001", "email address the order was placed with"], ["SO104233", "RMA-2025-00042", "jane@"]),
    ("no_name_greeting", context(ReplyKind.IN_REVIEW, customer_name=""), ["Hello,"], ["Dear"]),
    ("ask_evidence_names_recognised_labs",
     context(ReplyKind.ASK_EVIDENCE, missing=(Evidence.QUALITY_REPORT,), reasons=(Reason.REPORT_LAB_UNRECOGNIZED,),
             recognised_labs=("SGS", "Intertek")),
     ["We recognise reports from: SGS, Intertek.", CLAUSES[Reason.REPORT_LAB_UNRECOGNIZED]], []),
    ("ask_evidence_labs_only_for_reports",
     context(ReplyKind.ASK_EVIDENCE, missing=(Evidence.PARCEL_PHOTOS,), recognised_labs=("SGS",)),
     [EVIDENCE_HELP[Evidence.PARCEL_PHOTOS]], ["We recognise reports"]),
    ("declined_delivery_failed_customer", context(ReplyKind.DECLINED, reasons=(Reason.DELIVERY_FAILED_CUSTOMER,)),
     [CLAUSES[Reason.DELIVERY_FAILED_CUSTOMER], "CLM-00001"], ["RMA-2025-00042"]),
    ("rma_confirmed_quality", context(ReplyKind.RMA_CONFIRMED, reasons=(Reason.REPORT_REQUIRED,),
                                      claim_kind="quality"),
     ["RMA-2025-00042", "except for defective products", "no substitution", "prepaid"],
     [CLAUSES[Reason.CUSTOMER_PAYS_FEES]]),  # a defect is not the customer's error
    ("staff_approved_reship_of_missing_items",
     context(ReplyKind.RMA_CONFIRMED, reasons=(Reason.STAFF_DECISION,), claim_kind="missing_items",
             resolution="reship"),
     ["RMA-2025-00042", "a reshipment", "nothing you need to send back"], ["COD", "Please return the goods"]),
    ("staff_approved_replacement_of_defect",
     context(ReplyKind.RMA_CONFIRMED, reasons=(Reason.STAFF_DECISION,), claim_kind="quality", resolution="replace"),
     ["a replacement", "Please return the goods", "no substitution"], [CLAUSES[Reason.CUSTOMER_PAYS_FEES]]),
    ("staff_rejected_in_own_words",
     context(ReplyKind.DECLINED, reasons=(Reason.STAFF_DECISION,),
             staff_reason="Our packing video shows all 40 pieces going into the box."),
     ["Our packing video shows all 40 pieces", "CLM-00001"], [CLAUSES[Reason.STAFF_DECISION]]),
    ("reminder", context(ReplyKind.REMINDER, missing=(Evidence.BOXES_EMPTIED, Evidence.PARCEL_PHOTOS)),
     ["reminder", EVIDENCE_HELP[Evidence.BOXES_EMPTIED], EVIDENCE_HELP[Evidence.PARCEL_PHOTOS], "reopen"],
     [EVIDENCE_HELP[Evidence.ORDER_NUMBER]]),
    ("closed", context(ReplyKind.CLOSED, missing=(Evidence.QUALITY_REPORT,)),
     ["closed", "reopen the claim", "answer this mail", EVIDENCE_HELP[Evidence.QUALITY_REPORT]], ["RMA-2025-00042"]),
]


@pytest.mark.parametrize(("ctx", "present", "absent"), [row[1:] for row in BODIES], ids=[row[0] for row in BODIES])
def test_body(ctx, present, absent):
    message, text = build(ctx)
    plain = reparse(message).get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n") == text
    for phrase in present:
        assert phrase in text, phrase
    for phrase in absent:
        assert phrase not in text, phrase
    assert "Please keep CLM-00001 in the subject" in text
    assert text.rstrip().endswith("KST")


def test_every_reply_kind_has_a_template():
    rendered = {kind for kind in ReplyKind
                if replies.render_text(ENV, context(kind, missing=(Evidence.ORDER_NUMBER,), recheck_on=RECHECK))}
    assert rendered == set(ReplyKind)


def test_warehouse_check_mail_carries_the_evidence_and_photos():
    ctx = context(ReplyKind.WAREHOUSE_CHECK, customer="jane@customer.example",
                  statements=("We received all 3 boxes.", "3 pcs of LM2596S are missing."),
                  missing_parts=(("LM2596S", 3),), order_lines=(("LM2596S", 40), ("NE555P", 100)))
    photo = (b"\xff\xd8\xff\xe0fake-jpeg", "image/jpeg")
    message, text = replies.build_internal(ENV, ctx, sender="support@kst.example", sender_name="KST Returns Desk",
                                           to="warehouse@kst.example", message_id=REPLY_ID, now=NOW,
                                           photos=[photo, photo])
    parsed = reparse(message)
    assert parsed["To"].addresses[0].addr_spec == "warehouse@kst.example"
    assert "[CLM-00001]" in parsed["Subject"] and "SO104233" in parsed["Subject"]
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["In-Reply-To"] is None
    for phrase in ("> We received all 3 boxes.", "3 x LM2596S", "40 x LM2596S", "100 x NE555P",
                   "jane@customer.example", "packing pictures and video"):
        assert phrase in text, phrase
    names = [part.get_filename() for part in parsed.iter_attachments()]
    assert names == ["CLM-00001-photo-1.jpeg", "CLM-00001-photo-2.jpeg"]


@pytest.mark.parametrize(("customer", "opening"), [
    ("jane@customer.example", "claim CLM-00001 for order SO104233 (jane@customer.example) reports missing items"),
    ("", "claim CLM-00001 for order SO104233 reports missing items"),
])
def test_warehouse_check_names_the_customer_only_when_known(customer, opening):
    ctx = context(ReplyKind.WAREHOUSE_CHECK, customer=customer)
    _, text = replies.build_internal(ENV, ctx, sender="support@kst.example", sender_name="KST Returns Desk",
                                     to="warehouse@kst.example", message_id=REPLY_ID, now=NOW)
    assert opening in text and "()" not in text


def test_warehouse_photos_travel_byte_exact_in_76_character_lines():
    photos = [(bytes(range(256)) * 2000, "image/jpeg"), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000, "image/png")]
    message, _ = replies.build_internal(ENV, context(ReplyKind.WAREHOUSE_CHECK), sender="support@kst.example",
                                        sender_name="KST", to="warehouse@kst.example", message_id=REPLY_ID, now=NOW,
                                        photos=photos)
    raw = replies.to_bytes(message)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert [(p.get_content(), p.get_content_type()) for p in parsed.iter_attachments()] == photos
    encoded = [section.split(b"\r\n\r\n", 1)[1] for section in raw.split(b"\r\n--")
               if b"Content-Transfer-Encoding: base64" in section]
    assert len(encoded) == 2
    assert max(len(line) for body in encoded for line in body.split(b"\r\n")) == 76  # RFC 2045 6.8
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line ends in CRLF, as SMTP wants


def test_wire_bytes_are_the_stdlib_bytes_but_for_boundaries():
    message, _ = build(context(ReplyKind.IN_REVIEW, customer_name="Jürgen Müller"))
    for part in message.walk():
        if part.is_multipart():
            part.set_boundary(f"fixed-{part.get_content_subtype()}")
    assert replies.to_bytes(message) == message.as_bytes(policy=replies.WIRE_POLICY)


MISSING_SETS = [
    ("order_number", (Evidence.ORDER_NUMBER,)),
    ("checklist_all_four", (Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED, Evidence.MISSING_QUANTITIES,
                            Evidence.PARCEL_PHOTOS)),
    ("only_photos", (Evidence.PARCEL_PHOTOS,)),
    ("boxes_and_quantities", (Evidence.ALL_BOXES_RECEIVED, Evidence.MISSING_QUANTITIES)),
    ("quality_report", (Evidence.QUALITY_REPORT,)),
]


@pytest.mark.parametrize("missing", [row[1] for row in MISSING_SETS], ids=[row[0] for row in MISSING_SETS])
def test_ask_evidence_lists_exactly_the_missing_items(missing):
    _, text = build(context(ReplyKind.ASK_EVIDENCE, missing=missing, reasons=(Reason.MISSING_ITEMS_CHECKLIST,)))
    for item, help_text in EVIDENCE_HELP.items():
        assert (help_text in text) is (item in missing), item
    numbered = [line for line in text.splitlines() if line[:1].isdigit() and ". " in line[:4]]
    assert len(numbered) == len(missing)
    assert numbered[0].startswith("1. ")
    assert ("with it;" in text) is (len(missing) == 1)


def test_html_part_carries_the_same_paragraphs():
    message, text = build(context(ReplyKind.DECLINED, reasons=(Reason.RETURN_WINDOW_CLOSED,)))
    html = reparse(message).get_body(("html",)).get_content()
    assert "<p>" in html
    assert CLAUSES[Reason.RETURN_WINDOW_CLOSED] in html


SUBJECTS = [
    ("plain", "Missing items", "Re: Missing items [CLM-00001]"),
    ("already_re", "Re: Missing items", "Re: Missing items [CLM-00001]"),
    ("already_re_and_ref", "RE: Missing items [CLM-00001]", "RE: Missing items [CLM-00001]"),
    ("ref_lower_case", "re: missing [clm-00001]", "re: missing [clm-00001]"),
    ("german_aw", "AW: Teile fehlen", "AW: Teile fehlen [CLM-00001]"),
    ("re_without_space", "Re:Missing", "Re:Missing [CLM-00001]"),
    ("forward", "Fwd: order", "Re: Fwd: order [CLM-00001]"),
    ("starts_with_re_word", "Return request", "Re: Return request [CLM-00001]"),
    ("empty", "", "Re: Your claim [CLM-00001]"),
    ("longer_ref_is_another_claim", "Missing [CLM-000011]", "Re: Missing [CLM-000011] [CLM-00001]"),
    ("crlf", "Missing\r\nBcc: evil@x", "Re: Missing Bcc: evil@x [CLM-00001]"),
]


@pytest.mark.parametrize(("original", "expected"), [row[1:] for row in SUBJECTS], ids=[row[0] for row in SUBJECTS])
def test_subject(original, expected):
    assert replies.subject_for(original, "CLM-00001") == expected
    message, _ = build(context(ReplyKind.IN_REVIEW), envelope(subject=original))
    subject = str(reparse(message)["Subject"])
    assert subject == expected
    assert len(re.findall(r"(?<!\w)CLM-00001(?!\w)", subject, re.IGNORECASE)) == 1
    assert not subject.lower().startswith(("re: re:", "re: aw:"))


def test_headers():
    message, _ = build(context(ReplyKind.IN_REVIEW))
    parsed = reparse(message)
    assert parsed["From"].addresses[0].addr_spec == "support@example.com"
    assert parsed["From"].addresses[0].display_name == "KST Returns Desk"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["jane@customer.example"]
    assert parsed["To"].addresses[0].display_name == "Jane Doe"
    for header in ("Cc", "Bcc", "Reply-To"):
        assert parsed[header] is None
    assert parsed["Subject"] == "Re: Missing items in SO104233 [CLM-00001]"
    assert parsed["Message-ID"] == REPLY_ID
    assert parsed["In-Reply-To"] == "<m2@customer.example>"
    assert parsed["References"].split() == ["<m1@customer.example>", "<m2@customer.example>"]
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["X-RMA-Claim"] == "CLM-00001"
    assert parsed["Date"].datetime == NOW
    assert parsed.get_content_type() == "multipart/alternative"


def test_references_without_in_reply_to():
    message, _ = build(context(ReplyKind.IN_REVIEW), envelope(in_reply_to="", references=("<m1@customer.example>",)))
    parsed = reparse(message)
    assert parsed["In-Reply-To"] is None
    assert parsed["References"].split() == ["<m1@customer.example>"]


def test_no_threading_headers_for_a_first_mail_without_ids():
    message, _ = build(context(ReplyKind.IN_REVIEW), envelope(in_reply_to="", references=()))
    parsed = reparse(message)
    assert parsed["In-Reply-To"] is None and parsed["References"] is None


def test_in_reply_to_already_in_references_not_repeated():
    ids = ("<m1@customer.example>", "<m2@customer.example>")
    message, _ = build(context(ReplyKind.IN_REVIEW), envelope(in_reply_to=ids[1], references=ids))
    assert reparse(message)["References"].split() == list(ids)


LONG_IDS = tuple(f"<{'0123456789abcdef' * 4}.{i:03d}@mail.a-rather-long-customer-domain.example>" for i in range(15))


def test_references_round_trip_of_15_long_ids():
    message, _ = build(context(ReplyKind.IN_REVIEW), envelope(in_reply_to=LONG_IDS[-1], references=LONG_IDS))
    raw = replies.to_bytes(message)
    assert b"=?utf-8?" not in raw.lower()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["References"].split() == list(LONG_IDS)
    assert parsed["In-Reply-To"] == LONG_IDS[-1]


def test_references_trimmed_to_first_and_most_recent():
    ids = tuple(f"<{i}@customer.example>" for i in range(30))
    message, _ = build(context(ReplyKind.IN_REVIEW), envelope(in_reply_to=ids[-1], references=ids[:-1]))
    kept = reparse(message)["References"].split()
    assert len(kept) == replies.MAX_REFERENCES
    assert kept[0] == ids[0]
    assert kept[1:] == list(ids[-(replies.MAX_REFERENCES - 1):])


INJECTIONS = [
    ("subject", envelope(subject="Missing items\r\nBcc: evil@x")),
    ("subject_lf", envelope(subject="Missing items\nBcc: evil@x")),
    ("customer_name", envelope(customer_name="Jane\r\nBcc: evil@x")),
    ("customer_name_quoted", envelope(customer_name='Jane"\r\nBcc: evil@x\r\nX-Evil: "1')),
    ("support_name", envelope(support_name="Desk\r\nBcc: evil@x")),
]


@pytest.mark.parametrize("env", [row[1] for row in INJECTIONS], ids=[row[0] for row in INJECTIONS])
def test_header_injection_never_adds_a_header(env):
    message, _ = build(context(ReplyKind.IN_REVIEW, customer_name=env.customer_name), env)
    raw = replies.to_bytes(message)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed["X-Evil"] is None
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in header_block and b"\nX-Evil:" not in header_block
    recipients = [a.addr_spec for a in parsed["To"].addresses]
    assert recipients == ["jane@customer.example"]
    assert not any("evil@x" in a.addr_spec for a in parsed["From"].addresses)


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)</script>", 'Jane "><script>alert(1)</script>', "Jane & <b>Co</b>"],
    ids=["script", "attribute_break", "markup"],
)
def test_customer_name_escaped_in_html(name):
    message, text = build(context(ReplyKind.IN_REVIEW, customer_name=name), envelope(customer_name=name))
    html = reparse(message).get_body(("html",)).get_content()
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;" in html
    assert name in text  # the plain text shows the name as written


def _without_boundaries(raw: bytes) -> bytes:
    # MIME boundaries are random; everything else must come from the arguments alone.
    return b"\n".join(line for line in raw.split(b"\n") if b"boundary" not in line and not line.startswith(b"--=_"))


def test_build_is_pure():
    first, _ = build(context(ReplyKind.IN_REVIEW))
    second, _ = build(context(ReplyKind.IN_REVIEW))
    assert _without_boundaries(replies.to_bytes(first)) == _without_boundaries(replies.to_bytes(second))


def test_non_ascii_name_and_subject_round_trip():
    env = envelope(customer_name="Jürgen Müller", subject="Teile fehlen – Bestellung SO104233")
    message, text = build(context(ReplyKind.IN_REVIEW, customer_name="Jürgen Müller"), env)
    parsed = reparse(message)
    assert parsed["To"].addresses[0].display_name == "Jürgen Müller"
    assert parsed["Subject"] == "Re: Teile fehlen – Bestellung SO104233 [CLM-00001]"
    assert "Dear Jürgen Müller," in parsed.get_body(("plain",)).get_content()


def test_customer_text_is_never_a_template():
    """Values go into templates; a customer's "{{ ... }}" is printed as it is, never evaluated."""
    ctx = context(ReplyKind.IN_REVIEW, customer_name="{{ 7*7 }} {% for x in range(3) %}x{% endfor %}")
    message, text = build(ctx, envelope(subject="{{ config }} {{ ''.__class__ }}"))
    assert "{{ 7*7 }}" in text and "49" not in text and "xxx" not in text
    assert "{{ config }}" in reparse(message)["Subject"]


def q_word(text: str) -> str:
    return "=?utf-8?q?" + "".join(c if c.isalnum() else f"={ord(c):02X}" for c in text) + "?="


def b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


LONG_NAME = " ".join(f"Jane{n}: evil{n}@x.example," for n in range(40))

# (id, customer name, subject, the name we greet, the name on the To line): values as parse may hand them
# on, with the encoded words mail-parser leaves in place.
HOSTILE = [
    ("quoted_word_name", "=?utf-8?q?Jane=0D=0ABcc:_evil@x.example?=", "Return", "Jane Bcc: evil@x.example",
     "Jane Bcc: evil@x.example"),
    ("word_subject", "Jane", q_word("Return\r\nCc: evil@x.example"), "Jane", "Jane"),
    ("word_inside_word", b_word(q_word("Jane\r\nBcc: evil@x.example")),
     b_word(q_word("Return\r\nX-Injected: 1")), "Jane Bcc: evil@x.example", "Jane Bcc: evil@x.example"),
    ("line_separator", "Jane\u2028Bcc: evil@x.example", "Return\u2028X-Injected: 1", "Jane Bcc: evil@x.example",
     "Jane Bcc: evil@x.example"),
    ("paragraph_separator_and_next_line", "Jane\u2029Cc: evil@x.example", "Return\x85X-Injected: 1",
     "Jane Cc: evil@x.example", "Jane Cc: evil@x.example"),
    ("bidi_controls", "Jane \u202eeoD\u200f", "Return \u2067exe.gpj\u2069", "Jane eoD", "Jane eoD"),
    ("latin1_bytes", "J\udcfcrgen", "R\udcfccksendung", "Jürgen", "Jürgen"),
    # So long that the To line would fold, which loses the name's quotes: the addresses in it would count.
    ("long_name", LONG_NAME, "Return", LONG_NAME, ""),
    ("long_name_of_words", " ".join(q_word(f"Jane{n}:\r\nBcc: evil{n}@x.example,") for n in range(40)), "Return",
     "".join(f"Jane{n}: Bcc: evil{n}@x.example," for n in range(40)), ""),
    ("long_subject_folded", "Jane", "Return " * 200 + q_word("\r\nBcc: evil@x.example"), "Jane", "Jane"),
    ("long_non_ascii_subject_folded", "Jürgen", "Rücksendung " * 120 + b_word("\r\nX-Injected: 1"), "Jürgen",
     "Jürgen"),
]


@pytest.mark.parametrize(("name", "subject", "greeted", "to_name"), [row[1:] for row in HOSTILE],
                         ids=[row[0] for row in HOSTILE])
def test_hostile_name_and_subject_write_only_our_headers(name, subject, greeted, to_name):
    message, text = build(context(ReplyKind.IN_REVIEW, customer_name=name), envelope(customer_name=name,
                                                                                      subject=subject))
    raw = replies.to_bytes(message)
    headers = assert_only_our_headers(raw, "jane@customer.example")
    assert headers["To"].addresses[0].display_name == to_name
    assert f"Dear {greeted}," in text
    assert headers["Subject"].endswith("[CLM-00001]") and "=?" not in headers["Subject"]


@pytest.mark.parametrize("row", ["long_subject_folded", "long_non_ascii_subject_folded"])
def test_long_hostile_values_are_folded(row):
    _, name, subject, *_ = next(r for r in HOSTILE if r[0] == row)
    message, _ = build(context(ReplyKind.IN_REVIEW, customer_name=name), envelope(customer_name=name,
                                                                                  subject=subject))
    head = replies.to_bytes(message).split(b"\r\n\r\n", 1)[0]
    assert len(str(message["Subject"])) <= len("Re:  [CLM-00001]") + replies.MAX_SUBJECT_CHARS  # theirs cut short
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


@pytest.mark.parametrize(("header", "value"), [
    ("Subject", q_word("Return\r\nBcc: evil@x.example")),
    ("References", "<a@b> <" + q_word("\r\nBcc: evil@x.example") + "@x>"),
    ("X-RMA-Claim", b_word("CLM-00001\nX-Injected: 1")),
], ids=["subject", "references", "b_word"])
def test_generator_refuses_a_header_that_folds_into_a_line_break(header, value):
    """Whatever reaches a header unsanitised (a message id stored long ago), the wire bytes never
    carry it: the reply is not made."""
    message, _ = build(context(ReplyKind.IN_REVIEW))
    del message[header]
    message[header] = value
    with pytest.raises(UnsafeHeader, match=header):
        replies.to_bytes(message)


@pytest.mark.parametrize("address", ["jörg@exämple.de", "用户@例子.广告"], ids=["umlauts", "chinese"])
def test_non_ascii_address_is_written_in_utf8(address):
    message, _ = build(context(ReplyKind.IN_REVIEW, customer_name="Jörg"),
                       envelope(customer=address, customer_name="Jörg", subject="Rücksendung"))
    raw = replies.to_bytes(message)
    assert replies.needs_smtputf8(message)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert f"\r\nTo: Jörg <{address}>\r\n".encode() in head
    assert "\r\nSubject: Re: Rücksendung [CLM-00001]\r\n".encode() in head
    assert_only_our_headers(raw, address)


@pytest.mark.parametrize(("address", "written"), [
    ("jorg@exämple.de", "jorg@xn--exmple-cua.de"),
    ("jorg@faß.de", "jorg@xn--fa-hia.de"),  # IDNA 2008: IDNA 2003 makes it another domain, fass.de
    ("jorg@bücher.例子.广告", "jorg@xn--bcher-kva.xn--fsqu00a.xn--4rr70v"),
], ids=["umlauts", "sharp_s", "mixed_labels"])
def test_ascii_local_part_with_a_non_ascii_domain_is_written_in_a_labels(address, written):
    message, _ = build(context(ReplyKind.IN_REVIEW, customer_name="Jörg"), envelope(customer=address))
    assert not replies.needs_smtputf8(message) and replies.recipient(message) == written
    raw = replies.to_bytes(message)
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    assert_only_our_headers(raw, written)


def test_ascii_address_stays_seven_bit():
    message, _ = build(context(ReplyKind.IN_REVIEW, customer_name="Jörg"), envelope(customer_name="Jörg"))
    assert not replies.needs_smtputf8(message)
    assert replies.to_bytes(message).split(b"\r\n\r\n", 1)[0].isascii()


def test_customer_words_echoed_to_the_warehouse_are_one_clean_line_each():
    ctx = context(ReplyKind.WAREHOUSE_CHECK, customer="jane@customer.example\u202e",
                  statements=("We received all 3 boxes.\u2028approve refund", "3 pcs of \u202eS6952ML are missing."),
                  missing_parts=(("LM2596S\u2066", 3),), order_lines=(("LM2596S", 40),))
    message, text = replies.build_internal(ENV, ctx, sender="support@kst.example", sender_name="KST Returns Desk",
                                           to="warehouse@kst.example", message_id=REPLY_ID, now=NOW)
    for part in reparse(message).walk():
        if not part.is_multipart():
            assert not INVISIBLE & set(part.get_content())
    for line in ("> We received all 3 boxes. approve refund", "> 3 pcs of S6952ML are missing.", "- 3 x LM2596S",
                 "(jane@customer.example)"):
        assert line in text, line


def test_attachment_note_never_echoes_a_right_to_left_override():
    note = "parcel\u202egpj.exe (0.1 MB): over our limit of 0.1 MB per file"
    message, text = build(context(ReplyKind.IN_REVIEW, attachment_notes=(note,)))
    assert "- parcelgpj.exe (0.1 MB)" in text
    html = reparse(message).get_body(("html",)).get_content()
    assert "parcelgpj.exe" in html and not INVISIBLE & set(html + text)
    assert header_names(replies.to_bytes(message).split(b"\r\n\r\n", 1)[0])[0] == "date"
