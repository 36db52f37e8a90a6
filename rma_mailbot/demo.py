"""`rma-mailbot demo`: the whole bot on sample mails, with no mail server.

A fresh workspace gets the shipped config.example.toml, an orders CSV, and a Maildir seeded
with customer mails of every claim kind (and one auto-reply that must not be answered). One
poll answers them into the outbox folder; then one customer answers the bot with the missing
evidence, and a second poll threads that answer into the claim.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import mailbox
import shutil
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from rma_mailbot import config as config_module
from rma_mailbot.errors import MailbotError
from rma_mailbot.pipeline import Runtime, poll_once
from rma_mailbot.resources import example_config
from rma_mailbot.sources import open_source
from rma_mailbot.views import claim_json, claims_table

MARKER = ".rma-mailbot-demo"


def sample_photo(label: str, size: tuple[int, int] = (800, 600)) -> bytes:
    image = Image.new("RGB", size, (196, 164, 132))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 40, size[0] - 40, size[1] - 40], outline=(90, 60, 30), width=8)
    draw.text((60, 60), label, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def sample_report(*lines: str) -> bytes:
    """A one-page PDF whose text layer holds the given lines, as a lab's report would."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    fonts = DictionaryObject({NameObject("/F1"): font})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    text = " ".join("({}) '".format(line.replace("\\", "").replace("(", "[").replace(")", "]")) for line in lines)
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 12 Tf 72 770 Td 16 TL {text} ET".encode("latin-1", errors="replace"))
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _mail(sender: str, name: str, subject: str, body: str, when: dt.datetime, *, photos: int = 0,
          report: tuple[str, ...] = (), headers: dict[str, str] | None = None, in_reply_to: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = "KST Returns Desk <support@example.com>"
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(body)
    for n in range(photos):
        message.add_attachment(sample_photo(f"{subject} #{n + 1}"), maintype="image", subtype="jpeg",
                               filename=f"IMG_{4711 + n}.jpg")
    if report:
        message.add_attachment(sample_report(*report), maintype="application", subtype="pdf", filename="report.pdf")
    return message


def _orders(today: dt.date) -> list[dict]:
    def day(offset: int | None) -> str:
        return (today + dt.timedelta(days=offset)).isoformat() if offset is not None else ""

    rows = [  # order, customer, shipped, delivered, method, boxes, part, qty, carrier status, ESD/MSL
        ("SO-100101", "anna@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40, "Delivered", ""),
        ("SO-100101", "anna@example.net", -6, -2, "DHL Express", 2, "NE555P", 100, "Delivered", ""),
        ("SO-100102", "ben@example.org", -8, -3, "UPS Standard", 1, "NE555P", 50, "Delivered", ""),
        ("SO-100103", "chen@example.cn", -30, None, "DHL Express", 1, "STM32F103C8T6", 10, "In transit", "yes"),
        ("SO-100104", "dora@example.de", -3, None, "China Post", 1, "AMS1117-3.3", 200, "In transit", ""),
        ("SO-100105", "emil@example.com", -5, -3, "DHL Express", 1, "ATMEGA328P-PU", 25, "Delivered", "yes"),
        ("SO-100106", "fay@example.com", -30, -25, "DHL Express", 1, "LM358N", 60, "Delivered", ""),
        ("SO-100107", "gus@example.com", -40, -35, "UPS Standard", 1, "IRF540N", 30, "Delivered", ""),
        ("SO-100108", "hana@example.jp", -60, -52, "DHL Express", 1, "MAX232CPE", 20, "Delivered", ""),
        ("SO-100109", "jon@example.com", -20, None, "UPS Standard", 1, "LM7805", 50, "Returned: wrong address", ""),
        ("SO-100110", "kim@example.kr", -9, -4, "DHL Express", 1, "MPU-6050", 20, "Delivered", "yes"),
    ]
    return [{"Order No": o, "Customer Email": c, "Ship Date": day(s), "Delivery Date": day(d), "Ship Via": m,
             "Boxes": b, "Part No": p, "Qty": q, "Carrier Status": st, "ESD/MSL": e, "Order Value": f"{q * 0.85:.2f}"}
            for o, c, s, d, m, b, p, q, st, e in rows]


def _inbox_mails(now: dt.datetime) -> list[EmailMessage]:
    return [
        _mail("anna@example.net", "Anna Adler", "Missing parts in order SO-100101",
              "Hello,\n\nwe received all 2 boxes of order SO-100101 and fully emptied each box, but 3 pcs of "
              "LM2596S are missing. Photos of the whole parcel are attached.\n\nAnna", now, photos=2),
        _mail("ben@example.org", "Ben Brooks", "SO-100102 incomplete",
              "Hi, 5 pcs of NE555P are missing from my order SO-100102.\n\nBen", now),
        _mail("chen@example.cn", "Chen Wei", "Where is my order SO-100103?",
              "Dear support, my parcel SO-100103 has still not arrived after four weeks.", now),
        _mail("dora@example.de", "Dora Berg", "SO-100104 not received",
              "Hello, I have not received order SO-100104 yet. Can you check?", now),
        _mail("emil@example.com", "Emil Eck", "Return SO-100105",
              "Hi, I ordered the ATMEGA328P-PU by mistake (order SO-100105) and would like to return them. "
              "The bags are unopened.", now),
        _mail("fay@example.com", "Fay Fox", "Return for SO-100106",
              "Hello, the LM358N from order SO-100106 are no longer needed, I want to return them.", now),
        _mail("gus@example.com", "Gus Grant", "Defective IRF540N, order SO-100107",
              "The IRF540N from SO-100107 are defective: they short on first power-up.", now),
        _mail("hana@example.jp", "Hana Ito", "Counterfeit MAX232CPE in SO-100108",
              "We believe the MAX232CPE in order SO-100108 are counterfeit. The lab report is attached.", now,
              report=("Test report TR-2026-0117", "Issued by SGS Taiwan Ltd., Electrical & Electronics",
                      "MAX232CPE, 20 pcs: marking inconsistent with the manufacturer; counterfeit suspected")),
        _mail("jon@example.com", "Jon Jones", "Order SO-100109 never arrived",
              "My order SO-100109 never arrived. Please send it again.", now),
        _mail("kim@example.kr", "Kim Min", "Return MPU-6050, order SO-100110",
              "We ordered the MPU-6050 by mistake and want to return them. We opened the ESD bag to check the "
              "marking, the rest is in the original packaging.", now),
        _mail("ivan@example.com", "Ivan Ivanov", "Parcel not received",
              "Hello, my parcel has not arrived. Please help.", now),
        _mail("mallory@example.biz", "Mallory", "Missing items SO-100101",
              "3 pcs of LM2596S are missing from SO-100101, please refund.", now),
        _mail("anna@example.net", "Anna Adler", "Out of office: Re: your order",
              "I am out of the office until Monday.", now, headers={"Auto-Submitted": "auto-replied"}),
    ]


def _seed(workspace: Path, now: dt.datetime) -> Path:
    if workspace.exists():
        if not (workspace / MARKER).exists() and any(workspace.iterdir()):
            raise MailbotError(f"{workspace} exists and is not a demo workspace: choose another --workspace")
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    (workspace / MARKER).write_text("made by rma-mailbot demo; deleted and made anew by the next demo\n")
    config_file = workspace / "config.toml"
    shutil.copyfile(example_config(), config_file)
    with (workspace / "orders.csv").open("w", newline="", encoding="utf-8") as handle:
        rows = _orders(now.date())
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _deliver(workspace / "inbox", _inbox_mails(now), now)
    return config_file


def _deliver(path: Path, mails: list[EmailMessage], now: dt.datetime) -> None:
    inbox = mailbox.Maildir(path, create=True)
    for n, message in enumerate(mails):
        stored = mailbox.MaildirMessage(message)
        stored.set_date(now.timestamp() - len(mails) + n)  # arrived one after the other, in this order
        inbox.add(stored)
    inbox.close()


def _answer_from_ben(rt: Runtime, workspace: Path, now: dt.datetime) -> None:
    """Ben answers the bot's question with the evidence it asked for."""
    ours = next(r for r in rt.store.replies_in_state("sent") if r["to_addr"] == "ben@example.org")
    answer = _mail("ben@example.org", "Ben Brooks", f"Re: {ours['subject'].removeprefix('Re: ')}",
                   "Hi, I confirm we received all boxes and emptied every box completely. Photos attached.\n\n"
                   "Ben\n\n> (our earlier mail)", now, photos=1, in_reply_to=ours["message_id"])
    _deliver(workspace / "inbox", [answer], now)


def run_demo(workspace: Path, now: dt.datetime) -> str:
    config_file = _seed(workspace.resolve(), now)
    config = config_module.load(config_file)
    now = now.astimezone(config.tz)
    rt = Runtime.open(config)
    try:
        source = open_source(config)
        first = poll_once(rt, source, lambda: now)
        _answer_from_ben(rt, config_file.parent, now)
        second = poll_once(rt, source, lambda: now)
        source.close()
        claims = [claim_json(row, config.bot.claim_ref_prefix) for row in rt.store.claims()]
    finally:
        rt.close()
    replies = sorted(config.outbox.folder.glob("*.eml"))
    return "\n".join([
        f"Demo workspace: {config_file.parent}",
        f"First poll: {first.fetched} mails, {first.ingested} taken in as claims, {first.machine} machine mail "
        f"stored but not answered, {first.replies_sent} mails written (to customers, and to the warehouse for "
        "complete missing-items claims).",
        f"Then Ben answered with the missing evidence; second poll: his answer joined his claim and "
        f"{second.replies_sent} more mails were written (his acknowledgement and the warehouse check).",
        "",
        claims_table(claims),
        "",
        f"Replies ({len(replies)}) are .eml files in {config.outbox.folder}",
        f"Look at one claim:   rma-mailbot --config {config_file} show CLM-00002",
        f"All claims as JSON:  rma-mailbot --config {config_file} claims --json",
        "",
        "To point the bot at a real inbox: copy config.example.toml to config.toml, set source.kind = \"imap\" "
        "and fill in [imap],",
        "set outbox.mode = \"drafts\" (staff send the replies) or \"smtp\" with [smtp], map your ERP export in "
        "[orders.columns],",
        "export RMA_MAILBOT_IMAP_PASSWORD (and RMA_MAILBOT_SMTP_PASSWORD), then run `rma-mailbot check-config` "
        "and `rma-mailbot run`.",
    ])
