"""Holes an attacker who read the code found in the header-injection defences (issue 12, class 2), now closed.

Each test failed on the code it was written against; what each one showed is in the comment above it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email
import email.policy
import email.utils
import smtplib
import time

import pytest
from click.testing import CliRunner

from conftest import Bot, smtp_recorder, write_config
from mails import COMPLETE_MISSING_ITEMS, STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot import limits, replies, views
from rma_mailbot.cli import cli
from rma_mailbot.models import Reason, ReplyKind
from rma_mailbot.parse import parse
from rma_mailbot.pipeline import Runtime
from rma_mailbot.resources import templates_dir
from wire import CONTROLS, INVISIBLE, assert_only_our_headers

ENV = replies.environment(templates_dir())
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


def b_word(text: str) -> bytes:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?=".encode()


def raw_mail(from_value: bytes, *, subject: bytes = b"Return", message_id: str = "",
             body: bytes = b"Ordered by mistake, please take them back.") -> bytes:
    message_id = message_id or email.utils.make_msgid(domain="customer.example")
    return (b"From: " + from_value + b"\r\nTo: support@example.com\r\nSubject: " + subject
            + b"\r\nDate: " + email.utils.format_datetime(NOW).encode()
            + b"\r\nMessage-ID: " + message_id.encode()
            + b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n")


def reply_to(raw: bytes, **context_changes) -> tuple[str, bytes]:
    """(the address we answer, the raw reply) for a mail, as queue_reply builds it."""
    parsed = parse(raw)
    context = replies.ReplyContext(
        kind=ReplyKind.IN_REVIEW, claim_ref="CLM-00001", customer_name=parsed.sender_name, order_id="",
        rma_number="", missing=(), reasons=(), recheck_on=None, company="KST", support_name="KST Returns Desk",
        customer=parsed.sender)
    context = dataclasses.replace(context, **context_changes)
    envelope = replies.Envelope(
        support_address="support@example.com", support_name="KST Returns Desk", customer=parsed.sender,
        customer_name=parsed.sender_name, subject=parsed.subject, in_reply_to=parsed.message_id,
        references=parsed.references)
    message, _ = replies.build(ENV, context, envelope, message_id="<CLM-00001.r1@example.com>", now=NOW)
    return parsed.sender, replies.to_bytes(message)


def run(config, *args):
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


# ---------------------------------------------------------------------------------------------------------
# Finding 1 (real exploit): the display name and the address are each cleaned alone, but the stdlib
# re-parses "name <address>" when it writes To. A name ending in an unfinished encoded word and an
# address holding "?=" (legal atext in a local part or a domain) join into ONE encoded word spanning
# the "<": its decoded text writes a To of our choosing ("Jane <evil@x.example>, <jane@...>").
# ---------------------------------------------------------------------------------------------------------

# (id, From header as sent)
JOINED_WORDS = [
    # The local part closes the word: To: Jane <evil@x.example>, x@customer.example>
    ("name_word_closed_by_local_part", b_word("=?utf-8?q?Jane") + b" <evil=40x=2eexample=3e=2c_x?=@customer.example>"),
    ("quoted_name_closed_by_local_part",
     b'"' + b_word("=?utf-8?q?Jane") + b'" <evil=40x=2eexample=3e=2c_x?=@customer.example>'),
    # The domain closes it, with no nesting at all: To: Jane <evil@x.example>, <jane@customer.example>
    ("plain_name_closed_by_domain", b"=?utf-8?q?Jane_=3Cevil=40x=2Eexample=3E=2C <jane@customer.example?=>"),
    ("quoted_name_closed_by_domain", b'"=?utf-8?q?Jane_=3Cevil=40x=2Eexample=3E=2C" <jane@customer.example?=>'),
    ("nested_name_closed_by_domain", b_word("=?utf-8?q?Jane_=3Cevil=40x=2Eexample=3E=2C") + b" <jane@customer.example?=>"),
    # A lone CR: only the generator's backstop stops it, and then the whole mail is quarantined.
    ("lone_cr_bcc", b_word("=?utf-8?q?Jane") + b" <x=3e=0dbcc=3a_evil=40x=2eexample=0dx-a=3a_?=@customer.example>"),
    # A word that decodes to no charset's text: UnicodeEncodeError while writing To.
    ("undecodable_joined_word", b_word("=?utf-8?b?") + b" <SmFuZSA8ZXZpbEB4LmV4YW1wbGU-LCA?=@customer.example>"),
]


@pytest.mark.parametrize("from_value", [row[1] for row in JOINED_WORDS], ids=[row[0] for row in JOINED_WORDS])
def test_name_and_address_never_join_into_one_encoded_word(from_value):
    customer, reply = reply_to(raw_mail(from_value))
    assert_only_our_headers(reply, customer)  # To: the one address we send to, nothing else


@pytest.mark.dovecot
@pytest.mark.parametrize("mode", ["smtp", "drafts"])
def test_joined_encoded_word_adds_no_recipient_by_smtp_or_in_drafts(tmp_path, imap_account, imap, mode):
    """Staff sending such a draft would send our reply to evil@x.example as well."""
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    sent_by_us = {}  # the customer's Message-ID -> the address we answer
    for n, (_, from_value) in enumerate(JOINED_WORDS[:5]):
        raw = raw_mail(from_value, message_id=f"<joined{n}@customer.example>")
        sent_by_us[f"<joined{n}@customer.example>"] = parse(raw).sender
        imap.append("INBOX", raw)
    with smtp_recorder() as (controller, handler):
        config = write_config(tmp_path / "config.toml", source="imap", outbox=mode, imap=imap_account,
                              smtp_port=controller.port)
        run(config, "poll")
    if mode == "smtp":
        sent = [raw for _, _, raw in handler.messages]
    else:
        imap.select_folder("Drafts")
        sent = [item[b"BODY[]"] for item in imap.fetch(imap.search("ALL"), ["BODY.PEEK[]"]).values()]
    answered = {email.message_from_bytes(raw)["In-Reply-To"]: raw for raw in sent}
    assert set(answered) == set(sent_by_us)
    for message_id, customer in sent_by_us.items():
        assert_only_our_headers(answered[message_id], customer)


# ---------------------------------------------------------------------------------------------------------
# Finding 2 (real exploit, a stalled inbox): a sender address no Address object can hold was taken in
# as a claim's customer when the mail needs no answer (no order number, no claim words). Staff then
# decided that claim; the reply's To raised outside any per-message guard (overrides.apply), so every
# poll from then on failed before it took a single mail. Now such a sender is no sender (the mail is
# stored, never answered), and an entry that cannot be applied is that entry's problem.
# ---------------------------------------------------------------------------------------------------------

UNWRITABLE_SENDERS = [
    ("encoded_address", b"=?utf-8?q?victim=40shop.example?="),  # was customer '"victim@shop.example"'
    ("encoded_address_in_brackets", b"Jane <=?utf-8?q?victim=40shop.example?=>"),
    ("line_separator_in_address", "Jane <jane@customer.example\u2028Bcc: x@evil.example>".encode()),
]
REJECT = '[[override]]\nid = "o1"\nclaim = "CLM-00001"\naction = "reject"\nreason = "not a claim"\nnote = "n"\n' \
         'by = "maria"\n'


@pytest.mark.parametrize("from_value", [row[1] for row in UNWRITABLE_SENDERS],
                         ids=[row[0] for row in UNWRITABLE_SENDERS])
def test_a_sender_address_no_reply_can_be_written_to_is_no_sender(tmp_path, from_value):
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    rt = Runtime.open(config)
    try:
        bot = Bot(config, rt, NOW)
        bot.deliver(raw_mail(from_value, body=b"Hello there, SO-200001 arrived broken, please take it back."))
        bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
        report = bot.poll()
        [stored] = [m for m in rt.store.db["messages"].rows if m["sender"] != "carol@example.org"]
        [claim] = bot.claims()
        assert claim["customer"] == "carol@example.org"  # none for the unwritable sender
        assert [r["to_addr"] for r in rt.store.replies(claim["id"])] == ["carol@example.org"]
    finally:
        rt.close()
    assert (report.machine, report.ingested) == (1, 1)
    assert (stored["mail_class"], stored["class_reason"], stored["sender"]) == ("bounce", "no sender address", "")


# A claim such a sender made before the fix above: the entry deciding it must not stop the poll.
@pytest.mark.parametrize("customer", ['"victim@shop.example"', "jane@customer.example bcc",
                                      "=?utf-8?q?x?=@customer.example?=", "jane@customer.example\r\nbcc: x@y.z"],
                         ids=["quoted_at", "blank", "encoded_word", "crlf"])
def test_a_staff_decision_that_cannot_be_carried_out_never_stops_the_poll(tmp_path, customer):
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    rt = Runtime.open(config)
    try:
        bot = Bot(config, rt, NOW)
        with rt.store.transaction():
            rt.store.create_claim(customer, NOW.date(), NOW)  # taken in by the code before this fix
        config.review.overrides_file.write_text(REJECT)  # staff decide the claim in their queue
        bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
        report = bot.poll()  # raised ValueError / InvalidHeaderDefect, and so did every poll after it
        [victim, carol] = bot.claims()
        assert report.ingested == 1 and report.overrides_applied == 0
        assert [r["to_addr"] for r in rt.store.replies(carol["id"])] == ["carol@example.org"]
        assert (victim["state"], rt.store.replies(victim["id"])) == ("in_review", [])  # nothing of it applied
        [problem] = report.override_problems
        assert problem.startswith(f"{config.review.overrides_file}: entry 1 (id o1): claim: not applied")
        assert rt.store.override_applied("o1") is None  # staff may still decide it another way
    finally:
        rt.close()


# ---------------------------------------------------------------------------------------------------------
# Finding 3 (robustness, a stalled poll): nothing bounds the name or the subject. Folding a long
# non-ASCII display name costs the stdlib about 2.5 ms a character (the _folds check runs it on every
# reply): a 9 KB From header holds the poll for about 8 s, a 30 KB one for 40 s, each mail. A 60 KB
# subject costs 5 s and is echoed whole into our Subject.
# ---------------------------------------------------------------------------------------------------------

LONG = [
    ("cjk_display_name", "\u65e5" * 3000 + " <jane@customer.example>", "Return"),
    ("latin1_display_name", "\u00fc" * 4000 + " <jane@customer.example>", "Return"),
    ("cjk_subject", "Jane <jane@customer.example>", "\u65e5" * 20000),
]


@pytest.mark.parametrize(("from_value", "subject"), [row[1:] for row in LONG], ids=[row[0] for row in LONG])
def test_a_long_name_or_subject_costs_no_more_than_a_short_one(from_value, subject):
    raw = raw_mail(from_value.encode(), subject=subject.encode())
    started = time.monotonic()
    customer, reply = reply_to(raw)
    assert time.monotonic() - started < 2.0  # a short name takes milliseconds
    assert_only_our_headers(reply, customer)


@pytest.mark.parametrize("subject", [b"Return " * 20000, "R\u00fccksendung ".encode() * 10000],
                         ids=["ascii", "non_ascii"])
def test_our_subject_stays_a_subject(subject):
    """We echo a 140 KB subject whole; Postfix discards what a header holds past 100 KB (header_size_limit)."""
    _, reply = reply_to(raw_mail(b"Jane <jane@customer.example>", subject=subject))
    ours = email.message_from_bytes(reply, policy=email.policy.default)["Subject"]
    assert "[CLM-00001]" in ours and len(ours) <= 998


# ---------------------------------------------------------------------------------------------------------
# Finding 4 (robustness): a quoted local part that is not ASCII is quoted a second time in To, so the
# To header names another mailbox than the one we send to; staff sending the draft reach nobody.
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address", ['"jä ne"@customer.example', '"jä,ne"@customer.example',
                                     '"jä\\"ne"@customer.example'], ids=["blank", "comma", "escaped_quote"])
def test_quoted_non_ascii_local_part_is_quoted_once(address):
    customer, reply = reply_to(raw_mail(f"Jane <{address}>".encode()))
    assert customer == address
    assert_only_our_headers(reply, customer)  # To: "\"jä ne\""@customer.example before
    assert smtplib.quoteaddr(customer) == f"<{address}>"  # and that is the mailbox RCPT TO names


# ---------------------------------------------------------------------------------------------------------
# Finding 5 (nit): an address that is not ASCII only in its domain can go out without SMTPUTF8, its
# domain as IDNA A-labels (RFC 5890); instead the reply fails for good and the claim waits for staff.
# ---------------------------------------------------------------------------------------------------------

def test_non_ascii_domain_goes_out_as_punycode_through_a_relay_without_smtputf8(tmp_path):
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    with smtp_recorder(enable_SMTPUTF8=False) as (controller, handler):
        config = config_module.load(write_config(tmp_path / "config.toml", outbox="smtp",
                                                 smtp_port=controller.port))
        rt = Runtime.open(config)
        try:
            bot = Bot(config, rt, NOW)
            bot.deliver(raw_mail("Jörg <jorg@münchen.example>".encode()))
            bot.poll()
        finally:
            rt.close()
    assert [rcpts for _, rcpts, _ in handler.messages] == [["jorg@xn--mnchen-3ya.example"]]  # none: failed for good
    [(_, _, raw)] = handler.messages
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()  # no UTF-8 header: the name goes as an encoded word
    assert_only_our_headers(raw, "jorg@xn--mnchen-3ya.example")


@pytest.mark.parametrize(("spelling", "other"), [
    ("jorg@münchen.example", "jorg@xn--mnchen-3ya.example"),
    ("Jorg+tag@MÜNCHEN.example.", "jorg@xn--mnchen-3ya.example"),
], ids=["u_and_a_labels", "case_tag_and_dot"])
def test_the_reply_limits_count_a_domain_in_a_labels_as_the_same_mailbox(spelling, other):
    """Our replies now go to the A-label spelling; the limits, asked about the customer's, must count them."""
    assert limits.mailbox_of(spelling) == limits.mailbox_of(other)


