"""Hostile senders end to end: APPEND to a real Dovecot, `poll`, then the raw bytes of every reply as a
real aiosmtpd received it, or as it landed in the Drafts folder (staff sending that draft would send it
to whatever its headers say)."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import email.utils
import json

import pytest
from click.testing import CliRunner

from conftest import Bot, smtp_recorder, write_config
from mails import STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.cli import cli
from rma_mailbot.pipeline import Runtime
from wire import assert_only_our_headers

CLAIM_TEXT = b"Ordered by mistake, please take them back."


def b_word(text: str, charset: str = "utf-8") -> bytes:
    return f"=?{charset}?b?{base64.b64encode(text.encode(charset)).decode()}?=".encode()


def q_word(text: str) -> bytes:
    return ("=?utf-8?q?" + "".join(c if c.isalnum() else f"={ord(c):02X}" for c in text) + "?=").encode()


def raw_mail(sender: str, name: bytes, subject: bytes) -> bytes:
    return (b"From: " + name + b" <" + sender.encode() + b">\r\nTo: support@example.com\r\nSubject: " + subject
            + b"\r\nDate: " + email.utils.format_datetime(dt.datetime.now(dt.UTC)).encode()
            + b"\r\nMessage-ID: " + email.utils.make_msgid(domain="customer.example").encode()
            + b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + CLAIM_TEXT + b"\r\n")


def attachment_mail(sender: str) -> bytes:
    """File names that read backwards, over the size limit, so that the reply names them."""
    message = claim_mail(sender, "Return", CLAIM_TEXT.decode(), name="Jane")
    message.add_attachment(b"\x00" * 5000, maintype="application", subtype="octet-stream",
                           filename="parcel\u202egpj.exe")
    message.add_attachment(b"\x01" * 5000, maintype="application", subtype="octet-stream",
                           filename=b_word("photo\u2067\u202egnp.exe\u2069\r\nX-Injected: 1").decode())
    return message.as_bytes()


LONG_NAME = b" ".join(q_word(f"Jane{n}:\r\nBcc: evil{n}@x.example,") for n in range(40))
SEPARATORS = "\u2028X-Injected: 1\u2029Bcc: evil@x.example\x85Cc: evil@x.example"

# (id, From display name, Subject, as sent; the name our To line must carry)
HOSTILE_MAILS = [
    ("q_crlf_bcc", b"=?utf-8?q?Jane=0D=0ABcc:_evil@x.example?=", b"Return", "Jane Bcc: evil@x.example"),
    ("b64_crlf_cc", b_word("Jane\r\nCc: evil@x.example"), b_word("Return\r\nX-Injected: 1"), "Jane Cc: evil@x.example"),
    ("quoted_word", b'"=?utf-8?q?Jane=0D=0AX-Injected:_1?="', q_word("Return\r\nBcc: evil@x.example"),
     "Jane X-Injected: 1"),
    ("word_inside_word", b_word(q_word("Jane\r\nBcc: evil@x.example").decode()),
     b_word(q_word("Return\r\nCc: evil@x.example").decode()), "Jane Bcc: evil@x.example"),
    ("quoted_word_inside_word", b'"' + b_word(q_word("Jane\nCc: evil@x.example").decode()) + b'"', b"Return",
     "Jane Cc: evil@x.example"),
    ("latin1_words", b"=?iso-8859-1?q?J=FCrgen=0D=0ABcc:_evil@x.example?=",
     b_word("R\xfccksendung\r\nX-Injected: 1", "iso-8859-1"), "Jürgen Bcc: evil@x.example"),
    ("raw_latin1", b"J\xfcrgen M\xfcller", b"R\xfccksendung", "Jürgen Müller"),
    ("latin1_declared_utf8", b"=?utf-8?q?J=FCrgen?=", b"=?utf-8?q?R=FCcksendung?=", "Jürgen"),
    ("separators_in_subject", b"Jane", b_word("Return" + SEPARATORS), "Jane"),
    ("separators_in_name", b_word("Jane" + SEPARATORS), b"Return", "Jane X-Injected: 1 Bcc: evil@x.example Cc: "
     "evil@x.example"),
    ("bidi_controls", b_word("Jane \u202eeoD\u200f"), b_word("Return \u2066\u202eexe.gpj\u2069"), "Jane eoD"),
    ("long_name_and_subject_folded", LONG_NAME, b"Return " * 200 + q_word("\r\nBcc: evil@x.example"), ""),
]


def customer(n: int) -> str:
    return f"hostile{n}@customer.example"


def run(config, *args):
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def drafts(imap) -> list[bytes]:
    imap.select_folder("Drafts")
    return [item[b"BODY[]"] for item in imap.fetch(imap.search("ALL"), ["BODY.PEEK[]"]).values()]


def recipient(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")  # UTF-8 headers (RFC 6532) for a non-ASCII address
    return email.message_from_string(head + "\r\n\r\n", policy=email.policy.default)["To"].addresses[0].addr_spec


def small_attachments(data: dict) -> None:
    data["limits"]["max_attachment_bytes"] = 1000


@pytest.mark.dovecot
@pytest.mark.parametrize("mode", ["smtp", "drafts"])
def test_every_reply_to_a_hostile_sender_carries_only_our_headers(tmp_path, imap_account, imap, mode):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    for n, (_, name, subject, _) in enumerate(HOSTILE_MAILS):
        imap.append("INBOX", raw_mail(customer(n), name, subject))
    attached = customer(len(HOSTILE_MAILS))
    imap.append("INBOX", attachment_mail(attached))
    with smtp_recorder() as (controller, handler):
        config = write_config(tmp_path / "config.toml", source="imap", outbox=mode, imap=imap_account,
                              smtp_port=controller.port, change=small_attachments)
        run(config, "poll")
    if mode == "smtp":
        assert all(rcpts == [recipient(raw)] for _, rcpts, raw in handler.messages)  # no Bcc in the envelope
        sent = [raw for _, _, raw in handler.messages]
    else:
        sent = drafts(imap)
    replies = {recipient(raw): raw for raw in sent}
    assert len(replies) == len(sent) == len(HOSTILE_MAILS) + 1  # every sender answered, once, nobody else
    assert json.loads(run(config, "quarantine", "--json")) == []
    for n, (variant, _, _, to_name) in enumerate(HOSTILE_MAILS):
        headers = assert_only_our_headers(replies[customer(n)], customer(n))
        assert headers["To"].addresses[0].display_name == to_name, variant
    assert_only_our_headers(replies[attached], attached)
    text = email.message_from_bytes(replies[attached], policy=email.policy.default).get_body(("plain",)).get_content()
    assert "- parcelgpj.exe (0.0 MB): over our limit" in text
    assert "- photognp.exe X-Injected: 1 (0.0 MB): over our limit" in text


PILLS = ["jörg@exämple.de", "用户@例子.广告", "jorg@exämple.de"]
# An ASCII local part needs no SMTPUTF8: its domain is written in A-labels (RFC 5890).
WRITTEN = {"jorg@exämple.de": "jorg@xn--exmple-cua.de"}


def written_as(address: str) -> str:
    return WRITTEN.get(address, address)
NORMAL = "carol@example.org"


def pill_mail(address: str) -> bytes:
    """From a mail program speaking SMTPUTF8: the address in raw UTF-8 (RFC 6532)."""
    return raw_mail(address, "Jörg".encode(), "Rücksendung".encode())


def normal_mail() -> bytes:
    return claim_mail(NORMAL, "Return SO-200003", "Ordered by mistake.").as_bytes()


@pytest.mark.dovecot
@pytest.mark.parametrize("smtputf8", [False, True], ids=["relay_without_smtputf8", "relay_with_smtputf8"])
def test_non_ascii_address_never_holds_up_the_outbox(tmp_path, imap_account, imap, smtputf8):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    for address in PILLS:
        imap.append("INBOX", pill_mail(address))
    imap.append("INBOX", normal_mail())
    with smtp_recorder(enable_SMTPUTF8=smtputf8) as (controller, handler):
        config = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                              smtp_port=controller.port)
        run(config, "poll")
        delivered = {tuple(rcpts): raw for _, rcpts, raw in handler.messages}
        assert (NORMAL,) in delivered  # the mail behind the pills is answered in the same cycle
        claims = {c["customer"]: c for c in json.loads(run(config, "claims", "--json"))}
        assert set(claims) == {*PILLS, NORMAL}
        waiting = {row["customer"]: row for row in json.loads(run(config, "queue", "--json"))}
        for address in PILLS:
            [reply] = json.loads(run(config, "show", str(claims[address]["id"]), "--json"))["replies"]
            written = written_as(address)
            if smtputf8 or written.isascii():
                assert reply["state"] == "sent"
                assert_only_our_headers(delivered[(written,)], written)
                assert f"\r\nTo: {'=?utf-8?q?J=C3=B6rg?=' if written.isascii() else 'Jörg'} <{written}>\r\n".encode() \
                    in delivered[(written,)]
            else:
                assert reply["state"] == "failed" and "does not offer SMTPUTF8" in reply["last_error"]
                assert claims[address]["state"] == "in_review"
                assert "does not offer SMTPUTF8" in waiting[address]["why"]
        answered = len(PILLS) + 1 if smtputf8 else len(WRITTEN) + 1
        assert len(handler.messages) == answered
        run(config, "poll")
        assert len(handler.messages) == answered  # nothing stuck, nothing retried
    outbox = {"sent": answered} if smtputf8 else {"sent": answered, "failed": len(PILLS) - len(WRITTEN)}
    assert json.loads(run(config, "status", "--json"))["outbox"] == outbox


@pytest.mark.dovecot
def test_non_ascii_address_lands_in_drafts(tmp_path, imap_account, imap):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    for address in PILLS:
        imap.append("INBOX", pill_mail(address))
    imap.append("INBOX", normal_mail())
    config = write_config(tmp_path / "config.toml", source="imap", outbox="drafts", imap=imap_account)
    run(config, "poll")
    found = {recipient(raw): raw for raw in drafts(imap)}
    assert set(found) == {*map(written_as, PILLS), NORMAL}
    for address in map(written_as, PILLS):
        assert_only_our_headers(found[address], address)


def test_non_ascii_address_is_written_to_the_outbox_folder(tmp_path):
    today = dt.date(2026, 11, 24)
    write_orders(tmp_path / "orders.csv", today, STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    rt = Runtime.open(config)
    try:
        bot = Bot(config, rt, dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
        for address in PILLS:
            bot.deliver(pill_mail(address))
        bot.deliver(normal_mail())
        report = bot.poll()
    finally:
        rt.close()
    assert (report.quarantined, report.replies_sent) == (0, len(PILLS) + 1)
    written = {recipient(path.read_bytes()): path.read_bytes() for path in config.outbox.folder.glob("*.eml")}
    assert set(written) == {*map(written_as, PILLS), NORMAL}
    for address in map(written_as, PILLS):
        assert_only_our_headers(written[address], address)
