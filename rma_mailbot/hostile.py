"""Hostile attachments built on demand, for the tests and the benchmarks (as testing.py's servers are):
pictures and PDF reports made to cost a reader minutes or gigabytes, and reports carrying active content."""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Callable

import pillow_heif
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import NameObject

from rma_mailbot.demo import sample_report

LAB_LINES = ("Test report 117", "Issued by SGS Taiwan Ltd.")
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
TEXT = b"BT /F1 12 Tf 72 770 Td (Issued by SGS Taiwan Ltd.) Tj ET\n"


def stream(dictionary: bytes, data: bytes, *, deflate: bool = True) -> bytes:
    if deflate:
        data, dictionary = zlib.compress(data, 9), dictionary + b" /Filter /FlateDecode"
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def raw_pdf(objects: dict[int, bytes], packed: dict[int, bytes] | None = None) -> bytes:
    """A PDF written byte by byte; object 1 is the catalog. ``packed`` objects are kept in a compressed
    object stream, with a cross-reference stream (PDF 1.5): pypdf writes neither."""
    packed = packed or {}
    body = dict(objects)
    holder = max([*objects, *packed]) + 1
    if packed:
        data, where = b"", []
        for num, text in packed.items():
            where.append(b"%d %d" % (num, len(data)))
            data += text + b"\n"
        head = b" ".join(where) + b"\n"
        body[holder] = stream(b"/Type /ObjStm /N %d /First %d" % (len(packed), len(head)), head + data)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(body):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body[num])
    xref = holder + 1
    offsets[xref] = len(out)
    index = {num: n for n, num in enumerate(packed)}
    rows = [(1, offsets[n], 0) if n in offsets else (2, holder, index[n]) if n in packed else (0, 0, 0)
            for n in range(xref + 1)]
    entries = b"".join(bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big") for kind, a, b in rows)
    out += b"%d 0 obj\n%s\nendobj\n" % (xref, stream(b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R" % (xref + 1),
                                                     entries, deflate=False))
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref]
    return bytes(out)


def one_page(contents: bytes, *, catalog: bytes = b"", resources: bytes = b"",
             more: dict[int, bytes] | None = None, packed: dict[int, bytes] | None = None) -> bytes:
    """A one-page report: catalog 1, pages 2, page 3, its content stream 4; more objects from 5 on."""
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R %s >>" % catalog,
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
           b"/Resources << /Font << /F1 %s >> %s >> >>" % (FONT, resources),
        4: stream(b"", contents),
        **(more or {}),
    }, packed)


@functools.cache
def huge_picture(fmt: str, mode: str = "RGB", **options) -> bytes:
    """9000 x 9000 pixels in a few hundred kB: 324 MB once decoded into Pillow's RGB."""
    out = io.BytesIO()
    Image.new(mode, (9000, 9000), 90).save(out, fmt, **options)
    return out.getvalue()


def phone_heic(width: int = 5712, height: int = 4284) -> bytes:
    """A phone camera's 24 MP HEIC photo (no hostile mail, but the dearest picture a customer sends:
    libheif decodes it whole). A gradient under coarse noise compresses like a photo, to some 0.7 MB."""
    noise = Image.effect_noise((width // 8, height // 8), 40).resize((width, height)).convert("RGB")
    picture = Image.blend(Image.linear_gradient("L").resize((width, height)).convert("RGB"), noise, 0.3)
    out = io.BytesIO()
    pillow_heif.from_pillow(picture).save(out, quality=50)
    return out.getvalue()


def nested_quotes(depth: int = 20_000) -> str:
    """340 kB of HTML that html2text made 400 million characters of."""
    return "<blockquote>quote" * depth


# --- PDFs built to be slow -----------------------------------------------------------------------

def shared_stream_report(pages: int = 20, operators: int = 660_000) -> bytes:
    """About 10 kB: every page draws the same deflated content stream of some 4 MB (pypdf parses it once
    per page, seconds each: today's 20 pages took minutes)."""
    kids = b" ".join(b"%d 0 R" % (10 + n) for n in range(pages))
    return raw_pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        3: stream(b"", TEXT + b"0 0 m\n" * operators),
        **{10 + n: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
                   b"/Resources << /Font << /F1 %s >> >> >>" % FONT for n in range(pages)},
    })


def token_heavy_report(operators: int = 330_000) -> bytes:
    """One page of just under 2 MB of content, about a million tokens."""
    return one_page(TEXT + b"0 0 m\n" * operators)


def form_heavy_report(calls: int = 100, operators: int = 150_000) -> bytes:
    """Small content that draws one form XObject of 450,000 tokens a hundred times: a second of CPU for
    each, within every cap on sizes and counts; only the reader's CPU limit stops it."""
    form = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /Font << /F1 %s >> >>" % FONT,
                  b"BT /F1 12 Tf (a) Tj ET\n" + b"0 0 m\n" * operators)
    return one_page(TEXT + b"/X0 Do\n" * calls, resources=b"/XObject << /X0 5 0 R >>", more={5: form})


# --- active content ------------------------------------------------------------------------------

def report_with(change: Callable[[PdfWriter], None]) -> bytes:
    """A lab's report (it names SGS in its text), changed through pypdf's writer."""
    writer = PdfWriter(clone_from=io.BytesIO(sample_report(*LAB_LINES)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def javascript_report() -> bytes:
    return report_with(lambda writer: writer.root_object.__setitem__(NameObject("/OpenAction"),
                                                                     JavaScript("app.alert(1)")))


def embedded_file_report() -> bytes:
    return report_with(lambda writer: writer.add_attachment("invoice.exe", b"MZ\x90\x00"))
