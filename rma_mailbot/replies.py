"""Decision + claim -> EmailMessage, rendered from jinja2 templates. Pure: values in, message out."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email.policy
import email.utils
import io
import re
import secrets
from dataclasses import dataclass
from email.errors import HeaderParseError, NonASCIILocalPartDefect
from email.generator import BytesGenerator
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from pathlib import Path

import jinja2

from rma_mailbot import answers
from rma_mailbot.errors import UnsafeHeader
from rma_mailbot.models import ClaimFacts, Evidence, Reason, ReplyKind, Statement
from rma_mailbot.policy import CLAUSES
from rma_mailbot.sanitise import a_labels, one_line


class _HeaderClasses(HeaderRegistry):
    """The stdlib's registry makes a new class each time a header is set; one per header name will do."""

    def __init__(self):
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._made:
            self._made[key] = super().__getitem__(name)
        return self._made[key]


# Long References headers must stay one logical line of message ids: at the default 78
# columns the stdlib folds them into RFC 2047 encoded words that no client threads on.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998, header_factory=_HeaderClasses())
# RFC 6532: an address that is not ASCII is written as UTF-8, headers and all (the relay must offer SMTPUTF8).
UTF8_WIRE_POLICY = WIRE_POLICY.clone(utf8=True)
# In a folded header, a line break not followed by a blank is not folding: it starts a header of its own.
_BREAK_WITHOUT_FOLD = re.compile(rb"\r\n(?![ \t])|\r(?![\n \t])|\n(?![ \t])")
MAX_REFERENCES = 20
# The longest name and subject of a sender's we echo: folding a long name that is not ASCII costs the
# stdlib milliseconds a character, and RFC 5322 keeps a header line within 998 characters.
MAX_NAME_CHARS = 200
MAX_SUBJECT_CHARS = 250

EVIDENCE_HELP: dict[Evidence, str] = {
    Evidence.ORDER_NUMBER: "Your order number, exactly as it appears on your order confirmation or invoice.",
    Evidence.ALL_BOXES_RECEIVED: "Confirmation that you have received all the boxes of this order (please check "
    "how many boxes the shipping notice lists).",
    Evidence.BOXES_EMPTIED: "Confirmation that you have fully emptied each box: small parts can get caught in "
    "folds or packing material.",
    Evidence.MISSING_QUANTITIES: "Which parts are missing and how many of each, for example "
    "\"3 pcs of LM2596S are missing\".",
    Evidence.PARCEL_PHOTOS: "Photos of the whole parcel: every box, its label and its contents, attached to your "
    "answer as JPEG, PNG or HEIC images.",
    Evidence.QUALITY_REPORT: "A quality report (PDF) from a third-party testing organisation recognised by us.",
    Evidence.CLAIM_KIND: "The case your message is about: the parcel has not arrived, items are missing from it, "
    "you want to return goods (ordered by mistake, no longer needed), or the goods have a quality problem "
    "(defective, not original).",
}
# The longest line of "You told us" (a part number is a few dozen characters; a longer one is cut).
MAX_UNDERSTOOD_CHARS = 120


@dataclass(frozen=True)
class ReplyContext:
    """Everything a reply template may show. Customer text arrives only as plain values."""

    kind: ReplyKind
    claim_ref: str
    customer_name: str
    order_id: str
    rma_number: str
    missing: tuple[Evidence, ...]
    reasons: tuple[Reason, ...]
    recheck_on: dt.date | None
    company: str
    support_name: str
    customer: str = ""
    recognised_labs: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()  # the customer's sentences, for the warehouse
    missing_parts: tuple[tuple[str, int], ...] = ()
    order_lines: tuple[tuple[str, int], ...] = ()
    claim_kind: str = ""
    resolution: str = ""  # a staff approval: refund, reship, replace or credit
    staff_reason: str = ""  # a staff rejection in their own words
    attachment_notes: tuple[str, ...] = ()  # attachments we did not keep, and how to send them instead
    understood: tuple[str, ...] = ()  # what we read from the customer's mails, in short words ("2 photos")
    order_boxes: int = 0  # the order's box count, as the line asking for all boxes names it


