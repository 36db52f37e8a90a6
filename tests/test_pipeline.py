"""The pipeline on a Maildir source and a folder outbox: no server needed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import Bot, write_config
from mails import COMPLETE_MISSING_ITEMS, STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.models import OutboxState
from rma_mailbot.outbox import FolderTransport
from rma_mailbot.pipeline import Runtime

TZ = dt.UTC


@pytest.fixture
def bot(tmp_path):
    today = dt.date(2026, 11, 24)
    write_orders(tmp_path / "orders.csv", today, STANDARD_ORDERS + [
        ("SO-200004", "dan@example.org", -3, None, "China Post", 1, "AMS1117", 200),
    ])
    config = config_module.load(write_config(tmp_path / "config.toml"))
    rt = Runtime.open(config)
    yield Bot(config, rt, dt.datetime(2026, 11, 24, 10, 0, tzinfo=TZ))
    rt.close()


def test_poll_twice_changes_nothing(bot):
    bot.deliver(claim_mail("alice@example.net", "Missing SO-200001", COMPLETE_MISSING_ITEMS, photos=2))
    first = bot.poll()
    assert (first.fetched, first.ingested, first.replies_sent) == (1, 1, 2)  # the customer and the warehouse
    claims_before = bot.claims()
    second = bot.poll()
    assert (second.fetched, second.ingested, second.replies_sent) == (0, 0, 0)
    assert bot.claims() == claims_before
    assert len(bot.replies()) == 2
    assert list(bot.inbox.keys()) == []
    assert len(bot.inbox.get_folder("Processed")) == 1


def test_attachments_and_raw_mail_are_content_addressed(bot):
    bot.deliver(claim_mail("alice@example.net", "Missing SO-200001", COMPLETE_MISSING_ITEMS, photos=2))
    bot.poll()
    [claim] = bot.claims()
    attachments = bot.rt.store.attachments(claim["id"])
    assert [a["is_photo"] for a in attachments] == [1, 1]
    for attachment in attachments:
        path = bot.rt.store.blobs.path(attachment["path"])
        assert path.name.startswith(attachment["sha256"]) and "parcel" not in str(path)
        import hashlib

        assert hashlib.sha256(path.read_bytes()).hexdigest() == attachment["sha256"]
    message = bot.rt.store.first_customer_message(claim["id"])
    assert bot.rt.store.blobs.path(message["raw_path"]).read_bytes().startswith(b"From: ")


def test_claim_is_judged_on_the_day_the_server_received_it(bot):
    """A backlog must not turn an in-window return into a late one."""
    received = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)  # delivery -3 days: inside 7 days
    bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."), at=received)
    bot.poll(now=received + dt.timedelta(days=30))  # the bot was down for a month
    [claim] = bot.claims()
    assert claim["state"] == "approved"
    assert claim["claim_date"] == "2026-11-24"


def test_in_transit_claim_is_decided_again_when_its_date_passes(bot):
    bot.deliver(claim_mail("dan@example.org", "SO-200004 not received", "I have not received my order yet."))
    bot.poll()
    [claim] = bot.claims()
    assert claim["state"] == "awaiting_delivery"
    assert claim["recheck_on"] == "2026-12-21"  # shipped -3 days + 30 China Post days
    bot.poll(now=dt.datetime(2026, 12, 21, 12, 0, tzinfo=TZ))
    assert bot.claims()[0]["state"] == "awaiting_delivery"
    bot.poll(now=dt.datetime(2026, 12, 22, 12, 0, tzinfo=TZ))
    [claim] = bot.claims()
    assert claim["state"] == "approved" and claim["rma_number"]
    kinds = [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])]
    assert kinds == ["in_transit", "rma_confirmed"]


def test_rma_numbers_are_unique(bot):
    for customer, order in (("carol@example.org", "SO-200003"), ("alice@example.net", "SO-200001")):
        bot.deliver(claim_mail(customer, f"Return {order}", "Ordered by mistake."))
    bot.poll()
    numbers = [c["rma_number"] for c in bot.claims()]
    assert numbers == ["RMA-2026-00001", "RMA-2026-00002"]


def test_no_claim_signal_is_queued_for_staff_without_reply(bot):
    bot.deliver(claim_mail("stranger@example.com", "Hello", "Great prices, buy our SEO services."))
    bot.poll()
    [claim] = bot.claims()
    assert claim["state"] == "in_review" and claim["kind"] == "unknown"
    assert bot.replies() == []


def test_follow_up_from_customer_own_thread_joins_claim(bot):
    """A customer who answers their own first mail (before ours arrived) adds to the same claim."""
    first = claim_mail("alice@example.net", "SO-200001 short", "5 pcs of LM2596S are missing from SO-200001.")
    bot.deliver(first)
    second = claim_mail("alice@example.net", "Re: SO-200001 short",
                        "We received all boxes and emptied every box. Photos attached.", photos=1,
                        in_reply_to=first["Message-ID"])
    bot.deliver(second, at=bot.now + dt.timedelta(minutes=1))
    bot.poll()
    [claim] = bot.claims()
    assert claim["state"] == "in_review"


def test_broken_message_is_quarantined_and_the_rest_goes_on(bot):
    bot.deliver(b"")  # not a message at all
    bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
    report = bot.poll()
    assert report.quarantined == 1 and report.ingested == 1
    rows = list(bot.rt.store.db.query("select mail_class, class_reason from messages order by id"))
    assert {r["mail_class"] for r in rows} == {"quarantined", "customer"}
    assert any(r["class_reason"] == "empty message" for r in rows)


def test_sending_row_after_crash_is_not_sent_twice(bot):
    bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
    bot.poll()
    [row] = bot.rt.store.replies_in_state(OutboxState.SENT)
    # As if the process died after writing the file but before marking the row sent.
    bot.rt.store.set_reply_state(row["id"], OutboxState.SENDING, bot.now)
    bot.poll()
    [after] = bot.rt.store.replies(row["claim_id"])
    assert after["state"] == OutboxState.SENT and after["attempts"] == 2
    assert len(bot.replies()) == 1
    # And one whose file never got written is delivered.
    FolderTransport(bot.config.outbox.folder).path_for(row["message_id"]).unlink()
    bot.rt.store.set_reply_state(row["id"], OutboxState.SENDING, bot.now)
    bot.poll()
    assert len(bot.replies()) == 1


def test_full_disk_stops_the_cycle_and_loses_nothing(bot, monkeypatch):
    """A failing disk is not the message's fault: no quarantine, the mail waits for the next cycle."""
    import errno

    from rma_mailbot.errors import StoreError
    from rma_mailbot.store import BlobStore

    real_put = BlobStore.put

    def full(self, data, suffix):
        raise OSError(errno.ENOSPC, "No space left on device")

    bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
    monkeypatch.setattr(BlobStore, "put", full)
    with pytest.raises(StoreError, match="No space left"):
        bot.poll()
    assert len(bot.inbox) == 1
    assert bot.rt.store.db["messages"].count == 0
    monkeypatch.setattr(BlobStore, "put", real_put)
    report = bot.poll()
    assert report.ingested == 1 and bot.claims()[0]["state"] == "approved"


