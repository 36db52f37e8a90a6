"""One order, one open claim: a new mail on an order the customer has a claim on joins it, reopens it,
or goes to staff; an order never gets a second RMA number from mails."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from conftest import Bot, write_config
from mails import COMPLETE_MISSING_ITEMS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.cli import cli
from rma_mailbot.pipeline import Runtime

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
ORDERS = [
    ("SO-200001", "alice@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40),
    ("SO-100110", "kim@example.kr", -6, -2, "DHL Express", 1, "NE555P", 25),
]
LATER = [NOW + dt.timedelta(hours=n) for n in range(8)]


@pytest.fixture
def bot(tmp_path):
    write_orders(tmp_path / "orders.csv", NOW.date(), ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    rt = Runtime.open(config)
    yield Bot(config, rt, NOW)
    rt.close()


def deliver(bot, when, *args, **kwargs):
    bot.deliver(claim_mail(*args, **kwargs), at=when)
    bot.poll(now=when)


def test_three_return_mails_for_one_order_get_one_rma_number(bot):
    for n, when in enumerate(LATER[:3]):
        deliver(bot, when, "kim@example.kr", f"Return SO-100110 ({n + 1})", "Ordered by mistake, please take it back.")
    claims = bot.claims()
    assert [c["rma_number"] for c in claims if c["rma_number"]] == ["RMA-2026-00001"]
    # The second mail found an RMA number on the order: staff decide; the third joined that open claim.
    assert [(c["state"], c["routed_by"]) for c in claims] == [("approved", None), ("in_review", "same-order")]
    assert "joined" in [e["kind"] for e in bot.rt.store.events(claims[1]["id"])]


def test_photos_sent_in_a_new_mail_join_the_open_claim(bot):
    deliver(bot, LATER[0], "alice@example.net", "SO-200001 short", COMPLETE_MISSING_ITEMS)
    [claim] = bot.claims()
    assert (claim["state"], json.loads(claim["missing"])) == ("awaiting_evidence", ["parcel_photos"])
    deliver(bot, LATER[1], "alice@example.net", "Photos for SO-200001", "Here they are.", photos=2)
    [claim] = bot.claims()
    assert (claim["state"], claim["photos"]) == ("in_review", 2)
    assert [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])] == [
        "ask_evidence", "in_review", "warehouse_check"]


def test_another_case_on_an_order_with_an_open_claim_goes_to_staff(bot):
    deliver(bot, LATER[0], "alice@example.net", "SO-200001 short", COMPLETE_MISSING_ITEMS)
    deliver(bot, LATER[1], "alice@example.net", "Return SO-200001", "We ordered these by mistake, please take them "
            "back.")
    first, second = bot.claims()
    assert (second["kind"], second["state"], second["routed_by"], second["rma_number"]) == (
        "return", "in_review", "same-order", None)
    assert "routed_to_staff" in json.loads(second["reasons"])
    # Whatever the customer adds, the held claim stays with staff.
    deliver(bot, LATER[2], "alice@example.net", f"Re: [CLM-{second['id']:05d}] Return SO-200001", "Still unused.")
    assert (bot.claim(second["id"])["state"], bot.claim(second["id"])["rma_number"]) == (
        "in_review", None)
    assert first["state"] == "awaiting_evidence"


def test_a_closed_claim_on_the_order_reopens(bot):
    deliver(bot, LATER[0], "alice@example.net", "SO-200001 short", COMPLETE_MISSING_ITEMS)
    [claim] = bot.claims()
    bot.rt.store.set_claim(claim["id"], NOW, state="closed")
    deliver(bot, LATER[1], "alice@example.net", "SO-200001 parts still missing", "Photos attached now.", photos=2)
    [claim] = bot.claims()
    assert claim["state"] == "in_review"
    assert {"joined", "reopened"} <= {e["kind"] for e in bot.rt.store.events(claim["id"])}


def test_someone_else_naming_the_order_opens_a_claim_of_their_own(bot):
    deliver(bot, LATER[0], "kim@example.kr", "Return SO-100110", "Ordered by mistake.")
    deliver(bot, LATER[1], "mallory@example.org", "Return SO-100110", "Ordered by mistake.")
    kim, mallory = bot.claims()
    assert (kim["customer"], mallory["customer"]) == ("kim@example.kr", "mallory@example.org")
    assert mallory["rma_number"] is None


@pytest.mark.dovecot
def test_on_real_servers_three_return_mails_for_one_order(tmp_path, imap_account, imap, smtp_server):
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), ORDERS)
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port)
    for n in range(3):
        imap.append("INBOX", claim_mail("kim@example.kr", f"Return SO-100110 ({n + 1})", "Ordered by mistake.")
                    .as_bytes())
        assert CliRunner().invoke(cli, ["--config", str(config), "poll"]).exit_code == 0
    claims = json.loads(CliRunner().invoke(cli, ["--config", str(config), "claims", "--json"]).output)
    assert len([c for c in claims if c["rma_number"]]) == 1
    mailed = {number for _, _, raw in handler.messages for number in re.findall(rb"RMA-\d{4}-\d{5}", raw)}
    assert len(mailed) == 1 and len(handler.messages) == 3  # one confirmation, and staff's acknowledgements


def test_an_order_number_named_only_in_a_later_answer_gets_no_second_rma_number(bot):
    deliver(bot, LATER[0], "kim@example.kr", "Return SO-100110", "Ordered by mistake, please take it back.")
    deliver(bot, LATER[1], "kim@example.kr", "Return", "Ordered by mistake, please take it back.")
    first, second = bot.claims()
    assert second["state"] == "awaiting_evidence"  # asked for the order number
    deliver(bot, LATER[2], "kim@example.kr", f"Re: [CLM-{second['id']:05d}] Return", "The order is SO-100110.")
    second = bot.claim(second["id"])
    assert (second["state"], second["routed_by"], second["rma_number"]) == ("in_review", "same-order", None)
    assert [c["rma_number"] for c in bot.claims() if c["rma_number"]] == [first["rma_number"]]


def test_the_hold_outlives_other_routing(bot):
    deliver(bot, LATER[0], "kim@example.kr", "Return SO-100110", "Ordered by mistake, please take it back.")
    deliver(bot, LATER[1], "kim@example.kr", "Return SO-100110 again", "Ordered by mistake.")
    held = bot.claims()[1]
    bot.rt.store.set_claim(held["id"], NOW, routed_by="reply-rate-limit")  # as the rate limit writes it
    deliver(bot, LATER[2], "kim@example.kr", f"Re: [CLM-{held['id']:05d}] Return", "Still unused, sealed.")
    held = bot.claim(held["id"])
    assert (held["state"], held["rma_number"]) == ("in_review", None)