# ---------------------------------------------------------------------------------------------------------
# Finding 6 (nit): a Message-ID too long for one 998-character line is folded by the stdlib into
# encoded words: our In-Reply-To and References then hold "=?utf-8?q?=3C...", which threads on
# nothing, though the README says no id holding an encoded word is threaded on.
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [990, 3000])
def test_a_message_id_too_long_for_a_line_never_becomes_an_encoded_word(length):
    long_id = "<" + "a" * length + "@customer.example>"
    _, reply = reply_to(raw_mail(b"Jane <jane@customer.example>", message_id=long_id))
    head = reply.split(b"\r\n\r\n", 1)[0]
    assert b"=?" not in head.partition(b"\r\nIn-Reply-To:")[2].partition(b"\r\nAuto-Submitted:")[0]


# ---------------------------------------------------------------------------------------------------------
# Finding 7 (nit): the one echoed value _echoable leaves alone is a rejection in the staff's or the
# warehouse's own words (first line of their mail): bidi controls in it reach the customer's reply.
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["packed complete \u202egnp.exe", "see \u2066photo\u2069 \u200f",
                                    "packed\u2028complete"], ids=["rlo", "isolates", "line_separator"])
def test_staff_words_reach_the_customer_without_bidi_controls(reason):
    _, reply = reply_to(raw_mail(b"Jane <jane@customer.example>"), kind=ReplyKind.DECLINED,
                        reasons=(Reason.STAFF_DECISION,), staff_reason=reason)
    assert_only_our_headers(reply, "jane@customer.example")


