"""A decision made: recorded on the claim, audited, and answered through the outbox.

Called inside the caller's transaction, so a decision, its audit event and its reply commit
together or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from rma_mailbot import replies
from rma_mailbot.models import Claim, ClaimFacts, ClaimState, DecidedBy, Decision, Reason, ReplyKind
from rma_mailbot.policy import counted_short
from rma_mailbot.review import judge
from rma_mailbot.runtime import Runtime
from rma_mailbot.store import checks_to_list, iso

log = logging.getLogger(__name__)


def decide_claim(rt: Runtime, claim: Claim, facts: ClaimFacts, on: dt.date, now: dt.datetime,
                 message_row: int | None) -> Decision:
    """Run the policy over everything the claim has gathered, let the review rules hold it back, record it."""
    order = rt.orders.get(facts.order_number) if facts.order_number else None
    order_id = owned_order_id(order, claim.customer)
    decision, rule = judge(facts, order, claim.customer, rt.config, on=on,
                           auth_failed=rt.store.auth_failures(claim.id),
                           recent_claims=recent_claims(rt.store, claim),
                           beside_another=beside_another(rt.store, claim, order_id))
    if rule is not None:
        rt.store.set_claim(claim.id, now, routed_by=rule.name)
    rma = claim.rma_number
    if decision.issue_rma and not rma:
        rma = rt.store.next_rma_number(rt.config.policy.rma_format, now.astimezone(rt.config.tz).year)
    rt.store.record_decision(claim.id, facts, order_id, decision, rma if decision.issue_rma else None, now,
                             judged_on=on)
    rt.store.add_event(claim.id, "decision", {
        "state": decision.state.value, "judged_on": on.isoformat(), "missing": [m.value for m in decision.missing],
        "reasons": [r.value for r in decision.reasons], "rma_number": rma if decision.issue_rma else None,
        "routed_by": rule.name if rule else None, "checks": checks_to_list(decision.checks),
    }, now, message_row)
    return decision


def evidence_for_staff(rt: Runtime, claim: Claim, facts: ClaimFacts, now: dt.datetime, message_row: int) -> Decision:
    """Staff asked for evidence; the customer's answer goes back to them, not to the automatic policy."""
    decision = Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, reasons=(Reason.STAFF_DECISION,))
    rt.store.record_decision(claim.id, facts, claim.order_id, decision, None, now, decided_by=DecidedBy.STAFF)
    rt.store.add_event(claim.id, "decision", {"state": decision.state.value,
                                                 "why": "the customer answered the evidence staff asked for"},
                       now, message_row)
    return decision


def rate_limited(rt: Runtime, claim_id: int, now: dt.datetime) -> bool:
    """Over limits.max_replies_per_sender in the window, or over the daily cap, the claim waits for staff,
    unanswered."""
    limits = rt.config.limits
    customer = rt.store.claim(claim_id).customer
    for cap, minutes, rule in ((limits.max_replies_per_sender, limits.reply_window_minutes, "reply-rate-limit"),
                               (limits.max_replies_per_sender_per_day, 24 * 60, "daily-reply-cap")):
        sent = rt.store.replies_to_since(customer, now - dt.timedelta(minutes=minutes))
        if sent >= cap:
            rt.store.set_claim(claim_id, now, state=ClaimState.IN_REVIEW.value, routed_by=rule)
            rt.store.add_event(claim_id, "rate_limited", {
                "why": f"{sent} automatic replies to {customer} in the last {minutes} minutes"}, now)
            log.warning("claim %s: no automatic reply, %d already went to %s within %d minutes; waiting for staff",
                        rt.claim_ref(claim_id), sent, customer, minutes)
            return True
    return False


def owned_order_id(order, customer: str) -> str | None:
    """The order's id when the customer owns it: nothing about an order goes on record for anyone else."""
    return order.order_id if order is not None and order.customer_email == customer else None


def beside_another(store, claim: Claim, order_id: str | None) -> bool:
    """Whether an earlier claim of the customer on the claim's order is open or has an RMA number."""
    return bool(order_id) and store.earlier_claim_on_order(claim, order_id)


def recent_claims(store, claim: Claim) -> int:
    """Claims by the same customer in the 30 days up to this claim's start, this one included."""
    return store.claims_by_customer_since(claim.customer, claim.created_at - dt.timedelta(days=30))


def respond(rt: Runtime, claim_id: int, decision: Decision, facts: ClaimFacts, now: dt.datetime,
            customer_name: str = "", notes: tuple[str, ...] = ()) -> None:
    """The customer's answer first (customers wait on it), then the warehouse's check if one is due."""
    if decision.reply is not None and not rate_limited(rt, claim_id, now):
        queue_reply(rt, claim_id, decision, now, customer_name=customer_name, notes=notes)
    if Reason.WAREHOUSE_CHECK in decision.reasons:
        queue_warehouse_check(rt, claim_id, facts, now)


def follow_up(rt: Runtime, claim: Claim, facts: ClaimFacts, now: dt.datetime, message_row: int) -> Decision:
    """A mail on an approved or rejected claim: a disputed rejection goes to staff; nothing is re-decided."""
    state = claim.state
    if state is ClaimState.REJECTED:
        decision = Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW,
                            reasons=claim.reasons)
        rt.store.record_decision(claim.id, facts, claim.order_id, decision, None, now, decided_by=DecidedBy.FOLLOW_UP)
        rt.store.add_event(claim.id, "decision", {"state": decision.state.value,
                                                     "why": "the customer answered a declined claim"}, now, message_row)
        return decision
    rt.store.add_event(claim.id, "follow_up", {"state": state.value, "why": "mail on an approved claim: "
                                                  "no automatic answer, staff may read it"}, now, message_row)
    return Decision(state, None)


