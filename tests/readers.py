"""What a test has the report reader's process run instead of pdf.read_pdf. The process imports this
module under its memory limit, so it imports nothing heavy."""

from __future__ import annotations

import os

from rma_mailbot.models import PdfReading


def take_a_gigabyte(payload: bytes) -> PdfReading:
    return PdfReading(text="x" * 2**30)


def die_on_the_first(payload: bytes) -> PdfReading:
    """Ends the process, as the kernel does past RLIMIT_CPU, on a PDF marked so."""
    if payload.endswith(b"%%die\n"):
        os._exit(152)
    return PdfReading(text="read")
