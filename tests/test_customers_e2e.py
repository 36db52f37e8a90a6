"""Customer-corpus mails end to end (issue 13, item 5): APPENDed to a real Dovecot, polled, replies in aiosmtpd.

tests/test_customers.py runs every hit through the pure stages; this runs a stratified sample of the hits through
the whole bot: IMAP fetch with INTERNALDATE, parse workers, the store, the policy, templated replies, SMTP.
The sample is chosen when the tests are collected, from hits.txt as it is then (see ``select``), so it follows
the list as reading improves.

One Dovecot and one SMTP server serve the whole batch. The corpus's cases are independent mails, but many share
a customer and an order, and on one inbox the bot would (rightly) join them into one claim per order and count
them against the customer's reply limits. So the batch is split into rounds in which no customer and no order
number occurs twice (``rounds``); each round has a mailbox and a database of its own and is polled once.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage

import imapclient
import pytest
from customers.corpus import ARRIVED, HITS, Case, Outcome, cases, expected, raw_mail
from customers.orders import ORDERS

from conftest import Account, smtp_recorder, write_config
from mails import write_orders
from rma_mailbot import config as config_module
from rma_mailbot.models import Evidence, Reason
from rma_mailbot.pipeline import Runtime, poll_once
from rma_mailbot.policy import CLAUSES
from rma_mailbot.replies import EVIDENCE_HELP
from rma_mailbot.sources import open_source
from rma_mailbot.views import claim_json

PER_GROUP = 1  # the first hit of each (language, kind, state) group; 62 groups have a hit today
MIN_CASES = 36
# The bot's clock during the poll: ten minutes after the corpus's mails arrived, the same day in Europe/Berlin.
CLOCK = ARRIVED + dt.timedelta(minutes=10)
RMA_NUMBER = re.compile(r"\bRMA-\d[\w-]*")  # policy.rma_format "RMA-{year}-{seq:05d}"; "RMA-Nummer" is none
APPROVING = re.compile(r"\bis approved\b", re.IGNORECASE)  # rma_confirmed's words
ORDER_IDS = sorted({row[0] for row in ORDERS})


def group(case: Case) -> tuple[str, str, str]:
    return case.language, case.expect_kind, case.expect_state


def select(hits: list[Case], per_group: int = PER_GROUP) -> list[Case]:
    """The first ``per_group`` hits (in corpus order) of every (language, kind, state) group; then, for every
    expected reason or missing-evidence code none of those carries (warehouse_check, say), its first hit."""
    chosen: list[Case] = []
    taken: dict[tuple[str, str, str], int] = defaultdict(int)
    for case in hits:
        if taken[group(case)] < per_group:
            taken[group(case)] += 1
            chosen.append(case)
    covered = {code for case in chosen for code in case.expect_reasons | case.expect_missing}
    for case in hits:
        new = (case.expect_reasons | case.expect_missing) - covered
        if new and case not in chosen:
            chosen.append(case)
            covered |= new
    return chosen


def mailbox_of(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def order_numbers_in(case: Case) -> set[str]:
    """Every order-number-like figure the mail carries (full-width digits too), whether the book knows it or not."""
    return set(re.findall(r"(?<!\d)\d{6}(?!\d)", unicodedata.normalize("NFKC", f"{case.subject}\n{case.body}")))


def rounds(chosen: list[Case]) -> list[list[Case]]:
    """The cases in rounds where no customer mailbox and no order number occurs twice: first fit, in order."""
    placed: list[tuple[list[Case], set[str]]] = []
    for case in chosen:
        keys = {mailbox_of(case.sender)} | order_numbers_in(case)
        for members, used in placed:
            if not keys & used:
                members.append(case)
                used |= keys
                break
        else:
            placed.append(([case], set(keys)))
    return [members for members, _ in placed]


ALL_CASES = cases()
BY_ID = {case.id: case for case in ALL_CASES}
HIT_IDS = set(HITS.read_text().split()) if HITS.exists() else set()
HIT_CASES = [case for case in ALL_CASES if case.id in HIT_IDS]
SELECTED = select(HIT_CASES)


@dataclass
class Seen:
    """What one case became on the servers."""

    case: Case
    claims: list[dict] = field(default_factory=list)  # the claims of the case's sender in its round
    replies: list[tuple[list[str], EmailMessage]] = field(default_factory=list)  # (RCPT TO, message)
    warehouse: list[tuple[list[str], EmailMessage]] = field(default_factory=list)


@dataclass
class Batch:
    seen: dict[str, Seen]
    reports: list
    unaccounted: list  # claims and mails sent that are no case's
    warehouse_address: str


def _poll_round(members: list[Case], dovecot, controller, work) -> tuple[object, list[dict], object]:
    """One round: a fresh mailbox and database, its mails APPENDed, one poll at the corpus's clock."""
    user, password = dovecot.add_user()
    account = Account("127.0.0.1", dovecot.port, user, password)
    write_orders(work / "orders.csv", ARRIVED.date(), ORDERS)
    config = config_module.load(write_config(work / "config.toml", source="imap", outbox="smtp", imap=account,
                                             smtp_port=controller.port))
    client = imapclient.IMAPClient(account.host, port=account.port, ssl=False, timeout=10)
    client.login(account.user, account.password)
    try:
        for case in members:
            # INTERNALDATE is the day the claim is judged on: the day the corpus's order book is written for.
            client.append("INBOX", raw_mail(case), msg_time=ARRIVED)
    finally:
        client.logout()
    rt = Runtime.open(config)
    try:
        source = open_source(config)
        try:
            report = poll_once(rt, source, lambda: CLOCK)
        finally:
            source.close()
        claims = [claim_json(row, config.bot.claim_ref_prefix) for row in rt.store.claims()]
    finally:
        rt.close()
    return report, claims, config