def test_claim_reference_in_subject_joins_only_the_senders_own_claim(bot):
    bot.deliver(claim_mail("alice@example.net", "SO-200001 short", "5 pcs of LM2596S are missing from SO-200001."))
    bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."),
                at=bot.now + dt.timedelta(seconds=1))
    bot.poll()
    alice, carol = bot.claims()
    # Alice names Carol's claim first and her own second, with no In-Reply-To: only her own counts.
    bot.deliver(claim_mail("alice@example.net", f"[CLM-{carol['id']:05d}] [CLM-{alice['id']:05d}] more",
                           "We received all boxes and emptied every box.", photos=1),
                at=bot.now + dt.timedelta(minutes=5))
    bot.poll()
    assert len(bot.claims()) == 2
    assert bot.claim(alice["id"])["state"] == "in_review"
    assert bot.claim(carol["id"])["state"] == "approved"


def test_waiting_claim_is_reminded_once_then_closed_and_reopened_by_an_answer(bot):
    bot.deliver(claim_mail("alice@example.net", "SO-200001 short", "5 pcs of LM2596S are missing from SO-200001."))
    bot.poll()
    [claim] = bot.claims()
    assert claim["state"] == "awaiting_evidence"

    def kinds():
        return [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])]

    day = dt.timedelta(days=1)
    bot.poll(now=bot.now + 4 * day)
    assert kinds() == ["ask_evidence"]
    bot.poll(now=bot.now + 5 * day + dt.timedelta(minutes=1))
    assert kinds() == ["ask_evidence", "reminder"]
    bot.poll(now=bot.now + 6 * day)
    assert kinds() == ["ask_evidence", "reminder"]  # one reminder, not one per poll
    bot.poll(now=bot.now + 14 * day + dt.timedelta(minutes=1))
    assert kinds() == ["ask_evidence", "reminder", "closed"]
    assert bot.claim(claim["id"])["state"] == "closed"
    closing = bot.rt.store.replies(claim["id"])[-1]
    assert "reopen" in closing["body_text"]

    later = bot.now + 20 * day
    bot.deliver(claim_mail("alice@example.net", f"Re: {closing['subject']}",
                           "We received all boxes and emptied every box. Photos attached.", photos=1,
                           in_reply_to=closing["message_id"]), at=later)
    bot.poll(now=later)
    assert bot.claim(claim["id"])["state"] == "in_review"
    events = [e["kind"] for e in bot.rt.store.events(claim["id"])]
    assert events.index("closed") < events.index("reopened")
    assert len(bot.claims()) == 1


