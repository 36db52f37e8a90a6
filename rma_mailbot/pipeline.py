"""poll_once(): each new mail walks ingest -> parse -> extract -> decide -> reply -> outbox.

Everything one message causes commits in one transaction; the message is moved on the
server only after that commit. A message that breaks any stage is quarantined with the
reason and the cycle goes on with the next one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import jinja2

from rma_mailbot import replies
from rma_mailbot.config import Config
from rma_mailbot.errors import ClaimNotFound, OrderBookError, ParseError, StoreError
from rma_mailbot.extract import extract
from rma_mailbot.models import (
    ClaimFacts,
    ClaimState,
    Decision,
    IncomingMail,
    MailClass,
    ParsedMail,
    PollReport,
    Reason,
    ReplyKind,
)
from rma_mailbot.orders import OrderBook
from rma_mailbot.outbox import deliver_pending
from rma_mailbot.parse import parse, strip_own_words
from rma_mailbot.policy import decide
from rma_mailbot.resources import templates_dir
from rma_mailbot.sources import Source
from rma_mailbot.store import Store

log = logging.getLogger(__name__)

FINAL_STATES = {ClaimState.APPROVED, ClaimState.REJECTED}


@dataclass
class Runtime:
    """What every cycle needs, opened once per process."""

    config: Config
    store: Store
    orders: OrderBook
    templates: jinja2.Environment

    @classmethod
    def open(cls, config: Config) -> Runtime:
        return cls(
            config=config,
            store=Store(config.bot.database, config.bot.data_dir),
            orders=OrderBook(config.orders),
            templates=replies.environment(config.bot.templates_dir or templates_dir()),
        )

    def close(self) -> None:
        self.store.close()

    def claim_ref(self, claim_id: int) -> str:
        return f"{self.config.bot.claim_ref_prefix}-{claim_id:05d}"

    def claim_ids_in(self, subject: str) -> list[int]:
        pattern = rf"\b{re.escape(self.config.bot.claim_ref_prefix)}-(\d+)\b"
        return [int(n) for n in re.findall(pattern, subject, re.IGNORECASE)]


class Progress:
    """Told how much there is and how much is done; the CLI shows a bar on a terminal."""

    def start(self, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


def poll_once(rt: Runtime, source: Source, clock: Callable[[], dt.datetime],
              progress: Progress | None = None, should_stop: Callable[[], bool] = lambda: False) -> PollReport:
    """One cycle. ``should_stop`` is asked between messages: a stop leaves the rest for the next cycle."""
    progress = progress or Progress()
    len(rt.orders)  # a broken order book stops the cycle before any mail is taken
    counts = {"fetched": 0, "ingested": 0, "duplicates": 0, "quarantined": 0, "machine": 0}
    claims: set[int] = set()
    queued_before = rt.store.outbox_total()
    scan = source.scan(rt.store)
    progress.start(scan.total)
    for batch in scan.batches:
        done = []
        for mail in batch:
            if should_stop():
                break
            outcome, claim_id = ingest(rt, mail, clock())
            done.append(mail.ref)
            counts["fetched"] += 1
            counts[outcome] += 1
            if claim_id is not None:
                claims.add(claim_id)
            progress.advance()
        rt.store.mark_moved(source.finish(done))
        if should_stop():
            break
    rt.store.mark_moved(source.finish(source.leftovers(rt.store)))
    claims.update(recheck_due(rt, clock()))
    queued = rt.store.outbox_total() - queued_before
    delivery = deliver_pending(rt.store, rt.config, clock())
    return PollReport(**counts, replies_queued=queued, replies_sent=delivery.sent,
                      claims_touched=tuple(sorted(claims)))


def ingest(rt: Runtime, mail: IncomingMail, now: dt.datetime) -> tuple[str, int | None]:
    """Store one mail and everything it causes. Returns (outcome, claim id)."""
    if rt.store.location_known(mail.ref):
        return "duplicates", None
    try:
        parsed = parse(mail.raw, own_addresses=frozenset({rt.config.bot.support_address.lower()}))
    except ParseError as exc:
        return _quarantine(rt, mail, str(exc), now)
    if parsed.message_id and rt.store.is_our_reply(parsed.message_id):
        # One of our own replies came back (a Bcc, a forward rule, a Sent folder): never answer it.
        parsed = dataclasses.replace(parsed, mail_class=MailClass.OWN, class_reason="Message-ID is one of our replies")
    try:
        with rt.store.transaction():
            return _store_parsed(rt, mail, parsed, now)
    except OrderBookError:
        raise
    except (sqlite3.DatabaseError, OSError) as exc:
        # The database or the disk failed, not the message: stop the cycle; the mail stays on the server.
        raise StoreError(f"storing message {parsed.message_id or mail.ref.uid} failed: {exc}") from exc
    except Exception as exc:  # anything else is this message's fault, and it must never stop the inbox
        log.exception("message %s failed in processing; quarantined", parsed.message_id or mail.ref)
        return _quarantine(rt, mail, f"processing failed: {type(exc).__name__}: {exc}", now)


def message_key(message_id: str, raw: bytes) -> str:
    return message_id or "sha256:" + hashlib.sha256(raw).hexdigest()


def _advance_watermark(rt: Runtime, mail: IncomingMail) -> None:
    if not mail.ref.uid.isdigit():
        return
    state = rt.store.folder_state(mail.ref.mailbox)
    if state is None or state[0] != mail.ref.uidvalidity or int(mail.ref.uid) > state[1]:
        rt.store.set_folder_state(mail.ref.mailbox, mail.ref.uidvalidity, int(mail.ref.uid))


def _message_row(rt: Runtime, mail: IncomingMail, key: str, **fields) -> int | None:
    """Insert the message and its location; None when the same message is stored already."""
    existing = rt.store.message_by_key(key)
    if existing is not None:
        rt.store.add_location(mail.ref, existing["id"])
        _advance_watermark(rt, mail)
        return None
    digest, raw_path = rt.store.blobs.put(mail.raw, ".eml")
    row = rt.store.insert_message({
        "message_key": key, "sha256": digest, "received_at": mail.received_at.isoformat(), "raw_path": raw_path,
        "size": len(mail.raw), "created_at": now_iso(fields.pop("now")), **fields,
    })
    rt.store.add_location(mail.ref, row)
    _advance_watermark(rt, mail)
    return row


def now_iso(now: dt.datetime) -> str:
    return now.isoformat(timespec="seconds")


def _quarantine(rt: Runtime, mail: IncomingMail, reason: str, now: dt.datetime) -> tuple[str, int | None]:
    with rt.store.transaction():
        row = _message_row(rt, mail, message_key("", mail.raw), now=now, message_id="", sender="", subject="",
                           mail_class=MailClass.QUARANTINED.value, class_reason=reason)
        if row is None:
            return "duplicates", None
        rt.store.add_event(None, "quarantined", {"reason": reason, "location": dataclasses.asdict(mail.ref)},
                           now, row)
    log.warning("message at %s/%s quarantined: %s", mail.ref.mailbox, mail.ref.uid, reason)
    return "quarantined", None


def _store_parsed(rt: Runtime, mail: IncomingMail, parsed: ParsedMail, now: dt.datetime) -> tuple[str, int | None]:
    row = _message_row(rt, mail, message_key(parsed.message_id, mail.raw), now=now, message_id=parsed.message_id,
                       sender=parsed.sender, subject=parsed.subject, mail_class=parsed.mail_class.value,
                       class_reason=parsed.class_reason)
    if row is None:
        return "duplicates", None
    if parsed.mail_class is not MailClass.CUSTOMER:
        rt.store.add_event(None, "machine_mail", {"class": parsed.mail_class.value, "why": parsed.class_reason,
                                                   "message_id": parsed.message_id}, now, row)
        log.info("message %s from %s is %s (%s): stored, not answered", parsed.message_id, parsed.sender,
                 parsed.mail_class, parsed.class_reason)
        return "machine", None
    claim_id = _thread(rt, parsed, mail, now)
    rt.store.set_message_claim(row, claim_id)
    claim = rt.store.claim(claim_id)
    rt.store.add_event(claim_id, "mail_in", {"message_id": parsed.message_id, "from": parsed.sender,
                                             "subject": parsed.subject, "received_at": mail.received_at.isoformat()},
                       now, row)
    our_words = [r["body_text"] for r in rt.store.replies(claim_id)]
    own = dataclasses.replace(parsed, text=strip_own_words(parsed.text, our_words))
    facts = extract(own, rt.config.order_number_re)
    _store_attachments(rt, own, facts, claim_id, row)
    merged = rt.store.claim_facts(claim_id).merged(facts)
    previous = ClaimState(claim["state"])
    if previous in FINAL_STATES and claim["order_id"]:
        decision = _follow_up(rt, claim, merged, now, row)
    else:
        decision = _decide(rt, claim, merged, dt.date.fromisoformat(claim["claim_date"]), now, row)
    if decision.reply is not None:
        _queue_reply(rt, claim_id, decision, now, subject=parsed.subject, in_reply_to=parsed.message_id,
                     references=parsed.references, customer_name=parsed.sender_name)
    log.info("message %s from %s: claim %s %s, %s -> %s, reply %s", parsed.message_id, parsed.sender,
             rt.claim_ref(claim_id), merged.kind, previous, decision.state, decision.reply or "none")
    return "ingested", claim_id


def _thread(rt: Runtime, parsed: ParsedMail, mail: IncomingMail, now: dt.datetime) -> int:
    """The claim this mail adds to, or a new one. Only the claim's customer can add to a claim."""
    threaded = rt.store.claim_of([m for m in (parsed.in_reply_to, *parsed.references) if m])
    candidates = ([threaded] if threaded else []) + rt.claim_ids_in(parsed.subject)
    for claim_id in candidates:
        try:
            claim = rt.store.claim(claim_id)
        except ClaimNotFound:  # a reference to a claim that does not exist is just text
            continue
        if claim["customer"] == parsed.sender:
            return claim_id
        log.warning("message %s from %s names claim %s of another customer: not joining it",
                    parsed.message_id, parsed.sender, rt.claim_ref(claim_id))
    claim_date = mail.received_at.astimezone(rt.config.tz).date()
    return rt.store.create_claim(parsed.sender, claim_date, now)