@dataclass(frozen=True)
class Envelope:
    """The headers of the mail we answer, and who we are."""

    support_address: str
    support_name: str
    customer: str
    customer_name: str
    subject: str
    in_reply_to: str
    references: tuple[str, ...]


def environment(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


RESOLUTION_TEXT = {
    "refund": "a refund",
    "reship": "a reshipment",
    "replace": "a replacement",
    "credit": "a credit note for your next order",
}


def render_text(env: jinja2.Environment, context: ReplyContext) -> str:
    return env.get_template(f"{context.kind}.txt").render(
        c=context,
        evidence_help=EVIDENCE_HELP,
        clauses=CLAUSES,
        resolution_text=RESOLUTION_TEXT,
        goods_come_back=context.claim_kind in ("return", "quality"),
        answer_line=answers.line,
    ).strip() + "\n"


def understood(facts: ClaimFacts, order_id: str, boxes: int) -> tuple[str, ...]:
    """What we read from the customer's mails, each fact once in short words of ours ("each box emptied");
    only part numbers and an order number are the customer's (replies clean them, _echoable)."""
    said = facts.confirmed
    lines = []
    if order_id:
        lines.append(f"order {order_id}")
    elif facts.order_number:
        lines.append(f"order number {facts.order_number}, which we cannot find in our order book")
    if case := answers.case_name(facts.kind):
        lines.append(f"case: {case}")
    if received := [s for s in facts.statements if s.evidence is Evidence.ALL_BOXES_RECEIVED]:
        lines.append(_boxes_received(received, boxes))
    if Evidence.BOXES_EMPTIED in said:
        lines.append("each box emptied")
    lines += [f"{quantity} pcs {part} missing" if part else f"{quantity} pcs missing"
              for part, quantity in facts.missing_parts]
    if Evidence.MISSING_QUANTITIES in said and not facts.missing_parts:
        lines.append("missing parts described")
    if facts.photos:
        lines.append(_count(len(facts.photos), "photo"))
    if facts.reports:
        lines.append(_count(len(facts.reports), "quality report (PDF)", "quality reports (PDF)"))
    return tuple(lines)


def _boxes_received(statements: list[Statement], boxes: int) -> str:
    """The boxes the customer said arrived, against the order's count (0: not known): "1 of 2 boxes received"."""
    if boxes == 1:
        return "the box received"
    if any(s.holds_for(boxes or 10**6) for s in statements):
        return f"{boxes} of {boxes} boxes received" if boxes else "all boxes received"
    most = max(s.boxes for s in statements)
    return f"{most} of {boxes} boxes received" if boxes else _count(most, "box received", "boxes received")


def _count(n: int, one: str, many: str = "") -> str:
    return f"1 {one}" if n == 1 else f"{n} {many or one + 's'}"


def subject_for(original: str, claim_ref: str) -> str:
    subject = one_line(original)[:MAX_SUBJECT_CHARS].strip() or "Your claim"
    # Matched as a whole word and in any case, as the pipeline reads it: "[clm-00001]" is already
    # there, while "CLM-000011" is another claim's reference.
    if not re.search(rf"(?<!\w){re.escape(claim_ref)}(?!\w)", subject, re.IGNORECASE):
        subject = f"{subject} [{claim_ref}]"
    if not re.match(r"^\s*(re|aw|sv|antw)\s*:", subject, re.IGNORECASE):
        subject = f"Re: {subject}"
    return subject


def build(env: jinja2.Environment, context: ReplyContext, envelope: Envelope, *, message_id: str,
          now: dt.datetime) -> tuple[EmailMessage, str]:
    """The reply as an EmailMessage, and its plain text (kept to recognise our words when quoted)."""
    message, text = _compose(env, context, message_id, now)
    message["From"] = Address(one_line(envelope.support_name), addr_spec=envelope.support_address)
    message["To"] = _address(envelope.customer_name, envelope.customer)
    message["Subject"] = subject_for(envelope.subject, context.claim_ref)
    if envelope.in_reply_to:
        message["In-Reply-To"] = envelope.in_reply_to
    references = [*envelope.references, envelope.in_reply_to] if envelope.in_reply_to else list(envelope.references)
    references = list(dict.fromkeys(r for r in references if r))
    if len(references) > MAX_REFERENCES:  # RFC 5322 3.6.4: keep the first and the most recent
        references = references[:1] + references[-(MAX_REFERENCES - 1):]
    if references:
        message["References"] = " ".join(references)
    message["Auto-Submitted"] = "auto-replied"
    return message, text


def build_internal(env: jinja2.Environment, context: ReplyContext, *, sender: str, sender_name: str, to: str,
                   message_id: str, now: dt.datetime,
                   photos: list[tuple[bytes, str]] = ()) -> tuple[EmailMessage, str]:
    """A mail to our own people (the warehouse) about a claim, with the customer's photos attached."""
    message, text = _compose(env, context, message_id, now)
    message["From"] = Address(one_line(sender_name), addr_spec=sender)
    message["To"] = _address("", to)
    message["Subject"] = f"[{context.claim_ref}] {context.kind.value.replace('_', ' ')}: order {context.order_id}"
    message["Auto-Submitted"] = "auto-generated"
    if photos:
        message.make_mixed()
    for n, (payload, content_type) in enumerate(photos, start=1):
        maintype, _, subtype = content_type.partition("/")
        extension = subtype if subtype in ("jpeg", "png", "gif", "webp", "heic") else "bin"
        part = MIMEPart(policy=WIRE_POLICY)
        part["Content-Type"] = f"{maintype or 'application'}/{subtype or 'octet-stream'}"
        part["Content-Transfer-Encoding"] = "base64"
        # The name is ours: a sender's file name never travels on.
        part.add_header("Content-Disposition", "attachment", filename=f"{context.claim_ref}-photo-{n}.{extension}")
        # RFC 2045's 76-character lines, encoded in C: set_content() encodes a line at a time in Python.
        part.set_payload(base64.encodebytes(payload).decode("ascii"))
        message.attach(part)
    return message, text


def _compose(env: jinja2.Environment, context: ReplyContext, message_id: str,
             now: dt.datetime) -> tuple[EmailMessage, str]:
    context = _echoable(context)
    text = render_text(env, context)
    paragraphs = [p.strip("\n") for p in text.split("\n\n") if p.strip()]
    html = env.get_template("layout.html").render(paragraphs=paragraphs, c=context)
    message = EmailMessage(policy=WIRE_POLICY)
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = message_id
    message["X-Auto-Response-Suppress"] = "All"
    message["X-RMA-Claim"] = context.claim_ref
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message, text


def _echoable(context: ReplyContext) -> ReplyContext:
    """The customer's words as a reply may show them: each one line, without controls or bidi controls.
    The staff's or the warehouse's own words (copied from a mail) keep their lines, each cleaned alike."""
    return dataclasses.replace(
        context, customer_name=one_line(context.customer_name), customer=one_line(context.customer),
        statements=tuple(map(one_line, context.statements)),
        missing_parts=tuple((one_line(part), quantity) for part, quantity in context.missing_parts),
        attachment_notes=tuple(map(one_line, context.attachment_notes)),
        understood=tuple(_cut(one_line(fact), MAX_UNDERSTOOD_CHARS) for fact in context.understood),
        staff_reason="\n".join(filter(None, map(one_line, context.staff_reason.splitlines()))))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


class _WireGenerator(BytesGenerator):
    """The stdlib's BytesGenerator, minus two costs that grow with a photo's size (a warehouse mail
    carries megabytes): it searches the whole text for each candidate boundary, and writes bodies one
    line at a time. And it never writes a header whose folding made a line break of its own."""

    def _write_headers(self, msg) -> None:
        # Python checks this itself only from 3.11.10 on (policy.verify_generated_headers); a value the
        # sanitiser missed must stop the reply, never add a Bcc to it.
        linesep = self.policy.linesep.encode()
        for name, value in msg.raw_items():
            folded = self.policy.fold_binary(name, value)
            if _BREAK_WITHOUT_FOLD.search(folded.removesuffix(linesep)):
                raise UnsafeHeader(f"the {name} header would carry a line break that starts a header of its own")
            self._fp.write(folded)
        self.write(self._NL)

    @classmethod
    def _make_boundary(cls, text=None) -> str:
        # "=_" appears in neither base64 nor quoted-printable; in 8bit text a 128-bit token never collides.
        return "=_" + secrets.token_hex(16)

    def _write_lines(self, lines: str) -> None:
        # The same bytes as the stdlib's loop (every CRLF, CR or LF becomes the policy's line end), in one write.
        if lines:
            self.write(lines.replace("\r\n", "\n").replace("\r", "\n").replace("\n", self._NL))


def to_bytes(message: EmailMessage) -> bytes:
    """The message as it goes out; in UTF-8 (RFC 6532) when an address is not ASCII, which no encoding
    in a 7-bit header can carry."""
    policy = UTF8_WIRE_POLICY if needs_smtputf8(message) else WIRE_POLICY
    out = io.BytesIO()
    _WireGenerator(out, mangle_from_=False, policy=policy).flatten(message)
    return out.getvalue()


def needs_smtputf8(message: EmailMessage) -> bool:
    return any(not address.addr_spec.isascii()
               for name in ("From", "To") for address in getattr(message[name], "addresses", ()))


def recipient(message: EmailMessage) -> str:
    """The address a reply goes to, as its To names it (the domain in A-labels, when that is how it is written)."""
    return message["To"].addresses[0].addr_spec


def writable(address: str) -> bool:
    """Whether a reply can be written to the address: one mailbox, read back as it was written."""
    try:
        _mailbox(address)
    except UnsafeHeader:
        return False
    return True


def _address(name: str, address: str) -> Address:
    """The customer's mailbox for To; with their name only where it reads back as just that name."""
    bare = _mailbox(address)
    named = Address(_display_name(name), bare.username, bare.domain)
    return named if _reads_back(named) and not _folds(named) else bare


def _mailbox(address: str) -> Address:
    try:
        local, domain = _mailbox_parts(address)
        mailbox = Address(username=local, domain=domain)
    except (ValueError, HeaderParseError) as exc:
        raise UnsafeHeader(f"{address!r} is no address a reply can be written to: {exc}") from None
    if not _reads_back(mailbox):
        raise UnsafeHeader(f"{address!r} is no address a reply can be written to: it reads back as another")
    return mailbox


def _display_name(name: str) -> str:
    """A name as To may hold it; one longer than any person's is no name. Decoded, it holds no encoded
    word; an "=?" left in it could begin one that the address ends, once the stdlib re-reads
    "name <address>" as it writes To."""
    name = one_line(name)
    return name.replace("=?", "= ?") if len(name) <= MAX_NAME_CHARS else ""


def _reads_back(mailbox: Address) -> bool:
    """Whether "name <address>" reads back as this one mailbox, as the stdlib reads it when it writes To."""
    try:
        header = WIRE_POLICY.header_factory("To", str(mailbox))
    except (ValueError, HeaderParseError):
        return False
    return (header.addresses == (mailbox,)
            and all(isinstance(defect, NonASCIILocalPartDefect) for defect in header.defects))


def _folds(mailbox: Address) -> bool:
    """Whether its To line would be folded: the stdlib then loses the quotes of a quoted name, and a name
    holding ':' or ',' reads as a group or as more addresses. Such a name is no name: it is left out."""
    policy = WIRE_POLICY if mailbox.addr_spec.isascii() else UTF8_WIRE_POLICY
    return policy.fold("To", policy.header_factory("To", mailbox)).count("\n") > 1


def _mailbox_parts(address: str) -> tuple[str, str]:
    """(local part, domain) as the header registry reads them, so that nothing in an address becomes a
    second one. The registry refuses a local part that is not ASCII (RFC 6531 allows it): then the domain
    is read with a stand-in, and the local part unquoted, as the registry quotes it again when it writes it.
    A domain that is not ASCII behind an ASCII local part is written in A-labels (RFC 5890): such an
    address needs no SMTPUTF8."""
    local, _, domain = address.rpartition("@")
    if local.isascii():
        checked = Address(addr_spec=address)
        return checked.username, a_labels(checked.domain)
    if len(local) > 1 and local.startswith('"') and local.endswith('"'):
        local = email.utils.unquote(local)
    return local, Address(addr_spec=f"x@{domain}").domain
