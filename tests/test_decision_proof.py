"""A decision by mail must prove who sent it: the warehouse's answer is applied only when it answers our
check of that claim, comes from the warehouse address, and our own server vouches for that address."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
from email.utils import format_datetime, make_msgid

import pytest
from click.testing import CliRunner

from conftest import Bot, write_config
from mails import COMPLETE_MISSING_ITEMS, claim_mail, write_orders
from rma_mailbot.cli import cli
from rma_mailbot.mail_proof import missing_proofs
from rma_mailbot.parse import parse

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
OUR_SERVER = "mx.example.com"
WAREHOUSE = "warehouse@example.com"
VERIFIED = f"{OUR_SERVER}; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; " \
           "dmarc=pass header.from=example.com"
ORDERS = [
    ("SO-400001", "alice@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40, "Delivered", "", "120.00"),
    ("SO-400002", "mallory@example.org", -40, -30, "DHL Express", 1, "NE555P", 10, "Delivered", "", "80.00"),
]
COMPLETE = COMPLETE_MISSING_ITEMS.replace("SO-200001", "SO-400001")


def answer_bytes(sender=WAREHOUSE, auth: tuple[str, ...] = (VERIFIED,), in_reply_to="<check@example.com>",
                 text="approve reship") -> bytes:
    """The warehouse's answer as our server stored it; ``auth``: the Authentication-Results, topmost first."""
    head = [f"Authentication-Results: {header}" for header in auth] + [
        f"From: {sender}", "To: support@example.com", "Subject: Re: [CLM-00001] warehouse check: order SO-400001",
        f"Date: {format_datetime(NOW)}", f"Message-ID: {make_msgid(domain='example.com')}",
    ] + ([f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"] if in_reply_to else [])
    return ("\r\n".join(head) + "\r\n\r\n" + text + "\r\n").encode()


# --- the proofs, each missing on its own (pure) ---------------------------------------------------

@pytest.mark.parametrize("raw, answers, authserv_id, why", ids=lambda v: "" if isinstance(v, bytes) else None,
                         argvalues=[
    (answer_bytes(), True, OUR_SERVER, None),
    (answer_bytes(auth=(f"{OUR_SERVER}; dkim=pass header.d=example.com",)), True, OUR_SERVER, None),
    (answer_bytes(auth=(f"{OUR_SERVER}; dmarc=pass header.from=example.com",)), True, OUR_SERVER, None),
    (answer_bytes(), False, OUR_SERVER, "does not answer the warehouse mail we sent"),
    # Signed and aligned, but by someone else.
    (answer_bytes(sender="warehouse@example.com.evil.example",
                  auth=(f"{OUR_SERVER}; dkim=pass header.d=example.com.evil.example",)), True, OUR_SERVER,
     "not from warehouse@example.com"),
    (answer_bytes(sender="alice@example.net", auth=(f"{OUR_SERVER}; dmarc=pass header.from=example.net",)), True,
     OUR_SERVER, "not from warehouse@example.com"),
    (answer_bytes(), True, "", "review.authserv_id is not set"),
    (answer_bytes(auth=()), True, OUR_SERVER, "wrote no Authentication-Results"),
    (answer_bytes(auth=(VERIFIED.replace(OUR_SERVER, "mx.elsewhere.example"),)), True, OUR_SERVER,
     "wrote no Authentication-Results"),
    (answer_bytes(auth=(f"{OUR_SERVER}; spf=fail smtp.mailfrom=example.com; dkim=none; dmarc=fail "
                        "header.from=example.com",)), True, OUR_SERVER, "no DKIM or DMARC pass"),
    # SPF vouches for the envelope sender only, which the forger chooses.
    (answer_bytes(auth=(f"{OUR_SERVER}; spf=pass smtp.mailfrom=example.com; dmarc=none",)), True, OUR_SERVER,
     "no DKIM or DMARC pass"),
    # Anyone can DKIM-sign a mail for a domain of their own.
    (answer_bytes(auth=(f"{OUR_SERVER}; dkim=pass header.d=evil.example; dmarc=fail header.from=example.com",)),
     True, OUR_SERVER, "no DKIM or DMARC pass"),
    (answer_bytes(auth=(f"{OUR_SERVER}; dkim=pass header.d=example.com.evil.example",)), True, OUR_SERVER,
     "no DKIM or DMARC pass"),
    (answer_bytes(auth=(f"{OUR_SERVER}; dmarc=pass header.from=evil.example",)), True, OUR_SERVER,
     "no DKIM or DMARC pass"),
    # A header with our name further down came with the mail: the topmost of ours is our server's.
    (answer_bytes(auth=(f"{OUR_SERVER}; dkim=fail header.d=example.com; dmarc=fail header.from=example.com",
                        VERIFIED)), True, OUR_SERVER, "no DKIM or DMARC pass"),
])
def test_each_proof_missing_on_its_own_is_named(raw, answers, authserv_id, why):
    mail = parse(raw, authserv_id=authserv_id)
    missing = missing_proofs(mail, answers_our_mail=answers, address=WAREHOUSE, authserv_id=authserv_id)
    if why is None:
        assert missing == ()
    else:
        assert len(missing) == 1 and why in missing[0], missing


# --- through the pipeline ----------------------------------------------------------------------

def configure(data: dict, authserv_id: str = OUR_SERVER) -> None:
    data["review"]["authserv_id"] = authserv_id


@pytest.fixture
def make_bot(open_bot):
    return lambda authserv_id=OUR_SERVER: open_bot(NOW, ORDERS, lambda data: configure(data, authserv_id))


def at_the_warehouse(bot: Bot):
    customer = claim_mail("alice@example.net", "SO-400001 short", COMPLETE, photos=2)
    bot.deliver(customer)
    bot.poll()
    [claim] = bot.claims()
    [check] = [r for r in bot.rt.store.replies(claim["id"]) if r["reply_kind"] == "warehouse_check"]
    return claim, check, customer["Message-ID"]


def deliver_answer(bot: Bot, **kwargs):
    later = NOW + dt.timedelta(hours=2)
    bot.deliver(email.message_from_bytes(answer_bytes(**kwargs), policy=email.policy.default), at=later)
    bot.poll(now=later)


def staff_mail_events(bot: Bot, claim_id: int) -> list[dict]:
    return [json.loads(e["detail"]) for e in bot.rt.store.events(claim_id) if e["kind"] == "staff_mail"]


def test_a_proven_answer_is_applied(make_bot):
    bot = make_bot()
    claim, check, _ = at_the_warehouse(bot)
    deliver_answer(bot, in_reply_to=check["message_id"])
    claim = bot.claim(claim["id"])
    assert (claim["state"], claim["resolution"]) == ("approved", "reship") and claim["rma_number"]


@pytest.mark.parametrize("forgery, why", [
    ("customer_message_id", "does not answer the warehouse mail"),
    ("our_reply_to_the_customer", "does not answer the warehouse mail"),
    ("subject_reference_only", "does not answer the warehouse mail"),
    ("no_authentication_results", "wrote no Authentication-Results"),
    ("our_server_says_fail", "no DKIM or DMARC pass"),
    ("dkim_pass_for_another_domain", "no DKIM or DMARC pass"),
    ("forged_pass_below_our_fail", "no DKIM or DMARC pass"),
    ("authserv_id_not_configured", "review.authserv_id is not set"),
])
def test_an_unproven_answer_is_shown_to_staff_never_applied(make_bot, forgery, why):
    bot = make_bot(authserv_id="" if forgery == "authserv_id_not_configured" else OUR_SERVER)
    claim, check, customer_id = at_the_warehouse(bot)
    [to_customer] = [r for r in bot.rt.store.replies(claim["id"]) if r["reply_kind"] != "warehouse_check"]
    answers = {"customer_message_id": customer_id, "our_reply_to_the_customer": to_customer["message_id"],
               "subject_reference_only": ""}.get(forgery, check["message_id"])
    auth = {"no_authentication_results": (),
            "our_server_says_fail": (f"{OUR_SERVER}; spf=fail smtp.mailfrom=example.com; dmarc=fail "
                                     "header.from=example.com",),
            "dkim_pass_for_another_domain": (f"{OUR_SERVER}; dkim=pass header.d=evil.example",),
            "forged_pass_below_our_fail": (f"{OUR_SERVER}; dmarc=fail header.from=example.com", VERIFIED),
            }.get(forgery, (VERIFIED,))
    deliver_answer(bot, in_reply_to=answers, auth=auth)

    after = bot.claim(claim["id"])
    assert (after["state"], after["resolution"], after["rma_number"]) == ("in_review", None, None)
    assert [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])] == ["in_review", "warehouse_check"]
    [shown] = staff_mail_events(bot, claim["id"])
    assert why in shown["unverified"] and "approve reship" in shown["text"]
    story = CliRunner().invoke(cli, ["--config", str(bot.config.path), "show", str(claim["id"])]).output
    assert "unverified" in story and why in story