def _store_attachments(rt: Runtime, mail: ParsedMail, facts: ClaimFacts, claim_id: int, message_row: int) -> None:
    photos = {p.sha256: p for p in facts.photos}
    for part in mail.parts:
        digest, path = rt.store.blobs.put(part.payload, ".bin")
        photo = photos.get(digest)
        rt.store.add_attachment({
            "claim_id": claim_id, "message": message_row, "sha256": digest,
            "content_type": photo.content_type if photo else part.content_type, "size": len(part.payload),
            "is_photo": int(photo is not None), "width": photo.width if photo else None,
            "height": photo.height if photo else None, "is_report": int(digest in facts.reports), "path": path,
        })


def _decide(rt: Runtime, claim: dict, facts: ClaimFacts, on: dt.date, now: dt.datetime,
            message_row: int | None) -> Decision:
    order = rt.orders.get(facts.order_number) if facts.order_number else None
    decision = decide(facts, order, claim["customer"], rt.config.policy, on=on)
    rma = claim["rma_number"]
    if decision.issue_rma and not rma:
        rma = rt.store.next_rma_number(rt.config.policy.rma_format, now.astimezone(rt.config.tz).year)
    # Nothing about an order goes on record for a sender who may not own it.
    order_id = order.order_id if order is not None and order.customer_email == claim["customer"] else None
    rt.store.record_decision(claim["id"], facts, order_id, decision, rma if decision.issue_rma else None, now)
    rt.store.add_event(claim["id"], "decision", {
        "state": decision.state.value, "judged_on": on.isoformat(), "missing": [m.value for m in decision.missing],
        "reasons": [r.value for r in decision.reasons], "rma_number": rma if decision.issue_rma else None,
        "checks": [{"reason": c.reason.value, "outcome": c.outcome.value, "evidence": c.evidence}
                   for c in decision.checks],
    }, now, message_row)
    return decision


