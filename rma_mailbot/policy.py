"""The return policy as explainable checks: decide(facts, order, sender, rules, on=date) -> Decision.

Each clause is a pure check that returns a Check: its reason code, its outcome, and the
evidence it rested on (a sentence, an attachment, an order field). The decision follows from
the outcomes alone: a failed clause rejects, missing evidence is asked for, a clause that needs
a person sends the claim to review, a parcel still in transit waits, and otherwise the claim is
approved with an RMA number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from rma_mailbot.config import AutoAction, PolicyConfig
from rma_mailbot.models import (
    Check,
    ClaimFacts,
    ClaimKind,
    ClaimState,
    Decision,
    Evidence,
    LabSource,
    Order,
    OrderLine,
    Outcome,
    PartCount,
    Reason,
    ReplyKind,
    Report,
)

# The sentence of return-policy.txt each reason rests on; replies quote these.
CLAUSES: dict[Reason, str] = {
    Reason.DELIVERY_OVERDUE: "We guarantee a refund or reshipment of your order if you have not received the "
    "parcel beyond the regular shipping days.",
    Reason.DELIVERY_IN_TRANSIT: "In the event of extreme weather, post office delays, customs clearance, local "
    "protests, etc., we may be unable to guarantee on-time delivery, but we will do our best to support you.",
    Reason.DELIVERY_FAILED_CUSTOMER: "No refund or reshipment where the customer is responsible for unsuccessful "
    "delivery, such as providing an incorrect shipping address or being unable to complete customs clearance.",
    Reason.CARRIER_DELIVERED: "The carrier has recorded the parcel as delivered; our team will look into it with "
    "the carrier.",
    Reason.RETURN_WINDOW_OPEN: "Returns are accepted within 7 days from the date of delivery.",
    Reason.RETURN_WINDOW_CLOSED: "Returns are accepted within 7 days from the date of delivery.",
    Reason.WARRANTY_EXPIRED: "Quality assurance is guaranteed within 365 days from the date of parcel delivery.",
    Reason.REPORT_REQUIRED: "When a customer requests a return due to non-original/fake/quality problems, a valid "
    "quality report from a third-party organization recognized by our company is required.",
    Reason.REPORT_LAB_UNRECOGNIZED: "The quality report must come from a third-party organization recognized by "
    "our company.",
    Reason.REPORT_ACTIVE_CONTENT: "A quality report that carries scripts, actions or embedded files is checked by "
    "our team in person.",
    Reason.REPORT_UNREADABLE: "A quality report we cannot read automatically is checked by our team in person.",
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
    Reason.REPORTED_LATE: "Please contact our support team immediately if you encounter any issues upon receiving "
    "your parcel.",
    Reason.KIND_UNCLEAR: "Each case of our return policy has its own steps: a parcel not received, items missing "
    "from your shipment, a return, or a quality problem.",
    Reason.DELIVERY_DATE_UNKNOWN: "The periods of our policy count from the date of delivery, which we confirm "
    "with the carrier.",
    Reason.ROUTED_TO_STAFF: "A member of our team looks at claims like yours personally.",
    Reason.STAFF_DECISION: "A member of our team has reviewed your claim.",
}

# Clauses that can only hold a claim back: passing them is nothing to tell the customer.
GUARDS = frozenset({Reason.SENDER_NOT_ORDER_OWNER, Reason.SENSITIVE_PARTS_OPENED, Reason.REPORTED_LATE,
                    Reason.WARRANTY_EXPIRED, Reason.MISSING_ITEMS_CHECKLIST})

MISSING_ITEMS_CHECKLIST = (
    Evidence.ALL_BOXES_RECEIVED,
    Evidence.BOXES_EMPTIED,
    Evidence.MISSING_QUANTITIES,
    Evidence.PARCEL_PHOTOS,
)

# The reply template each resulting state answers with.
REPLY_FOR_STATE = {
    ClaimState.REJECTED: ReplyKind.DECLINED,
    ClaimState.AWAITING_EVIDENCE: ReplyKind.ASK_EVIDENCE,
    ClaimState.IN_REVIEW: ReplyKind.IN_REVIEW,
    ClaimState.AWAITING_DELIVERY: ReplyKind.IN_TRANSIT,
    ClaimState.APPROVED: ReplyKind.RMA_CONFIRMED,
}


@dataclass(frozen=True)
class Case:
    """Everything a clause may look at."""

    facts: ClaimFacts
    order: Order
    rules: PolicyConfig
    on: dt.date  # the day the claim's first mail reached the server


Clause = Callable[[Case], list[Check]]


def shipping_days(order: Order, rules: PolicyConfig) -> int:
    return rules.shipping_days.get(order.shipping_method, rules.default_shipping_days)


def decide(facts: ClaimFacts, order: Order | None, sender: str, rules: PolicyConfig, *, on: dt.date) -> Decision:
    """Judge a claim on the day its first mail reached the server (``on``)."""
    if order is None:
        unknown = f"order {facts.order_number} is not in the order book" if facts.order_number else \
            "no order number found in the mail"
        if facts.kind is ClaimKind.UNKNOWN:
            # No order of ours and no claim words: staff look, nobody is answered (no backscatter to spam).
            return Decision(ClaimState.IN_REVIEW, None, reasons=(Reason.KIND_UNCLEAR,),
                            checks=(Check(Reason.KIND_UNCLEAR, Outcome.REVIEW, f"{unknown}, no claim words"),))
        return resolve([Check(Reason.ORDER_UNKNOWN, Outcome.MISSING, unknown, needs=Evidence.ORDER_NUMBER)], rules)
    if order.customer_email != sender:
        # Disclose nothing about the order to someone who may not own it.
        check = Check(Reason.SENDER_NOT_ORDER_OWNER, Outcome.FAIL, f"sender {sender} is not the order's customer")
        return Decision(ClaimState.IN_REVIEW, ReplyKind.WRONG_SENDER, reasons=(Reason.SENDER_NOT_ORDER_OWNER,),
                        checks=(check,))
    owner = Check(Reason.SENDER_NOT_ORDER_OWNER, Outcome.PASS,
                  f"order {order.order_id}: customer_email matches the sender")
    clauses = CLAUSES_BY_KIND.get(facts.kind)
    if clauses is None:
        # The customer's own order, but which case? Asked, so that the claim moves on without staff.
        checks = [Check(Reason.KIND_UNCLEAR, Outcome.MISSING, "no claim kind recognised in the mail",
                        needs=Evidence.CLAIM_KIND)]
    else:
        case = Case(facts, order, rules, on)
        checks = [check for clause in clauses for check in clause(case)]
    decision = resolve(checks, rules)
    return Decision(decision.state, decision.reply, decision.missing, decision.reasons, (owner, *decision.checks),
                    decision.recheck_on, decision.issue_rma)


def resolve(checks: list[Check], rules: PolicyConfig) -> Decision:
    """The decision that the clauses' outcomes add up to, most severe first."""
    by_outcome = {outcome: [c for c in checks if c.outcome is outcome] for outcome in Outcome}
    every = tuple(checks)
    if failed := by_outcome[Outcome.FAIL]:
        return _decision(ClaimState.REJECTED, failed, every)
    if missing := by_outcome[Outcome.MISSING]:
        needs = tuple(dict.fromkeys(c.needs for c in missing if c.needs))
        return Decision(ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, missing=needs,
                        reasons=_reasons(missing), checks=every)
    if review := by_outcome[Outcome.REVIEW]:
        return _decision(ClaimState.IN_REVIEW, review, every)
    if wait := by_outcome[Outcome.WAIT]:
        return Decision(ClaimState.AWAITING_DELIVERY, ReplyKind.IN_TRANSIT, reasons=_reasons(wait), checks=every,
                        recheck_on=max(c.until for c in wait if c.until))
    granted = [c for c in by_outcome[Outcome.PASS] if c.reason not in GUARDS]
    return Decision(ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, reasons=_reasons(granted), checks=every,
                    issue_rma=True)


