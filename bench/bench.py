"""Backlog throughput, reply latency and memory, each against the floor the machine and Dovecot allow.

Run with `bash bench/run` (it installs what it needs); `bash bench/run --help` for the options.

- floor: a bare imapclient loop that FETCHes every message (BODY.PEEK[], batches of 50) and parses
  each with mail-parser, nothing else;
- bot: `rma-mailbot poll` until every mail is a claim and every reply has reached the SMTP server;
- growth: both at several backlog sizes (each in a mailbox of its own);
- latency: the daemon on IDLE, one complete claim APPENDed at a time, until its reply reaches the
  SMTP server; the floor is a bare IDLE client seeing EXISTS.
- relay: for scale, how long a bare smtplib loop takes to hand the mails the bot sent (replies, and
  warehouse mails carrying the customers' photos) to a fresh SMTP server of the same kind.
- hostile: `rma-mailbot poll` over one of each hostile mail of issue 12 (HTML of 20,000 nested quotes,
  a 9000 x 9000 PNG, twenty PDFs whose pages draw one huge stream, a PDF built to take minutes of CPU,
  PDFs with JavaScript and an embedded file) and normal mails behind them: peak RSS and time.

The SMTP server is Postfix's smtp-sink (C, like the MTA a desk relays through; `bench/run` unpacks it
from Debian's postfix package into bench/.tools, installing nothing), so that the relay does not
compete with the bot for the CPU as a Python server would: aiosmtpd needs more time to take in the
photos the bot forwards than the whole floor takes. `--relay aiosmtpd` measures against aiosmtpd
instead; the latency run always uses aiosmtpd, which timestamps each arrival.

Both the floor and the bot run as child processes; a peak RSS counts the child and the processes it
starts (the bot's parse workers).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import imapclient
import tomli_w
from PIL import Image

from rma_mailbot.hostile import (
    embedded_file_report,
    form_heavy_report,
    huge_picture,
    javascript_report,
    nested_quotes,
    phone_heic,
    shared_stream_report,
)
from rma_mailbot.testing import dovecot, free_port, smtp_recorder

ROOT = Path(__file__).resolve().parents[1]
SMTP_SINK = ROOT / "bench" / ".tools" / "postfix"
TARGET_RATIO = 1.25
TARGET_RSS_MB = 250
TARGET_LATENCY_OVER_FLOOR_MS = 150

FLOOR = """
import sys, time, imapclient, mailparser
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
client = imapclient.IMAPClient(host, port=port, ssl=False, timeout=60)
client.login(user, password)
client.select_folder("INBOX", readonly=True)
uids = sorted(client.search("ALL"))
for start in range(0, len(uids), 50):
    for uid, data in client.fetch(uids[start:start + 50], ["BODY.PEEK[]"]).items():
        mailparser.parse_from_bytes(data[b"BODY[]"])
client.logout()
"""


# --- the backlog -----------------------------------------------------------------------------------

def photos(rng: random.Random, count: int = 24) -> list[bytes]:
    """Noise JPEGs of 150 to 400 kB: they neither compress nor decode faster than real photos."""
    made = []
    while len(made) < count:
        width = rng.choice([640, 720, 800, 880, 960])
        height = width * 3 // 4
        out = io.BytesIO()
        Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3)).save(out, "JPEG", quality=70)
        if 150_000 <= len(out.getvalue()) <= 400_000:
            made.append(out.getvalue())
    return made


def unique(jpeg: bytes, tag: bytes) -> bytes:
    """The same picture with a JPEG comment segment of its own: a distinct file, as every real photo is."""
    comment = b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag
    return jpeg[:2] + comment + jpeg[2:]


def orders(size: int, start: int) -> list[dict]:
    today = dt.date.today()
    return [{"Order No": f"SO-{700000 + i}", "Customer Email": f"c{i}@example.org",
             "Ship Date": (today - dt.timedelta(days=6)).isoformat(),
             "Delivery Date": (today - dt.timedelta(days=2)).isoformat(), "Ship Via": "DHL Express", "Boxes": 2,
             "Part No": "LM2596S", "Qty": 40, "Carrier Status": "Delivered", "ESD/MSL": "", "Order Value": "120.00"}
            for i in range(start, start + size)]


def customer_message(i: int, message_id: str) -> tuple[EmailMessage, str]:
    """A mail from bench customer i to the desk, still without subject and body; and the customer's order."""
    message = EmailMessage()
    message["From"] = f"Customer {i} <c{i}@example.org>"
    message["To"] = "support@example.com"
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id
    return message, f"SO-{700000 + i}"


