"""The real corpus (../shared/corpus, 1,500 messages from mail projects' test suites) through the bot.

Every file ends stored, or quarantined with a reason; no file crashes the cycle or holds up the
mail behind it; no reply goes to a file labelled bounce, autoreply or list.
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import email.utils
import mailbox

import pytest

from conftest import CORPUS, claim_rows, write_config
from mails import STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.pipeline import Runtime, poll_once
from rma_mailbot.sources import open_source

MACHINE_LABELS = {"bounce", "autoreply", "list"}


def corpus() -> list[dict]:
    if not (CORPUS / "labels.csv").exists():
        pytest.fail(f"the shared corpus is missing at {CORPUS}: tests read it from ../shared/corpus")
    with (CORPUS / "labels.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


FILES = corpus()


def last_claim_mail() -> bytes:
    """A good claim after the whole corpus: it must not be held up by anything before it."""
    return claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake, please take them back.").as_bytes()


def run_bot(config_path):
    config = config_module.load(config_path)
    rt = Runtime.open(config)
    source = open_source(config)
    try:
        report = poll_once(rt, source, lambda: dt.datetime.now(dt.UTC))
    finally:
        source.close()
    return rt, report


def replied_labels(rt, label_of_location) -> list[tuple[str, str]]:
    """(label, path) of every corpus file whose claim got a reply."""
    rows = rt.store.db.query(
        "select distinct l.mailbox, l.uidvalidity, l.uid from outbox o join messages m on m.claim_id = o.claim_id "
        "join locations l on l.message = m.id")
    return [label_of_location[(r["mailbox"], r["uid"])] for r in rows if (r["mailbox"], r["uid"]) in label_of_location]


def assert_every_file_accounted(rt, locations: dict[tuple[str, str], dict]):
    stored = {(r["mailbox"], r["uid"]): r for r in rt.store.db.query(
        "select l.mailbox, l.uid, m.mail_class, m.class_reason from locations l join messages m on m.id = l.message")}
    lost = [row["path"] for key, row in locations.items() if key not in stored]
    assert lost == [], f"{len(lost)} corpus files were not stored: {lost[:5]}"
    unexplained = [locations[k]["path"] for k, r in stored.items()
                   if k in locations and r["mail_class"] == "quarantined" and not r["class_reason"]]
    assert unexplained == []
    return stored


def test_corpus_through_a_maildir(tmp_path):
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config_path = write_config(tmp_path / "config.toml")
    inbox = mailbox.Maildir(tmp_path / "inbox", create=True)
    locations = {}
    for row in FILES:
        key = inbox.add((CORPUS / row["path"]).read_bytes())
        locations[("maildir:inbox", key)] = row
    last = inbox.add(last_claim_mail())

    rt, report = run_bot(config_path)
    try:
        assert report.fetched == len(FILES) + 1
        stored = assert_every_file_accounted(rt, locations)
        assert stored[("maildir:inbox", last)]["mail_class"] == "customer"
        labels = [row["label"] for row in replied_labels(rt, locations)]
        assert not MACHINE_LABELS & set(labels), labels
        empty = [locations[k]["path"] for k, r in stored.items()
                 if k in locations and r["class_reason"] == "empty message"]
        assert empty and all("size-" in p for p in empty)
        carol = [c for c in claim_rows(rt.store) if c["customer"] == "carol@example.org"]
        assert [c["state"] for c in carol] == ["approved"]
        assert len(inbox) == 0  # everything was taken in and moved on
    finally:
        rt.close()


@pytest.mark.dovecot
def test_corpus_appended_to_dovecot(tmp_path, imap_account, imap, smtp_server):
    controller, handler = smtp_server
    write_orders(tmp_path / "orders.csv", dt.date.today(), STANDARD_ORDERS)
    config_path = write_config(tmp_path / "config.toml", source="imap", outbox="smtp", imap=imap_account,
                               smtp_port=controller.port)
    info = imap.select_folder("INBOX")
    refused = []
    locations = {}
    for row in FILES:
        data = (CORPUS / row["path"]).read_bytes()
        try:
            response = imap.append("INBOX", data)
        except Exception as exc:  # noqa: BLE001 - the server's refusal is what is being recorded
            refused.append((row["path"], str(exc)))
            continue
        uid = response.split(b"APPENDUID ")[1].split(b"]")[0].split()[1].decode()
        locations[("INBOX", uid)] = row
    imap.append("INBOX", last_claim_mail())
    # Dovecot refuses only what no IMAP inbox can hold: zero-byte files.
    assert refused and all("zero byte" in why and (CORPUS / p).stat().st_size == 0 for p, why in refused)
    assert int(info[b"UIDVALIDITY"]) > 0

    rt, report = run_bot(config_path)
    try:
        assert report.fetched == len(locations) + 1
        assert_every_file_accounted(rt, locations)
        labels = [row["label"] for row in replied_labels(rt, locations)]
        assert not MACHINE_LABELS & set(labels), labels
        recipients = {to for _, tos, _ in handler.messages for to in tos}
        machine_senders = set()
        for row in FILES:
            if row["label"] in MACHINE_LABELS:
                message = email.message_from_bytes((CORPUS / row["path"]).read_bytes(), policy=email.policy.compat32)
                machine_senders.add(email.utils.parseaddr(str(message.get("From", "")))[1].lower())
        assert not recipients & (machine_senders - {""}), recipients & machine_senders
        assert "carol@example.org" in recipients  # the good mail at the end was answered
        imap.select_folder("INBOX")
        assert imap.search("ALL") == []
    finally:
        rt.close()
