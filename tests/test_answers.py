"""Answers on the lines of our ask-evidence reply (answers.py), the reply that says what we understood,
and an unclear case asked rather than left to staff: the pure reader table-driven, the reply on its raw
bytes, and the whole loop on a Maildir."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import json

import pytest

from mails import claim_mail
from rma_mailbot import answers, extract, replies
from rma_mailbot.models import ClaimFacts, ClaimKind, Evidence, Photo, Reason, ReplyKind, Report, Statement
from rma_mailbot.refs import order_number_pattern
from rma_mailbot.resources import templates_dir
from wire import INVISIBLE, assert_only_our_headers

PATTERN = order_number_pattern(r"\bSO-?\d{6}\b")  # config.example.toml's
BOXES = "All boxes of the order received (the order has 2 boxes)"
EMPTIED = "Each box emptied completely"
QUANTITIES = "Missing parts and quantities"
ORDER = "Order number"
CASE = "Which case applies (parcel not received / items missing / return / quality problem)"


def read(text: str) -> answers.Answers:
    return answers.read(text, lambda value: extract.order_number(value, PATTERN), extract._missing_parts)


def summary(found: answers.Answers) -> tuple:
    return (tuple(s.evidence for s in found.statements), found.missing_parts, found.kind, found.order_number,
            found.declined)


NOTHING = ((), (), ClaimKind.UNKNOWN, "", ())


def said(*evidence: Evidence) -> tuple:
    return (evidence, (), ClaimKind.UNKNOWN, "", ())


def declined(*evidence: Evidence) -> tuple:
    return ((), (), ClaimKind.UNKNOWN, "", evidence)


def parts(*found: tuple[str, int]) -> tuple:
    return ((Evidence.MISSING_QUANTITIES,), found, ClaimKind.UNKNOWN, "", ())


def case(kind: ClaimKind) -> tuple:
    return ((), (), kind, "", ())


def order(number: str) -> tuple:
    return ((), (), ClaimKind.UNKNOWN, number, ())


E, A = Evidence.BOXES_EMPTIED, Evidence.ALL_BOXES_RECEIVED
# (id, the mail's full text, what it answers)
ROWS = [
    # yes, in each language and form
    ("en_yes_unquoted", f"{EMPTIED}: yes", said(E)),
    ("en_yes_quoted", f"> {EMPTIED}: yes", said(E)),
    ("en_yes_quoted_twice_no_blank", f">>{EMPTIED}: Yes.", said(E)),
    ("en_yes_bar_quoted", f"| {EMPTIED}: YES!", said(E)),
    ("en_case_and_spacing", "  each   BOX  emptied completely :   yes  ", said(E)),
    ("en_y", f"> {EMPTIED}: y", said(E)),
    ("en_yes_we_did", f"> {BOXES}: yes we did", said(A)),
    ("en_yes_both", f"> {BOXES}: Yes, both.", said(A)),
    ("es_si_ambas", f"> {BOXES}: sí, ambas", said(A)),
    ("en_boxes_hint_left_out", "> All boxes of the order received: yes", said(A)),
    ("en_boxes_other_count", "All boxes of the order received (the order has 7): yes", said(A)),
    ("de_ja", f"> {EMPTIED}: ja", said(E)),
    ("de_jawohl", f"> {BOXES}: Jawohl", said(A)),
    ("fr_oui", f"> {EMPTIED}: oui", said(E)),
    ("es_si_accent", f"> {EMPTIED}: Sí", said(E)),
    ("es_si_plain", f"> {BOXES}: si", said(A)),
    ("zh_shi_de", f"> {EMPTIED}: 是的", said(E)),
    ("zh_dui_fullwidth_stop", f"> {EMPTIED}: 对。", said(E)),
    ("zh_you", f"> {BOXES}: 有", said(A)),
    ("zh_traditional_dui", f"> {BOXES}: 對", said(A)),
    ("zh_fullwidth_colon", f"> {EMPTIED}：是", said(E)),
    # no: answered, never a statement
    ("en_no", f"> {EMPTIED}: no", declined(E)),
    ("en_n", f"{BOXES}: n", declined(A)),
    ("de_nein", f"> {EMPTIED}: Nein", declined(E)),
    ("fr_non", f"> {BOXES}: non", declined(A)),
    ("es_no", f"> {EMPTIED}: no.", declined(E)),
    ("zh_fou", f"> {EMPTIED}: 否", declined(E)),
    ("zh_meiyou", f"> {BOXES}: 没有", declined(A)),
    ("zh_bushi", f"> {EMPTIED}: 不是", declined(E)),
    # not answered
    ("unanswered_spaced", f"> {EMPTIED}: yes / no", NOTHING),
    ("unanswered_tight", f"> {BOXES}: yes/no", NOTHING),
    ("unanswered_de", f"> {EMPTIED}: ja / nein", NOTHING),
    ("empty", f"> {EMPTIED}: ", NOTHING),
    ("nonsense", f"> {EMPTIED}: banana", NOTHING),
    ("maybe", f"> {EMPTIED}: maybe", NOTHING),
    ("yes_with_a_but", f"> {BOXES}: yes but one box is still on its way", NOTHING),
    ("yes_and_no_glued_by_bidi", f"> {EMPTIED}: yes\u202eon", NOTHING),
    ("hostile_long_value", f"> {EMPTIED}: yes" + " " * 10 + "x" * 5000, NOTHING),
    ("not_our_label", "All boxes received: yes", NOTHING),
    ("label_inside_prose", f"I think {EMPTIED.lower()}: yes", NOTHING),
    ("no_colon", f"> {EMPTIED} yes", NOTHING),
    # the newest answer wins: the least quoted
    ("newest_no_beats_older_yes", f"{EMPTIED}: no\n> {EMPTIED}: yes", declined(E)),
    ("answer_beats_older_unanswered", f"> {EMPTIED}: yes\n> > {EMPTIED}: yes / no", said(E)),
    ("older_answer_when_newer_untouched", f"> {EMPTIED}: yes / no\n> > {EMPTIED}: yes", said(E)),
    ("both_lines", f"> {BOXES}: yes\n> {EMPTIED}: ja", said(A, E)),
    # quantities
    ("quantities_pcs", f"> {QUANTITIES}: 3 pcs LM2596S", parts(("LM2596S", 3))),
    ("quantities_list", f"{QUANTITIES}: LM2596S: 3, AMS1117-3.3: 5", parts(("LM2596S", 3), ("AMS1117-3.3", 5))),
    ("quantities_x", f"> {QUANTITIES}: 5 x AMS1117-3.3; 2 x NE555P", parts(("AMS1117-3.3", 5), ("NE555P", 2))),
    ("quantities_de", f"> {QUANTITIES}: 3 Stück LM2596S", parts(("LM2596S", 3))),
    ("quantities_zh", f"> {QUANTITIES}: 3个LM2596S", parts(("LM2596S", 3))),
    ("quantities_unnamed", f"> {QUANTITIES}: 3 pcs", parts(("", 3))),
    ("quantities_empty", f"> {QUANTITIES}: ", NOTHING),
    ("quantities_nonsense", f"> {QUANTITIES}: see photos", NOTHING),
    ("quantities_hostile_part", f"> {QUANTITIES}: 3 pcs LM\u202e2596S\u2066", NOTHING),
    # the order number, by the configured pattern
    ("order_plain", f"> {ORDER}: SO-200001", order("SO200001")),
    ("order_spaced_lower", f"{ORDER}: so200001.", order("SO200001")),
    ("order_after_chinese", f"> {ORDER}: 订单号SO-200001", order("SO200001")),
    ("order_none", f"> {ORDER}: ", NOTHING),
    ("order_not_a_number", f"> {ORDER}: I lost it", NOTHING),
    # the case
    ("case_en_items_missing", f"> {CASE}: items missing", case(ClaimKind.MISSING_ITEMS)),
    ("case_en_not_received", f"> {CASE}: parcel not received", case(ClaimKind.NON_RECEIPT)),
    ("case_en_return", f"> {CASE}: Return.", case(ClaimKind.RETURN)),
    ("case_en_quality", f"> {CASE}: quality problem", case(ClaimKind.QUALITY)),
    ("case_hint_left_out", "Which case applies: items missing", case(ClaimKind.MISSING_ITEMS)),
    ("case_de_missing", f"> {CASE}: fehlende Teile", case(ClaimKind.MISSING_ITEMS)),
    ("case_de_not_received", f"> {CASE}: Paket nicht erhalten", case(ClaimKind.NON_RECEIPT)),
    ("case_de_return", f"> {CASE}: Rückgabe", case(ClaimKind.RETURN)),
    ("case_de_return_no_umlaut", f"> {CASE}: Rueckgabe", case(ClaimKind.RETURN)),
    ("case_de_quality", f"> {CASE}: Qualitätsproblem", case(ClaimKind.QUALITY)),
    ("case_fr_missing", f"> {CASE}: articles manquants", case(ClaimKind.MISSING_ITEMS)),
    ("case_fr_not_received", f"> {CASE}: colis non reçu", case(ClaimKind.NON_RECEIPT)),
    ("case_fr_not_received_no_accent", f"> {CASE}: colis non recu", case(ClaimKind.NON_RECEIPT)),
    ("case_fr_return", f"> {CASE}: retour", case(ClaimKind.RETURN)),
    ("case_fr_quality", f"> {CASE}: problème de qualité", case(ClaimKind.QUALITY)),
    ("case_es_missing", f"> {CASE}: artículos faltantes", case(ClaimKind.MISSING_ITEMS)),
    ("case_es_not_received", f"> {CASE}: paquete no recibido", case(ClaimKind.NON_RECEIPT)),
    ("case_es_return", f"> {CASE}: devolución", case(ClaimKind.RETURN)),
    ("case_es_quality", f"> {CASE}: problema de calidad", case(ClaimKind.QUALITY)),
    ("case_zh_missing", f"> {CASE}: 缺件", case(ClaimKind.MISSING_ITEMS)),
    ("case_zh_not_received", f"> {CASE}: 未收到包裹", case(ClaimKind.NON_RECEIPT)),
    ("case_zh_return", f"> {CASE}: 退货", case(ClaimKind.RETURN)),
    ("case_zh_quality", f"> {CASE}: 质量问题", case(ClaimKind.QUALITY)),
    ("case_zh_traditional_quality", f"> {CASE}: 品質問題", case(ClaimKind.QUALITY)),
    ("case_unanswered", f"> {CASE}: ", NOTHING),
    ("case_nonsense", f"> {CASE}: not sure, please call me", NOTHING),
    ("case_every_one", f"> {CASE}: parcel not received / items missing / return / quality problem", NOTHING),
    ("case_yes", f"> {CASE}: yes", NOTHING),
    # lines nothing is read from
    ("photos_line", "> Photos of the whole parcel: attached", NOTHING),
    ("report_line", "> Quality report from a recognised lab: attached", NOTHING),
]


@pytest.mark.parametrize(("text", "expected"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_answers_are_read_exactly(text, expected):
    mail = f"Thanks, answers below.\n\nOn Tue, KST Returns Desk wrote:\n> Hello,\n>\n{text}\n>\n> Kind regards\n"
    assert summary(read(mail)) == expected


def test_each_answer_keeps_its_line_as_the_sentence():
    found = read(f"> {BOXES}: yes\n>  {CASE}:   items missing\n> {QUANTITIES}: 3 pcs LM2596S")
    assert [(s.evidence, s.sentence) for s in found.statements] == [
        (Evidence.ALL_BOXES_RECEIVED, f"{BOXES}: yes"), (Evidence.MISSING_QUANTITIES, f"{QUANTITIES}: 3 pcs LM2596S")]
    assert found.kind_sentence == f"{CASE}: items missing"


@pytest.mark.parametrize("evidence", list(answers.LINES))
def test_every_line_we_write_answers_nothing_until_the_customer_fills_it(evidence):
    """The one table is what the template writes and what the reader reads."""
    written = answers.line(evidence, boxes=3)
    assert summary(read(f"> {written}")) == NOTHING
    assert answers.without_lines(f"before\n> {written}\nafter") == "before\nafter"
    filled = {Evidence.ALL_BOXES_RECEIVED: "yes", Evidence.BOXES_EMPTIED: "yes", Evidence.MISSING_QUANTITIES: "3 pcs",
              Evidence.ORDER_NUMBER: "SO-200001", Evidence.CLAIM_KIND: "return"}
    if evidence in filled:
        answered = read(f"> {written.split(':')[0]}: {filled[evidence]}")
        assert summary(answered) != NOTHING


def test_answers_add_to_the_facts_and_take_nothing_away():
    prose = ClaimFacts(order_number="SO200001", kind=ClaimKind.QUALITY, kind_sentence="it is broken",
                       statements=(Statement(Evidence.ALL_BOXES_RECEIVED, "both boxes came"),),
                       missing_parts=(("NE555P", 2),))
    text = (f"> {BOXES}: no\n> {EMPTIED}: yes\n> {QUANTITIES}: 3 pcs LM2596S, 4 pcs NE555P\n"
            f"> {CASE}: items missing\n> {ORDER}: ")
    facts = answers.added_to(prose, text, lambda value: extract.order_number(value, PATTERN), extract._missing_parts)
    assert [(s.evidence, s.sentence) for s in facts.statements] == [
        (Evidence.ALL_BOXES_RECEIVED, "both boxes came"),  # the "no" takes nothing away
        (Evidence.BOXES_EMPTIED, f"{EMPTIED}: yes"),
        (Evidence.MISSING_QUANTITIES, f"{QUANTITIES}: 3 pcs LM2596S, 4 pcs NE555P")]
    assert facts.missing_parts == (("NE555P", 2), ("LM2596S", 3))  # what was read stays as read
    assert (facts.kind, facts.kind_sentence) == (ClaimKind.MISSING_ITEMS, f"{CASE}: items missing")  # answered
    assert facts.order_number == "SO200001"  # an empty line takes nothing away
    unknown = answers.added_to(ClaimFacts(), f"{ORDER}: so-200002", lambda v: extract.order_number(v, PATTERN),
                               extract._missing_parts)
    assert unknown.order_number == "SO200002"


def test_extract_reads_the_answers_of_the_whole_mail():
    from rma_mailbot.models import MailClass, ParsedMail

    full = f"Here you go.\n\nOn Tue, KST wrote:\n> {CASE}: fehlende Teile\n> {EMPTIED}: ja\n"
    mail = ParsedMail(message_id="<a@b>", sender="a@b.example", sender_name="", subject="Re: [CLM-00001]",
                      text="Here you go.", full_text=full, in_reply_to="", references=(), parts=(),
                      mail_class=MailClass.CUSTOMER)
    facts = extract.extract(mail, PATTERN)
    assert facts.kind is ClaimKind.MISSING_ITEMS and facts.confirmed == {Evidence.BOXES_EMPTIED}


def test_our_lines_are_never_read_as_prose():
    """Read as prose, "Each box emptied completely: no" says the boxes were emptied, and the case line names
    every case; the pipeline reads the text without them."""
    text = f"Hello.\n{EMPTIED}: no\n{BOXES}: nein\n{CASE}: \nRegards"
    assert answers.without_lines(text) == "Hello.\nRegards"
    assert list(extract._statements(extract.sentences(answers.without_lines(text)))) == []


# --- the reply ----------------------------------------------------------------------------------------

ENV = replies.environment(templates_dir())
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
PHOTO = Photo("ab" * 32, "image/jpeg", 640, 480, 1000)


def ask(missing: tuple[Evidence, ...], facts: ClaimFacts, *, order_id: str = "SO-510004", boxes: int = 2,
        reasons: tuple[Reason, ...] = (Reason.MISSING_ITEMS_CHECKLIST,)) -> replies.ReplyContext:
    return replies.ReplyContext(
        kind=ReplyKind.ASK_EVIDENCE, claim_ref="CLM-00001", customer_name="Jane Doe", order_id=order_id,
        rma_number="", missing=missing, reasons=reasons, recheck_on=None, company="KST",
        support_name="KST Returns Desk", understood=replies.understood(facts, order_id, boxes), order_boxes=boxes)


def build(context: replies.ReplyContext):
    envelope = replies.Envelope(support_address="support@example.com", support_name="KST Returns Desk",
                                customer="jane@customer.example", customer_name="Jane Doe", subject="Missing items",
                                in_reply_to="<m1@customer.example>", references=())
    message, text = replies.build(ENV, context, envelope, message_id="<r1@example.com>", now=NOW)
    raw = replies.to_bytes(message)
    assert_only_our_headers(raw, "jane@customer.example")
    wire = email.message_from_bytes(raw, policy=email.policy.default)
    return wire.get_body(("plain",)).get_content().replace("\r\n", "\n"), wire.get_body(("html",)).get_content()


MISSING_ITEMS = ClaimFacts(
    order_number="SO510004", kind=ClaimKind.MISSING_ITEMS,
    statements=(Statement(Evidence.ALL_BOXES_RECEIVED, "We got both cartons, thanks."),
                Statement(Evidence.MISSING_QUANTITIES, "3 pcs of LM2596S are missing.")),
    missing_parts=(("LM2596S", 3),), photos=(PHOTO, dataclasses.replace(PHOTO, sha256="cd" * 32)))


def test_the_ask_says_what_we_understood_and_asks_on_lines():
    plain, html = build(ask((Evidence.BOXES_EMPTIED,), MISSING_ITEMS))
    assert ("You told us:\n- order SO-510004\n- case: items missing\n- 2 of 2 boxes received\n"
            "- 3 pcs LM2596S missing\n- 2 photos\n") in plain
    assert "\nEach box emptied completely: yes / no\n" in plain
    assert "We got both cartons" not in plain  # our short words, not the customer's sentence
    assert "All boxes of the order received" not in plain and "Missing parts and quantities" not in plain
    assert "You told us:<br>" in html and "Each box emptied completely: yes / no" in html


def test_each_gap_is_a_line_the_customer_can_answer():
    plain, _ = build(ask((Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED, Evidence.MISSING_QUANTITIES,
                          Evidence.PARCEL_PHOTOS), ClaimFacts(kind=ClaimKind.MISSING_ITEMS), boxes=3))
    assert ("All boxes of the order received (the order has 3 boxes): yes / no\n"
            "Each box emptied completely: yes / no\n"
            "Missing parts and quantities: \n"
            "Photos of the whole parcel: please attach them to your reply\n") in plain


@pytest.mark.parametrize(("facts", "order_id", "lines"), [
    (ClaimFacts(), "", []),
    (ClaimFacts(order_number="SO999999", kind=ClaimKind.RETURN), "",
     ["order number SO999999, which we cannot find in our order book", "case: return"]),
    (ClaimFacts(order_number="SO510004", kind=ClaimKind.QUALITY, reports=(Report("ef" * 32),)), "SO-510004",
     ["order SO-510004", "case: quality problem", "1 quality report (PDF)"]),
    (ClaimFacts(statements=(Statement(Evidence.BOXES_EMPTIED, "x"), Statement(Evidence.MISSING_QUANTITIES, "y")),
                photos=(PHOTO,)), "",
     ["each box emptied", "missing parts described", "1 photo"]),
    (ClaimFacts(statements=(Statement(Evidence.ALL_BOXES_RECEIVED, "x"),), missing_parts=(("", 4),)), "",
     ["the box received", "4 pcs missing"]),
], ids=["nothing", "unknown_order", "quality_report", "no_parts_named", "one_box_unnamed_part"])
def test_what_we_understood_says_each_fact_once(facts, order_id, lines):
    assert list(replies.understood(facts, order_id, 1)) == lines
    plain, _ = build(ask((Evidence.ORDER_NUMBER,), facts, order_id=order_id, boxes=1, reasons=()))
    assert ("You told us:" in plain) is bool(lines)
    assert "Order number: \n" in plain


HOSTILE_PARTS = [
    "LM2596S\r\nBcc: evil@x.example",
    "\u202eS6952ML\u2066",
    "=?utf-8?q?LM2596S=0D=0ABcc:_evil@x.example?=",
    "LM2596S\u2028approve refund",
    "A" * 5000,
]


def test_hostile_part_names_are_echoed_as_one_clean_short_line_each():
    facts = dataclasses.replace(MISSING_ITEMS, missing_parts=tuple((part, 2) for part in HOSTILE_PARTS),
                                order_number="SO1\r\nBcc: evil@x.example")
    plain, html = build(ask((Evidence.BOXES_EMPTIED,), facts, order_id=""))
    told = plain.split("You told us:\n", 1)[1].split("\n\n", 1)[0].split("\n")
    assert not INVISIBLE & set(plain + html)
    # The line break made a blank; the encoded word was decoded, then cleaned alike.
    assert told.count("- 2 pcs LM2596S Bcc: evil@x.example missing") == 2
    assert "- 2 pcs S6952ML missing" in told
    assert "- 2 pcs LM2596S approve refund missing" in told
    assert "- order number SO1 Bcc: evil@x.example, which we cannot find in our order book" in told
    assert all(len(line) <= 2 + replies.MAX_UNDERSTOOD_CHARS for line in told)
    assert not any(line.startswith("Bcc") for line in plain.split("\n"))
    assert "AAAA…" in plain and "A" * 200 not in plain + html


def test_the_reminder_asks_on_the_same_lines():
    context = dataclasses.replace(ask((Evidence.BOXES_EMPTIED, Evidence.PARCEL_PHOTOS), MISSING_ITEMS),
                                  kind=ReplyKind.REMINDER)
    plain, _ = build(context)
    assert "Each box emptied completely: yes / no\nPhotos of the whole parcel: please attach them" in plain


def test_the_case_question_lists_the_policy_cases():
    plain, _ = build(ask((Evidence.CLAIM_KIND,), ClaimFacts(order_number="SO510004"), reasons=(Reason.KIND_UNCLEAR,)))
    assert f"\n{CASE}: \n" in plain
    assert replies.EVIDENCE_HELP[Evidence.CLAIM_KIND] in plain


# --- the whole loop on a Maildir --------------------------------------------------------------------

ORDERS = [
    ("SO-200001", "alice@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40),
    ("SO-200002", "bob@example.org", -6, -2, "DHL Express", 1, "NE555P", 10),
]
START = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def bot(open_bot):
    return open_bot(START, ORDERS)


def last_reply(bot, claim_id: int, kind: str = "ask_evidence") -> dict:
    return [r for r in bot.rt.store.replies(claim_id) if r["reply_kind"] == kind][-1]


def answer(bot, ours: dict, sender: str, fill: dict[str, str], *, top: str = "Answers below.", quote: bool = True,
           minutes: int = 10, photos: int = 0):
    """The customer answers our mail: its lines quoted back ("> "), the ones in ``fill`` answered in place; or,
    with quote=False, the answered lines copied into their own text above the quote."""
    own = []
    quoted = []
    for line in ours["body_text"].splitlines():
        label = next((f for f in fill if line.startswith(f)), None)
        if label is not None and not quote:
            own.append(f"{label}: {fill[label]}")
        quoted.append(f"> {label}: {fill[label]}" if label is not None and quote else f"> {line}".rstrip())
    body = "\n".join([top, *own, "", "On Tue, 24 Nov 2026, KST Returns Desk wrote:", *quoted])
    at = START + dt.timedelta(minutes=minutes)
    bot.deliver(claim_mail(sender, ours["subject"], body, in_reply_to=ours["message_id"], photos=photos), at=at)
    bot.poll(now=at)


def missing_parts_claim(bot, body: str, photos: int) -> dict:
    bot.deliver(claim_mail("alice@example.net", "Missing parts SO-200001", body, photos=photos))
    bot.poll()
    [claim] = bot.claims()
    return claim


def test_one_gap_is_asked_on_a_line_and_the_answer_in_the_quote_completes_the_claim(bot):
    claim = missing_parts_claim(bot, "Hello, we received all 2 boxes of order SO-200001, but 3 pcs of LM2596S are "
                                "missing. Photos of the whole parcel attached.", photos=2)
    assert (claim["state"], json.loads(claim["missing"])) == ("awaiting_evidence", ["boxes_emptied"])
    ours = last_reply(bot, claim["id"])
    assert ("You told us:\n- order SO-200001\n- case: items missing\n- 2 of 2 boxes received\n"
            "- 3 pcs LM2596S missing\n- 2 photos\n") in ours["body_text"]
    assert "\nEach box emptied completely: yes / no\n" in ours["body_text"]

    answer(bot, ours, "alice@example.net", {"Each box emptied completely": "yes"}, top="Thanks, see below.")
    claim = bot.claim(claim["id"])
    assert claim["state"] == "in_review" and "warehouse_check" in json.loads(claim["reasons"])
    check = last_reply(bot, claim["id"], "warehouse_check")
    assert check["state"] == "sent" and "> Each box emptied completely: yes" in check["body_text"]
    assert [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])] == [
        "ask_evidence", "in_review", "warehouse_check"]


def test_a_no_on_a_line_is_no_evidence_even_outside_the_quote(bot):
    claim = missing_parts_claim(bot, "We received all 2 boxes of order SO-200001, 3 pcs of LM2596S are missing. "
                                "Photos attached.", photos=2)
    answer(bot, last_reply(bot, claim["id"]), "alice@example.net", {"Each box emptied completely": "no"},
           quote=False, top="Not yet, sorry.")
    claim = bot.claim(claim["id"])
    assert (claim["state"], json.loads(claim["missing"])) == ("awaiting_evidence", ["boxes_emptied"])
    assert [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])] == ["ask_evidence", "ask_evidence"]


@pytest.mark.parametrize(("fill", "quote"), [
    ({"Which case applies": "items missing"}, True),
    ({"Which case applies": "fehlende Teile"}, False),
], ids=["english_in_the_quote", "german_in_own_copy"])
def test_an_unclear_case_is_asked_and_the_answer_moves_the_claim_on(bot, fill, quote):
    bot.deliver(claim_mail("alice@example.net", "Order SO-200001", "Hello, please help me with order SO-200001."))
    bot.poll()
    [claim] = bot.claims()
    assert (claim["state"], claim["kind"], json.loads(claim["missing"]), json.loads(claim["reasons"])) == (
        "awaiting_evidence", "unknown", ["claim_kind"], ["kind_unclear"])
    ours = last_reply(bot, claim["id"])
    assert f"\n{CASE}: \n" in ours["body_text"] and "You told us:\n- order SO-200001\n\n" in ours["body_text"]

    answer(bot, ours, "alice@example.net", fill, quote=quote)
    claim = bot.claim(claim["id"])
    assert (claim["state"], claim["kind"], json.loads(claim["missing"])) == (
        "awaiting_evidence", "missing_items",
        ["all_boxes_received", "boxes_emptied", "missing_quantities", "parcel_photos"])
    checklist = last_reply(bot, claim["id"])
    assert checklist["id"] != ours["id"]
    assert ("All boxes of the order received (the order has 2 boxes): yes / no\nEach box emptied completely: yes / no\n"
            "Missing parts and quantities: \nPhotos of the whole parcel: please attach them to your reply\n"
            ) in checklist["body_text"]
    assert "- case: items missing" in checklist["body_text"]

    answer(bot, checklist, "alice@example.net", {"All boxes of the order received": "yes",
                                                 "Each box emptied completely": "yes",
                                                 "Missing parts and quantities": "3 pcs LM2596S"},
           minutes=20, photos=1)
    claim = bot.claim(claim["id"])
    assert claim["state"] == "in_review" and "warehouse_check" in json.loads(claim["reasons"])
    assert json.loads(claim["facts"])["missing_parts"] == [["LM2596S", 3]]


def test_a_mail_that_makes_the_case_clear_answers_the_question_too(bot):
    bot.deliver(claim_mail("bob@example.org", "SO-200002", "Hi, about my order SO-200002."))
    bot.poll()
    [claim] = bot.claims()
    ours = last_reply(bot, claim["id"])
    later = START + dt.timedelta(minutes=5)
    bot.deliver(claim_mail("bob@example.org", ours["subject"], "I ordered it by mistake and want to send it back.",
                           in_reply_to=ours["message_id"]), at=later)
    bot.poll(now=later)
    claim = bot.claim(claim["id"])
    assert (claim["state"], claim["kind"]) == ("approved", "return") and claim["rma_number"]


def test_a_yes_for_all_boxes_adds_to_a_statement_about_some_of_them():
    """"One box came" speaks of one box; the answered line of all of them: the claim needs the second."""
    some = ClaimFacts(statements=(Statement(Evidence.ALL_BOXES_RECEIVED, "One box came.", boxes=1),))
    facts = answers.added_to(some, f"> {BOXES}: yes", lambda value: "", extract._missing_parts)
    assert [(s.sentence, s.boxes) for s in facts.statements] == [("One box came.", 1), (f"{BOXES}: yes", 0)]
    every = ClaimFacts(statements=(Statement(Evidence.ALL_BOXES_RECEIVED, "Both boxes came."),))
    assert answers.added_to(every, f"> {BOXES}: yes", lambda value: "", extract._missing_parts) == every


@pytest.mark.parametrize(("spoken_of", "boxes", "echo"), [
    (0, 2, "2 of 2 boxes received"), (1, 2, "1 of 2 boxes received"), (2, 2, "2 of 2 boxes received"),
    (1, 1, "the box received"), (0, 0, "all boxes received"), (2, 0, "2 boxes received"),
], ids=["all_of_two", "one_of_two", "two_of_two", "one_box_order", "count_unknown", "two_of_unknown"])
def test_the_boxes_we_understood_are_the_boxes_the_customer_spoke_of(spoken_of, boxes, echo):
    facts = ClaimFacts(statements=(Statement(Evidence.ALL_BOXES_RECEIVED, "x", boxes=spoken_of),))
    assert replies.understood(facts, "", boxes) == (echo,)


def test_a_partial_box_count_is_echoed_as_it_is_and_the_answer_on_the_line_completes_it(bot):
    claim = missing_parts_claim(bot, "One box came, we emptied it; 3 pcs of LM2596S are missing from SO-200001. "
                                "Photos attached.", photos=1)
    assert json.loads(claim["missing"]) == ["all_boxes_received"]
    ours = last_reply(bot, claim["id"])
    assert "- 1 of 2 boxes received\n" in ours["body_text"]
    assert "\nAll boxes of the order received (the order has 2 boxes): yes / no\n" in ours["body_text"]
    answer(bot, ours, "alice@example.net", {"All boxes of the order received": "the second one tomorrow"})
    assert bot.claim(claim["id"])["state"] == "awaiting_evidence"  # no yes
    answer(bot, last_reply(bot, claim["id"]), "alice@example.net", {"All boxes of the order received": "Yes, both."},
           minutes=20)
    claim = bot.claim(claim["id"])
    assert claim["state"] == "in_review" and "warehouse_check" in json.loads(claim["reasons"])