def mails(size: int, seed: int, start: int):
    """Claim mails, one at a time: 40% carry one to three photos; kinds mixed as a desk sees them."""
    rng = random.Random(seed)
    pictures = photos(rng)
    for i in range(start, start + size):
        message, order = customer_message(i, f"<bench{i}.{seed}@example.org>")
        if rng.random() < 0.4:
            message["Subject"] = f"Missing items in {order}"
            message.set_content(f"Hello,\n\nwe received all 2 boxes of order {order} and fully emptied each box, "
                                f"but 3 pcs of LM2596S are missing. Photos attached.\n\nCustomer {i}\n")
            for n in range(rng.randint(1, 3)):
                jpeg = unique(rng.choice(pictures), f"{i}-{n}".encode())
                message.add_attachment(jpeg, maintype="image", subtype="jpeg", filename=f"IMG_{i}_{n}.jpg")
        elif rng.random() < 0.5:
            message["Subject"] = f"Return {order}"
            message.set_content(f"Hi, I ordered the parts of {order} by mistake and would like to return them.\n")
        else:
            message["Subject"] = f"{order} incomplete"
            message.set_content(f"Hi, 5 pcs of LM2596S are missing from my order {order}.\n")
        yield message.as_bytes()


def hostile_mails(start: int) -> list[tuple[str, bytes]]:
    """(what it is, the mail): one of each hostile mail, from customers start, start + 1, ..."""
    def claim(n: int, subject: str, body: str, *files: tuple[bytes, str, str, str], body_type: str = "plain") -> bytes:
        message, order = customer_message(start + n, f"<hostile{start + n}@example.org>")
        message["Subject"] = subject.format(order=order)
        message.set_content(body.format(order=order), subtype=body_type)
        for data, maintype, subtype, name in files:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return message.as_bytes()

    missing = ("We received all 2 boxes of order {order} and fully emptied each box, but 3 pcs of LM2596S are "
               "missing. Photos attached.")
    defective = "The LM2596S modules of order {order} are defective; the lab's report is attached."
    pdf = ("application", "pdf", "report.pdf")
    shared = shared_stream_report()
    return [
        ("HTML of 20,000 nested quotes", claim(0, "Missing items in {order}", f"<p>{missing}</p>{nested_quotes()}",
                                                body_type="html")),
        ("a 9000 x 9000 PNG", claim(1, "Missing items in {order}", missing,
                                    (huge_picture("PNG"), "image", "png", "parcel.png"))),
        ("a phone's 24 MP HEIC photo", claim(6, "Missing items in {order}", missing,
                                             (phone_heic(), "image", "heic", "parcel.heic"))),
        ("20 PDFs whose 20 pages each draw one 4 MB stream", claim(
            2, "Defective parts {order}", defective, *((shared + b"%% copy %d\n" % n, *pdf) for n in range(20)))),
        ("a PDF drawing one heavy form 100 times", claim(3, "Defective parts {order}", defective,
                                                          (form_heavy_report(), *pdf))),
        ("a PDF with JavaScript", claim(4, "Defective parts {order}", defective, (javascript_report(), *pdf))),
        ("a PDF with an embedded file", claim(5, "Defective parts {order}", defective,
                                              (embedded_file_report(), *pdf))),
    ]


# --- running things --------------------------------------------------------------------------------

