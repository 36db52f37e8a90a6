"""poll_once(): each new mail walks parse -> store -> extract -> decide -> reply -> outbox.

Everything one message causes commits in one transaction; the message is moved on the
server only after that commit. A message that breaks any stage is quarantined with the
reason and the cycle goes on with the next one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from rma_mailbot import answers, identity, limits, mail_proof, overrides
from rma_mailbot.decisions import decide_claim, evidence_for_staff, follow_up, respond
from rma_mailbot.errors import ClaimNotFound, OrderBookError, ParseError, StoreError
from rma_mailbot.extract import claim_kind, extract, order_named, sentences
from rma_mailbot.models import (
    ClaimFacts,
    ClaimKind,
    ClaimState,
    DecidedBy,
    IncomingMail,
    MailClass,
    OutboxState,
    ParsedMail,
    PollReport,
    ReplyKind,
    SourceRef,
)
from rma_mailbot.outbox import DeliveryReport, deliver_pending
from rma_mailbot.parse import strip_own_words
from rma_mailbot.read_ahead import ReadAhead
from rma_mailbot.runtime import Runtime
from rma_mailbot.sources import Source
from rma_mailbot.store import Store, iso
from rma_mailbot.waiting import run_timers

__all__ = ["Progress", "Runtime", "ingest", "poll_once", "reprocess"]

log = logging.getLogger(__name__)

FINAL_STATES = {ClaimState.APPROVED, ClaimState.REJECTED}
# A new mail on an order joins the customer's claim on it in one of these states (a closed one reopens).
JOINABLE_STATES = {ClaimState.AWAITING_EVIDENCE, ClaimState.AWAITING_DELIVERY, ClaimState.IN_REVIEW, ClaimState.CLOSED}
# A delivery report quotes the mail that failed; a mail quoting thousands of our ids is looked up by its first few.
MAX_QUOTED_IDS = 20


class Progress:
    """Told how much there is and how much is done; the CLI shows a bar on a terminal."""

    def start(self, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


def poll_once(rt: Runtime, source: Source, clock: Callable[[], dt.datetime],
              progress: Progress | None = None, should_stop: Callable[[], bool] = lambda: False) -> PollReport:
    """One cycle. ``should_stop`` is asked between messages: a stop leaves the rest for the next cycle."""
    progress = progress or Progress()
    len(rt.orders)  # a broken order book stops the cycle before any mail is taken
    staff = overrides.apply_overrides(rt, clock())
    for problem in map(str, staff.problems):
        if problem not in rt.reported:  # a bad entry is reported once, not every cycle
            rt.reported.add(problem)
            log.error("override not applied: %s", problem)
    counts = {"fetched": 0, "ingested": 0, "duplicates": 0, "quarantined": 0, "machine": 0}
    claims: set[int] = set()
    queued_before = rt.store.outbox_total()
    scan = source.scan(rt.store)
    progress.start(scan.total)
    source_lock = threading.Lock()  # the read-ahead thread fetches while this one moves what is done
    leaving = threading.Event()
    parsed_batches = _parsed(rt, scan.batches, source_lock, leaving)
    with BackgroundDelivery(rt) as background, ReadAhead(parsed_batches, stopping=leaving) as batches:
        for batch, parsed_batch in batches:
            done = []
            for mail, parsed in zip(batch, parsed_batch, strict=True):
                if should_stop():
                    break
                outcome, claim_id = ingest(rt, mail, clock(), parsed)
                done.append(mail.ref)
                counts["fetched"] += 1
                counts[outcome] += 1
                if claim_id is not None:
                    claims.add(claim_id)
                progress.advance()
            with source_lock:
                moved = source.finish(done)
            rt.store.mark_moved(moved)
            # Answer each batch as it is done: in a long backlog the first customers need not wait for the last.
            background.start(clock())
            if should_stop():
                break
    rt.store.mark_moved(source.finish(source.leftovers(rt.store)))
    claims.update(run_timers(rt, clock()))
    queued = rt.store.outbox_total() - queued_before
    delivery = deliver_pending(rt.store, rt.config, clock())
    sent = background.sent + delivery.sent
    rt.store.set_health(clock(), last_successful_poll=iso(clock()), last_poll_error="")
    return PollReport(**counts, replies_queued=queued, replies_sent=sent, overrides_applied=len(staff.applied),
                      delivery_error=delivery.transport_error,
                      override_problems=tuple(str(p) for p in staff.problems),
                      claims_touched=tuple(sorted(claims)))


def _parsed(rt: Runtime, batches: Generator[list[IncomingMail], None, None], source_lock: threading.Lock,
            leaving: threading.Event) -> Iterator[tuple[list[IncomingMail], list[ParsedMail | ParseError]]]:
    """Each batch with what parsing made of its mails: run a batch ahead of the ingest (ReadAhead), so
    that the fetch and the parse workers are busy while this thread stores and answers."""
    try:
        while not leaving.is_set():
            with source_lock:
                batch = next(batches, None)
            if batch is None or leaving.is_set():  # a stop need not wait for the parse of a batch it will not take
                return
            yield batch, list(rt.parser.parse_all([m.raw for m in batch]))
    finally:
        with source_lock:
            batches.close()


class BackgroundDelivery:
    """Sends what earlier batches queued while the next batch is taken in, so that the relay's time
    and the round trips to it overlap our own work. One run at a time, on a connection of its own;
    leaving the block waits for the run in hand, and raises what it raised."""

    def __init__(self, rt: Runtime):
        self._rt = rt
        self._store: Store | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery")
        self._running: Future[DeliveryReport] | None = None
        self.sent = 0

    def __enter__(self) -> BackgroundDelivery:
        return self

    def start(self, now: dt.datetime) -> None:
        """A run, unless one is still going: it will be followed by the next batch's."""
        if self._running is not None and not self._running.done():
            return
        self._collect()
        self._store = self._store or self._rt.store.another_connection()
        self._running = self._pool.submit(deliver_pending, self._store, self._rt.config, now)

    def _collect(self) -> None:
        if self._running is not None:
            running, self._running = self._running, None
            self.sent += running.result().sent

    def __exit__(self, exc_type, *_) -> None:
        try:
            self._collect()
        except Exception:
            if exc_type is None:
                raise
            log.exception("delivering replies failed too")  # the cycle's own error is the one raised
        finally:
            self._pool.shutdown()
            if self._store is not None:
                self._store.close()