def queue_reply(rt: Runtime, claim_id: int, decision: Decision, now: dt.datetime, *, kind: ReplyKind | None = None,
                customer_name: str = "", staff_reason: str = "", notes: tuple[str, ...] = ()) -> None:
    """Answer the claim's customer in the claim's thread; ``notes`` are about attachments we did not keep."""
    claim = rt.store.claim(claim_id)
    first = rt.store.first_customer_message(claim_id)
    last = rt.store.last_customer_message(claim_id)
    kind = kind or decision.reply
    context = _context(rt, claim, kind, decision, customer_name, staff_reason=staff_reason, attachment_notes=notes,
                       **(_what_we_read(rt, claim) if kind in ASKING else {}))
    envelope = replies.Envelope(
        support_address=rt.config.bot.support_address, support_name=rt.config.bot.support_name,
        customer=claim.customer, customer_name=customer_name, subject=first["subject"] if first else "",
        in_reply_to=last["message_id"] if last else "",
        references=_thread_ids(rt, claim_id, first),
    )
    message_id = _message_id(rt, context.claim_ref)
    message, text = replies.build(rt.templates, context, envelope, message_id=message_id, now=now)
    _queue(rt, claim_id, context.kind, message_id, replies.recipient(message), message, text, now)
    if context.kind in (ReplyKind.ASK_EVIDENCE,):
        rt.store.set_claim(claim_id, now, asked_at=iso(now), reminded_at=None)


def queue_warehouse_check(rt: Runtime, claim_id: int, facts: ClaimFacts, now: dt.datetime) -> None:
    """A complete missing-items claim goes to the warehouse once, with the customer's words and photos."""
    if rt.config.warehouse is None:
        log.info("claim %s is complete but no warehouse address is configured", rt.claim_ref(claim_id))
        return
    if rt.store.replied_with(claim_id, ReplyKind.WAREHOUSE_CHECK.value):
        return
    claim = rt.store.claim(claim_id)
    order = rt.orders.get(facts.order_number)
    # the sentences the checklist rests on, and those whose counts fall short of the order book
    quoted = [s.sentence for s in facts.statements]
    quoted += [count.sentence for count, _ in counted_short(facts, order)] if order else []
    context = _context(rt, claim, ReplyKind.WAREHOUSE_CHECK, Decision(ClaimState.IN_REVIEW, None), "",
                       statements=tuple(dict.fromkeys(quoted)),  # each once
                       missing_parts=facts.missing_parts,
                       order_lines=tuple((line.part, line.quantity) for line in order.lines) if order else ())
    photos = [(rt.store.blobs.path(a["path"]).read_bytes(), a["content_type"])
              for a in rt.store.attachments(claim_id) if a["is_photo"]]
    message_id = _message_id(rt, context.claim_ref)
    message, text = replies.build_internal(
        rt.templates, context, sender=rt.config.bot.support_address, sender_name=rt.config.bot.support_name,
        to=rt.config.warehouse.address, message_id=message_id, now=now, photos=photos)
    _queue(rt, claim_id, ReplyKind.WAREHOUSE_CHECK, message_id, rt.config.warehouse.address, message, text, now)


# The replies that ask the customer for evidence: they say what we read, and ask on lines to answer in place.
ASKING = (ReplyKind.ASK_EVIDENCE, ReplyKind.REMINDER)


def _what_we_read(rt: Runtime, claim: Claim) -> dict:
    """What the claim's mails told us, in short words, and the order's box count the lines name."""
    order = rt.orders.get(claim.order_id) if claim.order_id else None
    boxes = order.boxes if order is not None else 0
    return {"understood": replies.understood(claim.facts, claim.order_id or "", boxes),
            "order_boxes": boxes}


def _context(rt: Runtime, claim: Claim, kind: ReplyKind, decision: Decision, customer_name: str,
             **extra) -> replies.ReplyContext:
    bot = rt.config.bot
    return replies.ReplyContext(
        kind=kind, claim_ref=rt.claim_ref(claim.id), customer_name=customer_name,
        order_id=claim.order_id or "", rma_number=claim.rma_number or "",
        missing=decision.missing or claim.missing, reasons=decision.reasons,
        recheck_on=decision.recheck_on, company=bot.company, support_name=bot.support_name,
        customer=claim.customer, recognised_labs=rt.config.policy.recognised_labs, claim_kind=claim.kind,
        resolution=claim.resolution or "", **extra,
    )


def _thread_ids(rt: Runtime, claim_id: int, first: dict | None) -> tuple[str, ...]:
    """The customer's first mail and our earlier answers to them, oldest first, for References."""
    ours = [r["message_id"] for r in rt.store.replies(claim_id) if r["reply_kind"] != ReplyKind.WAREHOUSE_CHECK]
    return tuple(m for m in (first["message_id"] if first else "", *ours) if m)


def _message_id(rt: Runtime, claim_ref: str) -> str:
    """128 bits from `secrets`: a warehouse answer proves itself by naming its check's id (mail_proof), so no id
    of ours may be guessable (make_msgid's are 64 bits from `random`)."""
    return f"<{claim_ref}.{secrets.token_hex(16)}@{rt.config.bot.message_id_domain}>"


def _queue(rt: Runtime, claim_id: int, kind: ReplyKind, message_id: str, to: str, message, text: str,
           now: dt.datetime) -> None:
    rt.store.queue_reply({
        "claim_id": claim_id, "message_id": message_id, "reply_kind": kind.value, "to_addr": to,
        "subject": str(message["Subject"]), "body_text": text, "created_at": iso(now),
    }, replies.to_bytes(message))
    rt.store.add_event(claim_id, "reply_queued", {"reply": kind.value, "to": to, "message_id": message_id}, now)