def test_a_forged_approval_of_a_rejected_claim_changes_nothing(make_bot):
    """The attack found: a customer whose return was declined writes as the warehouse, answering their own mail."""
    bot = make_bot()
    mine = claim_mail("mallory@example.org", "Return SO-400002", "Ordered by mistake, I want to return it.")
    bot.deliver(mine)
    bot.poll()
    [claim] = bot.claims()
    assert claim["state"] == "rejected"
    forged = answer_bytes(in_reply_to=mine["Message-ID"], auth=(), text="approve refund")
    bot.deliver(email.message_from_bytes(forged, policy=email.policy.default), at=NOW + dt.timedelta(hours=1))
    bot.poll(now=NOW + dt.timedelta(hours=1))
    after = bot.claim(claim["id"])
    assert (after["state"], after["rma_number"]) == ("rejected", None)
    assert [r["reply_kind"] for r in bot.rt.store.replies(claim["id"])] == ["declined"]
    assert not any(re.search(r"RMA-\d{4}-\d+", m.get_body(("plain",)).get_content()) for m in bot.replies())


def test_our_message_ids_carry_128_random_bits_and_the_check_is_never_shown_to_the_customer(make_bot):
    bot = make_bot()
    claim, check, _ = at_the_warehouse(bot)
    deliver_answer(bot, in_reply_to=check["message_id"])
    later = NOW + dt.timedelta(hours=4)
    bot.deliver(claim_mail("alice@example.net", f"Re: [CLM-{claim['id']:05d}] thanks", "When will it ship?"),
                at=later)
    bot.poll(now=later)
    replies = bot.rt.store.replies(claim["id"])
    assert len(replies) >= 3
    ids = [r["message_id"] for r in replies]
    assert all(re.fullmatch(r"<CLM-\d{5}\.[0-9a-f]{32}@[^>]+>", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    for reply in replies:
        if reply["to_addr"] == "alice@example.net":
            assert check["message_id"].encode() not in bot.rt.store.reply_bytes(reply)


def test_check_config_warns_when_no_server_verdict_can_be_trusted(make_bot):
    bot = make_bot(authserv_id="")
    result = CliRunner().invoke(cli, ["--config", str(bot.config.path), "check-config"])
    assert "review: warning: review.authserv_id is empty" in result.output
    assert result.exit_code == 0  # a warning, not a failure
    bot = make_bot()
    result = CliRunner().invoke(cli, ["--config", str(bot.config.path), "check-config"])
    assert "review.authserv_id is empty" not in result.output


@pytest.mark.dovecot
def test_on_real_servers_a_forged_warehouse_approval_mails_no_rma(tmp_path, imap_account, imap, smtp_server):
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), ORDERS)
    config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                          smtp_port=controller.port, change=configure)
    run = lambda *args: CliRunner().invoke(cli, ["--config", str(config), *args])  # noqa: E731
    mine = claim_mail("mallory@example.org", "Return SO-400002", "Ordered by mistake, I want to return it.")
    imap.append("INBOX", mine.as_bytes())
    assert run("poll").exit_code == 0
    # The forger answers their own mail as the warehouse; one copy claims our server's verdict lower down.
    imap.append("INBOX", answer_bytes(in_reply_to=mine["Message-ID"], auth=(), text="approve refund"))
    imap.append("INBOX", answer_bytes(in_reply_to=mine["Message-ID"], text="approve refund",
                                      auth=(f"{OUR_SERVER}; dmarc=fail header.from=example.com", VERIFIED)))
    assert run("poll").exit_code == 0
    [claim] = json.loads(run("claims", "--json").output)
    assert (claim["state"], claim["rma_number"]) == ("rejected", None)
    assert [rcpt for _, rcpt, _ in handler.messages] == [["mallory@example.org"]]
    assert not re.search(rb"RMA-\d{4}-\d+", handler.messages[0][2])  # no RMA number
    story = run("show", claim["ref"]).output
    assert story.count("unverified") == 2