def ingest(rt: Runtime, mail: IncomingMail, now: dt.datetime,
           parsed: ParsedMail | ParseError | None = None) -> tuple[str, int | None]:
    """Store one mail and everything it causes. Returns (outcome, claim id). ``parsed``: the mail
    already parsed (by the parse pool), or why it could not be."""
    if rt.store.location_known(mail.ref):
        return "duplicates", None
    if parsed is None:
        parsed = next(rt.parser.parse_all([mail.raw]))
    if isinstance(parsed, ParseError):
        return _quarantine(rt, mail, str(parsed), now)
    if parsed.message_id and rt.store.is_our_reply(parsed.message_id):
        # One of our own replies came back (a Bcc, a forward rule, a Sent folder): never answer it.
        parsed = dataclasses.replace(parsed, mail_class=MailClass.OWN, class_reason="Message-ID is one of our replies")
    try:
        with rt.store.transaction():
            return _store_parsed(rt, mail, parsed, now)
    except OrderBookError:
        raise
    except (sqlite3.DatabaseError, OSError) as exc:
        # The database or the disk failed, not the message: stop the cycle; the mail stays on the server.
        raise StoreError(f"storing message {parsed.message_id or mail.ref.uid} failed: {exc}") from exc
    except Exception as exc:  # anything else is this message's fault, and it must never stop the inbox
        log.exception("message %s failed in processing; quarantined", parsed.message_id or mail.ref)
        return _quarantine(rt, mail, f"processing failed: {type(exc).__name__}: {exc}", now)


def _advance_watermark(rt: Runtime, mail: IncomingMail) -> None:
    if mail.watermark:
        rt.store.advance_watermark(mail.ref)


def _stored_already(rt: Runtime, mail: IncomingMail, message_id: str, digest: str) -> dict | None:
    """The stored message this one is (identity.py), or None when it is new."""
    existing = rt.store.message_by_key(identity.message_key(message_id, digest))
    if existing is not None:
        return existing
    legacy = rt.store.message_by_key(identity.legacy_key(message_id, mail.raw))
    if legacy is not None and (not message_id or _digests(rt.store.blobs.path(legacy["raw_path"]).read_bytes(),
                                                          digest)):
        return legacy  # stored before identities had a digest
    if message_id and (other := rt.store.message_with_id(message_id)) is not None:
        log.warning("message %s at %s/%s has the Message-ID of stored message %s but other content: taken in as "
                    "a mail of its own", message_id, mail.ref.mailbox, mail.ref.uid, other["id"])
    return None