def timed(command: list[str], quiet: bool = False) -> tuple[float, float, float]:
    """(seconds, peak RSS in MB, CPU seconds) of a child Python and every process it starts (the bot's
    parse workers).

    The child's own peak is exact (bench/peak.py reads its VmHWM); the whole tree's is sampled from
    /proc every 20 ms and summed. The larger of the two is reported. CPU is user + system time of the
    child and the processes it waited for (wait4)."""
    with tempfile.NamedTemporaryFile(prefix="rma-bench-rss-") as peak:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "peak.py"), *command],
                                 stdout=subprocess.DEVNULL if quiet else None,
                                 env={**os.environ, "PEAK_RSS_FILE": peak.name})
        tree_kb = 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                child.returncode = os.waitstatus_to_exitcode(status)
                break
            tree_kb = max(tree_kb, tree_rss_kb(child.pid))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        if child.returncode != 0:
            raise RuntimeError(f"{command[:3]} exited with {child.returncode}")
        return elapsed, max(int(Path(peak.name).read_text()), tree_kb) / 1024, usage.ru_utime + usage.ru_stime


def tree_rss_kb(root: int) -> int:
    """The summed VmRSS of a process and all its descendants, now (0 for processes already gone)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


Envelope = tuple[str, list[str], bytes]  # (sender, recipients, message) as the SMTP server took it


class SmtpSink:
    """Postfix's smtp-sink on a free loopback port, dumping every mail to a file of its own."""

    def __init__(self):
        binary = SMTP_SINK / "usr" / "sbin" / "smtp-sink"
        if not binary.exists():
            raise SystemExit(f"{binary} is missing: run the benchmarks with `bash bench/run`, "
                             "which unpacks it, or pass --relay aiosmtpd")
        self._dumps = Path(tempfile.mkdtemp(prefix="rma-bench-sink-"))
        self.port = free_port()
        # smtp-sink refuses to run as root without a user to drop to; that user writes the dumps.
        as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self._dumps.chmod(0o777)
        self._process = subprocess.Popen(
            [str(binary), *as_user, "-d", f"{self._dumps}/m", f"127.0.0.1:{self.port}", "64"],
            env={**os.environ, "LD_LIBRARY_PATH": str(SMTP_SINK / "usr" / "lib" / "postfix")})
        wait(self._listening, 10)

    def _listening(self) -> bool:
        if self._process.poll() is not None:  # e.g. a shared library missing: its own message is above
            raise SystemExit(f"smtp-sink exited with {self._process.returncode}")
        try:
            smtplib.SMTP("127.0.0.1", self.port, timeout=5).quit()
            return True
        except OSError:
            return False

    def messages(self) -> list[Envelope]:
        """What was accepted; each dump starts with smtp-sink's X-Mail-Args and X-Rcpt-Args lines."""
        out = []
        for dump in sorted(self._dumps.iterdir()):
            envelope, _, message = dump.read_bytes().partition(b"\nReceived: ")
            lines = envelope.decode().splitlines()
            sender = next(line.split(" ", 1)[1].strip("<>") for line in lines if line.startswith("X-Mail-Args:"))
            recipients = [line.split(" ", 1)[1].strip("<>") for line in lines if line.startswith("X-Rcpt-Args:")]
            out.append((sender, recipients, (b"Received: " + message).replace(b"\n", b"\r\n")))
        return out

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        shutil.rmtree(self._dumps, ignore_errors=True)


@contextlib.contextmanager
def smtp_server(kind: str) -> Iterator[tuple[int, Callable[[], list[Envelope]]]]:
    """(port, what it has accepted so far) of a fresh SMTP server on loopback."""
    if kind == "aiosmtpd":
        with smtp_recorder() as (controller, handler):
            yield controller.port, lambda: list(handler.messages)
        return
    sink = SmtpSink()
    try:
        yield sink.port, sink.messages
    finally:
        sink.close()


def relay_floor(kind: str, sent: list[Envelope]) -> float:
    """Seconds a bare smtplib loop takes to hand the bot's outgoing mails to a fresh SMTP server of the
    same kind: the share of the bot's time that is the relay receiving (warehouse mails carry photos)."""
    with smtp_server(kind) as (port, _):
        client = smtplib.SMTP("127.0.0.1", port, timeout=60)
        started = time.perf_counter()
        for mail_from, recipients, raw in sent:
            client.sendmail(mail_from, recipients, raw)
        elapsed = time.perf_counter() - started
        client.quit()
    return elapsed


def append(port: int, user: str, password: str, messages) -> int:
    """APPEND the mails one by one; returns their total size. Never holds the backlog in memory: the
    children measured later are forked from this process, and would count its pages as theirs."""
    client = imapclient.IMAPClient("127.0.0.1", port=port, ssl=False, timeout=60)
    client.login(user, password)
    total = 0
    for raw in messages:
        client.append("INBOX", raw)
        total += len(raw)
    client.logout()
    return total


