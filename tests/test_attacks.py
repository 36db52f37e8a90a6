"""Attacks on the hostile-sender defences by someone who read the code: each test was a hole until closed.

Grouped by class: decisions by mail, poison pills, message identity, the daily reply cap.
"""

from __future__ import annotations

import datetime as dt
import email
import email.base64mime
import email.policy
import json
import logging
import os
import quopri
import signal
from contextlib import contextmanager
from email.utils import format_datetime, make_msgid

import pytest

from conftest import Bot
from mails import COMPLETE_MISSING_ITEMS, STANDARD_ORDERS, claim_mail
from rma_mailbot.mail_proof import missing_proofs
from rma_mailbot.parse import parse

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
OUR_SERVER = "mx.example.com"
WAREHOUSE = "warehouse@example.com"
ORDERS = [("SO-400001", "alice@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40, "Delivered", "", "120.00"),
          ("SO-400003", "alice@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40, "Delivered", "", "120.00")]
COMPLETE = COMPLETE_MISSING_ITEMS.replace("SO-200001", "SO-400001")
# What a forger writes into the mail itself, under our server's name: the bot must never believe it.
FORGED_PASS = f"{OUR_SERVER}; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"


def answer(*, auth: tuple[str, ...], in_reply_to: str = "<check@example.com>", references: str = "",
           from_lines: tuple[str, ...] = (f"From: {WAREHOUSE}",), text: str = "approve refund") -> bytes:
    """A warehouse answer as our server stored it; ``auth``: Authentication-Results, topmost first."""
    head = [f"Authentication-Results: {a}" for a in auth] + list(from_lines) + [
        "To: support@example.com", "Subject: Re: [CLM-00001] warehouse check: order SO-400001",
        f"Date: {format_datetime(NOW)}", f"Message-ID: {make_msgid(domain='example.com')}",
        f"In-Reply-To: {in_reply_to}", f"References: {references or in_reply_to}"]
    return ("\r\n".join(head) + "\r\n\r\n" + text + "\r\n").encode()


@pytest.fixture
def make_bot(open_bot):
    def make(change=None, orders=ORDERS) -> Bot:
        def configure(data):
            data["review"]["authserv_id"] = OUR_SERVER
            if change is not None:
                change(data)

        return open_bot(NOW, orders, configure)

    return make


def deliver_raw(bot: Bot, raw: bytes, at: dt.datetime | None = None) -> None:
    """The bytes exactly as given (Bot.deliver writes a parsed message anew, which repairs what is tested)."""
    key = bot.inbox.add(raw)
    stamp = (at or bot.now).timestamp()
    os.utime(bot.config.maildir.path / "new" / key, (stamp, stamp))


def warehouse_checks(bot: Bot) -> dict[int, dict]:
    """Claim id -> our warehouse check for it, after a complete missing-items claim per mail delivered."""
    bot.poll()
    return {c["id"]: r for c in bot.claims() for r in bot.rt.store.replies(c["id"])
            if r["reply_kind"] == "warehouse_check"}


# --- 1. Decisions by mail -------------------------------------------------------------------------------------

# Our server's own verdict says no pass, but it holds text authres cannot read. Every part of it is the
# forger's choice: the HELO name (an address literal is valid SMTP), the envelope sender (SMTPUTF8), and
# a comment quoting that sender.
UNREADABLE_BUT_OURS = {
    "helo_address_literal": f"{OUR_SERVER}; spf=none smtp.helo=[203.0.113.5]; dkim=none; dmarc=fail "
                            "header.from=example.com",
    "utf8_envelope_sender": f"{OUR_SERVER}; spf=fail smtp.mailfrom=mallöry@evil.example; dkim=none; dmarc=fail "
                            "header.from=example.com",
    "utf8_in_a_comment": f"{OUR_SERVER}; spf=fail (domain of mallöry@evil.example) smtp.mailfrom=evil.example; "
                         "dkim=none; dmarc=fail header.from=example.com",
}


@pytest.mark.parametrize("ours", UNREADABLE_BUT_OURS.values(), ids=UNREADABLE_BUT_OURS.keys())
def test_our_servers_unreadable_verdict_does_not_hand_over_to_a_forged_one_below(ours):
    """parse.auth_results skips a header authres cannot parse and trusts the next one with our authserv-id:
    the forger's own, further down."""
    mail = parse(answer(auth=(ours, FORGED_PASS)), staff_addresses=frozenset({WAREHOUSE}), authserv_id=OUR_SERVER)
    assert missing_proofs(mail, answers_our_mail=True, address=WAREHOUSE, authserv_id=OUR_SERVER) != ()


def test_through_the_pipeline_the_forged_verdict_below_an_unreadable_one_approves_the_claim(make_bot):
    """Whoever holds the check's id (forwarded, quoted by a colleague) needs no DKIM key of the warehouse."""
    bot = make_bot()
    bot.deliver(claim_mail("alice@example.net", "SO-400001 short", COMPLETE, photos=2))
    [(claim_id, check)] = warehouse_checks(bot).items()
    deliver_raw(bot, answer(auth=(UNREADABLE_BUT_OURS["helo_address_literal"], FORGED_PASS),
                            in_reply_to=check["message_id"]), at=NOW + dt.timedelta(hours=1))
    bot.poll(now=NOW + dt.timedelta(hours=1))
    claim = bot.claim(claim_id)
    assert (claim["state"], claim["rma_number"]) == ("in_review", None)


# Our server judged DMARC for the mailbox it took as the author (mallory's) and, as some servers do, wrote no
# header.from; the bot takes another mailbox of the same mail as the sender. A "pass" with no domain then
# vouches for whatever the bot chose.
PASS_FOR_THE_OTHER_MAILBOX = (f"{OUR_SERVER}; spf=pass smtp.mailfrom=evil.example; dkim=pass header.d=evil.example; "
                              "dmarc=pass")
AMBIGUOUS_FROM = {
    "two_mailboxes": ("From: warehouse@example.com, mallory@evil.example",),
    "two_from_fields": ("From: warehouse@example.com", "From: mallory@evil.example"),
    "two_angle_addresses": ("From: <warehouse@example.com> <mallory@evil.example>",),
    "obsolete_space_before_colon": ("From : mallory@evil.example", "From: warehouse@example.com"),
}


@pytest.mark.parametrize("from_lines", AMBIGUOUS_FROM.values(), ids=AMBIGUOUS_FROM.keys())
def test_a_from_naming_more_than_one_mailbox_proves_nobody(from_lines):
    # The bot takes warehouse@example.com as the sender of each; our server may have judged mallory's.
    mail = parse(answer(auth=(PASS_FOR_THE_OTHER_MAILBOX,), from_lines=from_lines),
                 staff_addresses=frozenset({WAREHOUSE}), authserv_id=OUR_SERVER)
    assert missing_proofs(mail, answers_our_mail=True, address=WAREHOUSE, authserv_id=OUR_SERVER) != ()


def test_a_forged_warehouse_mail_naming_any_claim_does_not_taint_that_claim(make_bot):
    """_named_claim files a mail from the warehouse address under the claim its subject names, and claim
    references are sequential: anyone can attach a mail our server failed (dmarc=fail) to another customer's
    claim, and Store.auth_failures then counts it against that customer: the failed-authentication rule
    holds their claim for staff."""
    bot = make_bot()
    bot.deliver(claim_mail("alice@example.net", "SO-400001 short", COMPLETE))  # the photos still to come
    bot.poll()
    [claim] = bot.claims()
    assert claim["state"] == "awaiting_evidence"
    later = NOW + dt.timedelta(hours=1)
    deliver_raw(bot, answer(auth=(f"{OUR_SERVER}; spf=fail smtp.mailfrom=evil.example; dkim=none; dmarc=fail "
                                  "header.from=example.com",), text="approve refund"), at=later)
    bot.deliver(claim_mail("alice@example.net", f"Re: [CLM-{claim['id']:05d}] SO-400001 short", COMPLETE, photos=2),
                at=later + dt.timedelta(minutes=1))
    bot.poll(now=later + dt.timedelta(minutes=2))
    claim = bot.claim(claim["id"])
    assert claim["routed_by"] != "failed-authentication"
    assert bot.rt.store.auth_failures(claim["id"]) == ()


def test_the_answer_decides_the_claim_it_is_in_reply_to_not_an_older_one_in_its_references(make_bot):
    """Store.reply_of_kind takes any check the thread names (`limit 1` over an IN list, no order), so an
    answer to claim 2's check whose References still carry claim 1's check decides claim 1."""
    bot = make_bot()
    bot.deliver(claim_mail("alice@example.net", "SO-400001 short", COMPLETE, photos=2))
    bot.deliver(claim_mail("alice@example.net", "SO-400003 short", COMPLETE.replace("SO-400001", "SO-400003"),
                           photos=2),
                at=NOW + dt.timedelta(minutes=1))
    checks = warehouse_checks(bot)
    first, second = sorted(checks)
    verified = f"{OUR_SERVER}; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"
    deliver_raw(bot, answer(auth=(verified,), in_reply_to=checks[second]["message_id"],
                            references=f"{checks[first]['message_id']} {checks[second]['message_id']}"),
                at=NOW + dt.timedelta(hours=1))
    bot.poll(now=NOW + dt.timedelta(hours=1))
    assert (bot.claim(first)["state"], bot.claim(second)["state"]) == ("in_review", "approved")


# --- 2. Poison pills -------------------------------------------------------------------------------------------

@contextmanager
def within(seconds: int):
    """Fail, rather than hang the suite, when the block takes longer than a pill may."""
    def give_up(*_):
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_subject_naming_a_claim_thousands_of_times_is_looked_up_and_logged_once(make_bot, caplog):
    """refs.claim_ids_in bounds the digits of a reference but not their number: _thread looks up and logs
    every one (a 600 kB subject: 100,000 warnings and lookups)."""
    bot = make_bot(orders=STANDARD_ORDERS)
    bot.deliver(claim_mail("bob@example.org", "Where is SO-200002?", "Not received SO-200002."))
    bot.poll()
    [bobs] = bot.claims()
    pill = claim_mail("carol@example.org", "Return SO-200003 " + f"[CLM-{bobs['id']:05d}] " * 3000,
                      "Ordered by mistake.")
    bot.deliver(pill)
    statements = []
    bot.rt.store.db.conn.set_trace_callback(statements.append)
    with caplog.at_level(logging.WARNING, logger="rma_mailbot.pipeline"):
        bot.poll()
    bot.rt.store.db.conn.set_trace_callback(None)
    assert sum("of another customer" in r.getMessage() for r in caplog.records) <= 1
    assert sum("from claims where id" in s for s in statements) < 100


def test_on_a_maildir_a_long_subject_does_not_stop_the_inbox(make_bot):
    """MaildirSource.finish moves a mail by parsing it and writing it anew (mailbox.add of a Message): the
    compat32 generator folds a long header in quadratic time (a 150 kB subject of words: minutes). The
    pipeline itself takes the mail in within a few seconds."""
    bot = make_bot(orders=STANDARD_ORDERS)
    pill = claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.").as_bytes()
    pill = pill.replace(b"Subject: Return SO-200003", b"Subject: Return SO-200003 " + b"ab " * 50_000)
    deliver_raw(bot, pill)  # the bytes as they arrived (Bot.deliver would fold them the same slow way)
    deliver_raw(bot, claim_mail("bob@example.org", "Where is SO-200002?", "Not received SO-200002.").as_bytes())
    with within(20):
        report = bot.poll()
    assert report.ingested == 2 and list(bot.inbox.keys()) == []


# --- 3. Message identity ---------------------------------------------------------------------------------------

EIGHT_BIT = ("From: Carol <carol@example.org>\r\nTo: support@example.com\r\nSubject: Return SO-200003\r\n"
             "Date: Tue, 24 Nov 2026 09:00:00 +0000\r\nMessage-ID: <one@example.org>\r\nMIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             "Ordered by mistake \u2014 please take SO-200003 back, the café needs no more LM358N.\r\n").encode()


def reencoded(transfer_encoding: str) -> bytes:
    """EIGHT_BIT as a relay without 8BITMIME passes it on (RFC 6152 section 3: it must convert the body)."""
    head, _, body = EIGHT_BIT.partition(b"\r\n\r\n")
    if transfer_encoding == "quoted-printable":
        body = quopri.encodestring(body.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    else:
        body = email.base64mime.body_encode(body, eol="\r\n").encode()  # of the canonical CRLF form
    return head.replace(b"8bit", transfer_encoding.encode()) + b"\r\n\r\n" + body


@pytest.mark.parametrize("transfer_encoding", ["quoted-printable", "base64"])
def test_the_same_mail_by_a_route_that_converts_8bit_is_one_mail(make_bot, transfer_encoding):
    """The digest covers the body as transferred, so the one mail that reached us by two routes, one of which
    downgraded it, is two mails: two claims, two answers (an id-only key took it in once)."""
    bot = make_bot(orders=STANDARD_ORDERS)
    assert email.message_from_bytes(reencoded(transfer_encoding), policy=email.policy.default).get_content() == \
        email.message_from_bytes(EIGHT_BIT, policy=email.policy.default).get_content()
    deliver_raw(bot, EIGHT_BIT)
    deliver_raw(bot, b"Received: from relay.example by mx.example.com\r\n" + reencoded(transfer_encoding))
    report = bot.poll()
    assert (report.ingested, report.duplicates) == (1, 1)
    assert len(bot.claims()) == 1 and len(bot.replies()) == 1


def _two_mails_one_digest() -> dict[str, tuple[bytes, bytes]]:
    head = ("To: support@example.com\r\nSubject: Your shop order\r\nDate: Tue, 24 Nov 2026 09:00:00 +0000\r\n"
            "Message-ID: <reused@shop.example>\r\n")
    return {
        # identity.py sorts the fields, the parser takes the first From: other senders, one digest.
        "duplicate_from_fields_swapped": (
            f"From: carol@example.org\r\nFrom: bob@example.org\r\n{head}\r\nReturn SO-200003, ordered by mistake.\r\n",
            f"From: bob@example.org\r\nFrom: carol@example.org\r\n{head}\r\nReturn SO-200003, ordered by mistake.\r\n"),
        # A field name with white space before its colon ends the header for the stdlib: what follows is the
        # body the parser reads, but for identity.py still header lines, and skipped.
        "header_ends_before_the_blank_line": (
            f"From: carol@example.org\r\n{head}X-Shop-Form : contact\r\nReturn SO-200003, ordered by mistake.\r\n\r\n",
            f"From: carol@example.org\r\n{head}X-Shop-Form : contact\r\nWhere is SO-200001? Not received.\r\n\r\n"),
    }


@pytest.mark.parametrize("first, second", _two_mails_one_digest().values(), ids=_two_mails_one_digest().keys())
def test_two_mails_the_parser_reads_differently_under_one_reused_id_are_two_mails(make_bot, first, second):
    bot = make_bot(orders=STANDARD_ORDERS)
    assert parse(first.encode()) != parse(second.encode())
    deliver_raw(bot, first.encode())
    deliver_raw(bot, second.encode(), at=NOW + dt.timedelta(minutes=1))
    report = bot.poll()
    assert (report.ingested, report.duplicates) == (2, 0)


# --- 4. The daily reply cap ------------------------------------------------------------------------------------

def no_hourly_limit(data: dict) -> None:
    """The hourly limit out of the way, so that the daily cap alone is what is tested."""
    data["limits"]["max_replies_per_sender"] = 1000
    data["review"]["rules"] = []  # the frequent-claimant rule answers (in_review) all the same


ONE_MAILBOX = {
    # alice@example.net receives every one of these (RFC 5233 subaddresses; RFC 5321 4.1.2: a quoted local
    # part that needs no quoting is the same mailbox).
    "plus_addressing": lambda n: f"alice+{n}@example.net",
    "quoted_local_part": lambda n: "alice@example.net" if n % 2 else '"alice"@example.net',
}


@pytest.mark.parametrize("address", ONE_MAILBOX.values(), ids=ONE_MAILBOX.keys())
def test_the_daily_cap_holds_for_one_mailbox_under_many_spellings(make_bot, address):
    """A forger who writes From: victim+N floods the victim with our answers, past any per-address cap."""
    bot = make_bot(change=no_hourly_limit, orders=STANDARD_ORDERS)
    cap = bot.config.limits.max_replies_per_sender_per_day
    for n in range(cap + 10):
        bot.deliver(claim_mail(address(n), f"Where is my order? ({n})", "I have not received my order."),
                    at=NOW + dt.timedelta(minutes=n))
    bot.poll()
    assert len(bot.replies()) <= cap


def test_reminders_count_against_the_daily_cap(make_bot):
    """waiting.remind_and_close queues reminders (and closing mails) without _rate_limited: on the day they
    fall due, a sender already at the cap gets one more mail per waiting claim."""
    def small_cap(data):
        no_hourly_limit(data)
        data["limits"]["max_replies_per_sender_per_day"] = 3

    bot = make_bot(change=small_cap, orders=STANDARD_ORDERS)
    for n in range(3):  # each asks for the order number, and waits for it
        bot.deliver(claim_mail("alice@example.net", f"Where is my order? ({n})", "I have not received my order."),
                    at=NOW + dt.timedelta(minutes=n))
    bot.poll()
    assert {c["state"] for c in bot.claims()} == {"awaiting_evidence"}
    later = NOW + dt.timedelta(days=bot.config.policy.reminder_after_days, hours=1)
    for n in range(3):
        bot.deliver(claim_mail("alice@example.net", f"Another order missing ({n})", "I have not received it."),
                    at=later)
    bot.poll(now=later)
    since = (later - dt.timedelta(days=1)).isoformat(timespec="seconds")
    in_a_day = [r for c in bot.claims() for r in bot.rt.store.replies(c["id"])
                if r["to_addr"] == "alice@example.net" and r["created_at"] >= since]
    assert len(in_a_day) <= 3, json.dumps([r["reply_kind"] for r in in_a_day])