def _digests(raw: bytes, digest: str) -> bool:
    return digest in (identity.digest(raw), identity.raw_digest(raw))


def _message_row(rt: Runtime, mail: IncomingMail, message_id: str, digest: str, **fields) -> int | None:
    """Insert the message and its location; None when the same message is stored already."""
    existing = _stored_already(rt, mail, message_id, digest)
    if existing is not None:
        rt.store.add_location(mail.ref, existing["id"])
        _advance_watermark(rt, mail)
        return None
    sha256, raw_path = rt.store.blobs.put(mail.raw, ".eml")
    row = rt.store.insert_message({
        "message_key": identity.message_key(message_id, digest), "message_id": message_id, "sha256": sha256,
        "received_at": mail.received_at.isoformat(), "raw_path": raw_path, "size": len(mail.raw),
        "created_at": iso(fields.pop("now")), **fields,
    })
    rt.store.add_location(mail.ref, row)
    _advance_watermark(rt, mail)
    return row


def _quarantine(rt: Runtime, mail: IncomingMail, reason: str, now: dt.datetime) -> tuple[str, int | None]:
    with rt.store.transaction():
        row = _message_row(rt, mail, "", identity.raw_digest(mail.raw), now=now, sender="", subject="",
                           mail_class=MailClass.QUARANTINED.value, class_reason=reason)
        if row is None:
            return "duplicates", None
        rt.store.add_event(None, "quarantined", {"reason": reason, "location": dataclasses.asdict(mail.ref)},
                           now, row)
    log.warning("message at %s/%s quarantined: %s", mail.ref.mailbox, mail.ref.uid, reason)
    return "quarantined", None


def _store_parsed(rt: Runtime, mail: IncomingMail, parsed: ParsedMail, now: dt.datetime) -> tuple[str, int | None]:
    row = _message_row(rt, mail, parsed.message_id, parsed.digest, now=now, sender=parsed.sender,
                       subject=parsed.subject, mail_class=parsed.mail_class.value, class_reason=parsed.class_reason,
                       auth=json.dumps(parsed.auth_failed))
    if row is None:
        return "duplicates", None
    if parsed.mail_class is MailClass.STAFF:
        return "ingested", _staff_answer(rt, parsed, row, now)
    if parsed.mail_class is not MailClass.CUSTOMER:
        reply = _our_reply_in(rt, mail.raw, parsed)
        claim_id = reply["claim_id"] if reply else None
        rt.store.add_event(claim_id, "machine_mail", {
            "class": parsed.mail_class.value, "why": parsed.class_reason, "message_id": parsed.message_id,
            "about_our_reply": reply["message_id"] if reply else None}, now, row)
        if reply is not None:
            rt.store.set_message_claim(row, claim_id)
            if parsed.mail_class is MailClass.BOUNCE:
                # Our answer never reached the customer: staff must know.
                rt.store.set_reply_state(reply["id"], OutboxState.FAILED, now,
                                         f"bounced after sending: {parsed.class_reason}")
        log.info("message %s from %s is %s (%s): stored, not answered%s", parsed.message_id, parsed.sender,
                 parsed.mail_class, parsed.class_reason,
                 f"; about our reply on claim {rt.claim_ref(claim_id)}" if reply else "")
        return "machine", claim_id
    claim_id = _thread(rt, parsed) or _claim_for_order(rt, parsed, mail, now, row)
    rt.store.set_message_claim(row, claim_id)
    claim = rt.store.claim(claim_id)
    rt.store.add_event(claim_id, "mail_in", {"message_id": parsed.message_id, "from": parsed.sender,
                                             "subject": parsed.subject, "received_at": mail.received_at.isoformat()},
                       now, row)
    our_words = [r["body_text"] for r in rt.store.replies(claim_id)]
    kept, refused = limits.split(parsed.parts, rt.config.limits, message_bytes=len(mail.raw),
                                 claim_bytes=rt.store.claim_attachment_bytes(claim_id))
    # Our words are never the customer's; the lines of ours they answer on are read from the whole mail (answers).
    own = dataclasses.replace(parsed, text=answers.without_lines(strip_own_words(parsed.text, our_words)), parts=kept)
    facts = extract(own, rt.config.order_number_re, rt.config.policy.recognised_labs)
    _store_attachments(rt, own, facts, claim_id, row, refused)
    notes = tuple(r.describe() for r in refused) + tuple(
        n for n in (limits.oversized_note(len(mail.raw), rt.config.limits) if parsed.truncated else "",
                    limits.archive_note(kept)) if n)
    merged = claim.facts.merged(facts)
    previous = claim.state
    if previous in FINAL_STATES and claim.order_id:
        decision = follow_up(rt, claim, merged, now, row)
    elif previous in (ClaimState.AWAITING_EVIDENCE, ClaimState.IN_REVIEW) and claim.decided_by in (
            DecidedBy.STAFF, DecidedBy.FOLLOW_UP):  # staff asked, or the customer disputes a decline: staff decide
        decision = evidence_for_staff(rt, claim, merged, now, row)
    else:
        if previous is ClaimState.CLOSED:
            rt.store.add_event(claim_id, "reopened", {"why": "the customer answered a closed claim"}, now, row)
        decision = decide_claim(rt, claim, merged, claim.claim_date, now, row)
    respond(rt, claim_id, decision, merged, now, customer_name=parsed.sender_name, notes=notes)
    log.info("message %s from %s: claim %s %s, %s -> %s, reply %s", parsed.message_id, parsed.sender,
             rt.claim_ref(claim_id), merged.kind, previous, decision.state, decision.reply or "none")
    return "ingested", claim_id


