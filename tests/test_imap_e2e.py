"""End to end on real servers: APPEND to Dovecot, `poll`, replies in aiosmtpd."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
import logging

import imapclient
import pytest
from click.testing import CliRunner

from conftest import write_config
from mails import COMPLETE_MISSING_ITEMS, STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.cli import cli
from rma_mailbot.sources.imap import connect
from rma_mailbot.store import Store

pytestmark = pytest.mark.dovecot


@pytest.fixture
def setup(tmp_path, imap_account, imap, smtp_server):
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port)
    return config, imap, handler


def run(config, *args):
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output + (result.stderr if result.stderr_bytes else "")
    return result.output


def claims(config):
    return json.loads(run(config, "claims", "--json"))


def received(handler):
    return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in handler.messages]


def test_mail_becomes_claim_and_reply_once(setup):
    config, imap, handler = setup
    sent = claim_mail("alice@example.net", "Missing items SO-200001", COMPLETE_MISSING_ITEMS, name="Alice",
                      photos=2)
    imap.append("INBOX", sent.as_bytes())

    out = run(config, "poll")
    assert "1 new" in out

    [claim] = claims(config)
    assert claim["kind"] == "missing_items"
    assert claim["state"] == "in_review"
    assert claim["order_id"] == "SO-200001"
    assert claim["customer"] == "alice@example.net"
    assert claim["photos"] == 2
    assert claim["missing"] == []
    assert set(claim) >= {"id", "rma_number", "kind", "state", "order_id", "customer", "missing", "reasons",
                          "photos", "created_at", "updated_at"}

    reply, warehouse = received(handler)
    assert handler.messages[0][1] == ["alice@example.net"]
    # The complete missing-items claim went to the warehouse with the customer's two photos.
    assert handler.messages[1][1] == ["warehouse@example.com"]
    assert len(list(warehouse.iter_attachments())) == 2 and "SO-200001" in warehouse["Subject"]
    assert reply["To"].addresses[0].addr_spec == "alice@example.net"
    assert reply["From"].addresses[0].addr_spec == "support@example.com"
    assert reply["In-Reply-To"] == sent["Message-ID"]
    assert sent["Message-ID"] in reply["References"]
    assert reply["Auto-Submitted"] == "auto-replied"
    assert "[CLM-00001]" in reply["Subject"] and reply["Subject"].startswith("Re: ")
    assert reply["Message-ID"].endswith("@example.com>")

    # Processed mail left the inbox for the processed folder, unread.
    imap.select_folder("INBOX")
    assert imap.search("ALL") == []
    imap.select_folder("Processed")
    [uid] = imap.search("ALL")
    assert imapclient.SEEN not in imap.get_flags([uid])[uid]

    before = claims(config)
    out = run(config, "poll")
    assert "0 fetched" in out
    assert claims(config) == before
    assert len(handler.messages) == 2


def test_seen_mail_is_still_processed(setup):
    """A person who opened the mail in their client must not hide it from the bot."""
    config, imap, handler = setup
    imap.append("INBOX", claim_mail("carol@example.org", "Return SO-200003",
                                    "I ordered these by mistake and want to return them.").as_bytes(),
                flags=[imapclient.SEEN])
    run(config, "poll")
    [claim] = claims(config)
    assert claim["state"] == "approved"
    assert claim["rma_number"].startswith("RMA-")
    [reply] = received(handler)
    assert claim["rma_number"] in reply.get_body(("plain",)).get_content()


def open_short_claim(config, imap, handler):
    """Alice reports missing parts without the rest of the checklist; returns our question."""
    imap.append("INBOX", claim_mail("alice@example.net", "SO-200001 short",
                                    "5 pcs of LM2596S are missing from SO-200001.").as_bytes())
    run(config, "poll")
    [ask] = received(handler)
    return ask


def test_answer_joins_claim_and_redecides(setup):
    config, imap, handler = setup
    ask = open_short_claim(config, imap, handler)
    [claim] = claims(config)
    assert claim["state"] == "awaiting_evidence"
    assert claim["missing"] == ["all_boxes_received", "boxes_emptied", "parcel_photos"]
    body = ask.get_body(("plain",)).get_content()
    assert "all the boxes" in body and "Photos of the whole parcel" in body

    answer = claim_mail("alice@example.net", f"Re: {ask['Subject']}",
                        "We received all boxes and emptied every box completely. Photos attached.\n\n"
                        + "\n".join(body.splitlines()),  # quoted without '>' markers
                        photos=1, in_reply_to=ask["Message-ID"])
    imap.append("INBOX", answer.as_bytes())
    run(config, "poll")
    [claim] = claims(config)
    assert claim["state"] == "in_review"
    assert claim["missing"] == []
    assert claim["photos"] == 1
    assert [to for _, to, _ in handler.messages] == [["alice@example.net"], ["alice@example.net"],
                                                      ["warehouse@example.com"]]


def test_our_quoted_words_never_count(setup):
    """Our checklist quoted back without '>' must not read as the customer's confirmation."""
    config, imap, handler = setup
    ask = open_short_claim(config, imap, handler)
    body = ask.get_body(("plain",)).get_content()
    answer = claim_mail("alice@example.net", f"Re: {ask['Subject']}", "See photos.\n\n" + body, photos=1,
                        in_reply_to=ask["Message-ID"])
    imap.append("INBOX", answer.as_bytes())
    run(config, "poll")
    [claim] = claims(config)
    assert claim["state"] == "awaiting_evidence"
    assert claim["missing"] == ["all_boxes_received", "boxes_emptied"]


