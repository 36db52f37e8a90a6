"""A PDF's text, read with pypdf. Pure.

A PDF of a few kB can cost minutes of CPU and gigabytes to read (pages that each draw one huge deflated
stream), so read_pdf() caps what it reads; the bot runs it only in reports.ReportReader's process, under
CPU and memory limits, for what the caps do not foresee. Only that process imports pypdf.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError

from rma_mailbot.errors import ReportUnreadable
from rma_mailbot.models import PdfReading

# pypdf warns about every oddity of a broken or hostile file; that is noise in an inbox's log.
logging.getLogger("pypdf").setLevel(logging.ERROR)

MAX_REPORT_PAGES = 20
MAX_REPORT_TEXT_CHARS = 100_000
# A lab's report draws some kB of operators per page; pages drawing megabytes are built to be slow to read.
MAX_CONTENT_BYTES = 2_000_000
MAX_STREAM_BYTES = 10_000_000
# pypdf's own limits, lowered to what a report needs (its defaults: 75 MB a stream, 2 million tokens).
PYPDF_LIMITS = {
    "zlib_maximum_output_length": MAX_STREAM_BYTES,
    "lzw_maximum_output_length": MAX_STREAM_BYTES,
    "run_length_maximum_output_length": MAX_STREAM_BYTES,
    "brotli_maximum_output_length": MAX_STREAM_BYTES,
    "array_based_stream_maximum_output_length": MAX_STREAM_BYTES,
    "stream_parsing_work_maximum_count": 500_000,
    "xform_maximum_invocations_per_extraction": 100,
}


def read_pdf(payload: bytes) -> PdfReading:
    """The PDF's text (its first pages), or why it could not be read. Pure."""
    with apply_configuration(**PYPDF_LIMITS):
        try:
            reader = PdfReader(io.BytesIO(payload))
            if reader.is_encrypted and not reader.decrypt(""):
                return PdfReading(unreadable="encrypted with a password")
            return PdfReading(text=_text(reader))
        except Exception as exc:  # noqa: BLE001 - pypdf raises all kinds on hostile files; unreadable is the answer
            return PdfReading(unreadable=_why(exc))


def _why(exc: Exception) -> str:
    if isinstance(exc, ReportUnreadable):
        return str(exc)
    if isinstance(exc, LimitReachedError):
        return f"past our reading limits ({exc})"
    if isinstance(exc, MemoryError):
        return "needs more memory than a report may take"
    return f"not a readable PDF ({type(exc).__name__})"


def _text(reader: PdfReader) -> str:
    texts: list[str] = []
    content_bytes = 0
    for page in reader.pages[:MAX_REPORT_PAGES]:
        contents = page.get_contents()
        content_bytes += len(contents.get_data()) if contents is not None else 0
        if content_bytes > MAX_CONTENT_BYTES:
            raise ReportUnreadable(f"pages drawing more than {MAX_CONTENT_BYTES // 1_000_000} MB of content")
        texts.append(page.extract_text() or "")
        if sum(map(len, texts)) >= MAX_REPORT_TEXT_CHARS:
            break
    return "\n".join(texts)[:MAX_REPORT_TEXT_CHARS]
