"""policy.py: decide(facts, order, sender, rules, on=date), one row per clause of return-policy.txt."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from pathlib import Path

import pytest

from rma_mailbot import config
from rma_mailbot.config import AutoAction
from rma_mailbot.models import (
    ClaimFacts,
    ClaimKind,
    ClaimState,
    Evidence,
    LabSource,
    Order,
    OrderLine,
    Outcome,
    PartCount,
    Photo,
    Reason,
    ReplyKind,
    Report,
    Statement,
)
from rma_mailbot.policy import CLAUSES, MISSING_ITEMS_CHECKLIST, decide

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
CUSTOMER = "jane@customer.example"
SHIPPED = dt.date(2025, 3, 3)
DELIVERED = dt.date(2025, 3, 10)


def _rules() -> config.PolicyConfig:
    with EXAMPLE.open("rb") as handle:
        data = tomllib.load(handle)
    return config.parse(data, base_dir=EXAMPLE.parent, path=EXAMPLE).policy


RULES = _rules()  # return window 7 days, warranty 365, DHL Express 5 shipping days, default 20


def order(**changes) -> Order:
    base = Order(order_id="SO104233", customer_email=CUSTOMER, ship_date=SHIPPED, delivery_date=DELIVERED,
                 shipping_method="DHL Express", boxes=3, lines=(OrderLine("LM2596S", 40),))
    return dataclasses.replace(base, **changes)


PHOTO = Photo(sha256="ab" * 32, content_type="image/jpeg", width=640, height=480, size=12345)
STATEMENT = {
    Evidence.ALL_BOXES_RECEIVED: Statement(Evidence.ALL_BOXES_RECEIVED, "We received all 3 boxes."),
    Evidence.BOXES_EMPTIED: Statement(Evidence.BOXES_EMPTIED, "We emptied every box."),
    Evidence.MISSING_QUANTITIES: Statement(Evidence.MISSING_QUANTITIES, "3 pcs of LM2596S are missing."),
}


SENSITIVE_LINE = OrderLine("STM32F103C8T6", 10, sensitive=True)


def claim(kind: ClaimKind = ClaimKind.UNKNOWN, order_number: str = "SO104233", *, evidence=(), reports=(),
          opened=""):
    """reports: Report records, or a sha256 for a PDF naming a recognised lab in its text."""
    return ClaimFacts(
        order_number=order_number,
        kind=kind,
        statements=tuple(STATEMENT[e] for e in evidence if e in STATEMENT),
        photos=(PHOTO,) if Evidence.PARCEL_PHOTOS in evidence else (),
        reports=tuple(r if isinstance(r, Report) else Report(r, "SGS", LabSource.PDF_TEXT) for r in reports),
        opened_sensitive=opened,
    )


def day(n: int, start: dt.date = DELIVERED) -> dt.date:
    return start + dt.timedelta(days=n)


APPROVE_REPORTS = dataclasses.replace(RULES, recognised_report=AutoAction.APPROVE)
SCRIPTED = Report("5c" * 32, "SGS", LabSource.PDF_TEXT, active=("JavaScript (OpenAction)",))
UNREADABLE = Report("0d" * 32, "SGS", LabSource.FILENAME, unreadable="pages drawing more than 2 MB of content")


# (id, facts, order, sender, rules, on, state, reply, missing, reasons)
ROWS = [
    ("no_order_no_kind", claim(order_number=""), None, CUSTOMER, RULES, day(1),
     ClaimState.IN_REVIEW, None, (), (Reason.KIND_UNCLEAR,)),
    ("no_order_with_kind", claim(ClaimKind.MISSING_ITEMS, ""), None, CUSTOMER, RULES, day(1),
     ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.ORDER_NUMBER,), (Reason.ORDER_UNKNOWN,)),
    ("no_order_with_kind_quality", claim(ClaimKind.QUALITY, ""), None, CUSTOMER, RULES, day(1),
     ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.ORDER_NUMBER,), (Reason.ORDER_UNKNOWN,)),
    ("order_unknown", claim(ClaimKind.RETURN), None, CUSTOMER, RULES, day(1),
     ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.ORDER_NUMBER,), (Reason.ORDER_UNKNOWN,)),
    # an order not in the book and no claim words: as no order at all, staff look and nobody is answered
    ("order_unknown_no_kind", claim(), None, CUSTOMER, RULES, day(1),
     ClaimState.IN_REVIEW, None, (), (Reason.KIND_UNCLEAR,)),
    ("sender_not_order_owner", claim(ClaimKind.RETURN), order(), "mallory@elsewhere.example", RULES, day(1),
     ClaimState.IN_REVIEW, ReplyKind.WRONG_SENDER, (), (Reason.SENDER_NOT_ORDER_OWNER,)),
    # The customer's own order, case unclear: asked which case applies (issue 13), not left to staff.
    ("sender_owner_but_kind_unknown", claim(), order(), CUSTOMER, RULES, day(1),
     ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.CLAIM_KIND,), (Reason.KIND_UNCLEAR,)),
    # Non-receipt: DHL Express has 5 regular shipping days from the ship date.
    ("non_receipt_day_1_in_transit", claim(ClaimKind.NON_RECEIPT), order(delivery_date=None), CUSTOMER, RULES,
     day(1, SHIPPED), ClaimState.AWAITING_DELIVERY, ReplyKind.IN_TRANSIT, (), (Reason.DELIVERY_IN_TRANSIT,)),
    ("non_receipt_last_shipping_day", claim(ClaimKind.NON_RECEIPT), order(delivery_date=None), CUSTOMER, RULES,
     day(5, SHIPPED), ClaimState.AWAITING_DELIVERY, ReplyKind.IN_TRANSIT, (), (Reason.DELIVERY_IN_TRANSIT,)),
    ("non_receipt_overdue_approve", claim(ClaimKind.NON_RECEIPT), order(delivery_date=None), CUSTOMER, RULES,
     day(6, SHIPPED), ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, (), (Reason.DELIVERY_OVERDUE,)),
    ("non_receipt_overdue_review", claim(ClaimKind.NON_RECEIPT), order(delivery_date=None), CUSTOMER,
     dataclasses.replace(RULES, non_receipt_overdue=AutoAction.REVIEW), day(6, SHIPPED),
     ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.DELIVERY_OVERDUE,)),
    ("non_receipt_carrier_delivered", claim(ClaimKind.NON_RECEIPT), order(), CUSTOMER, RULES, day(30, SHIPPED),
     ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.CARRIER_DELIVERED,)),
    ("non_receipt_carrier_status_delivered", claim(ClaimKind.NON_RECEIPT),
     order(delivery_date=None, carrier_status="DELIVERED - front door"), CUSTOMER, RULES, day(30, SHIPPED),
     ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.CARRIER_DELIVERED,)),
    *[
        (f"non_receipt_customer_failure_{status.split()[-1].lower()}", claim(ClaimKind.NON_RECEIPT),
         order(delivery_date=None, carrier_status=status), CUSTOMER, RULES, day(30, SHIPPED),
         ClaimState.REJECTED, ReplyKind.DECLINED, (), (Reason.DELIVERY_FAILED_CUSTOMER,))
        for status in ("Returned to sender: wrong address", "Customs not cleared", "Refused by recipient")
    ],
    ("non_receipt_in_transit_status", claim(ClaimKind.NON_RECEIPT),
     order(delivery_date=None, carrier_status="In transit"), CUSTOMER, RULES, day(1, SHIPPED),
     ClaimState.AWAITING_DELIVERY, ReplyKind.IN_TRANSIT, (), (Reason.DELIVERY_IN_TRANSIT,)),
    ("non_receipt_not_shipped", claim(ClaimKind.NON_RECEIPT), order(ship_date=None, delivery_date=None), CUSTOMER,
     RULES, day(30, SHIPPED), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.DELIVERY_IN_TRANSIT,)),
    # Missing items: the four-item checklist of return-policy.txt.
    ("missing_items_nothing_given", claim(ClaimKind.MISSING_ITEMS), order(), CUSTOMER, RULES, day(1),
     ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, MISSING_ITEMS_CHECKLIST,
     (Reason.MISSING_ITEMS_CHECKLIST,)),
    *[
        (f"missing_items_without_{absent}",
         claim(ClaimKind.MISSING_ITEMS, evidence=[e for e in MISSING_ITEMS_CHECKLIST if e is not absent]),
         order(), CUSTOMER, RULES, day(1), ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (absent,),
         (Reason.MISSING_ITEMS_CHECKLIST,))
        for absent in MISSING_ITEMS_CHECKLIST
    ],
    ("missing_items_only_photos", claim(ClaimKind.MISSING_ITEMS, evidence=[Evidence.PARCEL_PHOTOS]), order(),
     CUSTOMER, RULES, day(1), ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE,
     (Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED, Evidence.MISSING_QUANTITIES),
     (Reason.MISSING_ITEMS_CHECKLIST,)),
    ("missing_items_complete", claim(ClaimKind.MISSING_ITEMS, evidence=MISSING_ITEMS_CHECKLIST), order(), CUSTOMER,
     RULES, day(1), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.WAREHOUSE_CHECK,)),
    ("missing_items_reported_on_day_30", claim(ClaimKind.MISSING_ITEMS, evidence=MISSING_ITEMS_CHECKLIST), order(),
     CUSTOMER, RULES, day(30), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.WAREHOUSE_CHECK,)),
    ("missing_items_reported_late", claim(ClaimKind.MISSING_ITEMS, evidence=MISSING_ITEMS_CHECKLIST), order(),
     CUSTOMER, RULES, day(31), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (),
     (Reason.WAREHOUSE_CHECK, Reason.REPORTED_LATE)),
    ("missing_items_late_and_incomplete_asks_first", claim(ClaimKind.MISSING_ITEMS), order(), CUSTOMER, RULES,
     day(60), ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, MISSING_ITEMS_CHECKLIST,
     (Reason.MISSING_ITEMS_CHECKLIST,)),
    # Return (ordered by mistake): 7 days from delivery.
    ("return_day_0", claim(ClaimKind.RETURN), order(), CUSTOMER, RULES, day(0),
     ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, (),
     (Reason.RETURN_WINDOW_OPEN, Reason.CUSTOMER_PAYS_FEES, Reason.FREIGHT_PREPAID_NO_COD)),
    ("return_day_7_boundary", claim(ClaimKind.RETURN), order(), CUSTOMER, RULES, day(7),
     ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, (),
     (Reason.RETURN_WINDOW_OPEN, Reason.CUSTOMER_PAYS_FEES, Reason.FREIGHT_PREPAID_NO_COD)),
    ("return_day_8_closed", claim(ClaimKind.RETURN), order(), CUSTOMER, RULES, day(8),
     ClaimState.REJECTED, ReplyKind.DECLINED, (), (Reason.RETURN_WINDOW_CLOSED,)),
    ("return_not_delivered", claim(ClaimKind.RETURN), order(delivery_date=None), CUSTOMER, RULES, day(1),
     ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.DELIVERY_DATE_UNKNOWN,)),
    ("return_sensitive_parts_unopened", claim(ClaimKind.RETURN), order(lines=(SENSITIVE_LINE,)), CUSTOMER, RULES,
     day(2), ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, (),
     (Reason.RETURN_WINDOW_OPEN, Reason.CUSTOMER_PAYS_FEES, Reason.FREIGHT_PREPAID_NO_COD)),
    ("return_sensitive_parts_opened", claim(ClaimKind.RETURN, opened="We opened the ESD bag to check."),
     order(lines=(SENSITIVE_LINE,)), CUSTOMER, RULES, day(2), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (),
     (Reason.SENSITIVE_PARTS_OPENED,)),
    ("return_opened_but_nothing_sensitive", claim(ClaimKind.RETURN, opened="We opened the bag."), order(),
     CUSTOMER, RULES, day(2), ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, (),
     (Reason.RETURN_WINDOW_OPEN, Reason.CUSTOMER_PAYS_FEES, Reason.FREIGHT_PREPAID_NO_COD)),
    ("return_opened_and_late_is_rejected", claim(ClaimKind.RETURN, opened="We opened the ESD bag."),
     order(lines=(SENSITIVE_LINE,)), CUSTOMER, RULES, day(8), ClaimState.REJECTED, ReplyKind.DECLINED, (),
     (Reason.RETURN_WINDOW_CLOSED,)),
    # Quality: 365 days from delivery, and a third-party report is required.
    ("quality_day_365_with_report", claim(ClaimKind.QUALITY, reports=["cd" * 32]), order(), CUSTOMER, RULES,
     day(365), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.REPORT_REQUIRED,)),
    ("quality_day_365_without_report", claim(ClaimKind.QUALITY), order(), CUSTOMER, RULES, day(365),
     ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.QUALITY_REPORT,), (Reason.REPORT_REQUIRED,)),
    ("quality_day_366_expired", claim(ClaimKind.QUALITY, reports=["cd" * 32]), order(), CUSTOMER, RULES, day(366),
     ClaimState.REJECTED, ReplyKind.DECLINED, (), (Reason.WARRANTY_EXPIRED,)),
    ("quality_day_366_expired_without_report", claim(ClaimKind.QUALITY), order(), CUSTOMER, RULES, day(366),
     ClaimState.REJECTED, ReplyKind.DECLINED, (), (Reason.WARRANTY_EXPIRED,)),
    ("quality_without_report", claim(ClaimKind.QUALITY), order(), CUSTOMER, RULES, day(10),
     ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.QUALITY_REPORT,), (Reason.REPORT_REQUIRED,)),
    ("quality_with_report", claim(ClaimKind.QUALITY, reports=["cd" * 32]), order(), CUSTOMER, RULES, day(10),
     ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.REPORT_REQUIRED,)),
    ("quality_not_delivered_asks_for_report_first", claim(ClaimKind.QUALITY), order(delivery_date=None), CUSTOMER,
     RULES, day(1), ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.QUALITY_REPORT,),
     (Reason.REPORT_REQUIRED,)),
    ("quality_not_delivered_with_report", claim(ClaimKind.QUALITY, reports=["cd" * 32]), order(delivery_date=None),
     CUSTOMER, RULES, day(1), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (),
     (Reason.DELIVERY_DATE_UNKNOWN, Reason.REPORT_REQUIRED)),
    ("quality_report_without_recognised_lab", claim(ClaimKind.QUALITY, reports=[Report("ef" * 32)]), order(),
     CUSTOMER, RULES, day(10), ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, (Evidence.QUALITY_REPORT,),
     (Reason.REPORT_LAB_UNRECOGNIZED,)),
    ("quality_lab_only_in_filename", claim(ClaimKind.QUALITY, reports=[Report("ef" * 32, "SGS", LabSource.FILENAME)]),
     order(), CUSTOMER, RULES, day(10), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (),
     (Reason.REPORT_LAB_UNRECOGNIZED,)),
    ("quality_lab_only_in_mail_text",
     claim(ClaimKind.QUALITY, reports=[Report("ef" * 32, "Intertek", LabSource.MAIL_TEXT)]), order(), CUSTOMER,
     RULES, day(10), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.REPORT_LAB_UNRECOGNIZED,)),
    ("quality_recognised_report_approved_by_config", claim(ClaimKind.QUALITY, reports=["cd" * 32]), order(),
     CUSTOMER, dataclasses.replace(RULES, recognised_report=AutoAction.APPROVE), day(10), ClaimState.APPROVED,
     ReplyKind.RMA_CONFIRMED, (), (Reason.REPORT_REQUIRED,)),
    # A report with active content, or one that could not be read, is no evidence, whatever lab it names.
    ("quality_report_with_javascript_goes_to_staff", claim(ClaimKind.QUALITY, reports=[SCRIPTED]), order(),
     CUSTOMER, APPROVE_REPORTS, day(10), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (),
     (Reason.REPORT_ACTIVE_CONTENT,)),
    ("quality_unreadable_report_goes_to_staff", claim(ClaimKind.QUALITY, reports=[UNREADABLE]), order(), CUSTOMER,
     APPROVE_REPORTS, day(10), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.REPORT_UNREADABLE,)),
    ("quality_unreadable_report_is_not_asked_for_again", claim(ClaimKind.QUALITY, reports=[
        dataclasses.replace(UNREADABLE, lab="", found_in=LabSource.NONE)]), order(), CUSTOMER, RULES, day(10),
     ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (), (Reason.REPORT_UNREADABLE,)),
    ("quality_a_good_report_beside_a_scripted_one", claim(ClaimKind.QUALITY, reports=["cd" * 32, SCRIPTED]),
     order(), CUSTOMER, APPROVE_REPORTS, day(10), ClaimState.IN_REVIEW, ReplyKind.IN_REVIEW, (),
     (Reason.REPORT_ACTIVE_CONTENT,)),
    ("quality_flagged_report_after_the_warranty_is_rejected", claim(ClaimKind.QUALITY, reports=[SCRIPTED]),
     order(), CUSTOMER, APPROVE_REPORTS, day(366), ClaimState.REJECTED, ReplyKind.DECLINED, (),
     (Reason.WARRANTY_EXPIRED,)),
]


@pytest.mark.parametrize(
    ("facts", "the_order", "sender", "rules", "on", "state", "reply", "missing", "reasons"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_decide(facts, the_order, sender, rules, on, state, reply, missing, reasons):
    decision = decide(facts, the_order, sender, rules, on=on)
    assert decision.state is state
    assert decision.reply is reply
    assert decision.missing == missing
    assert decision.reasons == reasons
    assert decision.issue_rma is (state is ClaimState.APPROVED)
    assert decision.checks, "every decision records the clauses it rests on"
    for reason in decision.reasons:
        assert reason in CLAUSES  # a reply can quote each one


def test_a_report_that_is_no_evidence_says_why():
    decision = decide(claim(ClaimKind.QUALITY, reports=[SCRIPTED, UNREADABLE]), order(), CUSTOMER, APPROVE_REPORTS,
                      on=day(10))
    assert [c.evidence for c in decision.checks if c.outcome is Outcome.REVIEW] == [
        "report 5c5c5c5c5c5c: PDF has JavaScript (OpenAction); not taken as evidence",
        "report 0d0d0d0d0d0d: PDF unreadable (pages drawing more than 2 MB of content); not taken as evidence",
    ]


MIXED = order(lines=(SENSITIVE_LINE, OrderLine("AMS1117-3.3", 200), OrderLine("AMS1117-5.0", 50)))


# (id, the parts the customer says were in the opened bag, state): a name stands for one line of the order, as
# written or as its beginning; a name that may be the sensitive line, several lines, or none goes to staff.
OPENED_PARTS = [
    ("plain_line_as_written", ("AMS1117-3.3",), ClaimState.APPROVED),
    ("plain_line_spelled_otherwise", ("ams1117 3.3",), ClaimState.APPROVED),
    ("sensitive_line", ("STM32F103C8T6",), ClaimState.IN_REVIEW),
    ("beginning_of_the_sensitive_line", ("STM32F103",), ClaimState.IN_REVIEW),
    ("beginning_of_two_lines", ("AMS1117",), ClaimState.IN_REVIEW),
    ("not_a_line_of_the_order", ("LM2596S",), ClaimState.IN_REVIEW),
    ("plain_and_sensitive", ("AMS1117-5.0", "STM32F103C8T6"), ClaimState.IN_REVIEW),
    ("no_part_named", (), ClaimState.IN_REVIEW),
]


@pytest.mark.parametrize(("parts", "state"), [row[1:] for row in OPENED_PARTS], ids=[row[0] for row in OPENED_PARTS])
def test_an_opened_bag_is_of_the_order_line_its_name_stands_for(parts, state):
    facts = dataclasses.replace(claim(ClaimKind.RETURN, opened="We opened the bag to count."), opened_parts=parts)
    assert decide(facts, MIXED, CUSTOMER, RULES, on=day(2)).state is state


# (id, counts the customer gave for parts, quantities given?): a count below the order line's quantity tells what
# is short, the order book saying the rest; a count as ordered, or of a part not on the order, does not.
COUNTED = [
    ("below_the_line", (("LM2596S", 34),), True),
    ("as_ordered", (("LM2596S", 40),), False),
    ("above_the_line", (("LM2596S", 400),), False),
    ("none_of_the_line", (("LM2596S", 0),), True),  # read only from "none of them" ("一颗都没看到")
    ("not_on_the_order", (("NE555P", 3),), False),
    ("as_ordered_and_below", (("LM2596S", 40), ("LM2596S", 36)), True),
]


@pytest.mark.parametrize(("counts", "given"), [row[1:] for row in COUNTED], ids=[row[0] for row in COUNTED])
def test_a_count_below_the_order_line_gives_the_missing_quantities(counts, given):
    evidence = (Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED)
    facts = dataclasses.replace(claim(ClaimKind.MISSING_ITEMS, evidence=evidence),
                                counts=tuple(PartCount(p, n, f"{p}: {n}") for p, n in counts))
    decision = decide(facts, order(), CUSTOMER, RULES, on=day(2))
    assert (Evidence.MISSING_QUANTITIES not in decision.missing) is given
    assert Evidence.PARCEL_PHOTOS in decision.missing


def test_a_part_named_short_is_its_line_when_it_begins_no_other():
    facts = dataclasses.replace(claim(ClaimKind.RETURN, opened="We opened the AMS1117 bag."), opened_parts=("AMS1117",))
    single = order(lines=(SENSITIVE_LINE, OrderLine("AMS1117-3.3", 200)))
    assert decide(facts, single, CUSTOMER, RULES, on=day(2)).state is ClaimState.APPROVED


@pytest.mark.parametrize(
    ("method", "days"),
    [("DHL Express", 5), ("UPS Standard", 10), ("China Post", 30), ("Carrier Pigeon", 20), ("", 20)],
    ids=["dhl_express", "ups_standard", "china_post", "unknown_method_default", "no_method_default"],
)
def test_non_receipt_recheck_on_is_ship_date_plus_shipping_days(method, days):
    the_order = order(delivery_date=None, shipping_method=method)
    due = SHIPPED + dt.timedelta(days=days)
    waiting = decide(claim(ClaimKind.NON_RECEIPT), the_order, CUSTOMER, RULES, on=SHIPPED + dt.timedelta(days=1))
    assert waiting.state is ClaimState.AWAITING_DELIVERY
    assert waiting.recheck_on == due
    on_due = decide(claim(ClaimKind.NON_RECEIPT), the_order, CUSTOMER, RULES, on=due)
    assert on_due.state is ClaimState.AWAITING_DELIVERY
    late = decide(claim(ClaimKind.NON_RECEIPT), the_order, CUSTOMER, RULES, on=due + dt.timedelta(days=1))
    assert late.state is ClaimState.APPROVED and late.issue_rma
    assert late.recheck_on is None


def test_shipping_days_from_rules():
    rules = dataclasses.replace(RULES, shipping_days={"DHL Express": 2}, default_shipping_days=9)
    the_order = order(delivery_date=None)
    assert decide(claim(ClaimKind.NON_RECEIPT), the_order, CUSTOMER, rules, on=SHIPPED).recheck_on == day(2, SHIPPED)
    the_order = order(delivery_date=None, shipping_method="Sea Freight")
    assert decide(claim(ClaimKind.NON_RECEIPT), the_order, CUSTOMER, rules, on=SHIPPED).recheck_on == day(9, SHIPPED)


@pytest.mark.parametrize(
    ("window", "on_day", "state"),
    [(14, 14, ClaimState.APPROVED), (14, 15, ClaimState.REJECTED), (0, 0, ClaimState.APPROVED),
     (0, 1, ClaimState.REJECTED)],
    ids=["14_days_last_day", "14_days_late", "0_days_same_day", "0_days_next_day"],
)
def test_return_window_from_rules(window, on_day, state):
    rules = dataclasses.replace(RULES, return_window_days=window)
    assert decide(claim(ClaimKind.RETURN), order(), CUSTOMER, rules, on=day(on_day)).state is state


@pytest.mark.parametrize(
    ("warranty", "on_day", "state"),
    [(730, 730, ClaimState.AWAITING_EVIDENCE), (730, 731, ClaimState.REJECTED)],
    ids=["two_years_last_day", "two_years_late"],
)
def test_warranty_from_rules(warranty, on_day, state):
    rules = dataclasses.replace(RULES, warranty_days=warranty)
    assert decide(claim(ClaimKind.QUALITY), order(), CUSTOMER, rules, on=day(on_day)).state is state


def test_wrong_sender_checks_disclose_no_order_facts():
    decision = decide(claim(ClaimKind.RETURN), order(), "mallory@elsewhere.example", RULES, on=day(1))
    (check,) = decision.checks
    assert check.reason is Reason.SENDER_NOT_ORDER_OWNER and check.outcome is Outcome.FAIL
    assert not decision.issue_rma


def test_missing_items_checks_list_each_checklist_item():
    decision = decide(claim(ClaimKind.MISSING_ITEMS, evidence=[Evidence.BOXES_EMPTIED]), order(), CUSTOMER, RULES,
                      on=day(1))
    checklist = [c for c in decision.checks if c.reason is Reason.MISSING_ITEMS_CHECKLIST]
    assert [c.outcome for c in checklist] == [Outcome.MISSING, Outcome.PASS, Outcome.MISSING, Outcome.MISSING]
    assert "We emptied every box." in checklist[1].evidence


@pytest.mark.parametrize(("received", "emptied", "missing"), [
    (0, 0, ()),  # all boxes came, every box emptied
    (0, 2, (Evidence.BOXES_EMPTIED,)),  # all 3 came, 2 emptied
    (2, 2, (Evidence.ALL_BOXES_RECEIVED,)),  # 2 of 3 came, both emptied: each box received is emptied
    (2, 0, (Evidence.ALL_BOXES_RECEIVED,)),
    (2, 1, (Evidence.ALL_BOXES_RECEIVED, Evidence.BOXES_EMPTIED)),
    (3, 3, ()),
])
def test_each_box_received_must_be_emptied(received, emptied, missing):
    facts = ClaimFacts(order_number="SO104233", kind=ClaimKind.MISSING_ITEMS, photos=(PHOTO,), statements=(
        Statement(Evidence.ALL_BOXES_RECEIVED, "boxes came", boxes=received),
        Statement(Evidence.BOXES_EMPTIED, "boxes emptied", boxes=emptied),
        STATEMENT[Evidence.MISSING_QUANTITIES]))
    decision = decide(facts, order(boxes=3), CUSTOMER, RULES, on=day(1))
    assert decision.missing == missing


def test_missing_items_complete_sends_to_warehouse():
    decision = decide(claim(ClaimKind.MISSING_ITEMS, evidence=MISSING_ITEMS_CHECKLIST), order(), CUSTOMER, RULES,
                      on=day(1))
    (warehouse,) = [c for c in decision.checks if c.reason is Reason.WAREHOUSE_CHECK]
    assert warehouse.outcome is Outcome.REVIEW
    assert not decision.issue_rma


def test_return_window_basis_names_dates():
    decision = decide(claim(ClaimKind.RETURN), order(), CUSTOMER, RULES, on=day(8))
    (basis,) = [c for c in decision.checks if c.reason is Reason.RETURN_WINDOW_CLOSED]
    assert basis.outcome is Outcome.FAIL
    assert str(DELIVERED) in basis.evidence and str(day(7)) in basis.evidence and str(day(8)) in basis.evidence

