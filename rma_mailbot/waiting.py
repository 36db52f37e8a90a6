"""Claims that wait: decided again when their delivery date passes, reminded, and closed.

Run by every poll and by the daemon, each claim in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from rma_mailbot.decisions import decide_claim, queue_reply, rate_limited, respond
from rma_mailbot.models import Claim, ClaimState, DecidedBy, Decision, ReplyKind
from rma_mailbot.runtime import Runtime
from rma_mailbot.store import iso

log = logging.getLogger(__name__)


def run_timers(rt: Runtime, now: dt.datetime) -> list[int]:
    """Every waiting claim whose time has come; returns the ids of the claims touched."""
    return recheck_due(rt, now) + remind_and_close(rt, now)


def recheck_due(rt: Runtime, now: dt.datetime) -> list[int]:
    """Claims waiting on delivery whose date has passed are decided again, on today's date."""
    today = now.astimezone(rt.config.tz).date()
    touched = []
    for claim in rt.store.due_for_recheck(today):
        with rt.store.transaction():
            rt.store.add_event(claim.id, "recheck", {"why": f"regular shipping days ended {claim.recheck_on}"},
                               now)
            facts = claim.facts
            decision = decide_claim(rt, claim, facts, today, now, None)
            if decision.state is not ClaimState.AWAITING_DELIVERY:  # still waiting: nothing new to say
                respond(rt, claim.id, decision, facts, now)
        log.info("claim %s decided again after its delivery date: %s", rt.claim_ref(claim.id), decision.state)
        touched.append(claim.id)
    return touched


def remind_and_close(rt: Runtime, now: dt.datetime) -> list[int]:
    """One reminder after policy.reminder_after_days without an answer; closed after policy.close_after_days."""
    rules = rt.config.policy
    touched = []
    for claim in rt.store.waiting_since(now - dt.timedelta(days=rules.reminder_after_days)):
        closing = now - claim.asked_at >= dt.timedelta(days=rules.close_after_days)
        if not closing and claim.reminded_at:
            continue
        with rt.store.transaction():
            if not rate_limited(rt, claim.id, now):  # a reminder is an automatic reply like any other
                (_close if closing else _remind)(rt, claim, now)
        touched.append(claim.id)
    return touched


def _close(rt: Runtime, claim: Claim, now: dt.datetime) -> None:
    days = rt.config.policy.close_after_days
    rt.store.set_claim(claim.id, now, state=ClaimState.CLOSED.value, recheck_on=None, decided_by=DecidedBy.TIMER.value)
    rt.store.add_event(claim.id, "closed", {"why": f"no answer for {days} days"}, now)
    queue_reply(rt, claim.id, Decision(ClaimState.AWAITING_EVIDENCE, None), now, kind=ReplyKind.CLOSED)


def _remind(rt: Runtime, claim: Claim, now: dt.datetime) -> None:
    days = rt.config.policy.reminder_after_days
    rt.store.set_claim(claim.id, now, reminded_at=iso(now))
    rt.store.add_event(claim.id, "reminder", {"why": f"no answer for {days} days"}, now)
    queue_reply(rt, claim.id, Decision(ClaimState.AWAITING_EVIDENCE, None), now, kind=ReplyKind.REMINDER)