@pytest.fixture(scope="module")
def batch(dovecot, tmp_path_factory) -> Batch:
    """Every selected case delivered and polled, round by round, on one Dovecot and one SMTP server."""
    seen = {case.id: Seen(case) for case in SELECTED}
    reports, unaccounted = [], []
    warehouse_address = ""
    with smtp_recorder() as (controller, handler):
        for n, members in enumerate(rounds(SELECTED)):
            before = len(handler.messages)
            report, claims, config = _poll_round(members, dovecot, controller,
                                                 tmp_path_factory.mktemp(f"customers-e2e-{n}"))
            reports.append((n, [case.id for case in members], report))
            warehouse_address = config.warehouse.address
            by_mailbox = {mailbox_of(case.sender): seen[case.id] for case in members}
            by_ref = {}
            for claim in claims:
                owner = by_mailbox.get(mailbox_of(claim["customer"] or ""))
                if owner is not None:
                    owner.claims.append(claim)
                    by_ref[claim["ref"]] = owner
                else:
                    unaccounted.append((n, claim))
            for _, rcpt_tos, raw in handler.messages[before:]:
                message = email.message_from_bytes(raw, policy=email.policy.default)
                to_customer = by_mailbox.get(mailbox_of(rcpt_tos[0])) if len(rcpt_tos) == 1 else None
                about = by_ref.get(str(message["X-RMA-Claim"] or ""))
                if to_customer is not None:
                    to_customer.replies.append((rcpt_tos, message))
                elif about is not None:  # about a case's claim, to someone else: the warehouse, we expect
                    about.warehouse.append((rcpt_tos, message))
                else:
                    unaccounted.append((n, rcpt_tos, str(message["Subject"])))
    return Batch(seen, reports, unaccounted, warehouse_address)


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def every_text(message: EmailMessage) -> str:
    """Every text part, plain and HTML: what the customer reads (the subject echoes their own)."""
    return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def test_the_sample_covers_every_language_kind_and_state():
    """Stratified: every language, kind and state among the hits is in the sample, and every (language, kind,
    state) group and every expected code too; a few dozen at least."""
    assert len(SELECTED) >= MIN_CASES, f"only {len(SELECTED)} cases: hits.txt has {len(HIT_CASES)}"
    assert len({case.id for case in SELECTED}) == len(SELECTED)
    for attribute in ("language", "expect_kind", "expect_state"):
        assert {getattr(c, attribute) for c in SELECTED} == {getattr(c, attribute) for c in HIT_CASES}, attribute
    assert {group(c) for c in SELECTED} == {group(c) for c in HIT_CASES}
    codes = {code for c in HIT_CASES for code in c.expect_reasons | c.expect_missing}
    assert {code for c in SELECTED for code in c.expect_reasons | c.expect_missing} == codes
    assert any("warehouse_check" in c.expect_reasons for c in SELECTED), "no case sends a warehouse mail"


