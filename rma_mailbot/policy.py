"""The return policy as pure checks: decide(facts, order, sender, rules, on=date) -> Decision."""

from __future__ import annotations

import datetime as dt

from rma_mailbot.config import NonReceiptAction, PolicyConfig
from rma_mailbot.models import (
    Check,
    ClaimFacts,
    ClaimKind,
    ClaimState,
    Decision,
    Evidence,
    Order,
    Outcome,
    Reason,
    ReplyKind,
)

# The sentence of return-policy.txt each reason rests on; replies quote these.
CLAUSES: dict[Reason, str] = {
    Reason.DELIVERY_OVERDUE: "We guarantee a refund or reshipment of your order if you have not received the "
    "parcel beyond the regular shipping days.",
    Reason.DELIVERY_IN_TRANSIT: "In the event of extreme weather, post office delays, customs clearance, local "
    "protests, etc., we may be unable to guarantee on-time delivery, but we will do our best to support you.",
    Reason.DELIVERY_FAILED_CUSTOMER: "No refund or reshipment where the customer is responsible for unsuccessful "
    "delivery, such as providing an incorrect shipping address or being unable to complete customs clearance.",
    Reason.RETURN_WINDOW_OPEN: "Returns are accepted within 7 days from the date of delivery.",
    Reason.RETURN_WINDOW_CLOSED: "Returns are accepted within 7 days from the date of delivery.",
    Reason.WARRANTY_EXPIRED: "Quality assurance is guaranteed within 365 days from the date of parcel delivery.",
    Reason.REPORT_REQUIRED: "When a customer requests a return due to non-original/fake/quality problems, a valid "
    "quality report from a third-party organization recognized by our company is required.",
    Reason.REPORT_LAB_UNRECOGNIZED: "The quality report must come from a third-party organization recognized by "
    "our company.",
    Reason.SENSITIVE_PARTS_OPENED: "ESD or moisture-sensitive products should not be opened except under "
    "controlled conditions.",
    Reason.SENDER_NOT_ORDER_OWNER: "We can only act on a claim sent from the email address on the order.",
    Reason.ORDER_UNKNOWN: "We need the order number to look up your order.",
    Reason.CUSTOMER_PAYS_FEES: "Any charges from customs and other fees should be paid by customers if the reason "
    "for return is due to customer error, such as buying parts mistakenly.",
    Reason.FREIGHT_PREPAID_NO_COD: "Return freight charges must be prepaid, we will not accept COD shipments.",
    Reason.MISSING_ITEMS_CHECKLIST: "Please ensure that you have received all the boxes, fully empty each box, and "
    "include a description of the missing quantities and pictures of the whole parcel.",
    Reason.WAREHOUSE_CHECK: "We will forward them to our warehouse to verify our packing picture and video records.",
    Reason.KIND_UNCLEAR: "Our team will read your message and answer it.",
}

MISSING_ITEMS_CHECKLIST = (
    Evidence.ALL_BOXES_RECEIVED,
    Evidence.BOXES_EMPTIED,
    Evidence.MISSING_QUANTITIES,
    Evidence.PARCEL_PHOTOS,
)


def shipping_days(order: Order, rules: PolicyConfig) -> int:
    return rules.shipping_days.get(order.shipping_method, rules.default_shipping_days)


def decide(facts: ClaimFacts, order: Order | None, sender: str, rules: PolicyConfig, *, on: dt.date) -> Decision:
    """Judge a claim on the day its first mail reached the server (``on``)."""
    if not facts.order_number:
        if facts.kind is ClaimKind.UNKNOWN:
            # No order number and no claim words: staff look, nobody is answered (no backscatter to spam).
            return Decision(ClaimState.IN_REVIEW, None, reasons=(Reason.KIND_UNCLEAR,),
                            checks=(Check(Reason.KIND_UNCLEAR, Outcome.REVIEW, "no order number, no claim words"),))
        return _ask((Evidence.ORDER_NUMBER,), (Check(Reason.ORDER_UNKNOWN, Outcome.MISSING, "no order number found"),))
    if order is None:
        check = Check(Reason.ORDER_UNKNOWN, Outcome.MISSING, f"order {facts.order_number} is not in the order book")
        return _ask((Evidence.ORDER_NUMBER,), (check,), reasons=(Reason.ORDER_UNKNOWN,))
    if order.customer_email != sender:
        # Disclose nothing about the order to someone who may not own it.
        check = Check(Reason.SENDER_NOT_ORDER_OWNER, Outcome.FAIL, f"sender {sender} is not the order's customer")
        return Decision(ClaimState.IN_REVIEW, ReplyKind.WRONG_SENDER, reasons=(Reason.SENDER_NOT_ORDER_OWNER,),
                        checks=(check,))
    owner = Check(Reason.SENDER_NOT_ORDER_OWNER, Outcome.PASS, f"order {order.order_id}: customer_email")
    judge = {
        ClaimKind.NON_RECEIPT: _non_receipt,
        ClaimKind.MISSING_ITEMS: _missing_items,
        ClaimKind.RETURN: _return,
        ClaimKind.QUALITY: _quality,
    }.get(facts.kind)
    if judge is None:
        check = Check(Reason.KIND_UNCLEAR, Outcome.REVIEW, "no claim kind recognised in the mail")
        return Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, reasons=(Reason.KIND_UNCLEAR,),
                        checks=(owner, check))
    decision = judge(facts, order, rules, on)
    return Decision(decision.state, decision.reply, decision.missing, decision.reasons,
                    (owner, *decision.checks), decision.recheck_on, decision.issue_rma)


