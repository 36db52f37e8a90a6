"""The customer corpus (tests/customers/): mails written blind, each with the outcome the policy demands.

Every case listed in tests/customers/hits.txt must stay a hit: kind, state, missing evidence and reason codes
as the policy demands. `python3 tests/customers/corpus.py` prints the whole score and every miss;
`--write-hits` records the hits after extraction has improved.
"""

from __future__ import annotations

import pytest

from customers.corpus import HITS, Judge, cases, expected
from customers.orders import ORDERS
from rma_mailbot.models import ClaimKind, ClaimState, Evidence, Reason

CASES = cases()
FRESH_CASES = cases(fresh_only=True)
BY_ID = {case.id: case for case in CASES}
KNOWN_HITS = HITS.read_text().split() if HITS.exists() else []


def test_the_corpus_is_well_formed():
    assert len(CASES) >= 300 and len(BY_ID) == len(CASES), "ids must be unique"
    assert not {c.id for c in FRESH_CASES} & set(BY_ID), "a fresh case shares an id with the corpus"
    customers = {row[1] for row in ORDERS}
    for case in (*CASES, *FRESH_CASES):
        assert case.language in ("en", "de", "fr", "es", "zh"), case.id
        assert ClaimKind(case.expect_kind) and ClaimState(case.expect_state), case.id
        assert all(Evidence(code) for code in case.expect_missing), case.id
        assert all(Reason(code) for code in case.expect_reasons), case.id
        assert "@" in case.sender and (case.sender in customers or "sender_not_order_owner" in case.expect_reasons
                                       or "order_unknown" in case.expect_reasons or case.expect_kind == "unknown"), case.id
    assert set(KNOWN_HITS) <= set(BY_ID), "hits.txt names cases that are gone"


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    judge = Judge(tmp_path_factory.mktemp("customers"))
    yield judge
    judge.close()


@pytest.mark.parametrize("case_id", KNOWN_HITS)
def test_a_hit_stays_a_hit(judge, case_id):
    case = BY_ID[case_id]
    assert str(judge.outcome(case)) == str(expected(case)), f"{case.id} [{case.pattern}]: {case.subject}"