def _decision(state: ClaimState, decisive: list[Check], every: tuple[Check, ...]) -> Decision:
    return Decision(state, REPLY_FOR_STATE[state], reasons=_reasons(decisive), checks=every)


def _reasons(checks: list[Check]) -> tuple[Reason, ...]:
    return tuple(dict.fromkeys(c.reason for c in checks))


def _order_field(order: Order, field: str) -> str:
    return f"order {order.order_id}: {field} {getattr(order, field) or '(empty)'}"


def _window(case: Case, days: int, open_reason: Reason, closed_reason: Reason) -> list[Check]:
    """A window counted from delivery: open through the last day, closed after it."""
    order = case.order
    if order.delivery_date is None:
        return [Check(Reason.DELIVERY_DATE_UNKNOWN, Outcome.REVIEW,
                      f"order {order.order_id}: no delivery_date to count {days} days from")]
    last_day = order.delivery_date + dt.timedelta(days=days)
    basis = f"{_order_field(order, 'delivery_date')} + {days} days = {last_day}; claim dated {case.on}"
    if case.on > last_day:
        return [Check(closed_reason, Outcome.FAIL, basis)]
    return [Check(open_reason, Outcome.PASS, basis)]


def _status_in(status: str, statuses: tuple[str, ...]) -> str:
    low = status.lower()
    return next((s for s in statuses if s.lower() in low), "")