def _follow_up(rt: Runtime, claim: dict, facts: ClaimFacts, now: dt.datetime, message_row: int) -> Decision:
    """A mail on an approved or rejected claim: a disputed rejection goes to staff; nothing is re-decided."""
    state = ClaimState(claim["state"])
    if state is ClaimState.REJECTED:
        decision = Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, reasons=tuple(
            Reason(r) for r in json.loads(claim["reasons"] or "[]")))
        rt.store.record_decision(claim["id"], facts, claim["order_id"], decision, None, now)
        rt.store.add_event(claim["id"], "decision", {"state": decision.state.value,
                                                     "why": "the customer answered a declined claim"}, now, message_row)
        return decision
    rt.store.add_event(claim["id"], "follow_up", {"state": state.value, "why": "mail on an approved claim: "
                                                  "no automatic answer, staff may read it"}, now, message_row)
    return Decision(state, None)


def _queue_reply(rt: Runtime, claim_id: int, decision: Decision, now: dt.datetime, *, subject: str,
                 in_reply_to: str, references: tuple[str, ...] = (), customer_name: str = "") -> None:
    claim = rt.store.claim(claim_id)
    bot = rt.config.bot
    context = replies.ReplyContext(
        kind=decision.reply, claim_ref=rt.claim_ref(claim_id), customer_name=customer_name,
        order_id=claim["order_id"] or "", rma_number=claim["rma_number"] or "", missing=decision.missing,
        reasons=decision.reasons, recheck_on=decision.recheck_on, company=bot.company, support_name=bot.support_name,
    )
    envelope = replies.Envelope(
        support_address=bot.support_address, support_name=bot.support_name, customer=claim["customer"],
        customer_name=customer_name, subject=subject, in_reply_to=in_reply_to, references=references,
    )
    message_id = email.utils.make_msgid(idstring=context.claim_ref, domain=bot.message_id_domain)
    message, text = replies.build(rt.templates, context, envelope, message_id=message_id, now=now)
    rt.store.queue_reply({
        "claim_id": claim_id, "message_id": message_id, "reply_kind": context.kind.value,
        "to_addr": envelope.customer, "subject": str(message["Subject"]), "body_text": text,
        "raw": replies.to_bytes(message), "created_at": now_iso(now),
    })
    rt.store.add_event(claim_id, "reply_queued", {"reply": context.kind.value, "message_id": message_id}, now)


def recheck_due(rt: Runtime, now: dt.datetime) -> list[int]:
    """Claims waiting on delivery whose date has passed are decided again, on today's date."""
    today = now.astimezone(rt.config.tz).date()
    touched = []
    for claim in rt.store.due_for_recheck(today):
        with rt.store.transaction():
            decision = _decide(rt, claim, rt.store.claim_facts(claim["id"]), today, now, None)
            if decision.reply is not None and decision.state is not ClaimState.AWAITING_DELIVERY:
                first = rt.store.first_customer_message(claim["id"])
                _queue_reply(rt, claim["id"], decision, now, subject=first["subject"] if first else "",
                             in_reply_to=first["message_id"] if first else "")
        touched.append(claim["id"])
    return touched