def test_daemon_timer_job_reminds_and_sends_without_a_poll(bot):
    """The daemon's timer job runs on its own, so a mail-server outage does not stop reminders."""
    from rma_mailbot.daemon import Daemon

    bot.deliver(claim_mail("alice@example.net", "SO-200001 short", "5 pcs of LM2596S are missing from SO-200001."))
    bot.poll()
    daemon = Daemon(bot.config)
    daemon.clock = lambda: bot.now + dt.timedelta(days=6)
    daemon.timers(bot.rt)
    [claim] = bot.claims()
    assert [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])] == ["ask_evidence", "reminder"]
    assert [r["state"] for r in bot.rt.store.replies(claim["id"])] == ["sent", "sent"]
    assert len(bot.replies()) == 2


def test_bounce_of_our_reply_is_linked_to_the_claim_and_shown_to_staff(bot):
    from rma_mailbot.review import waiting_for_staff

    bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
    bot.poll()
    [claim] = bot.claims()
    [ours] = bot.rt.store.replies(claim["id"])
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@mx.example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nMailbox full.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; carol@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@example.com\r\nTo: carol@example.org\r\nMessage-ID: {ours['message_id']}\r\n"
        "--b--\r\n"
    ).encode()
    bot.deliver(dsn, at=bot.now + dt.timedelta(minutes=5))
    report = bot.poll(now=bot.now + dt.timedelta(minutes=5))
    assert report.machine == 1 and report.replies_queued == 0
    after = bot.rt.store.replies(claim["id"])
    assert len(after) == 1 and after[0]["state"] == "failed" and "bounced" in after[0]["last_error"]
    event = [e for e in bot.rt.store.events(claim["id"]) if e["kind"] == "machine_mail"]
    assert len(event) == 1 and ours["message_id"] in event[0]["detail"]
    [row] = waiting_for_staff(bot.rt.store, "CLM", bot.now)
    assert row["id"] == claim["id"] and "reply to carol@example.org failed" in row["why"]