def test_rounds_keep_customers_and_orders_apart():
    """Within a round no two cases share a customer or an order number, so none joins another's claim."""
    batches = rounds(SELECTED)
    assert sorted(c.id for members in batches for c in members) == sorted(c.id for c in SELECTED)
    for members in batches:
        keys = [key for case in members for key in {mailbox_of(case.sender)} | order_numbers_in(case)]
        assert len(keys) == len(set(keys)), [case.id for case in members]


@pytest.mark.dovecot
def test_every_mail_was_taken_in_and_every_claim_and_mail_sent_is_a_cases(batch):
    for n, ids, report in batch.reports:
        assert (report.fetched, report.ingested, report.quarantined, report.machine) == (len(ids), len(ids), 0, 0), \
            (n, ids, report)
        assert report.delivery_error in ("", None), (n, report.delivery_error)
    assert batch.unaccounted == []


@pytest.mark.dovecot
@pytest.mark.parametrize("case_id", [case.id for case in SELECTED])
def test_customer_mail_end_to_end(batch, case_id):
    case = BY_ID[case_id]
    seen = batch.seen[case_id]
    label = f"{case.id} [{case.pattern}]: {case.subject}"

    # One claim, decided as the policy demands, on the day the mail arrived.
    assert len(seen.claims) == 1, (label, seen.claims)
    [claim] = seen.claims
    got = Outcome(claim["kind"], claim["state"], frozenset(claim["missing"]), frozenset(claim["reasons"]))
    assert str(got) == str(expected(case)), label
    assert claim["claim_date"] == ARRIVED.date().isoformat(), label

    if case.expect_kind == "unknown" and case.expect_state == "in_review":
        # No order number and no claim words: staff look, nobody is answered (no backscatter to spam).
        assert seen.replies == [] and seen.warehouse == [] and not claim["rma_number"], label
        return
    # Exactly one reply, to the customer, answering their mail.
    assert len(seen.replies) == 1, (label, [str(m["Subject"]) for _, m in seen.replies])
    [(rcpt_tos, reply)] = seen.replies
    assert rcpt_tos == [case.sender], label
    assert [a.addr_spec for a in reply["To"].addresses] == [case.sender], label
    assert reply["In-Reply-To"] == f"<{case.id}@customers.example>", label
    assert reply["X-RMA-Claim"] == claim["ref"] and f"[{claim['ref']}]" in reply["Subject"], label
    body, readable = plain(reply), every_text(reply)

    # What it says fits the state.
    state = case.expect_state
    if state == "approved":
        assert claim["rma_number"] and RMA_NUMBER.fullmatch(claim["rma_number"]), (label, claim["rma_number"])
        assert claim["rma_number"] in body, label
        assert set(RMA_NUMBER.findall(readable)) == {claim["rma_number"]}, label
    else:
        assert not claim["rma_number"], label
        assert not RMA_NUMBER.search(readable), label
    if state == "awaiting_evidence":
        for code in sorted(case.expect_missing):
            assert EVIDENCE_HELP[Evidence(code)] in body, (label, code)
    if state == "rejected":
        assert not APPROVING.search(body), label
        quoted = [code for code in sorted(case.expect_reasons) if CLAUSES.get(Reason(code), "\0") in body]
        assert quoted, (label, "no clause of the reasons quoted", sorted(case.expect_reasons))
    if state == "awaiting_delivery":
        assert claim["recheck_on"] and claim["recheck_on"] in body, label
    if "sender_not_order_owner" in case.expect_reasons:
        # Someone else's order: the reply tells them nothing of it.
        assert not [order for order in ORDER_IDS if order in body], label

    # A complete missing-items claim went to the warehouse once, with the customer's photos.
    if "warehouse_check" in case.expect_reasons:
        assert len(seen.warehouse) == 1, label
        [(rcpt_tos, mail)] = seen.warehouse
        assert rcpt_tos == [batch.warehouse_address], label
        assert [a.addr_spec for a in mail["To"].addresses] == [batch.warehouse_address], label
        assert claim["order_id"] in mail["Subject"], label
        assert len(list(mail.iter_attachments())) == case.photos, label
    else:
        assert seen.warehouse == [], label