def test_other_sender_cannot_join_a_claim(setup):
    config, imap, handler = setup
    ask = open_short_claim(config, imap, handler)
    imap.append("INBOX", claim_mail("mallory@example.biz", f"Re: {ask['Subject']}",
                                    "We received all boxes and emptied every box.", photos=1,
                                    in_reply_to=ask["Message-ID"]).as_bytes())
    run(config, "poll")
    first, second = claims(config)
    assert first["state"] == "awaiting_evidence" and first["photos"] == 0
    assert second["customer"] == "mallory@example.biz"
    assert second["state"] == "in_review"
    assert "sender_not_order_owner" in second["reasons"]
    reply = received(handler)[1]
    assert "SO-200001" not in reply.get_body(("plain",)).get_content()


def test_machine_mail_is_stored_not_answered(setup):
    config, imap, handler = setup
    imap.append("INBOX", claim_mail("alice@example.net", "Automatic reply: SO-200001",
                                    "I am out of the office.", headers={"Auto-Submitted": "auto-replied"}).as_bytes())
    imap.append("INBOX", claim_mail("news@example.org", "SO-200001 newsletter", "Missing items sale!",
                                    headers={"List-Id": "<news.example.org>"}).as_bytes())
    out = run(config, "poll")
    assert "2 machine mail" in out
    assert claims(config) == []
    assert handler.messages == []
    imap.select_folder("INBOX")
    assert imap.search("ALL") == []  # stored and moved, not left behind