def _our_reply_in(rt: Runtime, raw: bytes, parsed: ParsedMail) -> dict | None:
    """The reply of ours a bounce or an auto-reply is about: by its threading headers, or by our
    Message-ID quoted anywhere in it (a delivery report attaches or quotes the mail that failed)."""
    domain = re.escape(rt.config.bot.message_id_domain.encode())
    quoted = re.finditer(rb"<[^<>\s]{1,200}@" + domain + rb">", raw, re.I)
    quoted = [m.group(0).decode(errors="replace") for m in itertools.islice(quoted, MAX_QUOTED_IDS)]
    for message_id in dict.fromkeys([*parsed.thread_ids, *quoted]):
        if message_id and (reply := rt.store.reply_by_message_id(message_id)) is not None:
            return reply
    return None


def _staff_answer(rt: Runtime, parsed: ParsedMail, row: int, now: dt.datetime) -> int | None:
    """The warehouse answering our check: its first line decides, through the overrides' one path, but only
    when the mail proves who sent it (mail_proof). Anything less is shown to staff on the claim, unverified."""
    thread = parsed.thread_ids
    check = rt.store.reply_of_kind(thread, ReplyKind.WAREHOUSE_CHECK)
    claim_id = check["claim_id"] if check else _named_claim(rt, parsed)
    unverified = mail_proof.missing_proofs(parsed, answers_our_mail=check is not None,
                                           address=rt.config.warehouse.address if rt.config.warehouse else "",
                                           authserv_id=rt.config.review.authserv_id)
    seen = {"from": parsed.sender, "subject": parsed.subject}
    if claim_id is None:
        rt.store.add_event(None, "staff_mail", {**seen, "why": "answers no claim of ours"}, now, row)
        return None
    rt.store.set_message_claim(row, claim_id)
    if unverified:
        rt.store.add_event(claim_id, "staff_mail", {**seen, "unverified": "; ".join(unverified),
                                                    "text": parsed.text[:2000]}, now, row)
        log.warning("mail from %s on claim %s not applied, unverified: %s", parsed.sender, rt.claim_ref(claim_id),
                    "; ".join(unverified))
        return claim_id
    entry, problem = overrides.from_mail(parsed.text, claim_id=claim_id, message_id=parsed.message_id or str(row),
                                         sender=parsed.sender)
    problem = problem or str(overrides.apply(rt, entry, now) or "")
    if problem:
        rt.store.add_event(claim_id, "staff_mail", {**seen, "not_applied": problem}, now, row)
        log.warning("answer from %s on claim %s not applied: %s", parsed.sender, rt.claim_ref(claim_id), problem)
    return claim_id


def _claims_named(rt: Runtime, parsed: ParsedMail) -> Iterator[dict]:
    """The claims a mail names, by its threading headers first, then by references in its subject."""
    for claim_id in [rt.store.claim_of(list(parsed.thread_ids)), *rt.claim_ids_in(parsed.subject)]:
        if claim_id is None:
            continue
        try:
            yield rt.store.claim(claim_id)
        except ClaimNotFound:  # a reference to a claim that does not exist is just text
            continue


