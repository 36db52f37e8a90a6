"""The staff queue: routing rules that send claims to staff, and the list of claims waiting for them."""

from __future__ import annotations

import datetime as dt

from rma_mailbot.config import Config, RoutingRule
from rma_mailbot.models import (
    Check,
    ClaimFacts,
    ClaimKind,
    ClaimState,
    Decision,
    Order,
    Outcome,
    Reason,
    ReplyKind,
    Report,
)
from rma_mailbot.policy import decide
from rma_mailbot.refs import claim_ref
from rma_mailbot.store import Store, iso

# A claim opened beside another claim on the same order, or on an order that has an RMA number: staff decide it.
SAME_ORDER = RoutingRule(name="same-order")
# A claim whose case only the kind model told (no phrase of the mail says it) gets no RMA number by itself;
# except a parcel never received, when the order book agrees (not delivered, past its shipping days): the
# refund or reshipment is owed whatever else the mail may have meant.
KIND_BY_MODEL = RoutingRule(name="kind-by-model")


def route(rules: tuple[RoutingRule, ...], *, kind: ClaimKind, order: Order | None, sender_mismatch: bool,
          auth_failed: tuple[str, ...], recent_claims: int) -> tuple[RoutingRule, str] | None:
    """The first rule whose every condition holds, and why; None when the bot may answer by itself. Pure."""
    for rule in rules:
        why = []
        if rule.kinds:
            if kind not in rule.kinds:
                continue
            why.append(f"kind {kind}")
        if rule.order_value_over is not None:
            if order is None or order.value is None or order.value <= rule.order_value_over:
                continue
            why.append(f"order value {order.value:g} over {rule.order_value_over:g}")
        if rule.claims_in_30_days_over is not None:
            if recent_claims <= rule.claims_in_30_days_over:
                continue
            why.append(f"{recent_claims} claims in 30 days, over {rule.claims_in_30_days_over}")
        if rule.sender_mismatch:
            if not sender_mismatch:
                continue
            why.append("the sender is not the order's customer")
        if rule.auth_failed:
            if not auth_failed:
                continue
            why.append("our mail server reports " + ", ".join(auth_failed))
        return rule, "; ".join(why)
    return None


def judge(facts: ClaimFacts, order: Order | None, customer: str, config: Config, *, on: dt.date,
          auth_failed: tuple[str, ...], recent_claims: int,
          beside_another: bool = False) -> tuple[Decision, RoutingRule | None]:
    """The policy's decision, held back for staff when a review rule says so, or when an earlier claim on the
    order is open or has an RMA number (``beside_another``: one order never gets a second by itself). Pure."""
    decision = decide(facts, order, customer, config.policy, on=on)
    if beside_another:
        return routed(decision, SAME_ORDER, "an earlier claim on the order is open or has an RMA number"), SAME_ORDER
    if facts.kind_by_model and decision.state is ClaimState.APPROVED and facts.kind is not ClaimKind.NON_RECEIPT:
        return routed(decision, KIND_BY_MODEL, f"the kind model read the mail as {facts.kind}, no phrase of it "
                                               "says so"), KIND_BY_MODEL
    routing = route(config.review.rules, kind=facts.kind, order=order,
                    sender_mismatch=Reason.SENDER_NOT_ORDER_OWNER in decision.reasons, auth_failed=auth_failed,
                    recent_claims=recent_claims)
    if routing is None:
        return decision, None
    return routed(decision, *routing), routing[0]


def routed(decision: Decision, rule: RoutingRule, why: str) -> Decision:
    """The automatic decision held back for staff; its clauses stay on record."""
    check = Check(Reason.ROUTED_TO_STAFF, Outcome.REVIEW, f"review rule {rule.name!r}: {why}")
    reply = ReplyKind.WRONG_SENDER if decision.reply is ReplyKind.WRONG_SENDER else ReplyKind.IN_REVIEW
    return Decision(ClaimState.IN_REVIEW, reply, reasons=(*decision.reasons, Reason.ROUTED_TO_STAFF),
                    checks=(*decision.checks, check))


def waiting_for_staff(store: Store, prefix: str, now: dt.datetime) -> list[dict]:
    """Claims in review, and claims whose reply could not be delivered, oldest first, with what staff
    need to decide them."""
    rows = []
    bounced = {r["claim_id"]: r for r in store.replies_in_state("failed")}
    waiting = {c.id: c for c in store.claims(ClaimState.IN_REVIEW.value)}
    waiting.update({claim_id: store.claim(claim_id) for claim_id in bounced if claim_id not in waiting})
    for claim in waiting.values():
        reports = claim.facts.reports
        labs = [_report_label(r) for r in reports if r.lab or r.active or r.unreadable]
        reasons = [r.value for r in claim.reasons]
        rows.append({
            "id": claim.id, "ref": claim_ref(prefix, claim.id), "kind": claim.kind.value,
            "customer": claim.customer, "order_id": claim.order_id, "created_at": iso(claim.created_at),
            "age_days": (now - claim.created_at).days, "photos": claim.photos,
            "report": ", ".join(labs) or (f"{len(reports)} without a recognised lab" if reports else "none"),
            "routed_by": claim.routed_by, "reasons": reasons,
            "why": f"rule {claim.routed_by}" if claim.routed_by else ", ".join(reasons),
        })
        if claim.id in bounced:
            failure = bounced[claim.id]
            rows[-1]["why"] = f"reply to {failure['to_addr']} failed: {failure['last_error']}"
    return sorted(rows, key=lambda r: r["created_at"])


def _report_label(report: Report) -> str:
    """A report as the queue names it: why it is no evidence, or its lab and where the lab was named."""
    if report.active:
        return "active content: " + ", ".join(report.active)
    if report.unreadable:
        return "unreadable: " + report.unreadable
    return f"{report.lab} ({report.found_in})"