def test_changed_uidvalidity_rescans_without_duplicates(setup, tmp_path):
    config, imap, handler = setup
    imap.append("INBOX", claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.").as_bytes())
    run(config, "poll")
    # Copy the processed mail back to a recreated inbox folder: new UIDVALIDITY, same Message-ID.
    imap.select_folder("Processed")
    data = imap.fetch(imap.search("ALL"), ["BODY.PEEK[]"])
    set_watermark(config, 1, 999)  # as if the server renumbered the folder
    for item in data.values():
        imap.append("INBOX", item[b"BODY[]"])
    out = run(config, "poll")
    assert "1 already stored" in out
    assert len(claims(config)) == 1
    assert len(handler.messages) == 1


def test_watermark_is_the_last_uid_taken_in(setup):
    config, imap, _ = setup
    for customer, order in (("carol@example.org", "SO-200003"), ("dave@example.org", "SO-200004")):
        imap.append("INBOX", claim_mail(customer, f"Return {order}", "Ordered by mistake.").as_bytes())
    info = imap.select_folder("INBOX")
    last = max(imap.search("ALL"))
    run(config, "poll")
    with bot_store(config) as store:
        assert store.folder_state("INBOX") == (int(info[b"UIDVALIDITY"]), last)


def test_drafts_mode_puts_reply_in_drafts(tmp_path, imap_account, imap):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config = write_config(tmp_path / "config.toml", source="imap", outbox="drafts", imap=imap_account)
    imap.append("INBOX", claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.").as_bytes())
    run(config, "poll")
    imap.select_folder("Drafts")
    [uid] = imap.search("ALL")
    item = imap.fetch([uid], ["BODY.PEEK[]", "FLAGS"])[uid]
    assert imapclient.DRAFT in item[b"FLAGS"]
    draft = email.message_from_bytes(item[b"BODY[]"], policy=email.policy.default)
    assert draft["To"].addresses[0].addr_spec == "carol@example.org"
    run(config, "poll")
    imap.select_folder("Drafts")
    assert len(imap.search("ALL")) == 1


def test_check_config_reports_each_connection(setup, monkeypatch):
    config, _, _ = setup
    out = run(config, "check-config")
    assert "config OK" in out and "imap: ok" in out and "smtp: ok" in out

    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 1
    assert "imap: FAILED" in result.output and "login" in result.output
    assert "smtp: ok" in result.output


def test_move_falls_back_to_copy_delete_expunge(setup, monkeypatch):
    """Servers without MOVE: COPY + \\Deleted + UID EXPUNGE. Dovecot has MOVE, so hide it."""
    config, imap, handler = setup
    real = imapclient.IMAPClient.has_capability
    monkeypatch.setattr(imapclient.IMAPClient, "has_capability",
                        lambda self, cap: False if cap.upper() == "MOVE" else real(self, cap))
    # Someone else's mail, marked deleted but not expunged, below the bot's watermark.
    imap.append("INBOX", b"From: x@example.org\r\nSubject: keep\r\n\r\nbody\r\n", flags=[imapclient.DELETED])
    info = imap.select_folder("INBOX")
    [theirs] = imap.search("ALL")
    set_watermark(config, int(info[b"UIDVALIDITY"]), theirs)
    imap.append("INBOX", claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.").as_bytes())
    run(config, "poll")
    imap.select_folder("Processed")
    assert len(imap.search("ALL")) == 1
    imap.select_folder("INBOX")
    # UID EXPUNGE removed only what the bot moved.
    assert imap.search("ALL") == [theirs]
    assert len(handler.messages) == 1


@contextlib.contextmanager
def bot_store(config):
    cfg = config_module.load(config)
    store = Store(cfg.bot.database, cfg.bot.data_dir)
    try:
        yield store
    finally:
        store.close()


def set_watermark(config, uidvalidity, last_uid):
    with bot_store(config) as store, store.transaction():
        store.db["folders"].insert({"mailbox": "INBOX", "uidvalidity": uidvalidity, "last_uid": last_uid},
                                   replace=True)  # as a watermark left by an earlier run


def test_permanent_smtp_refusal_marks_reply_failed(setup):
    config, imap, handler = setup
    handler.refuse["carol@example.org"] = "550 5.1.1 mailbox unavailable"
    imap.append("INBOX", claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.").as_bytes())
    run(config, "poll")
    assert handler.messages == []
    [claim] = claims(config)
    detail = json.loads(run(config, "show", str(claim["id"]), "--json"))
    [reply] = detail["replies"]
    assert reply["state"] == "failed" and "550" in reply["last_error"]
    run(config, "poll")
    assert handler.messages == []  # a failed reply is not retried for ever


@pytest.mark.parametrize(("level", "wire_logged"), [(logging.DEBUG, True), (logging.INFO, False)])
def test_imap_wire_log_is_made_only_when_its_logger_prints(setup, caplog, level, wire_logged):
    """imapclient has imaplib format every line it reads (whole mails) for its "imapclient.imaplib"
    logger; the bot leaves that on only when the logger would print it."""
    config, imap, _ = setup
    imap.append("INBOX", claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake.").as_bytes())
    caplog.set_level(level, logger="imapclient.imaplib")
    client = connect(config_module.load(config).imap)
    try:
        client.select_folder("INBOX")
        [item] = client.fetch(client.search("ALL"), ["BODY.PEEK[]"]).values()
    finally:
        client.logout()
    assert b"Ordered by mistake." in item[b"BODY[]"]
    wire = [r for r in caplog.records if r.name == "imapclient.imaplib" and "Ordered by mistake." in r.getMessage()]
    assert bool(wire) is wire_logged
    assert (client._imap.debug > 0) is wire_logged


def test_debug_logging_never_shows_a_whole_mail(setup):
    """-vv logs the bot's and imapclient's debug lines, never imaplib's wire log of fetched mails."""
    config, imap, _ = setup
    secret_words = "my private phone number is 0170 555 0199"
    imap.append("INBOX", claim_mail("carol@example.org", "Return SO-200003", f"Ordered by mistake, {secret_words}.")
                .as_bytes())
    result = CliRunner().invoke(cli, ["--config", str(config), "-vv", "poll"])
    assert result.exit_code == 0, result.output
    logged = result.output + (result.stderr if result.stderr_bytes else "")
    assert "DEBUG" in logged and "imapclient" in logged  # debug lines were written
    assert secret_words not in logged
