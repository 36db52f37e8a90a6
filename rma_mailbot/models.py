"""Records passed between the stages, and the domain vocabulary as StrEnums."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class OutboxState(StrEnum):
    """A reply's way out: queued -> sending -> sent, or failed."""
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class ClaimKind(StrEnum):
    NON_RECEIPT = "non_receipt"
    MISSING_ITEMS = "missing_items"
    RETURN = "return"
    QUALITY = "quality"
    UNKNOWN = "unknown"


class ClaimState(StrEnum):
    AWAITING_EVIDENCE = "awaiting_evidence"
    AWAITING_DELIVERY = "awaiting_delivery"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    CLOSED = "closed"


class Evidence(StrEnum):
    ORDER_NUMBER = "order_number"
    ALL_BOXES_RECEIVED = "all_boxes_received"
    BOXES_EMPTIED = "boxes_emptied"
    MISSING_QUANTITIES = "missing_quantities"
    PARCEL_PHOTOS = "parcel_photos"
    QUALITY_REPORT = "quality_report"
    CLAIM_KIND = "claim_kind"  # which case of the policy applies, when the mail does not say


class Reason(StrEnum):
    DELIVERY_OVERDUE = "delivery_overdue"
    DELIVERY_IN_TRANSIT = "delivery_in_transit"
    DELIVERY_FAILED_CUSTOMER = "delivery_failed_customer"
    CARRIER_DELIVERED = "carrier_delivered"
    RETURN_WINDOW_OPEN = "return_window_open"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    WARRANTY_EXPIRED = "warranty_expired"
    REPORT_REQUIRED = "report_required"
    REPORT_LAB_UNRECOGNIZED = "report_lab_unrecognized"
    REPORT_ACTIVE_CONTENT = "report_active_content"
    REPORT_UNREADABLE = "report_unreadable"
    SENSITIVE_PARTS_OPENED = "sensitive_parts_opened"
    SENDER_NOT_ORDER_OWNER = "sender_not_order_owner"
    ORDER_UNKNOWN = "order_unknown"
    CUSTOMER_PAYS_FEES = "customer_pays_fees"
    FREIGHT_PREPAID_NO_COD = "freight_prepaid_no_cod"
    MISSING_ITEMS_CHECKLIST = "missing_items_checklist"
    WAREHOUSE_CHECK = "warehouse_check"
    REPORTED_LATE = "reported_late"
    KIND_UNCLEAR = "kind_unclear"
    DELIVERY_DATE_UNKNOWN = "delivery_date_unknown"
    ROUTED_TO_STAFF = "routed_to_staff"
    STAFF_DECISION = "staff_decision"


class MailClass(StrEnum):
    """What a stored message is; only CUSTOMER mail is ever answered."""

    CUSTOMER = "customer"
    AUTOREPLY = "autoreply"
    BOUNCE = "bounce"
    LIST = "list"
    OWN = "own"
    STAFF = "staff"  # our own people (the warehouse): may carry a decision, never answered
    QUARANTINED = "quarantined"


class Outcome(StrEnum):
    """How one clause came out when a claim was checked against it."""

    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"
    WAIT = "wait"
    REVIEW = "review"
    NOT_APPLICABLE = "n/a"


class ReplyKind(StrEnum):
    """Each value names the template under templates/ that renders it."""

    ASK_EVIDENCE = "ask_evidence"
    RMA_CONFIRMED = "rma_confirmed"
    DECLINED = "declined"
    IN_TRANSIT = "in_transit"
    IN_REVIEW = "in_review"
    WRONG_SENDER = "wrong_sender"
    REMINDER = "reminder"
    CLOSED = "closed"
    WAREHOUSE_CHECK = "warehouse_check"


@dataclass(frozen=True)
class SourceRef:
    """Where a message sits on its source: (mailbox, UIDVALIDITY, UID)."""

    mailbox: str
    uidvalidity: int
    uid: str


@dataclass(frozen=True)
class IncomingMail:
    ref: SourceRef
    raw: bytes
    received_at: dt.datetime  # server receipt time (IMAP INTERNALDATE), tz-aware
    # The source finds new mail by a watermark (IMAP's last UID): stored in the mail's own transaction.
    watermark: bool = False


@dataclass(frozen=True)
class Part:
    """One attachment or inline part, decoded."""

    content_type: str  # as the mail declares it
    payload: bytes
    filename: str = ""  # as the sender named it: shown to people, never used on the filesystem
    content_id: str = ""
    inline: bool = False
    sniffed: str = ""  # the type the bytes really have ("" when unrecognised)
    inside: str = ""  # the container it was unpacked from, e.g. "winmail.dat"
    photo: Photo | None = None  # set when the bytes decode as a picture of useful size (parse.part_of)
    pdf: PdfReading | None = None  # a customer's PDF, once read (reports.with_readings)

    @property
    def is_pdf(self) -> bool:
        return self.payload.startswith(b"%PDF-")


