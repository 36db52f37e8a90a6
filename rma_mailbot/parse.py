"""Raw bytes -> ParsedMail, with mail-parser. Pure: no I/O, no clock."""

from __future__ import annotations

import base64
import binascii
import codecs
import collections
import email.policy
import email.utils
import logging
import re

import authres
import filetype
import html2text
import mailparser
import tnefparse
from mailparser_reply import EmailReplyParser

from rma_mailbot import identity
from rma_mailbot.errors import ParseError
from rma_mailbot.machine import classify
from rma_mailbot.models import AuthResult, MailClass, ParsedMail, Part
from rma_mailbot.pictures import decode_photo
from rma_mailbot.replies import writable
from rma_mailbot.sanitise import one_line, plain_words

log = logging.getLogger(__name__)
# mail-parser warns about every MIME type it does not handle itself; that is noise in an inbox's log.
logging.getLogger("mailparser").setLevel(logging.ERROR)

REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "ja", "cn"]
_reply_parser = EmailReplyParser(languages=REPLY_LANGUAGES)
# A claim is a few paragraphs; only this much of a body is read for the customer's words, so that a
# megabyte of text (the corpus has such mails) costs no more than a long letter.
MAX_TEXT_CHARS = 20_000
# Markup runs to many times the text it carries (Outlook sends some 50 kB of styles with one line), but
# only this much of an HTML body is converted: the text cap applied after converting bounds nothing.
MAX_HTML_CHARS = 25 * MAX_TEXT_CHARS
# html2text repeats the marker of every enclosing quote and list on each line, so its cost grows with the
# square of the nesting; deeper levels are read as this one (a long thread quotes a few dozen levels at most).
MAX_NESTING = 20
_NESTING_GROUPS = {"blockquote": "quote", "ul": "list", "ol": "list"}
HEAD_BYTES = 1_000_000
MAX_REFERENCES = 40
TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
_FROM_FIELD = re.compile(rb"^from[ \t]*:", re.IGNORECASE | re.MULTILINE)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
# Printable ASCII, and no encoded word: the stdlib would decode one when it writes our In-Reply-To. And
# short enough for one line of ours (RFC 5322's 998 characters): a longer id is folded into encoded words.
MAX_MSGID_CHARS = 250
_MSGID = re.compile(rf"<(?:(?!=\?)[!-;=?-~]){{1,{MAX_MSGID_CHARS}}}>")
# mail-parser writes a From header's byte that is not UTF-8 as the text \udcfc (its evidence of a
# defect); made a byte again, one_line reads it for what it is (Latin-1 "ü").
_ESCAPED_OCTET = re.compile(r"\\udc([89a-f][0-9a-f])", re.IGNORECASE)


def parse(raw: bytes, *, own_addresses: frozenset[str] = frozenset(), staff_addresses: frozenset[str] = frozenset(),
          authserv_id: str = "", max_bytes: int | None = None) -> ParsedMail:
    """Parse one message. Raises ParseError when it is not a message at all.

    A message over ``max_bytes`` is read from its first HEAD_BYTES only: its headers and text, never
    its attachments (which would not be kept anyway). Parsing costs several times a message's size
    in memory, so this is what keeps a 50 MB mail from costing hundreds of MB.
    """
    if not raw[:4096].strip() and not raw.strip():  # the head first: stripping 50 MB copies 50 MB
        raise ParseError("empty message")
    truncated = max_bytes is not None and len(raw) > max_bytes
    try:
        mail = mailparser.parse_from_bytes(raw[:HEAD_BYTES] if truncated else raw)
        message = mail.message
    except Exception as exc:  # mail-parser raises anything from its many helpers
        raise ParseError(f"mail-parser failed: {type(exc).__name__}: {exc}") from exc
    if not message.keys():
        raise ParseError("no headers: not a mail message")

    sender_name, sender = _sender(mail)
    subject = one_line(_raw_header(message, "Subject"))
    message_id = _first_msgid(message.get("Message-ID", ""))
    full_text = _text(mail)
    auth_server, auth = auth_results(message.get_all("Authentication-Results", []), authserv_id)
    mail_class, class_reason = classify(message, sender, subject, own_addresses, full_text)
    if mail_class is MailClass.CUSTOMER and sender in staff_addresses:
        mail_class, class_reason = MailClass.STAFF, f"from our staff address {sender}"
    return ParsedMail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=strip_quoted(full_text[:MAX_TEXT_CHARS], own_addresses, subject),
        full_text=full_text,
        in_reply_to=_first_msgid(message.get("In-Reply-To", "")),
        references=_references(message.get_all("References", [])),
        parts=() if truncated else tuple(_parts(mail)),
        mail_class=mail_class,
        class_reason=class_reason,
        auth=auth,
        auth_server=auth_server,
        single_author=_single_author(raw, message),
        digest=identity.raw_digest(raw) if truncated else identity.digest(raw, message),
        truncated=truncated,
    )