def _named_claim(rt: Runtime, parsed: ParsedMail) -> int | None:
    return next((claim.id for claim in _claims_named(rt, parsed)), None)


def _thread(rt: Runtime, parsed: ParsedMail) -> int | None:
    """The claim this mail answers, if any. Only the claim's customer can add to a claim."""
    for claim in _claims_named(rt, parsed):
        claim_id = claim.id
        if claim.customer == parsed.sender:
            return claim_id
        log.warning("message %s from %s names claim %s of another customer: not joining it",
                    parsed.message_id, parsed.sender, rt.claim_ref(claim_id))
    return None


def _claim_for_order(rt: Runtime, parsed: ParsedMail, mail: IncomingMail, now: dt.datetime, row: int) -> int:
    """A new mail, answering nothing of ours: one order has one open claim. The customer's open (or closed)
    claim on the order of the same case takes the mail in; else a new claim, which the decision holds for staff
    while an earlier claim on the order is open or has an RMA number (review.SAME_ORDER)."""
    number = order_named(parsed, rt.config.order_number_re)
    order = rt.orders.get(number) if number else None
    on_order = rt.store.claims_on_order(parsed.sender, order.order_id) if order is not None else []
    if on_order:
        kind, _ = claim_kind(parsed.subject, sentences(parsed.text))
        same = next((c for c in on_order if c.state in JOINABLE_STATES
                     and (kind == c.kind or ClaimKind.UNKNOWN in (kind, c.kind))), None)
        if same is not None:
            rt.store.add_event(same.id, "joined", {"why": f"a new mail on order {order.order_id}, which has "
                                                          "this claim"}, now, row)
            return same.id
    return rt.store.create_claim(parsed.sender, mail.received_at.astimezone(rt.config.tz).date(), now)


def _store_attachments(rt: Runtime, mail: ParsedMail, facts: ClaimFacts, claim_id: int, message_row: int,
                       refused: tuple[limits.Refused, ...]) -> None:
    """Kept parts go to the blob store under their sha256; refused ones are recorded, not stored."""
    reports = {r.sha256 for r in facts.reports}
    for part in mail.parts:
        photo = part.photo  # decoded, and hashed, when parsed
        digest, path = rt.store.blobs.put(part.payload, ".bin", photo.sha256 if photo else "")
        rt.store.add_attachment({
            "claim_id": claim_id, "message": message_row, "sha256": digest,
            "content_type": photo.content_type if photo else part.sniffed or "application/octet-stream",
            "declared_type": part.content_type, "filename": part.filename, "size": len(part.payload),
            "is_photo": int(photo is not None), "width": photo.width if photo else None,
            "height": photo.height if photo else None, "is_report": int(digest in reports), "path": path,
        })
    for item in refused:
        rt.store.add_attachment({
            "claim_id": claim_id, "message": message_row, "sha256": hashlib.sha256(item.part.payload).hexdigest(),
            "content_type": item.part.sniffed or "application/octet-stream", "declared_type": item.part.content_type,
            "filename": item.part.filename, "size": len(item.part.payload), "is_photo": 0, "is_report": 0,
            "path": None, "refused": item.why,
        })


def reprocess(rt: Runtime, message_row: int, now: dt.datetime) -> tuple[str, int | None]:
    """Take a quarantined message in again (after a fix), as if it had just arrived; one transaction,
    the message parsed before it (reading its reports may take seconds)."""
    raw = rt.store.blobs.path(_quarantined(rt, message_row)["raw_path"]).read_bytes()
    parsed = next(rt.parser.parse_all([raw]))
    with rt.store.transaction():
        _quarantined(rt, message_row)  # still: another process may have taken it in meanwhile
        ref, row = rt.store.forget_message(message_row)
        received = dt.datetime.fromisoformat(row["received_at"])
        outcome = ingest(rt, IncomingMail(ref or SourceRef("reprocessed", 0, str(message_row)), raw, received), now,
                         parsed)
        rt.store.add_event(outcome[1], "reprocessed", {"message": message_row, "outcome": outcome[0],
                                                       "was": row["class_reason"]}, now)
    return outcome


def _quarantined(rt: Runtime, message_row: int) -> dict:
    """The stored message; ClaimNotFound unless it is in quarantine."""
    row = rt.store.message(message_row)
    if row["mail_class"] != MailClass.QUARANTINED:
        raise ClaimNotFound(f"message {message_row} is not in quarantine")
    return row
