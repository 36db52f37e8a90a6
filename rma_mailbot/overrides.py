"""Staff decisions from the overrides file (TOML), each applied exactly once.

An entry::

    [[override]]
    id = "CLM-00008-20261124-3fa2c1"   # unique; an applied id is never applied again
    claim = "CLM-00008"
    action = "approve"                 # approve | reject | request_evidence | close | reopen
    resolution = "refund"              # approve: refund | reship | replace | credit
    reason = ""                        # reject: a reason code (return_window_closed, ...) or your words
    evidence = []                      # request_evidence: order_number, parcel_photos, quality_report, ...
    note = "Checked the lab report with SGS."
    by = "maria"

Reading and checking entries is pure; applying them (apply_overrides) is the edge. A bad entry
is reported with its file, entry and field, and nothing of it is applied; the others still are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
import sqlite3
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rma_mailbot import decisions, refs
from rma_mailbot.errors import ClaimNotFound, OrderBookError
from rma_mailbot.models import ClaimState, DecidedBy, Decision, Evidence, Reason, ReplyKind
from rma_mailbot.runtime import Runtime
from rma_mailbot.store import checks_to_list, iso

log = logging.getLogger(__name__)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_EVIDENCE = "request_evidence"
    CLOSE = "close"
    REOPEN = "reopen"


class Resolution(StrEnum):
    REFUND = "refund"
    RESHIP = "reship"
    REPLACE = "replace"
    CREDIT = "credit"


OPEN = {ClaimState.AWAITING_EVIDENCE, ClaimState.AWAITING_DELIVERY, ClaimState.IN_REVIEW}
ALLOWED_FROM: dict[Action, frozenset[ClaimState]] = {
    Action.APPROVE: frozenset(OPEN | {ClaimState.REJECTED}),
    Action.REJECT: frozenset(OPEN),
    Action.REQUEST_EVIDENCE: frozenset(OPEN | {ClaimState.REJECTED}),
    Action.CLOSE: frozenset(set(ClaimState) - {ClaimState.CLOSED}),
    Action.REOPEN: frozenset({ClaimState.CLOSED, ClaimState.REJECTED}),
}
FIELDS = ("id", "claim", "action", "resolution", "reason", "evidence", "note", "by")
REQUIRED_BY_ACTION = {Action.APPROVE: "resolution", Action.REJECT: "reason", Action.REQUEST_EVIDENCE: "evidence"}


@dataclass(frozen=True)
class Override:
    id: str
    claim_id: int
    action: Action
    note: str
    by: str
    resolution: Resolution | None = None
    reason: str = ""
    evidence: tuple[Evidence, ...] = ()
    source: str = ""  # the file, or the mail it came from
    entry: str = ""  # "entry 3 (id ...)" for messages
    entry_hash: str = ""


@dataclass(frozen=True)
class Problem:
    source: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.entry, self.field) if p)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ApplyReport:
    applied: tuple[Override, ...] = ()
    problems: tuple[Problem, ...] = ()


def read_entries(text: str, source: str) -> tuple[list[Override], list[Problem]]:
    """The well-formed entries of an overrides file and the problems of the others. Pure."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Problem(source, "", "", f"not valid TOML, nothing applied: {exc}")]
    unknown = sorted(set(data) - {"override"})
    problems = [Problem(source, "", key, "unknown top-level key (entries are [[override]] tables)") for key in unknown]
    tables = data.get("override", [])
    if not isinstance(tables, list):
        return [], [*problems, Problem(source, "", "override", "must be a list of [[override]] tables")]
    entries: list[Override] = []
    seen: dict[str, str] = {}
    for number, table in enumerate(tables, start=1):
        entry, problem = _entry(table, number, source)
        if problem is None and entry.id in seen:
            problem = Problem(source, entry.entry, "id", f"{entry.id!r} is used by {seen[entry.id]} too")
        if problem is not None:
            problems.append(problem)
            continue
        seen[entry.id] = f"entry {number}"
        entries.append(entry)
    return entries, problems