# The properties of each method's result that name the domain it vouches for, in order of preference
# (Gmail writes DKIM's header.i, "@example.com", without header.d).
_AUTH_DOMAIN = {"dkim": (("header", "d"), ("header", "i")), "dmarc": (("header", "from"),),
                "spf": (("smtp", "mailfrom"),)}
# The authserv-id opens the header, after any comments: read without authres, which may fail on the rest.
_AUTHSERV_ID = re.compile(r"\s*(?:\([^()]*\)\s*)*([^\s;()]+)")


def auth_results(headers: list, authserv_id: str = "") -> tuple[str, tuple[AuthResult, ...]]:
    """Our receiving server's authserv-id and its verdicts, e.g. dmarc=fail for example.org.

    Only one header is trusted: the topmost one whose authserv-id is ours (``authserv_id``), or the
    topmost one at all when none is configured. Headers further down came with the mail and may be
    forged by the sender; so when the trusted one cannot be read, there is no verdict at all.
    """
    for header in headers:
        text = one_line(str(header))
        found = _AUTHSERV_ID.match(text)
        server = found.group(1).lower() if found else ""
        if authserv_id and server != authserv_id.lower():
            continue
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(text)
        except Exception:  # noqa: BLE001 - authres raises its own many syntax errors
            # A sender's HELO or address, copied into our server's header, can make it unreadable to authres.
            log.info("Authentication-Results of %s could not be read: no verdict", server or "an unnamed server")
            return server, ()
        return server, tuple(_verdict(r) for r in parsed.results)
    return "", ()


def _verdict(result) -> AuthResult:
    method = str(result.method).lower()
    values = {(p.type, p.name): str(p.value) for p in result.properties}
    domain = next((values[key] for key in _AUTH_DOMAIN.get(method, ()) if values.get(key)), "")
    return AuthResult(method, str(result.result).lower(), domain.rpartition("@")[2].lower())


# The line a mail client puts above a forwarded mail, in the languages we read.
_FORWARDED = re.compile(
    r"^[ \t>]*-*\s*(?:forwarded\s+message|begin\s+forwarded\s+message|weitergeleitete\s+nachricht"
    r"|message\s+transf[ée]r[ée]|mensaje\s+reenviado|转发的邮件|转发邮件|轉寄的郵件|轉寄郵件)\b[^\n]*$",
    re.IGNORECASE | re.MULTILINE)
# Outlook's line above a forwarded mail and above a quoted reply alike, which may be one of ours: what follows
# is the customer's evidence only when its header block names someone else's mail (see _someone_elses).
_ORIGINAL = re.compile(
    r"^[ \t>]*-{2,}\s*(?:original\s+message|urspr(?:ü|ue)ngliche\s+nachricht|message\s+d'origine"
    r"|mensaje\s+original|原始邮件|原始郵件)\s*-{2,}[ \t]*$", re.IGNORECASE | re.MULTILINE)
