"""Parsing in worker processes: the same results as parsing here, in order, and a crash costs one mail."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import pytest

from conftest import Bot, wait_until, write_config
from mails import COMPLETE_MISSING_ITEMS, STANDARD_ORDERS, claim_mail, write_orders
from rma_mailbot import config as config_module
from rma_mailbot.errors import ParseError
from rma_mailbot.parse_pool import MIN_BATCH, ParsePool, parse_or_error
from rma_mailbot.pipeline import Runtime

CRASH_MARKER = b"X-Test-Crash-The-Parser: yes"


def crashing_worker(raw: bytes, options: dict):
    """Dies as a decoder crashing in C would: no exception, the process is simply gone."""
    if CRASH_MARKER in raw:
        os._exit(70)
    return parse_or_error(raw, options)


def backlog(n: int) -> list[bytes]:
    mails = [claim_mail(f"buyer{i}@example.org", f"Return SO-2000{i:02d}", f"Mail number {i}, ordered by mistake.")
             for i in range(n)]
    return [m.as_bytes() for m in mails]


@pytest.fixture
def pool():
    pool = ParsePool(1, {"own_addresses": frozenset({"support@example.com"})}, worker=crashing_worker)
    yield pool
    pool.close()


def test_a_batch_parsed_by_workers_equals_one_parsed_here(pool):
    raws = backlog(MIN_BATCH + 4) + [b""]
    pooled = list(pool.parse_all(raws))
    here = [parse_or_error(raw, {"own_addresses": frozenset({"support@example.com"})}) for raw in raws]
    assert pool._executor is not None  # the batch really went to a worker
    assert pooled[:-1] == here[:-1]
    assert [m.text for m in pooled[:3]] == [f"Mail number {i}, ordered by mistake." for i in range(3)]
    assert isinstance(pooled[-1], ParseError) and str(pooled[-1]) == str(here[-1]) == "empty message"


def test_a_mail_that_kills_its_worker_is_an_error_and_the_others_are_parsed(pool):
    raws = backlog(MIN_BATCH + 2)
    raws[5] = CRASH_MARKER + b"\r\n" + raws[5]
    results = list(pool.parse_all(raws))
    assert len(results) == len(raws)
    assert isinstance(results[5], ParseError) and "parser process died" in str(results[5])
    assert [r.sender for n, r in enumerate(results) if n != 5] == [
        f"buyer{i}@example.org" for i in range(len(raws)) if i != 5]
    assert list(pool.parse_all(backlog(MIN_BATCH)))[0].sender == "buyer0@example.org"  # a new pool took over


def test_a_decoder_surprise_is_a_parse_error_not_a_stopped_poll(monkeypatch):
    def explode(payload):
        raise RuntimeError("decoder bug")

    monkeypatch.setattr("rma_mailbot.parse.decode_photo", explode)
    raw = claim_mail("buyer@example.org", "Missing SO-200001", COMPLETE_MISSING_ITEMS, photos=1).as_bytes()
    result = parse_or_error(raw, {})
    assert isinstance(result, ParseError) and str(result) == "parsing failed: RuntimeError: decoder bug"


def test_a_small_batch_is_parsed_here(pool):
    raws = backlog(MIN_BATCH - 1)
    assert [r.sender for r in pool.parse_all(raws)] == [f"buyer{i}@example.org" for i in range(MIN_BATCH - 1)]
    assert pool._executor is None


def test_a_backlog_through_the_workers_gets_every_answer_once(tmp_path):
    today = dt.date(2026, 11, 24)
    write_orders(tmp_path / "orders.csv", today, STANDARD_ORDERS)
    config = config_module.load(write_config(tmp_path / "config.toml"))
    assert config.bot.parse_in_workers
    rt = Runtime.open(config)
    bot = Bot(config, rt, dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC))
    try:
        for n in range(12):
            bot.deliver(claim_mail("alice@example.net", f"Missing SO-200001 ({n})", COMPLETE_MISSING_ITEMS,
                                   photos=1, message_id=f"<m{n}@example.net>"))
        bot.deliver(b"")
        report = bot.poll()
        assert rt.parser._executor is not None or os.cpu_count() == 1
    finally:
        rt.close()
    assert (report.fetched, report.ingested, report.quarantined) == (13, 12, 1) and report.replies_sent >= 2
    replies = bot.replies()
    assert len({r["Message-ID"] for r in replies}) == len(replies) == report.replies_sent


KEEP_A_WORKER = """
import sys, threading
from rma_mailbot.parse_pool import MIN_BATCH, ParsePool
pool = ParsePool(1, {})
list(pool.parse_all([b"Subject: hello\\r\\n\\r\\nhi\\r\\n"] * MIN_BATCH))
print(*pool._executor._processes, flush=True)
threading.Event().wait()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_end_when_the_bot_is_killed():
    bot = subprocess.Popen([sys.executable, "-c", KEEP_A_WORKER], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in bot.stdout.readline().split()]
        assert workers and all(map(_alive, workers))
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    wait_until(lambda: not any(map(_alive, workers)), 20, "the orphaned parse workers to exit")