# ---------------------------------------------------------------------------------------------------------
# Finding 8 (adjacent, robustness): `rma-mailbot show` prints the customer's sentences raw, escape
# sequences and bidi controls included, into the staff's terminal (OSC sets titles, some terminals
# write the clipboard; an RLO makes a sentence read backwards).
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hostile", ["\x1b]0;pwned\x07", "\x1b[2K\x1b[1A", "\u202e", "\x9b31m"],
                         ids=["osc_title", "erase_line", "rlo", "c1_csi"])
def test_show_prints_no_terminal_control_a_customer_wrote(tmp_path, hostile):
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    rt = Runtime.open(config)
    try:
        bot = Bot(config, rt, NOW)
        body = COMPLETE_MISSING_ITEMS.replace("each box", "each box" + hostile)
        bot.deliver(claim_mail("alice@example.net", "Missing items", body, name="Alice", photos=1))
        bot.poll()
        shown = views.detail_text(views.claim_detail(rt.store, 1, config.bot.claim_ref_prefix))
    finally:
        rt.close()
    assert "each box" in shown
    assert not ((CONTROLS - {"\n"}) | INVISIBLE | {chr(c) for c in range(0x80, 0xa0)}) & set(shown)


@pytest.mark.parametrize("hostile", ["\x1b]0;pwned\x07", "\u202e", "\x9b31m", "\u2028"],
                         ids=["osc_title", "rlo", "c1_csi", "line_separator"])
def test_tables_print_no_terminal_control_either(hostile):
    """`claims`, `queue` and `quarantine` print addresses, reasons and file names in tables."""
    shown = views.table([{"customer": f"jane{hostile}@customer.example", "why": "x"}], ["customer", "why"])
    assert not ((CONTROLS - {"\n"}) | INVISIBLE | {chr(c) for c in range(0x80, 0xa0)}) & set(shown)
    assert hostile.encode("unicode_escape").decode() in shown  # staff see that it was there


def test_attack_mails_are_what_they_claim():
    """Guards the tests above: each hostile mail parses as a customer's, with the address they rely on."""
    assert parse(raw_mail(JOINED_WORDS[0][1])).sender == "evil=40x=2eexample=3e=2c_x?=@customer.example"
    assert parse(raw_mail(JOINED_WORDS[2][1])).sender_name == "=?utf-8?q?Jane_=3Cevil=40x=2Eexample=3E=2C"
    assert parse(raw_mail(UNWRITABLE_SENDERS[0][1])).sender == ""  # was '"victim@shop.example"'
