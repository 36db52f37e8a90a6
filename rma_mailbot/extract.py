"""ParsedMail -> ClaimFacts: order number, claim kind, statements, photos, reports. Pure."""

from __future__ import annotations

import hashlib
import io
import re
import warnings

from PIL import Image

from rma_mailbot.models import ClaimFacts, ClaimKind, Evidence, ParsedMail, Photo, Statement

# A signature logo or a tracking pixel is no photo of a parcel.
MIN_PHOTO_PIXELS = 200 * 200
MAX_PHOTO_PIXELS = 120_000_000

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_NEGATION = re.compile(
    r"\b(not|no|never|none|neither|nor|haven'?t|hasn'?t|hadn'?t|didn'?t|don'?t|doesn'?t|isn'?t|aren'?t|"
    r"wasn'?t|weren'?t|cannot|can'?t|couldn'?t|only|nicht|kein\w*|pas|jamais|ningún|ninguna|nunca)\b|[没未不]",
    re.IGNORECASE,
)

# First match wins, so the most specific kinds come first.
_KIND_PATTERNS: tuple[tuple[ClaimKind, re.Pattern[str]], ...] = (
    (ClaimKind.QUALITY, re.compile(
        r"\b(defect\w*|faulty|broken|damaged|fake|counterfeit|non[- ]?original|not original|not genuine|"
        r"(does|do|did)\s?n[o']t work|not working|dead on arrival|doa|quality (problem|issue)|"
        r"defekt|gefälscht|défectueux|contrefa\w+|defectuos[oa]|falsificad[oa])\b|质量|假货|有缺陷", re.IGNORECASE)),
    (ClaimKind.MISSING_ITEMS, re.compile(
        r"\b(missing|short[- ]?shipped|not (in|inside) the (box|parcel|package)|fehl(en|t|ende)|manquant\w*|"
        r"falta\w*)\b|received \d+ (of|out of) \d+|缺少|少了", re.IGNORECASE)),
    (ClaimKind.NON_RECEIPT, re.compile(
        r"\b(not (yet )?(received|arrived|delivered)|(never|still not|hasn'?t|has not|have not|haven'?t) "
        r"(been )?(received|arrived|delivered|got)|did(n'?t| not) (arrive|receive|get)|where is my "
        r"(order|parcel|package)|nicht (angekommen|erhalten|geliefert)|pas (reçu|arrivé)|no (he )?recibido|"
        r"no ha llegado)\b|没有收到|未收到", re.IGNORECASE)),
    (ClaimKind.RETURN, re.compile(
        r"\b(ordered (it |them )?(by mistake|wrongly|in error)|wrong part (ordered|number)|"
        r"no longer need(ed)?|not needed|don'?t need|do not need|want to return|would like to return|"
        r"return (it|them|the (parts|items|order))|zurückschicken|zurücksenden|retourner|devolver)\b|退货",
        re.IGNORECASE)),
)

_STATEMENT_PATTERNS: tuple[tuple[Evidence, re.Pattern[str]], ...] = (
    (Evidence.ALL_BOXES_RECEIVED, re.compile(
        r"\b(received|got|have|arrived)\b.{0,30}\b(all|both|every|each)\b.{0,20}\b(boxes|box|parcels?|"
        r"packages?|cartons?)\b|\b(all|both)( \w+){0,2} (boxes|parcels|packages|cartons)\b.{0,30}\b(arrived|"
        r"received|came|delivered)\b|alle (pakete|kartons) (sind )?(erhalten|angekommen)",
        re.IGNORECASE)),
    (Evidence.BOXES_EMPTIED, re.compile(
        r"\b(emptied|unpacked|went through|searched|checked)\b.{0,40}\b(box(es)?|parcels?|packages?|"
        r"packing|packaging|material|cartons?)\b|\b(boxes|box|parcels?|packages?|cartons?)\b.{0,30}\b"
        r"(fully |completely )?(emptied|unpacked)\b|(vollständig )?geleert",
        re.IGNORECASE)),
)

