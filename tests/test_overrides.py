"""Staff overrides: reading entries (one row per mistake), states, the warehouse's answers, and applying."""

from __future__ import annotations

import datetime as dt

import pytest
import tomli_w

from rma_mailbot.models import ClaimState, Evidence
from rma_mailbot.overrides import Action, Resolution, check_state, from_mail, read_entries, stub

GOOD = '''
[[override]]
id = "a1"
claim = "CLM-00008"
action = "approve"
resolution = "replace"
note = "SGS report checked"
by = "maria"
'''


def entry(**fields) -> str:
    base = {"id": "x1", "claim": "CLM-00003", "action": "close", "note": "n", "by": "maria"}
    base.update(fields)
    return "[[override]]\n" + tomli_w.dumps({k: v for k, v in base.items() if v is not None})


def test_good_entry_is_read():
    [override], problems = read_entries(GOOD, "overrides.toml")
    assert problems == []
    assert (override.id, override.claim_id, override.action, override.resolution, override.by) == (
        "a1", 8, Action.APPROVE, Resolution.REPLACE, "maria")
    assert override.entry == "entry 1 (id a1)" and override.source == "overrides.toml"


# (id, entry text, field named, words in the message)
BAD = [
    ("missing_id", entry(id=None), "id", "missing"),
    ("missing_claim", entry(claim=None), "claim", "missing"),
    ("missing_action", entry(action=None), "action", "missing"),
    ("missing_note", entry(note=""), "note", "missing"),
    ("missing_by", entry(by=None), "by", "missing"),
    ("unknown_action", entry(action="refund"), "action", "is not one of"),
    ("bad_claim_id", entry(claim="the blue one"), "claim", "is not a claim id"),
    ("approve_without_resolution", entry(action="approve"), "resolution", "needs it"),
    ("approve_bad_resolution", entry(action="approve", resolution="cash"), "resolution", "is not one of"),
    ("reject_without_reason", entry(action="reject"), "reason", "needs it"),
    ("request_without_evidence", entry(action="request_evidence"), "evidence", "needs it"),
    ("request_unknown_evidence", entry(action="request_evidence", evidence=["selfie"]), "evidence", "unknown"),
    ("request_evidence_not_a_list", entry(action="request_evidence", evidence="parcel_photos"), "evidence",
     "must be a list"),
    ("unknown_field", entry(colour="blue"), "colour", "unknown field"),
    ("by_not_text", entry(by=5), "by", "must be text"),
]


@pytest.mark.parametrize(("text", "field", "words"), [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_bad_entry_is_rejected_naming_file_entry_and_field(text, field, words):
    entries, [problem] = read_entries(GOOD + "\n" + text, "staff/overrides.toml")
    assert [e.id for e in entries] == ["a1"]  # the good entry still stands
    assert problem.source == "staff/overrides.toml"
    assert problem.entry.startswith("entry 2")
    assert problem.field == field
    assert words in problem.message
    assert str(problem).startswith("staff/overrides.toml: entry 2")


def test_duplicate_ids_keep_the_first():
    entries, [problem] = read_entries(GOOD + GOOD, "o.toml")
    assert len(entries) == 1
    assert problem.field == "id" and "entry 1" in problem.message


def test_invalid_toml_applies_nothing():
    entries, [problem] = read_entries(GOOD + "\n[[override]\nid = ", "o.toml")
    assert entries == [] and "not valid TOML" in problem.message


STATES = [
    (Action.APPROVE, ClaimState.IN_REVIEW, True), (Action.APPROVE, ClaimState.REJECTED, True),
    (Action.APPROVE, ClaimState.APPROVED, False), (Action.APPROVE, ClaimState.CLOSED, False),
    (Action.REJECT, ClaimState.IN_REVIEW, True), (Action.REJECT, ClaimState.APPROVED, False),
    (Action.REQUEST_EVIDENCE, ClaimState.AWAITING_EVIDENCE, True), (Action.REQUEST_EVIDENCE, ClaimState.CLOSED, False),
    (Action.CLOSE, ClaimState.APPROVED, True), (Action.CLOSE, ClaimState.CLOSED, False),
    (Action.REOPEN, ClaimState.CLOSED, True), (Action.REOPEN, ClaimState.IN_REVIEW, False),
]


@pytest.mark.parametrize(("action", "state", "allowed"), STATES, ids=[f"{a}-from-{s}" for a, s, _ in STATES])
def test_actions_allowed_by_state(action, state, allowed):
    text = {Action.APPROVE: entry(action="approve", resolution="refund"),
            Action.REJECT: entry(action="reject", reason="nope"),
            Action.REQUEST_EVIDENCE: entry(action="request_evidence", evidence=["parcel_photos"]),
            Action.CLOSE: entry(action="close"), Action.REOPEN: entry(action="reopen")}[action]
    [override], _ = read_entries(text, "o.toml")
    problem = check_state(override, state)
    assert (problem is None) is allowed
    if problem:
        assert problem.field == "action" and str(state) in problem.message


WAREHOUSE = [
    ("approve_reship", "approve reship\nVideo shows the bag was not packed.", Action.APPROVE, "reship"),
    ("approve_capitalised_with_colon", "Approve: refund", Action.APPROVE, "refund"),
    ("reject_with_words", "reject Packing video shows all 40 pieces.\n-- Tom", Action.REJECT,
     "Packing video shows all 40 pieces."),
    ("request_photos", "request_evidence parcel_photos, boxes_emptied", Action.REQUEST_EVIDENCE,
     (Evidence.PARCEL_PHOTOS, Evidence.BOXES_EMPTIED)),
    ("free_text", "I think we packed everything", None, None),
    ("empty", "\n\n", None, None),
    ("approve_unknown_resolution", "approve cash", None, None),
]


@pytest.mark.parametrize(("text", "action", "detail"), [row[1:] for row in WAREHOUSE], ids=[r[0] for r in WAREHOUSE])
def test_warehouse_answer(text, action, detail):
    override, problem = from_mail(text, claim_id=4, message_id="<w1@wh>", sender="warehouse@example.com")
    if action is None:
        assert override is None and problem
        return
    assert problem == ""
    assert (override.id, override.claim_id, override.by, override.action) == ("mail:<w1@wh>", 4,
                                                                               "warehouse@example.com", action)
    got = {Action.APPROVE: override.resolution, Action.REJECT: override.reason,
           Action.REQUEST_EVIDENCE: override.evidence}[action]
    assert got == detail
    assert text.strip().splitlines()[0] in override.note


def test_stub_entries_read_back_and_need_filling_in():
    text = stub(["CLM-00001", "CLM-00002"], dt.datetime(2026, 11, 24, 9, 0))
    entries, problems = read_entries(text, "o.toml")
    assert entries == []
    assert [(p.entry.split(" (")[0], p.field) for p in problems] == [("entry 1", "action"), ("entry 2", "action")]
    filled = text.replace('action = ""', 'action = "close"').replace('note = ""', 'note = "dup"').replace(
        'by = ""', 'by = "maria"')
    entries, problems = read_entries(filled, "o.toml")
    assert problems == [] and [e.claim_id for e in entries] == [1, 2]
    assert len({e.id for e in entries}) == 2