@dataclass(frozen=True)
class PdfReading:
    """What reading a PDF found: its text, what active content it carries, or why it could not be read."""

    text: str = ""
    active: tuple[str, ...] = ()  # e.g. "JavaScript (OpenAction)", "embedded files"; as staff read them
    unreadable: str = ""  # why its text could not be read (past our limits, broken, encrypted); "" when read


@dataclass(frozen=True)
class AuthResult:
    """One verdict of an Authentication-Results header (RFC 8601), e.g. dkim=pass for example.com."""

    method: str  # spf, dkim, dmarc, ...
    result: str  # pass, fail, none, ...
    domain: str = ""  # what it vouches for: header.d (dkim), header.from (dmarc), smtp.mailfrom (spf)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str  # bare lower-case address
    sender_name: str
    subject: str
    text: str  # customer's own words: HTML converted, quoted history stripped
    full_text: str  # the whole text before stripping, for staff
    in_reply_to: str
    references: tuple[str, ...]
    parts: tuple[Part, ...]
    mail_class: MailClass
    class_reason: str = ""
    auth: tuple[AuthResult, ...] = ()  # our server's Authentication-Results
    auth_server: str = ""  # the authserv-id of the header those came from
    single_author: bool = True  # one From field with one mailbox: a server's verdict is about that address
    digest: str = ""  # of what the sender wrote (identity.py): with the Message-ID, the mail's identity
    truncated: bool = False  # over the size limit: read from its head, attachments not taken

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The mails this one answers, most recent first: what threading looks up."""
        return tuple(dict.fromkeys(m for m in (self.in_reply_to, *reversed(self.references)) if m))

    @property
    def auth_failed(self) -> tuple[str, ...]:
        """The SPF, DKIM and DMARC checks our server says failed."""
        return tuple(f"{a.method}={a.result}" for a in self.auth
                     if a.method in ("spf", "dkim", "dmarc") and a.result in ("fail", "permerror"))


@dataclass(frozen=True)
class Photo:
    sha256: str
    content_type: str
    width: int
    height: int
    size: int


class LabSource(StrEnum):
    """Where the name of a testing lab was found: only the PDF's own text is strong evidence."""

    PDF_TEXT = "pdf_text"
    FILENAME = "filename"
    MAIL_TEXT = "mail_text"
    NONE = "none"


@dataclass(frozen=True)
class Report:
    """A PDF attached as a quality report, and the recognised lab it names, if any. One with active content,
    or one that could not be read, is never evidence for an automatic decision."""

    sha256: str
    lab: str = ""
    found_in: LabSource = LabSource.NONE
    active: tuple[str, ...] = ()  # PdfReading.active
    unreadable: str = ""  # PdfReading.unreadable

    @property
    def flagged(self) -> bool:
        return bool(self.active or self.unreadable)


@dataclass(frozen=True)
class Statement:
    """A piece of evidence read from the customer's text, with the sentence it rests on."""

    evidence: Evidence
    sentence: str
    boxes: int = 0  # the boxes it speaks of: "the box arrived" is 1, "2 cartons came" 2; 0 for all of them

    def holds_for(self, boxes: int) -> bool:
        """True when it covers an order of that many boxes: "the box arrived" completes a one-box order only."""
        return self.boxes == 0 or self.boxes >= boxes


@dataclass(frozen=True)
class PartCount:
    """A number the customer gives for a part of the order, not said to be short: "LM358N: 76", "hay 34
    MPU-6050". Below the order line's quantity, it says how many are short against the order book."""

    part: str
    number: int
    sentence: str


