"""`rma-mailbot replay`: every stored claim decided again under other rules, changing nothing.

Staff use it to try a policy change safely: it reads the claims' gathered facts, runs the
policy with the given config's rules and order book, and reports the claims whose decision
would change. It opens the database read-only and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from rma_mailbot.config import Config
from rma_mailbot.decisions import beside_another, owned_order_id, recent_claims
from rma_mailbot.models import DecidedBy
from rma_mailbot.orders import OrderBook
from rma_mailbot.refs import claim_ref
from rma_mailbot.review import judge
from rma_mailbot.store import Store


@dataclass(frozen=True)
class Outcome:
    state: str
    reasons: tuple[str, ...]
    missing: tuple[str, ...]

    def __str__(self) -> str:
        detail = ", ".join(self.reasons + tuple(f"needs {m}" for m in self.missing))
        return f"{self.state} ({detail})" if detail else self.state


@dataclass(frozen=True)
class Change:
    claim_id: int
    ref: str
    judged_on: str
    old: Outcome
    new: Outcome


@dataclass(frozen=True)
class ReplayReport:
    decided: int
    skipped: int  # closed, or last decided by a person or a follow-up, not by the policy
    changes: tuple[Change, ...]


def replay(store: Store, rules_config: Config, prefix: str) -> ReplayReport:
    orders = OrderBook(rules_config.orders)
    decided = skipped = 0
    changes = []
    for claim in store.claims():
        if claim.decided_by is not DecidedBy.POLICY:
            skipped += 1
            continue
        facts = claim.facts
        on = claim.judged_on or claim.claim_date
        order = orders.get(facts.order_number) if facts.order_number else None
        order_id = owned_order_id(order, claim.customer)
        decision, _ = judge(facts, order, claim.customer, rules_config, on=on,
                            auth_failed=store.auth_failures(claim.id), recent_claims=recent_claims(store, claim),
                            beside_another=beside_another(store, claim, order_id))
        decided += 1
        old = Outcome(claim.state.value, tuple(r.value for r in claim.reasons), tuple(m.value for m in claim.missing))
        new = Outcome(decision.state.value, tuple(r.value for r in decision.reasons),
                      tuple(m.value for m in decision.missing))
        if new != old:
            changes.append(Change(claim.id, claim_ref(prefix, claim.id), on.isoformat(), old, new))
    return ReplayReport(decided, skipped, tuple(changes))
