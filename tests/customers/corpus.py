"""The customer corpus: mails written blind (by people given only the return policy, the evidence codes
and orders.py, never the extraction code), each with the outcome the policy demands.

A case is a hit when kind, state, missing evidence and reason codes are all as expected. Run
`python3 tests/customers/corpus.py` for the score by language and every miss (`--fresh`: the fresh batch in
fresh/ instead, by pattern too); tests/test_customers.py holds the regression table (hits.txt: the cases that
must stay hits).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import sys
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1])]

from customers.orders import ORDERS  # noqa: E402

from mails import photo, write_orders  # noqa: E402
from rma_mailbot import config as config_module  # noqa: E402
from rma_mailbot.demo import sample_report  # noqa: E402
from rma_mailbot.extract import extract  # noqa: E402
from rma_mailbot.orders import OrderBook  # noqa: E402
from rma_mailbot.parse_pool import ParsePool  # noqa: E402
from rma_mailbot.review import judge  # noqa: E402

ARRIVED = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)  # day 0 of orders.py
HITS = HERE / "hits.txt"


@dataclass(frozen=True)
class Case:
    id: str
    pattern: str
    sender: str
    name: str
    subject: str
    body: str
    photos: int
    report_lab: str
    expect_kind: str
    expect_state: str
    expect_missing: frozenset[str]
    expect_reasons: frozenset[str]

    @property
    def language(self) -> str:
        return self.id.split("-")[0]


@dataclass(frozen=True)
class Outcome:
    kind: str
    state: str
    missing: frozenset[str]
    reasons: frozenset[str]

    def __str__(self) -> str:
        return f"{self.kind} {self.state} missing={sorted(self.missing)} reasons={sorted(self.reasons)}"


# The corpus: the first 300 (*.toml) and the fresh batches once they were scored, and read since: batch1/
# (90 of 108 at 93f4f9e), batch2/ (91 of 104 at 32e306f), batch3/ (95 of 104 at 09b4480), batch4/ (92 of 100
# at 17ee221), batch5/ (69 of 104 at 19b0daf), batch6/ (85 of 104 at 4a7e1b7), batch7/ (86 of 104 at cab5ca3),
# batch8/ (96 of 108 at f80ea33), batch9/ (102 of 112 at 0db9d37), batch10/ (101 of 112 at 5cf88e9),
# batch11/ (101 of 112 at 58908a4), batch12/ (105 of 112 at 0f20afc), batch13/ (108 of 112 at e8d589d),
# batch14/ (104 of 112 at fe81f8e), batch15/ (97 of 103 at 11ccb1e), batch16/ (118 of 121 at 3b3b2de),
# batch17/ (93 of 103 at dfca4cf), batch18/ (100 of 103 at 23efd94), batch19/ (97 of 103 at bd16546).
# fresh/ holds the batch written after the last change to extraction, scored once (README): it is not in the
# corpus, so that running this file does not show its mails to whoever works on the reading.
CORPUS = (HERE, *(HERE / f"batch{n}" for n in range(1, 20)))
FRESH = HERE / "fresh"


def cases(fresh_only: bool = False) -> list[Case]:
    """The corpus's cases, or the fresh batch's."""
    found = []
    folders = (FRESH,) if fresh_only else CORPUS
    for path in (path for folder in folders for path in sorted(folder.glob("*.toml"))):
        for entry in tomllib.loads(path.read_text(encoding="utf-8"))["mail"]:
            found.append(Case(
                id=entry["id"], pattern=entry.get("pattern", ""), sender=entry["sender"], name=entry.get("name", ""),
                subject=entry["subject"], body=entry["body"], photos=int(entry.get("photos", 0)),
                report_lab=entry.get("report_lab", ""), expect_kind=entry["expect_kind"],
                expect_state=entry["expect_state"], expect_missing=frozenset(entry.get("expect_missing", [])),
                expect_reasons=frozenset(entry.get("expect_reasons", []))))
    return found


def expected(case: Case) -> Outcome:
    return Outcome(case.expect_kind, case.expect_state, case.expect_missing, case.expect_reasons)


def raw_mail(case: Case) -> bytes:
    message = EmailMessage()
    message["From"] = email.utils.formataddr((case.name, case.sender))
    message["To"] = "support@example.com"
    message["Subject"] = case.subject
    message["Date"] = email.utils.format_datetime(ARRIVED)
    message["Message-ID"] = f"<{case.id}@customers.example>"
    message.set_content(case.body)
    for n in range(case.photos):
        message.add_attachment(photo(colour=(200, 150, (100 + 40 * n) % 256)), maintype="image", subtype="jpeg",
                               filename=f"IMG_{n + 1:04d}.jpg")
    if case.report_lab:
        report = sample_report("Test report 2026-1187", f"Issued by {case.report_lab}", "Result: FAIL")
        message.add_attachment(report, maintype="application", subtype="pdf", filename="test-report.pdf")
    return message.as_bytes()


class Judge:
    """The pure stages a new mail goes through: parse (reports read), extract, the policy and the review rules."""

    def __init__(self, work: Path):
        write_orders(work / "orders.csv", ARRIVED.date(), ORDERS)
        from conftest import write_config

        self.config = config_module.load(write_config(work / "config.toml"))
        self.orders = OrderBook(self.config.orders)
        options = {"own_addresses": frozenset({self.config.bot.support_address}),
                   "staff_addresses": frozenset({self.config.warehouse.address}),
                   "authserv_id": "", "max_bytes": self.config.limits.max_message_bytes}
        self.parser = ParsePool(0, options)

    def outcome(self, case: Case) -> Outcome:
        [parsed] = list(self.parser.parse_all([raw_mail(case)]))
        facts = extract(parsed, self.config.order_number_re, self.config.policy.recognised_labs)
        order = self.orders.get(facts.order_number) if facts.order_number else None
        decision, _ = judge(facts, order, parsed.sender, self.config, on=ARRIVED.date(), auth_failed=(),
                            recent_claims=1)
        return Outcome(facts.kind.value, decision.state.value, frozenset(m.value for m in decision.missing),
                       frozenset(r.value for r in decision.reasons))

    def close(self) -> None:
        self.parser.close()


def score(fresh_only: bool = False) -> tuple[list[Case], dict[str, Outcome]]:
    """Every case (or the fresh batch's) and what the bot made of it."""
    with tempfile.TemporaryDirectory(prefix="rma-customers-") as work:
        judge_ = Judge(Path(work))
        try:
            all_cases = cases(fresh_only)
            return all_cases, {case.id: judge_.outcome(case) for case in all_cases}
        finally:
            judge_.close()


def main() -> None:
    all_cases, outcomes = score(fresh_only="--fresh" in sys.argv)
    hits = {c.id for c in all_cases if outcomes[c.id] == expected(c)}
    by_language = Counter(c.language for c in all_cases)
    hit_language = Counter(c.language for c in all_cases if c.id in hits)
    print(f"{len(hits)} of {len(all_cases)} hits ({100 * len(hits) / max(len(all_cases), 1):.0f}%)")
    for language in sorted(by_language):
        print(f"  {language}: {hit_language[language]} of {by_language[language]}")
    by_pattern = Counter(c.pattern for c in all_cases)
    hit_pattern = Counter(c.pattern for c in all_cases if c.id in hits)
    if "--fresh" in sys.argv:
        for pattern in sorted(by_pattern):
            print(f"  [{pattern}]: {hit_pattern[pattern]} of {by_pattern[pattern]}")
    print("\nmisses:")
    for case in all_cases:
        if case.id not in hits:
            print(f"  {case.id} [{case.pattern}]\n    expected {expected(case)}\n    got      {outcomes[case.id]}")
    if "--write-hits" in sys.argv and "--fresh" not in sys.argv:
        HITS.write_text("".join(f"{case_id}\n" for case_id in sorted(hits)))
        print(f"\n{len(hits)} hits written to {HITS}")


if __name__ == "__main__":
    main()