# A quoted mail that begins with its header block ("> From: Pablo Ortega"): a reply's quote, or a colleague's note
# passed on below the customer's words, told apart as under "Original Message".
_QUOTED_MAIL = re.compile(r"^(?=>[ \t>]*[*_]*(?:from|von|de|发件人|發件人|寄件者)[*_]*\s*[:：])",
                          re.IGNORECASE | re.MULTILINE)
_SENDER_LINE = re.compile(r"^[ \t>]*[*_]*(?:from|von|de|发件人|發件人|寄件者)[*_]*\s*[:：]\s*\S", re.IGNORECASE)
_SUBJECT_LINE = re.compile(r"^[ \t>]*[*_]*(?:subject|betreff|objet|sujet|asunto|主题|主題)[*_]*\s*[:：]", re.IGNORECASE)
_CLAIM_TAG = re.compile(r"\[[A-Za-z]{1,12}-\d{1,12}\]")  # the "[CLM-00042]" our reply subjects carry
# The forwarded mail's own header block ("From: ...", "Betreff: ...", "发件人: ..."), which is no one's words.
# A client converting HTML writes the names bold ("**From:**", "*From:*"); Thunderbird writes "Sujet :" first.
_HEADER_LINE = re.compile(
    r"^[ \t>]*[*_]*(?:from|sent|date|to|cc|subject|reply-to|von|gesendet|datum|an|betreff|antwort\s+an|de"
    r"|à|objet|sujet|pour|répondre\s+à|envoy[ée]|para|fecha|asunto|enviado(?:\s+el)?|responder\s+a"
    r"|发件人|發件人|寄件者|日期|时间|時間|收件人|收件者|主题|主題|抄送)[*_]*\s*[:：][^\n]*$",
    re.IGNORECASE)


def strip_quoted(text: str, own_addresses: frozenset[str] = frozenset(), subject: str = "") -> str:
    """The customer's own words: quoted history and signatures removed. A mail the customer forwards is
    their evidence ("see my colleague's report below") and is kept, without its header block; a forwarded
    mail of ours is not, nor an older mail quoted below a reply."""
    markers = [m for m in (_FORWARDED.search(text), _ORIGINAL.search(text), _QUOTED_MAIL.search(text))
               if m is not None]
    if not markers:
        return _own_words(text)
    marker = min(markers, key=lambda m: m.start())
    head, rest = text[:marker.start()], text[marker.end():]
    lines = rest.lstrip("\n").splitlines()
    header = []
    while lines and (_HEADER_LINE.match(lines[0]) or not lines[0].strip("> \t") and not header
                     or header and header[-1].strip() and lines[0][:1] in " \t" and lines[0].strip()):  # folded
        header.append(lines.pop(0))
    if any(address in line.lower() for line in header for address in own_addresses) or \
            marker.re is not _FORWARDED and not (_someone_elses(header) and _passed_on(subject, head)):
        return _own_words(head)
    body = "\n".join(line.lstrip(">").removeprefix(" ") if line.startswith(">") else line for line in lines)
    return "\n\n".join(p for p in (_own_words(head), strip_quoted(body, own_addresses, subject)) if p)


def _someone_elses(header: list[str]) -> bool:
    """An "Original Message" block is a colleague's report the customer passes on ("From: Tom Hargreaves",
    "De: Almacén <almacen@...>"), not a reply of ours quoted back: it names a sender, and its subject carries
    no claim reference of the kind our replies' subjects do."""
    return any(_SENDER_LINE.match(line) for line in header) and not any(
        _SUBJECT_LINE.match(line) and _CLAIM_TAG.search(line) for line in header)


def _passed_on(subject: str, head: str) -> bool:
    """Under "Original Message" a reply quotes the mail it answers, a forward passes one on: the customer says
    which, by the subject ("Fw:", "RV:", "WG:", "转发") or above it ("see the note below", "os reenvío")."""
    return bool(_FORWARD_SUBJECT.match(subject) or _FORWARD_WORDS.search(head))


_FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:re|aw|antw|sv)\s*:\s*)*(?:fwd?|wg|tr|rv|enc|转发|轉寄|轉發)\s*[:：]",
                              re.IGNORECASE)