# --- non-receipt ---------------------------------------------------------------------------------

def delivery(case: Case) -> list[Check]:
    order, rules = case.order, case.rules
    status = order.carrier_status
    if status and (cause := _status_in(status, rules.customer_failure_statuses)):
        return [Check(Reason.DELIVERY_FAILED_CUSTOMER, Outcome.FAIL,
                      f"{_order_field(order, 'carrier_status')} (a delivery failure through the customer: {cause})")]
    if order.delivery_date is not None or (status and _status_in(status, rules.delivered_statuses)):
        # The carrier says delivered, the customer says not: a person must look.
        field = "delivery_date" if order.delivery_date is not None else "carrier_status"
        return [Check(Reason.CARRIER_DELIVERED, Outcome.REVIEW, f"{_order_field(order, field)} recorded as delivered")]
    if order.ship_date is None:
        return [Check(Reason.DELIVERY_IN_TRANSIT, Outcome.REVIEW, f"order {order.order_id}: no ship_date")]
    days = shipping_days(order, rules)
    due = order.ship_date + dt.timedelta(days=days)
    basis = (f"{_order_field(order, 'ship_date')} + {days} regular shipping days "
             f"({order.shipping_method or 'default'}) = {due}; claim dated {case.on}")
    if case.on <= due:
        return [Check(Reason.DELIVERY_IN_TRANSIT, Outcome.WAIT, basis, until=due)]
    outcome = Outcome.PASS if rules.non_receipt_overdue is AutoAction.APPROVE else Outcome.REVIEW
    return [Check(Reason.DELIVERY_OVERDUE, outcome, basis)]


# --- missing items -------------------------------------------------------------------------------

def missing_items_checklist(case: Case) -> list[Check]:
    facts = case.facts
    boxes = case.order.boxes
    # "Fully empty each box you received": two of three boxes came, both emptied, is that item done.
    arrived = min(boxes, max((s.boxes or boxes for s in facts.statements
                              if s.evidence is Evidence.ALL_BOXES_RECEIVED), default=boxes))
    said = {s.evidence: f'"{s.sentence}"' for s in reversed(facts.statements)
            if s.holds_for(arrived if s.evidence is Evidence.BOXES_EMPTIED else boxes)}
    if Evidence.MISSING_QUANTITIES not in said and (short := counted_short(facts, case.order)):
        said[Evidence.MISSING_QUANTITIES] = "; ".join(
            f'"{count.sentence}": {count.number} {count.part} against {line.quantity} ordered' for count, line in short)
    if facts.photos:
        said[Evidence.PARCEL_PHOTOS] = f"{len(facts.photos)} photo(s): " + ", ".join(
            f"attachment {p.sha256[:12]} ({p.width}x{p.height})" for p in facts.photos)
    checks = [
        Check(Reason.MISSING_ITEMS_CHECKLIST, Outcome.PASS if item in said else Outcome.MISSING,
              f"{item}: {said.get(item, 'not found in the mail')}", needs=None if item in said else item)
        for item in MISSING_ITEMS_CHECKLIST
    ]
    if all(c.outcome is Outcome.PASS for c in checks):
        checks.append(Check(Reason.WAREHOUSE_CHECK, Outcome.REVIEW,
                            "checklist complete: the warehouse checks its packing pictures and video"))
    return checks


def counted_short(facts: ClaimFacts, order: Order) -> tuple[tuple[PartCount, OrderLine], ...]:
    """The counts the customer gives for order lines below the quantities ordered, with their lines: "hay 34
    MPU-6050" of 40 says what is short, the order book telling the rest (as its box count does for "the box
    arrived")."""
    return tuple((count, line) for count in facts.counts
                 if (line := _line_named(order, count.part)) is not None and 0 <= count.number < line.quantity)


def reported_in_time(case: Case) -> list[Check]:
    order, limit = case.order, case.rules.missing_items_review_after_days
    if order.delivery_date is None:
        return []
    age = (case.on - order.delivery_date).days
    basis = f"{_order_field(order, 'delivery_date')}; reported {age} days later (limit {limit})"
    return [Check(Reason.REPORTED_LATE, Outcome.REVIEW if age > limit else Outcome.PASS, basis)]


# --- returns -------------------------------------------------------------------------------------

def return_window(case: Case) -> list[Check]:
    return _window(case, case.rules.return_window_days, Reason.RETURN_WINDOW_OPEN, Reason.RETURN_WINDOW_CLOSED)