def write_workspace(work: Path, server, user: str, password: str, smtp_port: int, book: list[dict],
                    poll_interval: int = 60) -> Path:
    with (work / "orders.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(book[0]))
        writer.writeheader()
        writer.writerows(book)
    data = tomllib.loads((ROOT / "config.example.toml").read_text())
    data["bot"]["poll_interval_seconds"] = poll_interval
    data["source"]["kind"] = "imap"
    data["imap"].update(host="127.0.0.1", port=server.port, tls="none", username=user, password_env="BENCH_PASSWORD")
    data["smtp"].update(host="127.0.0.1", port=smtp_port, tls="none", username="")
    data["outbox"]["mode"] = "smtp"
    data["limits"]["max_replies_per_sender"] = 1000
    config = work / "config.toml"
    config.write_text(tomli_w.dumps(data))
    os.environ["BENCH_PASSWORD"] = password
    return config


def throughput(server, size: int, seed: int, start: int, relay: str) -> dict:
    user, password = server.add_user()
    total = append(server.port, user, password, mails(size, seed, start))
    floor_s, floor_rss, floor_cpu = timed(["-c", FLOOR, "127.0.0.1", str(server.port), user, password])
    with tempfile.TemporaryDirectory(prefix="rma-bench-") as work, smtp_server(relay) as (port, accepted):
        config = write_workspace(Path(work), server, user, password, port, orders(size, start))
        bot_s, bot_rss, bot_cpu = timed(["-m", "rma_mailbot", "--config", str(config), "poll"], quiet=True)
        sent = accepted()
    customers = {tos[0] for _, tos, _ in sent if tos[0] != "warehouse@example.com"}
    if len(customers) != size:
        raise RuntimeError(f"only {len(customers)} of {size} customers were answered")
    relay_s = relay_floor(relay, sent)
    sent_mb = sum(len(raw) for _, _, raw in sent) / 1e6
    return {"mails": size, "megabytes": round(total / 1e6, 1), "floor_s": round(floor_s, 2),
            "floor_rss_mb": round(floor_rss), "bot_s": round(bot_s, 2), "bot_rss_mb": round(bot_rss),
            "ratio": round(bot_s / floor_s, 2), "bot_mails_per_s": round(size / bot_s, 1),
            "floor_mails_per_s": round(size / floor_s, 1), "sent_megabytes": round(sent_mb, 1),
            "relay_s": round(relay_s, 2), "ratio_with_relay": round(bot_s / (floor_s + relay_s), 2),
            "floor_cpu_s": round(floor_cpu, 1), "bot_cpu_s": round(bot_cpu, 1)}


def hostile(server, normal: int, seed: int, start: int, relay: str) -> dict:
    """A poll over one of each hostile mail and ``normal`` mails behind them: every customer is answered
    (the hostile claims wait for staff), within the memory target."""
    made = hostile_mails(start)
    raws = [raw for _, raw in made] + list(mails(normal, seed, start + len(made)))
    user, password = server.add_user()
    total = append(server.port, user, password, raws)
    with tempfile.TemporaryDirectory(prefix="rma-bench-") as work, smtp_server(relay) as (port, accepted):
        config = write_workspace(Path(work), server, user, password, port, orders(len(raws), start))
        bot_s, bot_rss, bot_cpu = timed(["-m", "rma_mailbot", "--config", str(config), "poll"], quiet=True)
        sent = accepted()
    customers = {tos[0] for _, tos, _ in sent if tos[0] != "warehouse@example.com"}
    if len(customers) != len(raws):
        raise RuntimeError(f"only {len(customers)} of {len(raws)} customers were answered")
    return {"hostile": [what for what, _ in made], "normal": normal, "megabytes": round(total / 1e6, 1),
            "bot_s": round(bot_s, 2), "bot_rss_mb": round(bot_rss), "bot_cpu_s": round(bot_cpu, 1)}


def latency(server, rounds: int, seed: int) -> dict:
    """Milliseconds from APPEND to the reply at the SMTP server, against a bare IDLE client's EXISTS."""
    book = orders(rounds * 10, 900_000)
    complete = [m for m in mails(rounds * 10, seed, 900_000) if b"Missing items in" not in m][:rounds]
    user, password = server.add_user()
    floor = [idle_floor(server, user, password, raw) for raw in complete[: rounds]]
    user, password = server.add_user()
    with tempfile.TemporaryDirectory(prefix="rma-bench-") as work, smtp_recorder() as (controller, handler):
        config = write_workspace(Path(work), server, user, password, controller.port, book, poll_interval=300)
        daemon = subprocess.Popen([sys.executable, "-m", "rma_mailbot", "--config", str(config), "run"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait(lambda: _idle_connected(config), 60)
            client = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=60)
            client.login(user, password)
            bot = []
            for raw in complete:
                before = len(handler.messages)
                started = time.monotonic()
                client.append("INBOX", raw)
                wait(lambda b=before: len(handler.messages) > b, 30)
                bot.append((handler.arrivals[before] - started) * 1000)
            client.logout()
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
    return {"rounds": len(bot), "floor_median_ms": round(statistics.median(floor), 1),
            "floor_p95_ms": round(percentile(floor, 95), 1), "bot_median_ms": round(statistics.median(bot), 1),
            "bot_p95_ms": round(percentile(bot, 95), 1)}


def idle_floor(server, user: str, password: str, raw: bytes) -> float:
    watcher = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=60)
    watcher.login(user, password)
    watcher.select_folder("INBOX")
    watcher.idle()
    seen = threading.Event()
    started = [0.0]

    def put() -> None:
        sender = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=60)
        sender.login(user, password)
        started[0] = time.monotonic()
        sender.append("INBOX", raw)
        sender.logout()

    threading.Thread(target=put).start()
    while not seen.is_set():
        for response in watcher.idle_check(timeout=10):
            if len(response) > 1 and response[1] == b"EXISTS":
                seen.set()
    elapsed = (time.monotonic() - started[0]) * 1000
    watcher.idle_done()
    watcher.logout()
    return elapsed


