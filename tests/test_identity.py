"""A message is its Message-ID together with its content: the same mail twice is one mail, a different mail
under a reused id is a mail of its own, and the log says so."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging

import pytest
from click.testing import CliRunner

from conftest import Bot, write_config
from mails import STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.cli import cli
from rma_mailbot.identity import digest as content_digest
from rma_mailbot.pipeline import Runtime

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
BASE = (b"From: Carol <carol@example.org>\r\nTo: support@example.com\r\nSubject: Return SO-200003 please, the "
        b"parts were ordered by mistake\r\nDate: Tue, 24 Nov 2026 09:00:00 +0000\r\nMessage-ID: <same@example.org>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nOrdered by mistake.\r\n")


def variant(old: bytes, new: bytes) -> bytes:
    assert old in BASE
    return BASE.replace(old, new)


@pytest.mark.parametrize("other, same", ids=lambda v: "" if isinstance(v, bytes) else None, argvalues=[
    (BASE, True),
    (BASE.replace(b"\r\n", b"\n"), True),  # a Maildir's LF against IMAP's CRLF
    (b"Received: from relay.example by mx.example.com; Tue, 24 Nov 2026 09:00:02 +0000\r\nReturn-Path: "
     b"<bounce@example.org>\r\nDelivered-To: support@example.com\r\nAuthentication-Results: mx.example.com; "
     b"dmarc=pass\r\n" + BASE, True),  # the same mail by another route
    (variant(b"please, the parts", b"please,\r\n the parts"), True),  # folded anew
    (b"X-Spam-Status: No, score=-0.1\r\n" + BASE, True),
    (variant(b"Ordered by mistake.", b"Ordered by mistake. Order SO-200001 too."), False),
    (variant(b"09:00:00", b"09:00:01"), False),
    (variant(b"Return SO-200003", b"Return SO-200001"), False),
    (variant(b"carol@example.org", b"dave@example.org"), False),
    (variant(b"text/plain", b"text/html"), False),
])
def test_content_digest(other, same):
    assert (content_digest(other) == content_digest(BASE)) is same


def test_text_without_headers_is_told_apart_by_every_byte():
    assert content_digest(b"\r\r\rgarbage one") != content_digest(b"\r\r\rgarbage two")
    assert content_digest(b"") != content_digest(b" ")


@pytest.fixture
def bot(tmp_path):
    write_orders(tmp_path / "orders.csv", NOW.date(), STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    rt = Runtime.open(config)
    yield Bot(config, rt, NOW)
    rt.close()


def deliver_raw(bot, raw: bytes):
    bot.deliver(email.message_from_bytes(raw, policy=email.policy.compat32))


def test_a_reused_message_id_with_other_content_is_a_mail_of_its_own(bot, caplog):
    first = claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.",
                       message_id="<shop-1@example.org>")
    second = claim_mail("bob@example.org", "Where is SO-200002?", "Not received SO-200002.",
                        message_id="<shop-1@example.org>")
    bot.deliver(first)
    bot.poll()
    bot.deliver(second)
    with caplog.at_level(logging.WARNING, logger="rma_mailbot.pipeline"):
        report = bot.poll()
    assert report.ingested == 1 and report.duplicates == 0
    assert sorted(c["customer"] for c in bot.claims()) == ["bob@example.org", "carol@example.org"]
    assert {r["to_addr"] for c in bot.claims() for r in bot.rt.store.replies(c["id"])} == {
        "bob@example.org", "carol@example.org"}
    assert any("<shop-1@example.org>" in r.getMessage() and "other content" in r.getMessage() for r in caplog.records)


def test_the_same_mail_twice_or_by_two_routes_is_one_mail(bot):
    deliver_raw(bot, BASE)
    deliver_raw(bot, BASE)
    deliver_raw(bot, b"Received: from backup-mx.example by mx.example.com\r\nDelivered-To: returns@example.com\r\n"
                     + BASE)
    report = bot.poll()
    assert (report.fetched, report.ingested, report.duplicates) == (3, 1, 2)
    [claim] = bot.claims()
    assert len(bot.rt.store.replies(claim["id"])) == 1


def test_mail_stored_under_the_message_id_alone_by_an_older_version(bot):
    deliver_raw(bot, BASE)
    bot.poll()
    # What an older version stored: the Message-ID alone as the key.
    bot.rt.store.db.execute("update messages set message_key = message_id")
    deliver_raw(bot, BASE.replace(b"\r\n", b"\n"))
    deliver_raw(bot, variant(b"Ordered by mistake.", b"Ordered by mistake, and SO-200001 too."))
    report = bot.poll(now=NOW + dt.timedelta(minutes=1))
    assert (report.ingested, report.duplicates) == (1, 1)


@pytest.mark.dovecot
def test_on_dovecot_two_mails_under_one_id_are_both_answered(tmp_path, imap_account, imap, smtp_server):
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port)
    carol = claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.",
                       message_id="<reused@shop.example>").as_bytes()
    bob = claim_mail("bob@example.org", "Where is SO-200002?", "Not received SO-200002.",
                     message_id="<reused@shop.example>").as_bytes()
    for raw in (carol, bob, carol):
        imap.append("INBOX", raw)
    result = CliRunner().invoke(cli, ["--config", str(config), "poll"])
    assert result.exit_code == 0, result.output
    claims = json.loads(CliRunner().invoke(cli, ["--config", str(config), "claims", "--json"]).output)
    assert sorted(c["customer"] for c in claims) == ["bob@example.org", "carol@example.org"]
    assert sorted(rcpt for _, [rcpt], _ in handler.messages) == ["bob@example.org", "carol@example.org"]
