"""Claim mails and order books that tests build for themselves."""

from __future__ import annotations

import csv
import datetime as dt
import io
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from PIL import Image

ORDER_FIELDS = ["Order No", "Customer Email", "Ship Date", "Delivery Date", "Ship Via", "Boxes", "Part No", "Qty",
                "Carrier Status", "ESD/MSL", "Order Value"]


def photo(width: int = 640, height: int = 480, colour=(200, 150, 100), fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


def claim_mail(sender: str, subject: str, body: str, *, name: str = "", photos: int = 0,
               when: dt.datetime | None = None, in_reply_to: str = "", references: str = "",
               headers: dict[str, str] | None = None, message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>" if name else sender
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Date"] = format_datetime(when or dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id or make_msgid(domain=sender.split("@")[1])
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references or in_reply_to
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(body)
    for n in range(photos):
        message.add_attachment(photo(colour=(200, 150, (100 + 60 * n) % 256)), maintype="image", subtype="jpeg",
                               filename=f"parcel{n}.jpg")
    return message


def write_orders(path: Path, today: dt.date, rows: list[tuple]) -> Path:
    """rows: (order, customer, shipped offset, delivered offset or None, method, boxes, part, qty
    [, carrier status, sensitive flag, order value])."""

    def day(offset):
        return (today + dt.timedelta(days=offset)).isoformat() if offset is not None else ""

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORDER_FIELDS)
        for order, customer, shipped, delivered, method, boxes, part, qty, *more in rows:
            status, sensitive, value = (*more, "", "", "")[:3]
            writer.writerow([order, customer, day(shipped), day(delivered), method, boxes, part, qty, status,
                             sensitive, value])
    return path


STANDARD_ORDERS = [
    ("SO-200001", "alice@example.net", -6, -2, "DHL Express", 2, "LM2596S", 40),
    ("SO-200002", "bob@example.org", -30, None, "DHL Express", 1, "NE555P", 10),
    ("SO-200003", "carol@example.org", -5, -3, "DHL Express", 1, "LM358N", 25),
]

COMPLETE_MISSING_ITEMS = (
    "Hello, we received all 2 boxes of order SO-200001 and fully emptied each box, "
    "but 3 pcs of LM2596S are missing. Photos of the whole parcel attached."
)