_PART = r"[A-Z0-9][A-Z0-9\-/.#]{2,30}"
_QUANTITY_PATTERNS = (
    # "3 pcs of LM2596S are missing", "3x NE555 missing"
    re.compile(rf"\b(?P<qty>\d{{1,6}})\s*(?:x|pcs\.?|pieces|units|ea|stk\.?|stück)?\s*(?:of\s+)?"
               rf"(?P<part>{_PART})\b.{{0,30}}\b(?:missing|short|fehl\w*|manquant\w*)", re.IGNORECASE),
    # "missing: 3 pcs LM2596S", "missing 3 x LM2596S"
    re.compile(rf"\bmissing\b\W{{0,3}}(?P<qty>\d{{1,6}})\s*(?:x|pcs\.?|pieces|units)?\s*(?:of\s+)?"
               rf"(?P<part>{_PART})\b", re.IGNORECASE),
    # "LM2596S: received 37 of 40"
    re.compile(rf"(?P<part>{_PART})\b.{{0,20}}\breceived\s+(?P<got>\d{{1,6}})\s+(?:of|out of)\s+"
               rf"(?P<want>\d{{1,6}})", re.IGNORECASE),
    # "received 37 of 40 LM2596S"
    re.compile(rf"\breceived\s+(?P<got>\d{{1,6}})\s+(?:of|out of)\s+(?P<want>\d{{1,6}})\s*(?:x|pcs\.?|pieces|"
               rf"units)?\s*(?:of\s+)?(?P<part>{_PART})?", re.IGNORECASE),
)
_NOT_A_PART = {"PCS", "PIECES", "UNITS", "THE", "ARE", "WERE", "ITEMS", "PARTS", "BOXES", "OF"}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def extract(mail: ParsedMail, order_pattern: re.Pattern[str]) -> ClaimFacts:
    said = sentences(mail.text)
    kind, kind_sentence = claim_kind(mail.subject, said)
    statements = list(_statements(said))
    missing_parts = tuple(_missing_parts(said))
    if missing_parts and Evidence.MISSING_QUANTITIES not in {s.evidence for s in statements}:
        sentence = next(s for s in said if any(p in s.upper() or str(q) in s for p, q in missing_parts))
        statements.append(Statement(Evidence.MISSING_QUANTITIES, sentence))
    photos, reports = [], []
    for part in mail.parts:
        if part.payload.startswith(b"%PDF-"):
            reports.append(hashlib.sha256(part.payload).hexdigest())
        elif (photo := decode_photo(part.payload)) is not None:
            photos.append(photo)
    return ClaimFacts(
        order_number=order_number(f"{mail.subject}\n{mail.text}", order_pattern),
        kind=kind,
        kind_sentence=kind_sentence,
        statements=tuple(statements),
        photos=tuple({p.sha256: p for p in photos}.values()),
        reports=tuple(dict.fromkeys(reports)),
        missing_parts=missing_parts,
    )


def order_number(text: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(text)
    return normalise_order_number(found.group(0)) if found else ""


def normalise_order_number(value: str) -> str:
    """'so 104233', 'SO-104233' and 'so104233' are one order."""
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def claim_kind(subject: str, said: list[str]) -> tuple[ClaimKind, str]:
    for kind, pattern in _KIND_PATTERNS:
        for sentence in [subject, *said]:
            if pattern.search(sentence):
                return kind, sentence
    return ClaimKind.UNKNOWN, ""


def _statements(said: list[str]):
    for evidence, pattern in _STATEMENT_PATTERNS:
        for sentence in said:
            found = pattern.search(sentence)
            if found and not _NEGATION.search(sentence[: found.end()]):
                yield Statement(evidence, sentence)
                break


def _missing_parts(said: list[str]):
    seen: dict[str, int] = {}
    for sentence in said:
        # The patterns overlap ("LM2596S: received 37 of 40" fits two): each number is counted once.
        counted: set[tuple[int, int]] = set()
        for pattern in _QUANTITY_PATTERNS:
            for found in pattern.finditer(sentence):
                groups = found.groupdict()
                number = found.span("want" if groups.get("want") else "qty")
                if number in counted:
                    continue
                counted.add(number)
                part = (groups.get("part") or "").upper().rstrip(".")
                if part in _NOT_A_PART or (part and not re.search(r"\d", part) and len(part) < 4):
                    part = ""
                if groups.get("want"):
                    quantity = int(groups["want"]) - int(groups["got"])
                else:
                    quantity = int(groups["qty"])
                if quantity > 0 and (part or "") not in seen:
                    seen[part] = quantity
    yield from seen.items()


def decode_photo(payload: bytes) -> Photo | None:
    """A Photo when the bytes really decode as a picture of useful size, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(payload)) as image:
                if image.width * image.height > MAX_PHOTO_PIXELS:
                    return None
                image.load()  # a truncated or corrupt file fails here, not at open()
                content_type = Image.MIME.get(image.format or "", "image/unknown")
                width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    if width * height < MIN_PHOTO_PIXELS:
        return None
    return Photo(hashlib.sha256(payload).hexdigest(), content_type, width, height, len(payload))
