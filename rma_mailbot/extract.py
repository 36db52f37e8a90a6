"""ParsedMail -> ClaimFacts: order number, claim kind, statements, photos, reports. Pure."""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import re

from rma_mailbot import answers, kinds, reading
from rma_mailbot.models import (
    ClaimFacts,
    ClaimKind,
    Evidence,
    LabSource,
    ParsedMail,
    Part,
    PdfReading,
    Report,
    Statement,
    opened_parts_of,
)
from rma_mailbot.phrases import (
    CLAUSE_BREAK,
    DANGLING_NEGATION,
    KIND_PATTERNS,
    NEGATION,
    NOT_A_PART,
    OPENED_SENSITIVE,
    QUANTITY_ITEM,
    QUANTITY_PATTERNS,
    SENTENCE_END,
    STATEMENT_PATTERNS,
    UNSTATED,
)

# A line break inside a sentence: the line ends in no stop and the next goes on in lower case or with a
# number ("Il manque\n60 LM2596S"). Mail clients and customers wrap lines at some 72 characters. A short
# line is a greeting or a heading ("Hello,"), never the start of the sentence below it.
_WRAPPED = re.compile(r"(?<=[^\s.!?:;。！？：；])[ \t]*\r?\n[ \t]*(?=[a-zà-ÿ0-9(])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(_unwrapped(text)) if s and s.strip()]


def _unwrapped(text: str) -> str:
    def join(found: re.Match[str]) -> str:
        line = text[text.rfind("\n", 0, found.start()) + 1:found.start()]
        return " " if len(line.split()) > 4 else found.group(0)
    return _WRAPPED.sub(join, text)


def extract(mail: ParsedMail, order_pattern: re.Pattern[str], labs: tuple[str, ...] = ()) -> ClaimFacts:
    said = sentences(mail.text)
    is_order = _order_test(order_pattern)
    concepts = reading.read([mail.subject, *said], is_order)
    # A notice about mail or paperwork ("missing or damaged attachments should be reported to the sender",
    # "marchandises manquantes ou défectueuses ... conformément à nos CGV") names no claim's kind.
    own = [s for s in said if s not in concepts.notices]
    # A phrase pattern's statement stands unless the concepts read its sentence as of some boxes only.
    statements = [s for s in _statements(said) if (s.evidence, s.sentence) not in concepts.partly
                  and not _denied_later(s, concepts.emptying_denied, said)]
    for statement in concepts.statements:
        # Added unless a statement already says as much: one for all boxes covers any count.
        if not any(s.evidence is statement.evidence and (s.boxes == 0 or s.boxes >= statement.boxes > 0)
                   for s in statements):
            statements.append(statement)
    missing_parts, quantity_sentence = _quantities(said, concepts)
    by_phrase = claim_kind(mail.subject, own)
    kind, kind_sentence, by_model = _told_by_model(_kind(by_phrase, concepts), mail.subject, said, own,
                                                   read_somewhere=[by_phrase, *concepts.kinds])
    if missing_parts and Evidence.MISSING_QUANTITIES not in {s.evidence for s in statements}:
        statements.append(Statement(Evidence.MISSING_QUANTITIES, quantity_sentence))
    opened = list(dict.fromkeys([*(s for s in said if _affirmed(OPENED_SENSITIVE, s)), *concepts.opened]))
    photos, reports = [], []
    for part in mail.parts:
        if part.is_pdf:
            reports.append(read_report(part, mail.text, labs))
        elif part.photo is not None:
            photos.append(part.photo)
    facts = ClaimFacts(
        order_number=order_named(mail, order_pattern),
        kind=kind,
        kind_sentence=kind_sentence,
        kind_by_model=by_model,
        statements=tuple(statements),
        photos=tuple({p.sha256: p for p in photos}.values()),
        reports=tuple({r.sha256: r for r in reports}.values()),
        missing_parts=missing_parts,
        opened_sensitive=opened[0] if opened else "",
        opened_parts=opened_parts_of([_opened_in(said, sentence, is_order) for sentence in opened]),
        counts=tuple(dict.fromkeys(concepts.counts)),
    )
    return answers.added_to(facts, mail.full_text, lambda text: order_number(text, order_pattern),
                            lambda lines: _quantities(lines, reading.read(lines, is_order))[0])


def _denied_later(statement: Statement, denial: str, said: list[str]) -> bool:
    """Every box emptied, said before a sentence saying some box is not yet emptied."""
    return statement.evidence is Evidence.BOXES_EMPTIED and bool(denial) and (
        statement.sentence not in said or denial not in said or said.index(statement.sentence) <= said.index(denial))


def _opened_in(said: list[str], sentence: str, is_order) -> tuple[str, ...]:
    """The parts an opening names, with those the next sentence adds ("Same for the STM32F103C8T6."); the
    sentences beside it only if they are the customer's."""
    at = said.index(sentence) if sentence in said else -1
    before = said[at - 1] if at > 0 else ""
    after = said[at + 1] if 0 <= at < len(said) - 1 else ""
    parts = reading.opened_parts(sentence, is_order, before)
    return tuple(dict.fromkeys((*parts, *reading.also_opened(after, is_order)))) if parts else ()


def _order_test(order_pattern: re.Pattern[str]):
    def is_order(word: str) -> bool:
        return bool(order_pattern.fullmatch(word) or order_pattern.fullmatch(word.upper()))
    return is_order


def _kind(by_phrase: tuple[ClaimKind, str], concepts: reading.Reading) -> tuple[ClaimKind, str]:
    """The phrase patterns' kind, unless the concepts read otherwise: a whole shipment said to be missing
    ("die Sendung fehlt", "queremos el reembolso, nunca llegó") is a non-receipt when no part is named short."""
    kind, sentence = by_phrase
    read_kinds = [k for k, _ in concepts.kinds]
    if concepts.whole_parcel_missing and ClaimKind.MISSING_ITEMS not in read_kinds and \
            kind in (ClaimKind.MISSING_ITEMS, ClaimKind.RETURN, ClaimKind.UNKNOWN):
        return ClaimKind.NON_RECEIPT, concepts.whole_parcel_missing
    if kind is ClaimKind.NON_RECEIPT and ClaimKind.MISSING_ITEMS in read_kinds and not concepts.whole_parcel_missing:
        return ClaimKind.MISSING_ITEMS, next(s for k, s in concepts.kinds if k is ClaimKind.MISSING_ITEMS)
    if kind is ClaimKind.RETURN and (defect := next((s for s in concepts.defects if s not in concepts.notices), "")):
        return ClaimKind.QUALITY, defect  # a return because the parts are defective is a quality claim
    if kind is ClaimKind.QUALITY and sentence in concepts.denied_defects and ClaimKind.QUALITY not in read_kinds \
            and (returned := next((s for k, s in concepts.kinds if k is ClaimKind.RETURN), "")):
        return ClaimKind.RETURN, returned  # "Kaputt ist an den Teilen nichts ..., möchte sie zurückschicken"
    if kind is not ClaimKind.UNKNOWN:
        return kind, sentence
    for preferred in (ClaimKind.QUALITY, ClaimKind.MISSING_ITEMS, ClaimKind.NON_RECEIPT, ClaimKind.RETURN):
        if found := next((s for k, s in concepts.kinds if k is preferred), None):
            return preferred, found
    return kind, sentence


# From this probability on the model's kind overrules the kind the phrases read, or names one where they read
# none. Below it the phrases stand: they read a short, plain sentence ("these are non-original parts") better than
# a model trained on whole mails. Chosen on the fifth blind batch, with the model trained without it.
MODEL_SURE = 0.8


def _told_by_model(read: tuple[ClaimKind, str], subject: str, said: list[str], own: list[str],
                   read_somewhere: list[tuple[ClaimKind, str]]) -> tuple[ClaimKind, str, bool]:
    """The model's kind where it is sure enough of it, else what the phrases and concepts read; and whether only
    the model told it (no phrase or concept of the mail reads that kind). The sentence cited is the one that
    says the kind most."""
    kind, sentence = read
    if kind is ClaimKind.QUALITY:
        return kind, sentence, False  # a defect word decides: "defective, we want to return them" needs a report
    guess = kinds.guess(subject, said)
    if guess.kind is kind or guess.probability < MODEL_SURE:
        return kind, sentence, False
    if guess.kind is ClaimKind.UNKNOWN:
        return guess.kind, "", False
    if cited := next((s for k, s in read_somewhere if k is guess.kind), ""):
        return guess.kind, cited, False
    return guess.kind, kinds.likeliest_sentence(guess.kind, [subject, *own]), True


def _quantities(said: list[str], concepts: reading.Reading) -> tuple[tuple[tuple[str, int], ...], str]:
    """What is short, by part: the phrase patterns first, then what the concepts read; and the sentence saying it."""
    by_phrase = dict(_missing_parts(said))
    # The sentence naming a short part or its count; "" names no part and is in every sentence (a greeting).
    first = next((s for s in said if any(p and p in s.upper() or str(q) in s for p, q in by_phrase.items())), "")
    for part, quantity, sentence in concepts.missing_parts:
        if part not in by_phrase and not (part == "" and by_phrase):
            by_phrase[part] = quantity
            first = first or sentence
    return tuple(by_phrase.items()), first


def order_named(mail: ParsedMail, pattern: re.Pattern[str]) -> str:
    """The order the mail names: in its subject or the customer's own words, else in a mail it quotes (a reply
    to our shipping notice may name it only there). A quoted order identifies; it is no evidence."""
    return order_number(f"{mail.subject}\n{mail.text}", pattern) or order_number(mail.full_text, pattern)


def order_number(text: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(text)
    return normalise_order_number(found.group(0)) if found else ""


def normalise_order_number(value: str) -> str:
    """'so 104233', 'SO-104233' and 'so104233' are one order."""
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def claim_kind(subject: str, said: list[str]) -> tuple[ClaimKind, str]:
    for kind, pattern in KIND_PATTERNS:
        for sentence in [subject, *said]:
            if pattern.search(sentence):
                return kind, sentence
    return ClaimKind.UNKNOWN, ""


def _affirmed(pattern: re.Pattern[str], sentence: str, unstated: re.Pattern[str] = NEGATION) -> bool:
    """The pattern is said, and not negated in its own clause before it ends ("we have not opened the bag").

    Only the clause counts: in "no problem, all boxes arrived" the "no" is about something else.
    A question ("should we open the ESD bag?") states nothing.
    """
    if sentence.endswith(("?", "？")):
        return False
    breaks = [b.end() for b in CLAUSE_BREAK.finditer(sentence)]  # once, not per match: long mails stay linear
    dangling = next((d.end() for d in DANGLING_NEGATION.finditer(sentence)), len(sentence) + 1)
    for found in pattern.finditer(sentence):
        before = bisect.bisect_right(breaks, found.start())
        clause = breaks[before - 1] if before else 0
        if not (NEGATION.search(sentence, clause, found.end()) or unstated.search(sentence, clause, found.end())
                or dangling <= clause):
            return True
    return False


def _statements(said: list[str]):
    for evidence, pattern in STATEMENT_PATTERNS:
        sentence = next((s for s in said if _affirmed(pattern, s, UNSTATED)), None)
        if sentence is not None:
            yield Statement(evidence, sentence)


def _missing_parts(said: list[str]):
    seen: dict[str, int] = {}
    for sentence in said:
        # The patterns overlap ("LM2596S: received 37 of 40" fits two): each number is counted once.
        counted: dict[tuple[int, int], re.Match[str]] = {}
        for pattern in QUANTITY_PATTERNS:
            for found in pattern.finditer(sentence):
                # A list ("missing 5 AMS1117-3.3 and 3 pcs of LM2596S") is read item by item.
                hits = QUANTITY_ITEM.finditer(sentence, *found.span("items")) if "items" in pattern.groupindex \
                    else (found,)
                for hit in hits:
                    groups = hit.groupdict()
                    number = hit.span("want" if groups.get("want") else "qty")
                    # Two patterns may read one count; the reading that names the part wins.
                    if number not in counted or (groups.get("part") and not counted[number].groupdict().get("part")):
                        counted[number] = hit
        for _, found in sorted(counted.items()):  # in the order the customer wrote them
            groups = found.groupdict()
            part = (groups.get("part") or "").upper().rstrip(".")
            # "24 November", "555 1234", "0805 resistors": a date, a phone number, a package size, no count
            if reading.is_time_word(part) or part.isdigit() or (groups.get("qty") or "1")[0] == "0":
                continue
            if part in NOT_A_PART or (part and not re.search(r"\d", part)):
                part = ""  # "20 pcs short", "12 resistors": a count of no part number
            if groups.get("want"):
                quantity = int(groups["want"]) - int(groups["got"])
            else:
                quantity = int(groups["qty"])
            if quantity > 0 and part not in seen:
                seen[part] = quantity
    yield from seen.items()


# A PDF part that was never read (the pipeline reads every customer's, reports.with_readings) is no evidence.
NOT_READ = PdfReading(unreadable="never read")


def find_lab(text: str, labs: tuple[str, ...]) -> str:
    """The first recognised lab named in the text, matched on whole words, ignoring case and spacing."""
    flat = " ".join(text.split())
    for lab in labs:
        words = r"\s+".join(re.escape(w) for w in lab.split())
        if re.search(rf"(?<!\w){words}(?!\w)", flat, re.IGNORECASE):
            return lab
    return ""


def read_report(part: Part, mail_text: str, labs: tuple[str, ...]) -> Report:
    """A quality report and the lab behind it: the PDF's text counts; a filename or the mail is weaker.
    What reading it found besides (active content, or why it could not be read) goes with it."""
    reading = part.pdf or NOT_READ
    found = Report(hashlib.sha256(part.payload).hexdigest(), active=reading.active, unreadable=reading.unreadable)
    for source, text in ((LabSource.PDF_TEXT, reading.text), (LabSource.FILENAME, part.filename),
                         (LabSource.MAIL_TEXT, mail_text)):
        if lab := find_lab(text.replace("_", " "), labs):
            return dataclasses.replace(found, lab=lab, found_in=source)
    return found
