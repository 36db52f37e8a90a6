"""The staff loop end to end: routing rules, the queue, overrides applied once, the warehouse's answers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import subprocess
import sys

import pytest

from conftest import Bot, DaemonProcess, run_cli, wait_until, write_config
from mails import COMPLETE_MISSING_ITEMS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.pipeline import Runtime

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
ORDERS = [
    ("SO-300001", "alice@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40, "Delivered", "", "120.00"),
    ("SO-300002", "carol@example.org", -5, -3, "DHL Express", 1, "LM358N", 25, "Delivered", "", "9800.00"),
    ("SO-300003", "carol@example.org", -5, -3, "DHL Express", 1, "NE555P", 25, "Delivered", "", "40.00"),
    ("SO-300004", "dave@example.org", -40, -35, "DHL Express", 1, "IRF540N", 30, "Delivered", "", "30.00"),
    # One order, one claim: tests that need many claims of one customer give each its own order.
    *[(f"SO-30001{n}", "carol@example.org", -5, -3, "DHL Express", 1, "LM358N", 5, "Delivered", "", "9800.00")
      for n in range(6)],
    *[(f"SO-30002{n}", "carol@example.org", -5, -3, "DHL Express", 1, "LM358N", 5, "Delivered", "", "40.00")
      for n in range(4)],
]


OUR_SERVER = "mx.example.com"
# What our receiving server writes on a mail the warehouse really sent.
WAREHOUSE_VERIFIED = f"{OUR_SERVER}; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; " \
                     "dmarc=pass header.from=example.com"


def every_quality_claim(data: dict) -> None:
    data["review"]["rules"].append({"name": "every-quality-claim", "kinds": ["quality"]})
    data["review"]["authserv_id"] = OUR_SERVER


def warehouse_answer(to_warehouse: dict, text: str, **changes):
    """The warehouse answering our check, as our server received it; ``changes`` take one proof away."""
    mail = {"sender": "warehouse@example.com", "subject": f"Re: {to_warehouse['subject']}",
            "in_reply_to": to_warehouse["message_id"], "auth": WAREHOUSE_VERIFIED, **changes}
    return claim_mail(mail["sender"], mail["subject"], text, in_reply_to=mail["in_reply_to"],
                      headers={"Authentication-Results": mail["auth"]} if mail["auth"] else {})



@pytest.fixture
def bot(tmp_path):
    write_orders(tmp_path / "orders.csv", NOW.date(), ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml", change=every_quality_claim))
    rt = Runtime.open(config)
    yield Bot(config, rt, NOW)
    rt.close()


def invoke(config, *args, exit_code: int = 0):
    return run_cli("--config", config.path, *args, exit_code=exit_code)


def state(bot, claim_id):
    return bot.claim(claim_id)["state"]


# --- routing rules -----------------------------------------------------------------------------

def test_order_value_rule_holds_back_an_automatic_approval(bot):
    bot.deliver(claim_mail("carol@example.org", "Return SO-300002", "Ordered by mistake."))
    bot.deliver(claim_mail("carol@example.org", "Return SO-300003", "Ordered by mistake."),
                at=NOW + dt.timedelta(seconds=1))
    bot.poll()
    big, small = bot.claims()
    assert (big["state"], big["routed_by"], big["rma_number"]) == ("in_review", "big-orders", None)
    assert "routed_to_staff" in json.loads(big["reasons"])
    assert (small["state"], small["routed_by"]) == ("approved", None)
    assert [r["reply_kind"] for r in bot.rt.store.replies(big["id"])] == ["in_review"]


def test_kind_rule_sends_every_quality_claim_to_staff(bot):
    bot.deliver(claim_mail("dave@example.org", "SO-300004 defective", "The IRF540N from SO-300004 are defective."))
    bot.poll()
    [claim] = bot.claims()
    assert (claim["state"], claim["routed_by"]) == ("in_review", "every-quality-claim")


def test_frequent_claimant_rule(bot):
    for n in range(4):
        bot.deliver(claim_mail("carol@example.org", f"Return SO-30002{n}", "Ordered by mistake."),
                    at=NOW + dt.timedelta(minutes=n))
    bot.poll()
    assert [(c["state"], c["routed_by"]) for c in bot.claims()] == [
        ("approved", None), ("approved", None), ("approved", None), ("in_review", "frequent-claimant")]


def test_failed_dmarc_at_our_server_sends_the_claim_to_staff(bot):
    ours_fail = "mx.example.com; spf=fail smtp.mailfrom=example.org; dmarc=fail header.from=example.org"
    bot.deliver(claim_mail("carol@example.org", "Return SO-300003", "Ordered by mistake.",
                           headers={"Authentication-Results": ours_fail}))
    # Only the topmost Authentication-Results is our server's; one further down came with the mail.
    passed = claim_mail("alice@example.net", "SO-300001 short", COMPLETE_MISSING_ITEMS.replace("200001", "300001"),
                        photos=2, headers={"Authentication-Results": "mx.example.com; dmarc=pass header.from=x"})
    passed["Authentication-Results"] = "mx.elsewhere.example; dmarc=fail header.from=example.net"
    bot.deliver(passed, at=NOW + dt.timedelta(seconds=1))
    bot.poll()
    carol, alice = bot.claims()
    assert (carol["state"], carol["routed_by"]) == ("in_review", "failed-authentication")
    assert alice["routed_by"] is None
    detail = json.loads(invoke(bot.config, "show", str(carol["id"]), "--json").output)
    routed = next(c for c in detail["checks"] if c["reason"] == "routed_to_staff")
    assert "spf=fail" in routed["evidence"] and "dmarc=fail" in routed["evidence"]


# --- the queue and the overrides file ------------------------------------------------------------

def overrides_file(bot):
    return bot.config.review.overrides_file


def test_queue_lists_claims_for_staff_oldest_first_with_evidence(bot):
    bot.deliver(claim_mail("alice@example.net", "SO-300001 short", COMPLETE_MISSING_ITEMS.replace("200001", "300001"),
                           photos=2))
    bot.deliver(claim_mail("carol@example.org", "Return SO-300002", "Ordered by mistake."),
                at=NOW + dt.timedelta(minutes=1))
    bot.poll()
    rows = json.loads(invoke(bot.config, "queue", "--json").output)
    assert [(r["ref"], r["photos"], r["why"]) for r in rows] == [
        ("CLM-00001", 2, "warehouse_check"), ("CLM-00002", 0, "rule big-orders")]
    assert {"kind", "customer", "order_id", "age_days", "report"} <= set(rows[0])
    table = invoke(bot.config, "queue").output
    assert table.splitlines()[0].split()[:3] == ["ref", "kind", "customer"]


def test_good_entry_applies_once_bad_entry_is_reported(bot):
    bot.deliver(claim_mail("carol@example.org", "Return SO-300002", "Ordered by mistake."))
    bot.poll()
    [claim] = bot.claims()
    stub = invoke(bot.config, "queue", "--stub").output
    good = (stub.replace('action = ""', 'action = "approve"').replace('resolution = ""', 'resolution = "refund"')
            .replace('note = ""', 'note = "Known customer, fine."').replace('by = ""', 'by = "maria"'))
    bad = '[[override]]\nid = "typo"\nclaim = "CLM-99999"\naction = "approve"\nresolution = "refund"\n' \
          'note = "x"\nby = "tom"\n'
    overrides_file(bot).write_text(bad + "\n" + good)

    check = invoke(bot.config, "queue", "--check", exit_code=1)
    assert check.exit_code == 1
    assert f"{overrides_file(bot)}: entry 1 (id typo): claim: no claim CLM-99999" in check.output
    assert "1 entry ready to apply, 1 problem" in check.output

    result = invoke(bot.config, "apply-overrides", exit_code=1)  # a problem was reported
    assert "applied CLM-00001-" in result.output and "no claim CLM-99999" in result.output
    claim = bot.claim(claim["id"])
    assert (claim["state"], claim["resolution"], claim["decided_by"]) == ("approved", "refund", "staff")
    assert claim["rma_number"] == "RMA-2026-00001"
    [_, confirmation] = bot.rt.store.replies(claim["id"])
    assert confirmation["reply_kind"] == "rma_confirmed" and "RMA-2026-00001" in confirmation["body_text"]
    assert "a refund" in confirmation["body_text"] and "Known customer" not in confirmation["body_text"]

    # Applied once: again, reordered, or edited, nothing more happens.
    again = invoke(bot.config, "apply-overrides", exit_code=1)  # the bad entry is still there
    assert "0 applied" in again.output
    overrides_file(bot).write_text(good.replace("Known customer, fine.", "Edited note") + "\n" + bad)
    edited = invoke(bot.config, "apply-overrides", exit_code=1)
    assert "0 applied" in edited.output and "later edits to it are ignored" in edited.output
    assert len(bot.rt.store.replies(claim["id"])) == 2
    assert bot.rt.store.db["overrides"].count == 1

    story = json.loads(invoke(bot.config, "show", "CLM-00001", "--json").output)
    override = next(e for e in story["events"] if e["kind"] == "override")
    assert (override["by"], override["note"], override["action"]) == ("maria", "Known customer, fine.", "approve")
    assert override["entry"].startswith("CLM-00001-") and override["source"] == str(overrides_file(bot))


def test_two_processes_applying_at_once_apply_each_entry_once(bot):
    for n in range(6):
        bot.deliver(claim_mail("carol@example.org", f"Return SO-30001{n}", "Ordered by mistake."),
                    at=NOW + dt.timedelta(seconds=n))
    bot.poll()
    refs = [f"CLM-{c['id']:05d}" for c in bot.claims()]
    overrides_file(bot).write_text("".join(
        f'[[override]]\nid = "e{n}"\nclaim = "{ref}"\naction = "reject"\nreason = "Not our part."\n'
        f'note = "checked"\nby = "maria"\n\n' for n, ref in enumerate(refs)))
    cmd = [sys.executable, "-m", "rma_mailbot", "--config", str(bot.config.path), "apply-overrides"]
    first, second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT), \
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outputs = [p.communicate(timeout=60)[0].decode() for p in (first, second)]
    assert "Traceback" not in "".join(outputs), outputs
    assert bot.rt.store.db["overrides"].count == 6
    declined = [r for c in bot.claims() for r in bot.rt.store.replies(c["id"]) if r["reply_kind"] == "declined"]
    assert len(declined) == 6
    assert len(bot.replies()) == 12  # one acknowledgement and one rejection per claim, none twice


def test_request_evidence_then_the_answer_goes_back_to_staff(bot):
    bot.deliver(claim_mail("carol@example.org", "Return SO-300002", "Ordered by mistake."))
    bot.poll()
    overrides_file(bot).write_text('[[override]]\nid = "r1"\nclaim = "CLM-00001"\naction = "request_evidence"\n'
                                   'evidence = ["parcel_photos"]\nnote = "want to see the bags"\nby = "maria"\n')
    bot.poll(now=NOW + dt.timedelta(hours=1))  # the daemon's cycle applies new entries too
    assert state(bot, 1) == "awaiting_evidence"
    ask = bot.rt.store.replies(1)[-1]
    assert ask["reply_kind"] == "ask_evidence" and "Photos of the whole parcel" in ask["body_text"]
    bot.deliver(claim_mail("carol@example.org", f"Re: {ask['subject']}", "Here they are.", photos=1,
                           in_reply_to=ask["message_id"]), at=NOW + dt.timedelta(hours=2))
    bot.poll(now=NOW + dt.timedelta(hours=2))
    claim = bot.claim(1)
    assert (claim["state"], claim["photos"]) == ("in_review", 1)  # not re-decided by the policy behind staff


# --- the warehouse loop --------------------------------------------------------------------------

def complete_claim_at_the_warehouse(bot):
    bot.deliver(claim_mail("alice@example.net", "SO-300001 short", COMPLETE_MISSING_ITEMS.replace("200001", "300001"),
                           photos=2))
    bot.poll()
    [claim] = bot.claims()
    [to_warehouse] = [r for r in bot.rt.store.replies(claim["id"]) if r["reply_kind"] == "warehouse_check"]
    assert "approve reship" in to_warehouse["body_text"]  # it says how to answer
    return claim, to_warehouse


def test_warehouse_answer_becomes_an_override(bot):
    claim, to_warehouse = complete_claim_at_the_warehouse(bot)
    answer = warehouse_answer(to_warehouse, "approve reship\nPacking video: the LM2596S bag was left on the table.")
    bot.deliver(answer, at=NOW + dt.timedelta(hours=3))
    bot.poll(now=NOW + dt.timedelta(hours=3))
    claim = bot.claim(claim["id"])
    assert (claim["state"], claim["resolution"]) == ("approved", "reship")
    override = next(e for e in bot.rt.store.events(claim["id"]) if e["kind"] == "override")
    assert json.loads(override["detail"])["by"] == "warehouse@example.com"
    last = bot.rt.store.replies(claim["id"])[-1]
    assert (last["to_addr"], last["reply_kind"]) == ("alice@example.net", "rma_confirmed")
    assert "a reshipment" in last["body_text"] and claim["rma_number"] in last["body_text"]
    assert not any(m["To"].addresses[0].addr_spec == "warehouse@example.com" and "Re:" in m["Subject"]
                   for m in bot.replies())  # the warehouse is never answered


def test_unclear_warehouse_answer_is_shown_to_staff(bot):
    claim, to_warehouse = complete_claim_at_the_warehouse(bot)
    bot.deliver(warehouse_answer(to_warehouse, "Will check tomorrow."), at=NOW + dt.timedelta(hours=3))
    bot.poll(now=NOW + dt.timedelta(hours=3))
    assert state(bot, claim["id"]) == "in_review"
    note = next(e for e in bot.rt.store.events(claim["id"]) if e["kind"] == "staff_mail")
    assert "Will check tomorrow" in json.loads(note["detail"])["not_applied"]


# --- done means: from a fresh demo, with the running daemon -------------------------------------

def test_demo_claim_approved_by_the_running_daemon(tmp_path):
    workspace = tmp_path / "demo"
    run_cli("demo", "--workspace", workspace)
    config = workspace / "config.toml"
    config.write_text(config.read_text().replace("poll_interval_seconds = 60", "poll_interval_seconds = 1"))
    run = lambda *a: run_cli("--config", config, *a)  # noqa: E731
    queue = json.loads(run("queue", "--json").output)
    hana = next(r for r in queue if r["customer"] == "hana@example.jp")
    assert hana["report"] == "SGS (pdf_text)"
    stub = run("queue", "--stub").output
    entry = stub.split("\n\n")[[r["ref"] for r in queue].index(hana["ref"])]
    filled = (entry.replace('action = ""', 'action = "approve"').replace('resolution = ""', 'resolution = "replace"')
              .replace('note = ""', 'note = "SGS report is genuine"').replace('by = ""', 'by = "maria"'))
    broken = '[[override]]\nid = "oops"\nclaim = "CLM-00001"\naction = "approve"\nnote = "x"\nby = "tom"\n'
    (workspace / "overrides.toml").write_text(broken + "\n" + filled + "\n")

    outbox = workspace / "outbox"
    before = len(list(outbox.glob("*.eml")))
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    try:
        wait_until(lambda: len(list(outbox.glob("*.eml"))) > before, 30, "the reply to the override")
    finally:
        code = daemon.stop()
    assert code == 0
    assert "entry 1 (id oops): resolution: missing" in daemon.output()
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox.glob("*.eml")]
    confirmation = [m for m in mails if m["To"].addresses[0].addr_spec == "hana@example.jp"
                    and "RMA-" in m.get_body(("plain",)).get_content()]
    assert len(confirmation) == 1
    story = run("show", hana["ref"]).output
    for words in ("override", "maria", "SGS report is genuine", "approved", "rma_confirmed", "mail_in"):
        assert words in story
    assert json.loads(run("show", "CLM-00001", "--json").output)["state"] == "in_review"  # the broken one


def test_a_bad_entry_is_logged_once_not_every_cycle(bot, caplog):
    overrides_file(bot).write_text('[[override]]\nid = "x"\nclaim = "CLM-00042"\naction = "close"\nnote = "n"\n'
                                   'by = "tom"\n')
    for minutes in range(3):
        bot.poll(now=NOW + dt.timedelta(minutes=minutes))
    logged = [r for r in caplog.records if "override not applied" in r.getMessage()]
    assert len(logged) == 1 and "no claim CLM-00042" in logged[0].getMessage()