def _entry(table: object, number: int, source: str) -> tuple[Override | None, Problem | None]:
    label = f"entry {number}"
    if not isinstance(table, dict):
        return None, Problem(source, label, "", "must be a table")
    if isinstance(table.get("id"), str) and table["id"].strip():
        label = f"entry {number} (id {table['id'].strip()})"

    def problem(field: str, message: str) -> tuple[None, Problem]:
        return None, Problem(source, label, field, message)

    for key in table:
        if key not in FIELDS:
            return problem(key, f"unknown field (fields: {', '.join(FIELDS)})")
    for key in ("id", "claim", "action", "note", "by"):
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            return problem(key, "missing" if value in (None, "") else "must be text")
    claim_id = refs.claim_id_from(table["claim"])
    if claim_id is None:
        return problem("claim", f"{table['claim']!r} is not a claim id (for example CLM-00042)")
    try:
        action = Action(table["action"].strip())
    except ValueError:
        return problem("action", f"{table['action']!r} is not one of {', '.join(a.value for a in Action)}")
    needed = REQUIRED_BY_ACTION.get(action)
    if needed and not table.get(needed):
        return problem(needed, f"missing: action {action} needs it")
    resolution = None
    if action is Action.APPROVE:
        try:
            resolution = Resolution(str(table["resolution"]).strip())
        except ValueError:
            return problem("resolution", f"{table['resolution']!r} is not one of "
                                         f"{', '.join(r.value for r in Resolution)}")
    evidence: tuple[Evidence, ...] = ()
    if action is Action.REQUEST_EVIDENCE:
        asked = table["evidence"]
        if not isinstance(asked, list) or not all(isinstance(e, str) for e in asked):
            return problem("evidence", "must be a list of evidence codes")
        codes = {e.value for e in Evidence}
        if bad := [e for e in asked if e not in codes]:
            return problem("evidence", f"unknown {', '.join(map(repr, bad))} (known: {', '.join(sorted(codes))})")
        evidence = tuple(Evidence(e) for e in asked)
    reason = table.get("reason", "")
    if not isinstance(reason, str):
        return problem("reason", "must be text")
    canonical = json.dumps(table, sort_keys=True, ensure_ascii=False)
    return Override(
        id=table["id"].strip(), claim_id=claim_id, action=action, note=table["note"].strip(), by=table["by"].strip(),
        resolution=resolution, reason=reason.strip(), evidence=evidence, source=source, entry=label,
        entry_hash=hashlib.sha256(canonical.encode()).hexdigest(),
    ), None


def check_state(entry: Override, state: ClaimState) -> Problem | None:
    """Whether the claim's state allows the entry's action. Pure."""
    if state in ALLOWED_FROM[entry.action]:
        return None
    allowed = ", ".join(sorted(s.value for s in ALLOWED_FROM[entry.action]))
    return Problem(entry.source, entry.entry, "action",
                   f"{entry.action} is not possible on a claim that is {state} (possible from: {allowed})")


def stub(claim_refs: list[str], now: dt.datetime) -> str:
    """Ready-to-fill entries for the given claims, to paste into the overrides file."""
    out = []
    for ref in claim_refs:
        out.append(f'''[[override]]
id = "{ref}-{now:%Y%m%d}-{secrets.token_hex(3)}"
claim = "{ref}"
action = ""        # approve | reject | request_evidence | close | reopen
resolution = ""    # approve: refund | reship | replace | credit
reason = ""        # reject: a reason code (return_window_closed, ...) or your words to the customer
evidence = []      # request_evidence: {", ".join(e.value for e in Evidence)}
note = ""          # why, for the audit log (never sent to the customer)
by = ""            # who decided
''')
    return "\n".join(out)


