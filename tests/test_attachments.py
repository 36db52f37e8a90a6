"""Attachments: the bytes decide what a part is; HEIC and winmail.dat photos count; limits hold."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile

import pytest
from PIL import Image

from conftest import CORPUS, Bot, write_config
from mails import STANDARD_ORDERS, claim_mail, photo, write_orders
from rma_mailbot import config as config_module
from rma_mailbot import limits
from rma_mailbot.config import LimitsConfig
from rma_mailbot.extract import extract
from rma_mailbot.models import Part
from rma_mailbot.parse import parse
from rma_mailbot.pipeline import Runtime

ORDER = re.compile(r"\bSO-?\d{6}\b", re.I)
KITTEN_TNEF = (CORPUS / "mimekit-tnef-payloads" / "christmas.tnef").read_bytes()


def heic(width=640, height=480) -> bytes:
    import pillow_heif  # noqa: F401 - registers the HEIF writer with Pillow

    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(out, "HEIF")
    return out.getvalue()


def zipped(*files: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()


PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(512)


def mail_with(*attachments: tuple[bytes, str, str, str]) -> bytes:
    message = claim_mail("alice@example.net", "SO-200001 short", "3 pcs of LM2596S are missing from SO-200001.")
    for data, maintype, subtype, name in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


# (id, attachment, sniffed type of the part, counts as a photo)
PARTS = [
    ("jpeg", (photo(), "image", "jpeg", "parcel.jpg"), "image/jpeg", True),
    ("heic_from_a_phone", (heic(), "image", "heic", "IMG_0042.HEIC"), "image/heic", True),
    ("heic_truncated", (heic()[:600], "image", "heic", "IMG_0043.HEIC"), "image/heic", False),
    ("program_named_photo_jpg", (PROGRAM, "image", "jpeg", "photo.jpg"), "application/x-msdownload", False),
    ("zip_of_photos_is_not_opened", (zipped(("a.jpg", photo())), "application", "zip", "photos.zip"),
     "application/zip", False),
    ("pdf_named_jpg", (b"%PDF-1.4\n%%EOF\n", "image", "jpeg", "scan.jpg"), "application/pdf", False),
]


@pytest.mark.parametrize(("attachment", "sniffed", "is_photo"), [r[1:] for r in PARTS], ids=[r[0] for r in PARTS])
def test_the_bytes_decide_what_a_part_is(attachment, sniffed, is_photo):
    parsed = parse(mail_with(attachment))
    [part] = parsed.parts
    assert part.sniffed == sniffed
    assert part.filename == attachment[3]
    assert (len(extract(parsed, ORDER).photos) == 1) is is_photo


def test_photos_inside_winmail_dat_count():
    parsed = parse(mail_with((KITTEN_TNEF, "application", "ms-tnef", "winmail.dat")))
    container, *inner = parsed.parts
    assert container.filename == "winmail.dat" and container.inside == ""
    kitten = next(p for p in inner if p.filename == "kitten-playing-with-a-christmas-tree.jpg")
    assert kitten.inside == "winmail.dat" and kitten.sniffed == "image/jpeg"
    [found] = extract(parsed, ORDER).photos
    assert found.size == len(kitten.payload)


def test_broken_winmail_dat_is_kept_as_it_is():
    parsed = parse(mail_with((KITTEN_TNEF[:40], "application", "ms-tnef", "winmail.dat")))
    assert [p.filename for p in parsed.parts] == ["winmail.dat"]


def part(size: int, sniffed: str = "image/jpeg", name: str = "p.jpg") -> Part:
    return Part("image/jpeg", b"x" * size, name, sniffed=sniffed)


LIMITS = LimitsConfig(max_message_bytes=10_000, max_attachments=2, max_attachment_bytes=1_000, max_claim_bytes=2_500)

# (id, parts, message bytes, claim bytes so far, kept names, refused reasons)
SPLITS = [
    ("all_within", [part(500, name="a"), part(500, name="b")], 2_000, 0, ["a", "b"], []),
    ("one_too_big", [part(500, name="a"), part(1_001, name="big")], 2_000, 0, ["a"], ["per file"]),
    ("too_many", [part(10, name=n) for n in "abc"], 2_000, 0, ["a", "b"], ["more than 2 files"]),
    ("claim_total", [part(900, name="a"), part(900, name="b")], 2_000, 1_000, ["a"], ["in total"]),
    ("whole_mail_too_big", [part(10, name="a")], 10_001, 0, [], ["the whole mail"]),
    ("program", [part(10, "application/x-msdownload", "setup.exe"), part(10, name="b")], 100, 0, ["b"],
     ["programs are not accepted"]),
]


@pytest.mark.parametrize(("parts", "message_bytes", "claim_bytes", "kept", "why"), [r[1:] for r in SPLITS],
                         ids=[r[0] for r in SPLITS])
def test_limits(parts, message_bytes, claim_bytes, kept, why):
    got, refused = limits.split(tuple(parts), LIMITS, message_bytes=message_bytes, claim_bytes=claim_bytes)
    assert [p.filename for p in got] == kept
    assert len(refused) == len(why)
    for item, words in zip(refused, why, strict=True):
        assert words in item.why and item.describe().startswith(item.part.filename)


@pytest.fixture
def bot(tmp_path):
    write_orders(tmp_path / "orders.csv", dt.date(2026, 11, 24), STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, max_attachment_bytes=100_000))
    rt = Runtime.open(config)
    yield Bot(config, rt, dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
    rt.close()


def test_oversized_photo_is_not_kept_and_the_reply_says_how_to_send_it(bot):
    big = photo(2400, 1800)  # noise-free, but still well over the 100 kB of this test's limit
    big = big + bytes(100_001 - len(big)) if len(big) <= 100_000 else big
    bot.deliver(claim_mail("alice@example.net", "SO-200001 short", "3 pcs of LM2596S are missing from SO-200001."))
    message = claim_mail("alice@example.net", "SO-200001 more", "We received all boxes and emptied every box.")
    message.add_attachment(big, maintype="image", subtype="jpeg", filename="IMG_big.jpg")
    message.add_attachment(photo(), maintype="image", subtype="jpeg", filename="IMG_small.jpg")
    message.add_attachment(PROGRAM, maintype="image", subtype="jpeg", filename="photo.jpg")
    message.add_attachment(zipped(("x.jpg", photo())), maintype="application", subtype="zip", filename="all.zip")
    bot.deliver(message, at=bot.now + dt.timedelta(minutes=1))
    bot.poll()
    [claim] = bot.claims()  # the second mail on the order joined the customer's open claim
    rows = {a["filename"]: a for a in bot.rt.store.attachments(claim["id"])}
    assert rows["IMG_big.jpg"]["path"] is None and "per file" in rows["IMG_big.jpg"]["refused"]
    assert rows["photo.jpg"]["path"] is None and rows["photo.jpg"]["content_type"] == "application/x-msdownload"
    assert rows["IMG_small.jpg"]["is_photo"] == 1 and rows["all.zip"]["content_type"] == "application/zip"
    assert claim["photos"] == 1
    assert not any(p.name.startswith(rows["photo.jpg"]["sha256"]) for p in bot.rt.store.blobs.root.rglob("*"))
    reply = [r for r in bot.rt.store.replies(claim["id"]) if r["reply_kind"] != "warehouse_check"][-1]["body_text"]
    assert "IMG_big.jpg" in reply and "smaller photo" in reply
    assert "programs are not accepted" in reply and "do not open archives" in reply
    raw = bot.rt.store.blobs.path(bot.rt.store.last_customer_message(claim["id"])["raw_path"]).read_bytes()
    assert b"IMG_big.jpg" in raw  # the mail itself is stored whole


def test_mail_over_the_size_limit_is_stored_whole_but_only_its_text_is_read(tmp_path):
    import os

    write_orders(tmp_path / "orders.csv", dt.date(2026, 11, 24), STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, max_message_bytes=1_500_000))
    rt = Runtime.open(config)
    bot = Bot(config, rt, dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
    try:
        message = claim_mail("carol@example.org", "Return SO-200003", "Ordered by mistake, please take them back.")
        message.add_attachment(os.urandom(2_000_000), maintype="image", subtype="jpeg", filename="huge.jpg")
        size = len(message.as_bytes())
        bot.deliver(message)
        bot.poll()
        [claim] = bot.claims()
        assert claim["state"] == "approved"  # the text was read and decided on
        assert bot.rt.store.attachments(claim["id"]) == []
        reply = bot.rt.store.replies(claim["id"])[-1]["body_text"]
        assert "over our limit of 1.5 MB per mail" in reply and "fewer or smaller photos" in reply
        stored = bot.rt.store.blobs.path(bot.rt.store.last_customer_message(claim["id"])["raw_path"])
        assert stored.stat().st_size == size
    finally:
        rt.close()