def _idle_connected(config: Path) -> bool:
    result = subprocess.run([sys.executable, "-m", "rma_mailbot", "--config", str(config), "status", "--json"],
                            capture_output=True, text=True)
    return result.returncode == 0 and json.loads(result.stdout)["idle_connected"]


def wait(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.005)


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# --- report ----------------------------------------------------------------------------------------

def report(results: dict) -> str:
    lines = [f"rma_mailbot benchmark, {results['date']}, {results['machine']}; SMTP server: {results['relay']}", "",
             "mails   MB in   floor s  bot s   ratio  bot mails/s  floor RSS MB  bot RSS MB  MB out  relay s  "
             "bot/(floor+relay)  floor CPU s  bot CPU s",
             "------  ------  -------  ------  -----  -----------  ------------  ----------  ------  -------  "
             "-----------------  -----------  ---------"]
    for row in results["throughput"]:
        lines.append(f"{row['mails']:>6}  {row['megabytes']:>6}  {row['floor_s']:>7}  {row['bot_s']:>6}  "
                     f"{row['ratio']:>5}  {row['bot_mails_per_s']:>11}  {row['floor_rss_mb']:>12}  "
                     f"{row['bot_rss_mb']:>10}  {row['sent_megabytes']:>6}  {row['relay_s']:>7}  "
                     f"{row['ratio_with_relay']:>17}  {row['floor_cpu_s']:>11}  {row['bot_cpu_s']:>9}")
    if "hostile" in results:
        row = results["hostile"]
        lines += ["", f"hostile: {len(row['hostile'])} hostile mails ({'; '.join(row['hostile'])}) and "
                      f"{row['normal']} normal, {row['megabytes']} MB: bot {row['bot_s']} s, peak RSS "
                      f"{row['bot_rss_mb']} MB (bot and its workers), {row['bot_cpu_s']} CPU s"]
    for name, check in results["verdicts"].items():
        lines.append(f"{'PASS' if check['pass'] else 'MISS'}  {name}: {check['detail']}")
    if "latency" in results:
        lat = results["latency"]
        lines.insert(len(lines) - len(results["verdicts"]), "")
        lines.insert(len(lines) - len(results["verdicts"]),
                     f"latency over {lat['rounds']} mails: bot median {lat['bot_median_ms']} ms, p95 "
                     f"{lat['bot_p95_ms']} ms; floor (bare IDLE sees EXISTS) median {lat['floor_median_ms']} ms, "
                     f"p95 {lat['floor_p95_ms']} ms")
    return "\n".join(lines)