def pending(rt: Runtime, path: Path) -> tuple[list[Override], list[Problem]]:
    """Entries not yet applied, and every problem: of the file, of entries, of claims and their states."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(str(path), "", "", f"cannot be read: {exc}")]
    entries, problems = read_entries(text, str(path))
    todo = []
    for entry in entries:
        applied = rt.store.override_applied(entry.id)
        if applied is not None:
            if applied["entry_hash"] != entry.entry_hash:
                problems.append(Problem(entry.source, entry.entry, "", f"was applied on {applied['applied_at']}; "
                                        "later edits to it are ignored (add a new entry instead)"))
            continue
        problem = _claim_problem(rt, entry)
        if problem is not None:
            problems.append(problem)
            continue
        todo.append(entry)
    return todo, problems


def _claim_problem(rt: Runtime, entry: Override) -> Problem | None:
    try:
        claim = rt.store.claim(entry.claim_id)
    except ClaimNotFound:
        return Problem(entry.source, entry.entry, "claim", f"no claim {rt.claim_ref(entry.claim_id)}")
    return check_state(entry, claim.state)


def apply_overrides(rt: Runtime, now: dt.datetime) -> ApplyReport:
    """Apply every new entry of the configured overrides file, each in its own transaction."""
    path = rt.config.review.overrides_file
    if path is None:
        return ApplyReport()
    todo, problems = pending(rt, path)
    applied = []
    for entry in todo:
        problem = apply(rt, entry, now)
        if problem is None:
            applied.append(entry)
        elif problem.message:
            problems.append(problem)
    return ApplyReport(tuple(applied), tuple(problems))


def apply(rt: Runtime, entry: Override, now: dt.datetime) -> Problem | None:
    """One entry, exactly once: the applied-id row and everything the entry causes commit together.

    Returns a Problem when the entry cannot be applied (with an empty message when another
    process applied it first).
    """
    try:
        with rt.store.transaction():
            if rt.store.override_applied(entry.id) is not None:
                return Problem(entry.source, entry.entry, "", "")
            if (problem := _claim_problem(rt, entry)) is not None:
                return problem
            rt.store.record_override({"id": entry.id, "claim_id": entry.claim_id, "action": entry.action.value,
                                      "by": entry.by, "file": entry.source, "entry_hash": entry.entry_hash,
                                      "applied_at": iso(now)})
            _carry_out(rt, entry, now)
    except sqlite3.IntegrityError:
        return Problem(entry.source, entry.entry, "", "")  # the other process won the race
    except (sqlite3.DatabaseError, OSError, OrderBookError):
        raise  # the database, the disk or the order book failed, not the entry: the cycle stops
    except Exception as exc:  # anything else is this entry's fault, and no entry may ever stop a poll
        log.exception("override %s could not be applied to claim %s", entry.id, rt.claim_ref(entry.claim_id))
        return Problem(entry.source, entry.entry, "claim", f"not applied, {rt.claim_ref(entry.claim_id)} "
                                                           f"cannot take it: {type(exc).__name__}: {exc}")
    log.info("override %s applied to claim %s: %s by %s", entry.id, rt.claim_ref(entry.claim_id), entry.action,
             entry.by)
    return None


def _carry_out(rt: Runtime, entry: Override, now: dt.datetime) -> None:
    claim = rt.store.claim(entry.claim_id)
    facts = claim.facts
    rt.store.add_event(entry.claim_id, "override", {
        "entry": entry.id, "source": entry.source, "action": entry.action.value, "by": entry.by, "note": entry.note,
        "resolution": entry.resolution.value if entry.resolution else None, "reason": entry.reason or None,
        "evidence": [e.value for e in entry.evidence] or None, "from_state": claim.state.value,
    }, now)
    if entry.action is Action.REOPEN:
        decision = decisions.decide_claim(rt, claim, claim.facts, claim.claim_date, now, None)
        decisions.respond(rt, entry.claim_id, decision, facts, now)
        return
    decision = staff_decision(entry)
    rma = None
    if entry.action is Action.APPROVE and not claim.rma_number:
        rma = rt.store.next_rma_number(rt.config.policy.rma_format, now.astimezone(rt.config.tz).year)
    rt.store.record_decision(entry.claim_id, facts, claim.order_id, decision, rma, now, decided_by=DecidedBy.STAFF)
    rt.store.set_claim(entry.claim_id, now, resolution=entry.resolution.value if entry.resolution else None)
    rt.store.add_event(entry.claim_id, "decision", {
        "state": decision.state.value, "by": entry.by, "entry": entry.id,
        "reasons": [r.value for r in decision.reasons], "missing": [m.value for m in decision.missing],
        "rma_number": rma or claim.rma_number, "checks": checks_to_list(decision.checks),
    }, now)
    if decision.reply is not None:
        decisions.queue_reply(rt, entry.claim_id, decision, now, staff_reason=_staff_words(entry))


def staff_decision(entry: Override) -> Decision:
    """What an entry decides, as a Decision the replies understand. Pure."""
    if entry.action is Action.APPROVE:
        return Decision(ClaimState.APPROVED, ReplyKind.RMA_CONFIRMED, reasons=(Reason.STAFF_DECISION,))
    if entry.action is Action.REJECT:
        known = entry.reason in {r.value for r in Reason}
        return Decision(ClaimState.REJECTED, ReplyKind.DECLINED,
                        reasons=(Reason(entry.reason),) if known else (Reason.STAFF_DECISION,))
    if entry.action is Action.REQUEST_EVIDENCE:
        return Decision(ClaimState.AWAITING_EVIDENCE, ReplyKind.ASK_EVIDENCE, missing=entry.evidence,
                        reasons=(Reason.STAFF_DECISION,))
    return Decision(ClaimState.CLOSED, None, reasons=(Reason.STAFF_DECISION,))


def _staff_words(entry: Override) -> str:
    """A rejection reason in the staff's own words goes to the customer; a reason code quotes its clause."""
    if entry.action is Action.REJECT and entry.reason not in {r.value for r in Reason}:
        return entry.reason
    return ""


def from_mail(text: str, *, claim_id: int, message_id: str, sender: str) -> tuple[Override | None, str]:
    """The warehouse's answer: its first line is the decision ("approve reship", "reject packed complete").

    Returns the entry, or None and what was wrong. Pure.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None, "the answer is empty"
    verb, _, rest = lines[0].partition(" ")
    table: dict = {"id": f"mail:{message_id}", "claim": str(claim_id), "action": verb.lower().rstrip(":"),
                   "note": "\n".join(lines)[:2000], "by": sender}
    if table["action"] == Action.APPROVE:
        table["resolution"] = rest.strip().lower()
    elif table["action"] == Action.REJECT:
        table["reason"] = rest.strip()
    elif table["action"] == Action.REQUEST_EVIDENCE:
        table["evidence"] = [e.strip() for e in rest.replace(",", " ").split()]
    entry, problem = _entry(table, 1, f"mail {message_id}")
    if problem is not None:
        return None, f"first line {lines[0]!r}: {problem.field}: {problem.message}"
    return dataclasses.replace(entry, entry="warehouse answer"), ""
