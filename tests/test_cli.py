"""The command line as a user runs it: demo, claims, show, run (as a real process)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import mailbox
import subprocess
import sys

from click.testing import CliRunner

from conftest import DaemonProcess, wait_until, write_config
from mails import STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot.cli import cli


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_demo_runs_every_claim_kind_and_answers_no_machine(tmp_path):
    workspace = tmp_path / "demo"
    result = invoke("demo", "--workspace", str(workspace))
    assert result.exit_code == 0, result.output
    assert "rma-mailbot" in result.output and "real inbox" in result.output
    config = workspace / "config.toml"
    claims = json.loads(invoke("--config", str(config), "claims", "--json").output)
    assert {c["kind"] for c in claims} == {"missing_items", "non_receipt", "return", "quality"}
    assert {c["state"] for c in claims} >= {"in_review", "approved", "awaiting_delivery", "awaiting_evidence",
                                            "rejected"}
    # The auto-reply is stored but never answered, and nothing went to a machine.
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (workspace / "outbox").glob("*.eml")]
    to_customers = [m for m in mails if m["To"].addresses[0].addr_spec != "warehouse@example.com"]
    assert len(to_customers) == len(claims) + 1  # Ben's answer got a second reply
    assert not any("Out of office" in m["Subject"] for m in mails)
    ben = next(c for c in claims if c["customer"] == "ben@example.org")
    assert ben["state"] == "in_review" and ben["photos"] == 1
    # The two complete missing-items claims went to the warehouse with their photos.
    to_warehouse = [m for m in mails if m["To"].addresses[0].addr_spec == "warehouse@example.com"]
    assert sorted(len(list(m.iter_attachments())) for m in to_warehouse) == [1, 2]
    by_customer = {c["customer"]: c for c in claims}
    assert by_customer["jon@example.com"]["reasons"] == ["delivery_failed_customer"]
    assert by_customer["kim@example.kr"]["reasons"] == ["sensitive_parts_opened"]
    assert by_customer["hana@example.jp"]["state"] == "in_review"
    # A second demo starts afresh.
    again = invoke("demo", "--workspace", str(workspace))
    assert again.exit_code == 0
    assert len(json.loads(invoke("--config", str(config), "claims", "--json").output)) == len(claims)


def test_demo_refuses_a_folder_that_is_not_its_own(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    result = invoke("demo", "--workspace", str(tmp_path))
    assert result.exit_code == 1
    assert "not a demo workspace" in result.output
    assert (tmp_path / "precious.txt").exists()


def test_claims_filter_and_show(tmp_path):
    workspace = tmp_path / "demo"
    invoke("demo", "--workspace", str(workspace))
    config = str(workspace / "config.toml")
    approved = json.loads(invoke("--config", config, "claims", "--json", "--state", "approved").output)
    assert approved and all(c["state"] == "approved" for c in approved)
    table = invoke("--config", config, "claims").output
    assert table.splitlines()[0].split()[:3] == ["ref", "state", "kind"]

    detail = json.loads(invoke("--config", config, "show", approved[0]["ref"], "--json").output)
    assert detail["rma_number"] == approved[0]["rma_number"]
    assert [e["kind"] for e in detail["events"]][:2] == ["mail_in", "decision"]
    assert detail["checks"] and all({"reason", "outcome", "evidence"} <= set(c) for c in detail["checks"])
    text = invoke("--config", config, "show", str(approved[0]["id"])).output
    assert "Clauses checked:" in text and approved[0]["rma_number"] in text

    missing = invoke("--config", config, "show", "CLM-99999")
    assert missing.exit_code == 1 and "no claim 99999" in missing.output


def test_config_from_environment_variable(tmp_path):
    workspace = tmp_path / "demo"
    invoke("demo", "--workspace", str(workspace))
    result = invoke("claims", env={"RMA_MAILBOT_CONFIG": str(workspace / "config.toml")})
    assert result.exit_code == 0 and "CLM-00001" in result.output


def test_missing_config_is_a_clean_error(tmp_path):
    result = invoke("--config", str(tmp_path / "nope.toml"), "claims")
    assert result.exit_code == 2
    assert "not found" in result.output and "Traceback" not in result.output


def test_python_dash_m_works(tmp_path):
    out = subprocess.run([sys.executable, "-m", "rma_mailbot", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "poll" in out and "demo" in out


def test_run_daemon_answers_and_stops_cleanly_on_sigterm(tmp_path):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config = write_config(tmp_path / "config.toml", change=lambda d: d["bot"].update(poll_interval_seconds=1))
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    try:
        inbox = mailbox.Maildir(tmp_path / "inbox", create=True)
        inbox.add(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.").as_bytes())
        outbox = tmp_path / "outbox"
        wait_until(lambda: outbox.exists() and any(outbox.glob("*.eml")), 30, "the daemon's reply")
    finally:
        code = daemon.stop()
    assert code == 0
    assert "stopped" in daemon.output()
    assert "Traceback" not in daemon.output()


def test_replay_shows_what_other_rules_would_change_and_changes_nothing(tmp_path):
    import hashlib

    workspace = tmp_path / "demo"
    invoke("demo", "--workspace", str(workspace))
    config = workspace / "config.toml"
    lenient = workspace / "lenient.toml"
    lenient.write_text(config.read_text().replace("return_window_days = 7", "return_window_days = 30"))
    database = workspace / "data" / "rma.sqlite"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    outbox_before = sorted(p.name for p in (workspace / "outbox").iterdir())

    same = json.loads(invoke("--config", str(config), "replay", "--json").output)
    assert same["changes"] == [] and same["decided"] >= 10

    result = invoke("--config", str(config), "replay", "--config", str(lenient), "--json")
    assert result.exit_code == 0, result.output
    [change] = json.loads(result.output)["changes"]
    fay = next(c for c in json.loads(invoke("--config", str(config), "claims", "--json").output)
               if c["customer"] == "fay@example.com")
    assert change["ref"] == fay["ref"]
    assert change["old"] == {"state": "rejected", "reasons": ["return_window_closed"], "missing": []}
    assert change["new"]["state"] == "approved" and "return_window_open" in change["new"]["reasons"]

    text = invoke("--config", str(config), "replay", "--config", str(lenient)).output
    assert "1 would change" in text and "rejected (return_window_closed)" in text

    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in (workspace / "outbox").iterdir()) == outbox_before


def test_show_explains_each_clause_with_its_evidence(tmp_path):
    workspace = tmp_path / "demo"
    invoke("demo", "--workspace", str(workspace))
    config = str(workspace / "config.toml")
    claims = json.loads(invoke("--config", config, "claims", "--json").output)
    anna = next(c for c in claims if c["customer"] == "anna@example.net")
    detail = json.loads(invoke("--config", config, "show", anna["ref"], "--json").output)
    evidence = {c["evidence"].split(":")[0]: c for c in detail["checks"] if c["reason"] == "missing_items_checklist"}
    assert set(evidence) == {"all_boxes_received", "boxes_emptied", "missing_quantities", "parcel_photos"}
    assert all(c["outcome"] == "pass" for c in evidence.values())
    assert "fully emptied each box" in evidence["boxes_emptied"]["evidence"]  # the sentence it rests on
    photo_ids = [a["sha256"][:12] for a in detail["attachments"] if a["is_photo"]]
    assert all(p in evidence["parcel_photos"]["evidence"] for p in photo_ids)  # the attachments
    timely = next(c for c in detail["checks"] if c["reason"] == "reported_late")
    assert "delivery_date" in timely["evidence"]  # the order field

    text = invoke("--config", config, "show", anna["ref"]).output
    for line in ("Clauses checked:", "missing_items_checklist", "warehouse_check", "History:", "mail_in",
                 "decision", "reply_queued", "Replies:"):
        assert line in text


def test_one_log_line_per_mail_optionally_as_json(tmp_path):
    workspace = tmp_path / "demo"
    invoke("demo", "--workspace", str(workspace))
    inbox = mailbox.Maildir(workspace / "inbox", create=True)
    inbox.add(claim_mail("emil@example.com", "Return SO-100105 again", "Ordered by mistake.").as_bytes())
    result = CliRunner().invoke(cli, ["--config", str(workspace / "config.toml"), "--log-format", "json", "-v",
                                      "poll"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    [per_mail] = [r for r in records if r["logger"] == "rma_mailbot.pipeline" and "claim CLM-" in r["message"]]
    assert "emil@example.com" in per_mail["message"] and "reply" in per_mail["message"]