def test_quarantined_mail_is_listed_and_reprocessed_after_a_fix(bot, monkeypatch):
    import json as json_module

    from click.testing import CliRunner

    from rma_mailbot import pipeline
    from rma_mailbot.cli import cli

    def broken(*args, **kwargs):
        raise ValueError("a bug in the extractor")

    monkeypatch.setattr(pipeline, "extract", broken)
    bot.deliver(claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake."))
    report = bot.poll()
    assert report.quarantined == 1 and bot.claims() == []

    def cli_run(*args):
        return CliRunner().invoke(cli, ["--config", str(bot.config.path), *args])

    [row] = json_module.loads(cli_run("quarantine", "--json").output)
    assert "processing failed: ValueError: a bug in the extractor" in row["reason"]
    assert row["where"].startswith("maildir:")

    monkeypatch.undo()  # the fix
    result = cli_run("reprocess", str(row["id"]))
    assert result.exit_code == 0, result.output
    assert "ingested, claim CLM-00001; 1 reply sent" in result.output
    assert cli_run("quarantine").output.strip() == "quarantine is empty"
    [claim] = bot.claims()
    assert claim["state"] == "approved"
    assert "reprocessed" in [e["kind"] for e in bot.rt.store.events(claim["id"])]
    assert bot.poll().fetched == 0  # nothing is taken in twice
    again = cli_run("reprocess", str(row["id"]))
    assert again.exit_code == 1 and "not in quarantine" in again.output


def test_replies_per_sender_are_rate_limited_and_the_rest_waits_for_staff(bot):
    for n in range(12):  # without an order number, each mail is a claim of its own
        bot.deliver(claim_mail("carol@example.org", f"Return #{n}", "Ordered by mistake."),
                    at=bot.now + dt.timedelta(seconds=n))
    bot.poll()
    claims = bot.claims()
    answered = [c for c in claims if bot.rt.store.replies(c["id"])]
    assert len(answered) == 10  # limits.max_replies_per_sender
    waiting = [c for c in claims if not bot.rt.store.replies(c["id"])]
    assert [(c["state"], c["routed_by"]) for c in waiting] == [("in_review", "reply-rate-limit")] * 2
    # An hour later the window has passed and a new mail is answered again.
    later = bot.now + dt.timedelta(minutes=61)
    bot.deliver(claim_mail("carol@example.org", "Return again", "Ordered by mistake."), at=later)
    bot.poll(now=later)
    assert bot.rt.store.replies(bot.claims()[-1]["id"])


def test_a_loop_that_never_stops_meets_the_daily_cap(bot):
    """Eight mails an hour stay under the hourly limit (10), for ever: the daily cap (20) stops the answers."""
    for hour in range(4):
        now = bot.now + dt.timedelta(minutes=61 * hour)
        for n in range(8):
            bot.deliver(claim_mail("loop@example.org", f"Return SO-200003 #{hour}-{n}", "Ordered by mistake."),
                        at=now + dt.timedelta(seconds=n))
        bot.poll(now=now)
    claims = bot.claims()
    answered = [c for c in claims if bot.rt.store.replies(c["id"])]
    assert len(claims) == 32 and len(answered) == 20  # limits.max_replies_per_sender_per_day
    waiting = [c for c in claims if not bot.rt.store.replies(c["id"])]
    assert {(c["state"], c["routed_by"]) for c in waiting} == {("in_review", "daily-reply-cap")}
    # A day after the first answers, the sender is answered again.
    later = bot.now + dt.timedelta(hours=24, minutes=5)
    bot.deliver(claim_mail("loop@example.org", "Return SO-200003", "Ordered by mistake."), at=later)
    bot.poll(now=later)
    assert bot.rt.store.replies(bot.claims()[-1]["id"])


def test_the_warehouse_mail_quotes_each_sentence_of_the_customer_once(bot):
    bot.deliver(claim_mail("alice@example.net", "SO-200001 short", COMPLETE_MISSING_ITEMS, photos=2))
    bot.poll()
    [claim] = bot.claims()
    [check] = [r for r in bot.rt.store.replies(claim["id"]) if r["reply_kind"] == "warehouse_check"]
    sentence = "fully emptied each box"
    assert len({s["sentence"] for s in json.loads(claim["facts"])["statements"] if sentence in s["sentence"]}) == 1
    assert check["body_text"].count(sentence) == 1


def test_a_count_below_the_order_book_completes_the_claim_and_the_warehouse_mail_quotes_it(bot):
    """No word says how many are short; the count against the order's 40 LM2596S does, and the warehouse sees it."""
    counted = "We counted the LM2596S twice: 34 pcs."
    body = f"Hello, we received all 2 boxes of order SO-200001 and fully emptied each box. {counted} Photos attached."
    bot.deliver(claim_mail("alice@example.net", "SO-200001 quantity", body, photos=2))
    bot.poll()
    [claim] = bot.claims()
    assert claim["state"] == "in_review" and json.loads(claim["missing"] or "[]") == []
    [check] = [r for r in bot.rt.store.replies(claim["id"]) if r["reply_kind"] == "warehouse_check"]
    assert check["body_text"].count(counted) == 1
