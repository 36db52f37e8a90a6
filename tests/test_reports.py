"""PDF reports: what reading one finds (text, or why not), and the reader's process limits."""

from __future__ import annotations

import time

import pytest

from mails import claim_mail
from readers import die_on_the_first, take_a_gigabyte
from rma_mailbot import reports
from rma_mailbot.demo import sample_report
from rma_mailbot.hostile import LAB_LINES, report_with, shared_stream_report, token_heavy_report
from rma_mailbot.models import MailClass, PdfReading
from rma_mailbot.parse import parse
from rma_mailbot.parse_pool import MIN_BATCH, ParsePool
from rma_mailbot.pdf import read_pdf


@pytest.fixture
def reader():
    reader = reports.ReportReader()
    yield reader
    reader.close()


# (id, the report, why it is not read)
SLOW = [
    ("pages_sharing_a_huge_stream", shared_stream_report, "pages drawing more than 2 MB of content"),
    ("a_million_tokens_on_a_page", token_heavy_report, "past our reading limits (Reached maximum number of tokens"),
    ("encrypted", lambda: report_with(lambda w: w.encrypt("secret", algorithm="RC4-128")),
     "encrypted with a password"),
    ("not_a_pdf_at_all", lambda: b"%PDF-1.4 and then nothing", "not a readable PDF"),
]


@pytest.mark.parametrize(("make", "why"), [row[1:] for row in SLOW], ids=[row[0] for row in SLOW])
def test_a_report_past_the_caps_is_unreadable_within_seconds(make, why):
    started = time.process_time()
    reading = read_pdf(make())
    assert time.process_time() - started < 3  # today's main spent minutes on the first
    assert reading.unreadable.startswith(why) and reading.text == ""


def test_the_reader_process_reads_a_report(reader):
    assert reader.read(sample_report(*LAB_LINES)) == PdfReading(text="\n".join(LAB_LINES))


def test_a_report_that_ends_the_reader_is_unreadable_and_a_new_reader_takes_the_next():
    # tests/test_bounds.py has the real thing: a PDF the kernel stops at RLIMIT_CPU, in a poll.
    reader = reports.ReportReader(read=die_on_the_first)
    try:
        assert reader.read(b"%PDF-1.7\n%%die\n") == PdfReading(
            unreadable="reading took more than 5 CPU seconds or 128 MB")
        assert reader.read(b"%PDF-1.7\n") == PdfReading(text="read")
    finally:
        reader.close()


def test_a_report_past_the_memory_limit_is_unreadable():
    reader = reports.ReportReader(read=take_a_gigabyte)
    try:
        assert reader.read(b"%PDF-1.7") == PdfReading(unreadable="reading failed (MemoryError)")
    finally:
        reader.close()


def customer_mail_with(*pdfs: bytes, sender: str = "alice@example.net", **headers) -> bytes:
    message = claim_mail(sender, "Defective parts SO-200001", "The report is attached.", headers=headers)
    for n, data in enumerate(pdfs):
        message.add_attachment(data, maintype="application", subtype="pdf", filename=f"r{n}.pdf")
    return message.as_bytes()


def test_at_most_a_few_different_reports_of_a_mail_are_read():
    read = []
    report = sample_report(*LAB_LINES)
    others = [report + b"%% copy %d\n" % n for n in range(reports.MAX_REPORTS_PER_MAIL + 2)]
    mail = reports.with_readings(parse(customer_mail_with(report, report, *others)),
                                 lambda payload: read.append(payload) or read_pdf(payload))
    assert read == [report, *others[: reports.MAX_REPORTS_PER_MAIL - 1]]  # the same bytes are read once
    readings = [part.pdf for part in mail.parts]
    assert readings[0] == readings[1] and readings[0].text
    assert [r.unreadable for r in readings[-3:]] == ["more than 5 reports in one mail"] * 3


def test_only_customers_reports_are_read():
    bounce = parse(customer_mail_with(sample_report(*LAB_LINES), **{"Auto-Submitted": "auto-replied"}))
    assert bounce.mail_class is not MailClass.CUSTOMER
    assert reports.with_readings(bounce, pytest.fail) is bounce


def test_reports_of_a_busy_batch_are_read_too():
    raws = [customer_mail_with(sender=f"buyer{n}@example.org") for n in range(MIN_BATCH)]
    raws[3] = customer_mail_with(shared_stream_report())
    pool = ParsePool(1, {})
    try:
        parsed = list(pool.parse_all(raws))
        assert pool._executor is not None  # the batch went to a parse worker; the report to the reader
    finally:
        pool.close()
    [part] = parsed[3].parts
    assert part.pdf == PdfReading(unreadable="pages drawing more than 2 MB of content")