_FORWARD_WORDS = re.compile(
    r"\b(?:below|underneath|forward\w*|unten|weitergeleitet|weiterleit\w*|ci-dessous|ci-après|transf[eé]r\w*"
    r"|abajo|debajo|reenv[ií]\w*|te paso|os paso|les paso)\b|下面|下方|以下|转发|轉寄|轉發", re.IGNORECASE)


# The signature separator (RFC 3676 "-- "; many clients drop the space): a signature and the legal notice
# under it ("we accept no liability for content altered, incomplete or missing") are no one's claim.
_SIGNATURE = re.compile(r"^--[ \t]?$", re.MULTILINE)


def _own_words(text: str) -> str:
    if signature := _SIGNATURE.search(text):
        text = text[:signature.start()]
    if not text.strip():
        return ""
    try:
        return _reply_parser.parse_reply(text=text).strip()
    except Exception:  # the reply parser is heuristic; never lose the text over it
        log.warning("quote stripping failed; keeping the whole text", exc_info=True)
        return text.strip()


def strip_own_words(text: str, our_texts: list[str]) -> str:
    """Drop every line that repeats a line of our own earlier replies.

    Clients that quote without '>' (or with their own markers) would otherwise make our
    checklist read as the customer's confirmation.
    """
    ours = {_norm(line) for t in our_texts for line in t.splitlines() if len(_norm(line)) > 12}
    if not ours:
        return text
    return "\n".join(line for line in text.splitlines() if _norm(line) not in ours).strip()


def _norm(line: str) -> str:
    return " ".join(line.lstrip("> \t|").split()).lower()


def _raw_header(message, name: str) -> str:
    """The first ``name`` header as it came: 8-bit bytes kept (as surrogates) for one_line to read by what
    they are. mail-parser drops them, and the stdlib's str() makes them U+FFFD."""
    return next((str(value) for key, value in message.raw_items() if key.lower() == name.lower()), "")


def _sender(mail) -> tuple[str, str]:
    """The sender's name and address; none at all when no reply could be written to the address (an encoded
    word or a line separator in it): such a mail is stored as one without a sender, never answered."""
    name, address = "", ""
    for candidate_name, candidate in mail.from_ or _stdlib_from(mail.message):
        if "@" in candidate:
            name, address = candidate_name, candidate
            break
    address = one_line(_octets(address)).lower()
    if address and not writable(address):
        log.info("sender address %r cannot be written in a reply: taken as no sender", address)
        return "", ""
    return one_line(_octets(name)), address


def _single_author(raw: bytes, message) -> bool:
    """Exactly one From field, naming exactly one mailbox: only then is it clear which address our server's
    verdict was about. Counted in the raw head too, since the stdlib drops a "From :" field."""
    head = _HEAD_END.split(raw[:HEAD_BYTES], maxsplit=1)[0]
    if len(_FROM_FIELD.findall(head)) != 1:
        return False
    value = _raw_header(message, "From")
    try:
        header = email.policy.default.header_factory("From", plain_words(value))
    except Exception:  # noqa: BLE001 - the stdlib raises assorted errors on garbage
        return False
    return len(header.addresses) == 1 and not header.defects and len(email.utils.getaddresses([value])) == 1


def _octets(value: str) -> str:
    return _ESCAPED_OCTET.sub(lambda octet: chr(0xDC00 + int(octet.group(1), 16)), value)


def _stdlib_from(message) -> list[tuple[str, str]]:
    """The From mailboxes as the stdlib reads them.

    mail-parser decodes RFC 2047 words before it splits the header into addresses, so a name
    that decodes to text with a ':' ("Firma: Müller GmbH") loses the address, and the customer's
    mail would pass for a bounce. The stdlib decodes each word in place; plain_words first makes
    each word one it can decode without a line break, which it would refuse in a name.
    """
    try:
        header = email.policy.default.header_factory("From", plain_words(_raw_header(message, "From")))
        return [(mailbox.display_name, mailbox.addr_spec) for mailbox in header.addresses]
    except Exception:  # noqa: BLE001 - the stdlib raises assorted errors on garbage; no sender then
        return []