def sensitive_parts(case: Case) -> list[Check]:
    sensitive = [line.part for line in case.order.lines if line.sensitive]
    if not sensitive:
        return [Check(Reason.SENSITIVE_PARTS_OPENED, Outcome.NOT_APPLICABLE,
                      f"order {case.order.order_id}: no ESD or moisture-sensitive lines")]
    parts = ", ".join(sensitive)
    # Passes only when every part named as opened is a line of the order that is not sensitive. A name short
    # of the order's ("AMS1117" for AMS1117-3.3) is that line when it begins no other line: "STM32" may be any.
    named = [_line_named(case.order, part) for part in case.facts.opened_parts]
    if case.facts.opened_sensitive and named and all(line is not None and not line.sensitive for line in named):
        return [Check(Reason.SENSITIVE_PARTS_OPENED, Outcome.PASS,
                      f"sensitive parts {parts}; the bag opened held {', '.join(line.part for line in named)} only: "
                      f'"{case.facts.opened_sensitive}"')]
    if case.facts.opened_sensitive:
        return [Check(Reason.SENSITIVE_PARTS_OPENED, Outcome.REVIEW,
                      f'sensitive parts {parts}; the customer wrote "{case.facts.opened_sensitive}"')]
    return [Check(Reason.SENSITIVE_PARTS_OPENED, Outcome.PASS, f"sensitive parts {parts}; no opening reported")]


def _line_named(order: Order, part: str) -> OrderLine | None:
    """The one order line a customer's part name stands for, if exactly one: as written, or its beginning."""
    key = _part_key(part)
    lines = [line for line in order.lines if _part_key(line.part) == key] or \
        [line for line in order.lines if key and _part_key(line.part).startswith(key)]
    return lines[0] if len(lines) == 1 else None


def _part_key(part: str) -> str:
    return "".join(c for c in part.upper() if c.isalnum())


def return_terms(case: Case) -> list[Check]:
    """Conditions every customer-error return carries; the RMA confirmation states them."""
    return [
        Check(Reason.CUSTOMER_PAYS_FEES, Outcome.PASS, f"claim kind {case.facts.kind}: customer error"),
        Check(Reason.FREIGHT_PREPAID_NO_COD, Outcome.PASS, "applies to every return"),
    ]


# --- quality -------------------------------------------------------------------------------------

def warranty(case: Case) -> list[Check]:
    return _window(case, case.rules.warranty_days, Reason.WARRANTY_EXPIRED, Reason.WARRANTY_EXPIRED)


def quality_report(case: Case) -> list[Check]:
    reports = case.facts.reports
    if not reports:
        return [Check(Reason.REPORT_REQUIRED, Outcome.MISSING, "no PDF quality report attached",
                      needs=Evidence.QUALITY_REPORT)]
    if flagged := [r for r in reports if r.flagged]:
        # Whatever lab it names, such a report is no evidence for an automatic decision: staff look at it.
        return [_not_evidence(r) for r in flagged]
    strong = [r for r in reports if r.found_in is LabSource.PDF_TEXT]
    if strong:
        report = strong[0]
        outcome = Outcome.PASS if case.rules.recognised_report is AutoAction.APPROVE else Outcome.REVIEW
        return [Check(Reason.REPORT_REQUIRED, outcome,
                      f"attachment {report.sha256[:12]}: recognised lab {report.lab!r} named in the PDF's text")]
    weak = [r for r in reports if r.lab]
    if weak:
        report = weak[0]
        where = "file name" if report.found_in is LabSource.FILENAME else "mail text"
        return [Check(Reason.REPORT_LAB_UNRECOGNIZED, Outcome.REVIEW,
                      f"attachment {report.sha256[:12]}: lab {report.lab!r} named only in the {where}, "
                      f"not in the PDF's text")]
    names = ", ".join(f"attachment {r.sha256[:12]}" for r in reports)
    return [Check(Reason.REPORT_LAB_UNRECOGNIZED, Outcome.MISSING, f"{names}: no recognised lab named",
                  needs=Evidence.QUALITY_REPORT)]


def _not_evidence(report: Report) -> Check:
    if report.active:
        return Check(Reason.REPORT_ACTIVE_CONTENT, Outcome.REVIEW, f"report {report.sha256[:12]}: PDF has "
                     f"{', '.join(report.active)}; not taken as evidence")
    return Check(Reason.REPORT_UNREADABLE, Outcome.REVIEW, f"report {report.sha256[:12]}: PDF unreadable "
                 f"({report.unreadable}); not taken as evidence")


CLAUSES_BY_KIND: dict[ClaimKind, tuple[Clause, ...]] = {
    ClaimKind.NON_RECEIPT: (delivery,),
    ClaimKind.MISSING_ITEMS: (missing_items_checklist, reported_in_time),
    ClaimKind.RETURN: (return_window, sensitive_parts, return_terms),
    ClaimKind.QUALITY: (warranty, quality_report),
}