def verdicts(results: dict, headline: int) -> dict:
    rows = {r["mails"]: r for r in results["throughput"]}
    out = {}
    if rows:  # none when only the hostile run or the latency run was asked for
        main = rows.get(headline) or list(rows.values())[-1]
        out["ratio"] = {"pass": main["ratio"] <= TARGET_RATIO,
                        "detail": f"bot/floor {main['ratio']} at {main['mails']} mails (target <= {TARGET_RATIO})"}
        peak = max(r["bot_rss_mb"] for r in rows.values())
        out["memory"] = {"pass": peak < TARGET_RSS_MB, "detail": f"peak RSS {peak} MB (target < {TARGET_RSS_MB})"}
    sizes = sorted(rows)
    if len(sizes) > 1:
        small, large = rows[sizes[0]], rows[sizes[-1]]
        per_mail = (large["bot_s"] / large["mails"]) / (small["bot_s"] / small["mails"])
        out["growth"] = {"pass": per_mail <= 1.2 and large["bot_rss_mb"] <= small["bot_rss_mb"] * 1.5,
                         "detail": f"time per mail x{per_mail:.2f} and RSS x"
                                   f"{large['bot_rss_mb'] / small['bot_rss_mb']:.2f} from {sizes[0]} to {sizes[-1]} "
                                   "mails (linear or better: time per mail and RSS stay flat)"}
    if "hostile" in results:
        peak = results["hostile"]["bot_rss_mb"]
        out["hostile_memory"] = {"pass": peak < TARGET_RSS_MB,
                                 "detail": f"peak RSS {peak} MB over the hostile mails (target < {TARGET_RSS_MB})"}
    if "latency" in results:
        lat = results["latency"]
        over = lat["bot_median_ms"] - lat["floor_median_ms"]
        out["latency"] = {"pass": over <= TARGET_LATENCY_OVER_FLOOR_MS,
                          "detail": f"median {over:.0f} ms over the floor (target <= {TARGET_LATENCY_OVER_FLOOR_MS})"}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,2000,8000", help="backlog sizes (default: 500,2000,8000)")
    parser.add_argument("--headline", type=int, default=2000, help="the size the ratio target is judged at")
    parser.add_argument("--latency", type=int, default=30, help="mails for the latency run (0: skip)")
    parser.add_argument("--hostile", type=int, default=20,
                        help="normal mails behind the hostile ones in the hostile run (-1: skip it)")
    parser.add_argument("--seed", type=int, default=7, help="the backlog's random seed")
    parser.add_argument("--relay", choices=["postfix", "aiosmtpd"], default="postfix",
                        help="the SMTP server the bot sends to in the backlog runs (default: Postfix's smtp-sink)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    results: dict = {"date": dt.date.today().isoformat(),
                     "machine": f"{platform.node() and 'this machine'}: {os.cpu_count()} cores, "
                                f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB, "
                                f"Python {platform.python_version()}",
                     "relay": "Postfix smtp-sink" if args.relay == "postfix" else "aiosmtpd",
                     "throughput": []}
    with dovecot() as server:
        start = 0
        for size in (int(s) for s in args.sizes.split(",") if s):
            print(f"backlog of {size} mails ...", file=sys.stderr, flush=True)
            results["throughput"].append(throughput(server, size, args.seed, start, args.relay))
            start += size
        if args.hostile >= 0:
            print(f"hostile mails and {args.hostile} normal ones ...", file=sys.stderr, flush=True)
            results["hostile"] = hostile(server, args.hostile, args.seed, start, args.relay)
        if args.latency:
            print(f"latency over {args.latency} mails ...", file=sys.stderr, flush=True)
            results["latency"] = latency(server, args.latency, args.seed)
    results["verdicts"] = verdicts(results, args.headline)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(report(results))
    print(f"\nresults: {args.out}")


if __name__ == "__main__":
    main()