def _ask(missing: tuple[Evidence, ...], checks: tuple[Check, ...], reasons: tuple[Reason, ...] = ()) -> Decision:
    return Decision(ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, missing=missing, reasons=reasons,
                    checks=checks)


def _non_receipt(facts: ClaimFacts, order: Order, rules: PolicyConfig, on: dt.date) -> Decision:
    if order.ship_date is None:
        check = Check(Reason.DELIVERY_IN_TRANSIT, Outcome.REVIEW, f"order {order.order_id}: no ship_date")
        return Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, checks=(check,))
    if order.delivery_date is not None:
        # The carrier says delivered, the customer says not: a person must look.
        check = Check(Reason.DELIVERY_OVERDUE, Outcome.REVIEW,
                      f"order {order.order_id}: delivery_date {order.delivery_date} recorded by the carrier")
        return Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, checks=(check,))
    days = shipping_days(order, rules)
    due = order.ship_date + dt.timedelta(days=days)
    basis = (f"order {order.order_id}: ship_date {order.ship_date} + {days} shipping days "
             f"({order.shipping_method or 'default'}) = {due}; claim dated {on}")
    if on <= due:
        return Decision(ClaimState.AWAITING_DELIVERY, ReplyKind.IN_TRANSIT, reasons=(Reason.DELIVERY_IN_TRANSIT,),
                        checks=(Check(Reason.DELIVERY_IN_TRANSIT, Outcome.WAIT, basis),), recheck_on=due)
    check = Check(Reason.DELIVERY_OVERDUE, Outcome.PASS, basis)
    if rules.non_receipt_overdue is NonReceiptAction.APPROVE:
        return Decision(ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, reasons=(Reason.DELIVERY_OVERDUE,),
                        checks=(check,), issue_rma=True)
    return Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, reasons=(Reason.DELIVERY_OVERDUE,), checks=(check,))


def _missing_items(facts: ClaimFacts, order: Order, rules: PolicyConfig, on: dt.date) -> Decision:
    by_evidence = {s.evidence: s.sentence for s in facts.statements}
    if facts.photos:
        by_evidence[Evidence.PARCEL_PHOTOS] = f"{len(facts.photos)} photo(s): " + ", ".join(
            p.sha256[:12] for p in facts.photos)
    checks = tuple(
        Check(Reason.MISSING_ITEMS_CHECKLIST, Outcome.PASS if item in by_evidence else Outcome.MISSING,
              f"{item}: {by_evidence.get(item, 'not found')}")
        for item in MISSING_ITEMS_CHECKLIST
    )
    missing = tuple(item for item in MISSING_ITEMS_CHECKLIST if item not in by_evidence)
    if missing:
        return _ask(missing, checks, reasons=(Reason.MISSING_ITEMS_CHECKLIST,))
    checks += (Check(Reason.WAREHOUSE_CHECK, Outcome.REVIEW, "checklist complete: warehouse checks the packing"),)
    return Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, reasons=(Reason.WAREHOUSE_CHECK,), checks=checks)


def _delivered(order: Order, reason: Reason) -> Decision | None:
    """A review decision when the order has no delivery date to count a window from."""
    if order.delivery_date is not None:
        return None
    check = Check(reason, Outcome.REVIEW, f"order {order.order_id}: no delivery_date")
    return Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, checks=(check,))


def _return(facts: ClaimFacts, order: Order, rules: PolicyConfig, on: dt.date) -> Decision:
    if (undelivered := _delivered(order, Reason.RETURN_WINDOW_OPEN)) is not None:
        return undelivered
    last_day = order.delivery_date + dt.timedelta(days=rules.return_window_days)
    basis = (f"order {order.order_id}: delivery_date {order.delivery_date} + {rules.return_window_days} days "
             f"= {last_day}; claim dated {on}")
    if on > last_day:
        return Decision(ClaimState.REJECTED, ReplyKind.DECLINED, reasons=(Reason.RETURN_WINDOW_CLOSED,),
                        checks=(Check(Reason.RETURN_WINDOW_CLOSED, Outcome.FAIL, basis),))
    reasons = (Reason.RETURN_WINDOW_OPEN, Reason.CUSTOMER_PAYS_FEES, Reason.FREIGHT_PREPAID_NO_COD)
    return Decision(ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, reasons=reasons,
                    checks=(Check(Reason.RETURN_WINDOW_OPEN, Outcome.PASS, basis),), issue_rma=True)


def _quality(facts: ClaimFacts, order: Order, rules: PolicyConfig, on: dt.date) -> Decision:
    if (undelivered := _delivered(order, Reason.WARRANTY_EXPIRED)) is not None:
        return undelivered
    last_day = order.delivery_date + dt.timedelta(days=rules.warranty_days)
    basis = (f"order {order.order_id}: delivery_date {order.delivery_date} + {rules.warranty_days} days "
             f"= {last_day}; claim dated {on}")
    if on > last_day:
        return Decision(ClaimState.REJECTED, ReplyKind.DECLINED, reasons=(Reason.WARRANTY_EXPIRED,),
                        checks=(Check(Reason.WARRANTY_EXPIRED, Outcome.FAIL, basis),))
    window = Check(Reason.WARRANTY_EXPIRED, Outcome.PASS, basis)
    if not facts.reports:
        check = Check(Reason.REPORT_REQUIRED, Outcome.MISSING, "no PDF quality report attached")
        return _ask((Evidence.QUALITY_REPORT,), (window, check), reasons=(Reason.REPORT_REQUIRED,))
    check = Check(Reason.REPORT_REQUIRED, Outcome.REVIEW, f"{len(facts.reports)} PDF report(s): staff verify the lab")
    return Decision(ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, reasons=(Reason.REPORT_REQUIRED,),
                    checks=(window, check))