@dataclass(frozen=True)
class ClaimFacts:
    """What one or more customer mails establish about a claim."""

    order_number: str = ""
    kind: ClaimKind = ClaimKind.UNKNOWN
    kind_sentence: str = ""
    kind_by_model: bool = False  # the kind model told it, not a phrase or concept of the mail (extract.py)
    statements: tuple[Statement, ...] = ()
    photos: tuple[Photo, ...] = ()
    reports: tuple[Report, ...] = ()
    missing_parts: tuple[tuple[str, int], ...] = ()  # (part number, quantity)
    opened_sensitive: str = ""  # the sentence saying a sealed (ESD, moisture) bag was opened
    opened_parts: tuple[str, ...] = ()  # the part numbers that sentence names as opened ("the bag of the AMS1117")
    counts: tuple[PartCount, ...] = ()

    @property
    def confirmed(self) -> frozenset[Evidence]:
        return frozenset(s.evidence for s in self.statements)

    def merged(self, newer: ClaimFacts) -> ClaimFacts:
        """Evidence accumulates over a claim's mails; a later explicit kind or order wins."""
        seen = {(s.evidence, s.boxes) for s in self.statements}
        photos = {p.sha256: p for p in (*self.photos, *newer.photos)}
        return ClaimFacts(
            order_number=newer.order_number or self.order_number,
            kind=newer.kind if newer.kind is not ClaimKind.UNKNOWN else self.kind,
            kind_sentence=newer.kind_sentence if newer.kind is not ClaimKind.UNKNOWN else self.kind_sentence,
            kind_by_model=newer.kind_by_model if newer.kind is not ClaimKind.UNKNOWN else self.kind_by_model,
            statements=self.statements + tuple(s for s in newer.statements if (s.evidence, s.boxes) not in seen),
            photos=tuple(photos.values()),
            reports=tuple({r.sha256: r for r in (*self.reports, *newer.reports)}.values()),
            missing_parts=newer.missing_parts or self.missing_parts,
            opened_sensitive=self.opened_sensitive or newer.opened_sensitive,
            opened_parts=_opened_parts(self, newer),
            counts=tuple(dict.fromkeys((*self.counts, *newer.counts))),
        )


@dataclass(frozen=True)
class OrderLine:
    part: str
    quantity: int
    sensitive: bool = False  # ESD or moisture-sensitive: not to be opened outside controlled conditions


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_email: str
    ship_date: dt.date | None
    delivery_date: dt.date | None
    shipping_method: str
    boxes: int
    lines: tuple[OrderLine, ...] = ()
    carrier_status: str = ""
    value: float | None = None


@dataclass(frozen=True)
class Check:
    """One clause applied to a claim: its outcome and what it rested on."""

    reason: Reason
    outcome: Outcome
    evidence: str = ""
    needs: Evidence | None = None  # MISSING: what to ask the customer for
    until: dt.date | None = None  # WAIT: the last day of waiting


@dataclass(frozen=True)
class Decision:
    state: ClaimState
    reply: ReplyKind | None
    missing: tuple[Evidence, ...] = ()
    reasons: tuple[Reason, ...] = ()
    checks: tuple[Check, ...] = ()
    recheck_on: dt.date | None = None  # awaiting_delivery: decide again after this date
    issue_rma: bool = False


class DecidedBy(StrEnum):
    """Who made a claim's latest decision."""
    POLICY = "policy"  # the policy, on the customer's mail
    FOLLOW_UP = "follow_up"  # a mail on a claim already decided
    TIMER = "timer"  # a waiting claim closed for no answer
    STAFF = "staff"  # an override, or a warehouse answer


@dataclass(frozen=True)
class Claim:
    """A claim as the store keeps it: its latest decision and the facts it was decided on."""

    id: int
    customer: str
    kind: ClaimKind
    state: ClaimState
    claim_date: dt.date
    created_at: dt.datetime
    updated_at: dt.datetime
    order_id: str | None = None
    rma_number: str | None = None
    missing: tuple[Evidence, ...] = ()
    reasons: tuple[Reason, ...] = ()
    checks: tuple[Check, ...] = ()  # the policy's clauses as last applied (kept on show after a staff decision)
    photos: int = 0
    facts: ClaimFacts = field(default_factory=ClaimFacts)
    recheck_on: dt.date | None = None  # awaiting_delivery: decide again after this day
    asked_at: dt.datetime | None = None  # when we last asked the customer for evidence
    reminded_at: dt.datetime | None = None
    judged_on: dt.date | None = None  # the day the policy judged it on (replay judges on it again)
    decided_by: DecidedBy | None = None
    routed_by: str | None = None  # the review rule that sent it to staff
    resolution: str | None = None  # staff's words to the customer


@dataclass(frozen=True)
class PollReport:
    fetched: int = 0
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0
    machine: int = 0
    replies_queued: int = 0
    replies_sent: int = 0
    claims_touched: tuple[int, ...] = field(default=())
    overrides_applied: int = 0
    override_problems: tuple[str, ...] = ()
    delivery_error: str = ""  # the relay (or Drafts) could not be reached: replies wait in the outbox


def opened_parts_of(openings: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The parts of every opening (a sentence, or a mail) together; none (the bag of any part, then) when one
    opening names no part: "we also opened the moisture barrier bag"."""
    if any(not parts for parts in openings):
        return ()
    return tuple(dict.fromkeys(part for parts in openings for part in parts))


def _opened_parts(older: ClaimFacts, newer: ClaimFacts) -> tuple[str, ...]:
    """Both mails' opened parts, over the mails that say a bag was opened."""
    return opened_parts_of([facts.opened_parts for facts in (older, newer) if facts.opened_sensitive])