def _references(headers: list) -> tuple[str, ...]:
    """The newest MAX_REFERENCES ids: a thread is answered near its end, and a header listing a hundred
    thousand ids must cost a look-up of a few dozen."""
    return tuple(_MSGID.findall(" ".join(str(v) for v in headers))[-MAX_REFERENCES:])


def _first_msgid(value: object) -> str:
    found = _MSGID.search(str(value or ""))
    return found.group(0) if found else ""


def _text(mail) -> str:
    plain = "\n\n".join(p for p in mail.text_plain if p.strip())
    if plain:
        return plain.replace("\r\n", "\n")
    html = "\n".join(mail.text_html)[:MAX_HTML_CHARS]
    if not html.strip():
        return ""
    return _FlatHTML2Text().handle(html).strip()


class _FlatHTML2Text(html2text.HTML2Text):
    """html2text with quotes and lists nested at most MAX_NESTING deep: the tags of deeper levels are
    passed over, their text is kept."""

    def __init__(self):
        super().__init__(bodywidth=0)
        self.ignore_images = True
        self.ignore_links = True
        self._open = collections.Counter()  # per nesting group: levels open, passed over ones included

    def handle_starttag(self, tag, attrs):
        group = _NESTING_GROUPS.get(tag)
        if group is not None:
            self._open[group] += 1
            if self._open[group] > MAX_NESTING:
                return
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        group = _NESTING_GROUPS.get(tag)
        if group is not None and self._open[group]:
            self._open[group] -= 1
            if self._open[group] >= MAX_NESTING:
                return
        super().handle_endtag(tag)


def sniff(data: bytes) -> str:
    """The content type the bytes really have: a program named photo.jpg is a program."""
    kind = filetype.guess(data[:8192])
    return kind.mime if kind else ""


def part_of(content_type: str, payload: bytes, filename: str = "", *, content_id: str = "", inline: bool = False,
            inside: str = "") -> Part:
    """A part, with the type its bytes really have and, for a picture, what it shows: decoded here once."""
    return Part(content_type=content_type, payload=payload, filename=filename, content_id=content_id,
                inline=inline, sniffed=sniff(payload), inside=inside,
                photo=None if payload.startswith(b"%PDF-") else decode_photo(payload))


def _parts(mail):
    for attachment in mail.attachments:
        payload = attachment.get("payload") or ""
        if attachment.get("binary"):
            try:
                data = base64.b64decode(payload)
            except (binascii.Error, ValueError):
                continue  # undecodable; the raw mail is stored whole all the same
        else:
            data = payload.encode(_codec(attachment.get("charset")), errors="replace")
        part = part_of(
            str(attachment.get("mail_content_type") or "application/octet-stream").lower(), data,
            one_line(str(attachment.get("filename") or "")),
            content_id=str(attachment.get("content-id") or "").strip("<> "),
            inline=str(attachment.get("content-disposition") or "").lower().startswith("inline"),
        )
        if data.startswith(TNEF_SIGNATURE):
            yield from _unpack_tnef(part)
        else:
            yield part


def _unpack_tnef(part: Part):
    """Outlook's winmail.dat: the attachments inside count, photos included; the container is kept too."""
    yield part
    try:
        inner = tnefparse.TNEF(part.payload).attachments
    except Exception:  # noqa: BLE001 - tnefparse raises assorted errors on broken containers; keep the container
        log.info("winmail.dat could not be unpacked; kept as it is")
        return
    for attachment in inner:
        data = bytes(attachment.data or b"")
        if not data:
            continue
        name = attachment.long_filename() or attachment.name or ""
        name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
        yield part_of("application/octet-stream", data, one_line(name), inside=part.filename or "winmail.dat")


def _codec(charset: str | None) -> str:
    """The part's declared charset when Python knows it: a typo like "uft-8" must not lose the mail."""
    try:
        return codecs.lookup(charset or "utf-8").name
    except LookupError:
        return "utf-8"
