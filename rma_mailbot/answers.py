"""The lines an ask-evidence reply asks the customer to answer in place, and reading the answers. Pure.

The wording of each line is here and nowhere else: the templates render it (``line``), the reader matches
it (``read``). Our mail writes "Each box emptied completely: yes / no"; the customer answers on that line,
inside the quoted copy ("> Each box emptied completely: yes") or in a copy of their own, in any of our five
languages. Only a line whose label is ours counts, matched exactly but for case, blanks and accents; what
stands after the colon is read exactly too: a "yes / no" left as it was, or words that are neither, answer
nothing, and a "no" is never evidence.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from rma_mailbot.models import ClaimFacts, ClaimKind, Evidence, Statement

log = logging.getLogger(__name__)


class Answer(StrEnum):
    """What the customer writes after a line's colon."""

    YES_NO = "yes_no"
    QUANTITIES = "quantities"
    ORDER_NUMBER = "order_number"
    CASE = "case"
    ATTACHMENT = "attachment"  # nothing to read: what is attached counts by itself


@dataclass(frozen=True)
class Line:
    label: str
    prompt: str  # what stands after the colon in our mail
    answer: Answer


# The cases of the return policy: the name the case line offers first, then how customers answer it.
CASES: tuple[tuple[ClaimKind, tuple[str, ...]], ...] = (
    (ClaimKind.NON_RECEIPT, (
        "parcel not received", "not received", "never received", "never arrived", "parcel missing", "non receipt",
        "paket nicht erhalten", "nicht erhalten", "nicht angekommen", "sendung nicht erhalten", "nicht geliefert",
        "colis non recu", "colis pas recu", "non recu", "pas recu", "jamais recu",
        "paquete no recibido", "no recibido", "no recibi el paquete", "no llego", "nunca llego",
        "未收到包裹", "未收到", "没收到", "没有收到", "沒收到", "沒有收到", "包裹未收到")),
    (ClaimKind.MISSING_ITEMS, (
        "items missing", "missing items", "missing parts", "parts missing", "missing", "short shipment",
        "fehlende teile", "fehlende artikel", "teile fehlen", "artikel fehlen", "fehlmenge", "fehlt",
        "articles manquants", "pieces manquantes", "manquant", "manquants", "il manque des articles",
        "articulos faltantes", "piezas faltantes", "faltan articulos", "faltan piezas", "faltante", "faltantes",
        "缺件", "少件", "缺货", "缺少物品", "缺少零件", "缺少")),
    (ClaimKind.RETURN, (
        "return", "returns", "ordered by mistake", "send back",
        "ruckgabe", "rucksendung", "retoure", "zuruckschicken",
        "retour", "renvoi",
        "devolucion", "devolver",
        "退货", "退貨", "退回")),
    (ClaimKind.QUALITY, (
        "quality problem", "quality", "defective", "fake", "not original",
        "qualitatsproblem", "qualitatsmangel", "qualitat", "defekt", "falschung",
        "probleme de qualite", "qualite", "defectueux", "contrefacon",
        "problema de calidad", "calidad", "defectuoso", "falsificado",
        "质量问题", "品质问题", "質量問題", "品質問題", "质量", "品質", "次品", "假货")),
)
CASE_NAMES = {kind: names[0] for kind, names in CASES}  # as the case line offers them

LINES: dict[Evidence, Line] = {
    Evidence.ALL_BOXES_RECEIVED: Line("All boxes of the order received", "yes / no", Answer.YES_NO),
    Evidence.BOXES_EMPTIED: Line("Each box emptied completely", "yes / no", Answer.YES_NO),
    Evidence.MISSING_QUANTITIES: Line("Missing parts and quantities", "", Answer.QUANTITIES),
    Evidence.PARCEL_PHOTOS: Line("Photos of the whole parcel", "please attach them to your reply", Answer.ATTACHMENT),
    Evidence.QUALITY_REPORT: Line("Quality report from a recognised lab", "please attach it (PDF)", Answer.ATTACHMENT),
    Evidence.ORDER_NUMBER: Line("Order number", "", Answer.ORDER_NUMBER),
    Evidence.CLAIM_KIND: Line("Which case applies", "", Answer.CASE),
}

# Yes and no as customers write them on a line, in our five languages (accents and case do not matter).
YES = frozenset({
    "yes", "y", "yes we did", "yes i did", "yes all", "yes all of them", "yes both", "yes done", "yep", "yeah",
    "correct",
    "ja", "j", "jawohl", "ja haben wir", "ja habe ich", "ja alle", "ja alles", "ja beide", "ja erledigt", "stimmt",
    "oui", "oui tous", "oui toutes", "oui les deux", "oui c est fait", "oui nous l avons fait", "exact",
    "si", "si todas", "si todos", "si ambas", "si ambos", "si lo hicimos", "claro", "correcto",
    "是", "是的", "对", "对的", "對", "對的", "有", "有的",
})
NO = frozenset({
    "no", "n", "nope", "no we did not", "no we didn t", "not yet",
    "nein", "noch nicht",
    "non", "pas encore",
    "todavia no", "aun no",
    "否", "不", "不是", "没有", "沒有", "还没有", "還沒有",
})

# A line longer than this answers nothing: no one fills a field of ours with a page.
MAX_LINE_CHARS = 1000
# Only this much of a mail is looked at for answer lines (a long forwarded thread holds our mail near its top).
MAX_TEXT_CHARS = 200_000
_QUOTE_MARKS = "> \t|"
MAX_LABEL_CHARS = 200
# What our mail writes in brackets after a label ("(the order has 3 boxes)"): the label is the words before it.
_HINT = re.compile(r"\([^()]*\)\s*$")
_NOT_A_WORD = re.compile(r"[\W_]+")
_LIST_BREAK = re.compile(r"[,;、，；]")
_UMLAUT_SPELLED = re.compile(r"(?<=[aou])e")  # "Rueckgabe" is "Rückgabe" typed without umlauts


def plain(text: str) -> str:
    """Text as answers are compared: no accents (an umlaut spelt "ue" too), no case, punctuation as blanks."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_A_WORD.sub(" ", _UMLAUT_SPELLED.sub("", bare)).split())


_BY_LABEL = {plain(line.label): evidence for evidence, line in LINES.items()}
_CASE_WORDS = {plain(words): kind for kind, names in CASES for words in names}
_YES = frozenset(map(plain, YES))
_NO = frozenset(map(plain, NO))


def line(evidence: Evidence, boxes: int = 0) -> str:
    """The line our mail asks ``evidence`` with, as the customer answers it: "Each box emptied completely: yes / no"."""
    ask = LINES[evidence]
    hint = ""
    if evidence is Evidence.ALL_BOXES_RECEIVED and boxes > 0:
        hint = f" (the order has {boxes} {'box' if boxes == 1 else 'boxes'})"
    elif evidence is Evidence.CLAIM_KIND:
        hint = f" ({' / '.join(CASE_NAMES.values())})"
    return f"{ask.label}{hint}: {ask.prompt}"


def case_name(kind: ClaimKind) -> str:
    """The case as the case line names it ("items missing"); "" for an unknown kind."""
    return CASE_NAMES.get(kind, "")


@dataclass(frozen=True)
class Answers:
    """What the customer answered on our lines: only what they answered, each with its line."""

    statements: tuple[Statement, ...] = ()
    missing_parts: tuple[tuple[str, int], ...] = ()
    kind: ClaimKind = ClaimKind.UNKNOWN
    kind_sentence: str = ""
    order_number: str = ""
    declined: tuple[Evidence, ...] = ()  # answered "no": nothing to credit


Quantities = Callable[[list[str]], Iterable[tuple[str, int]]]


def read(full_text: str, order_number: Callable[[str], str], quantities: Quantities) -> Answers:
    """The answers on our lines anywhere in the mail, quoted or not; of the lines that answer one question,
    the least quoted (the newest), then the first. ``order_number`` finds an order number in a text ("" for
    none) and ``quantities`` reads (part, quantity) pairs from sentences saying parts are missing: the
    extractor's own readers."""
    best: dict[Evidence, tuple[tuple[int, int], object, str]] = {}
    for position, (depth, evidence, value, said) in enumerate(_answer_lines(full_text)):
        reading = _reading(LINES[evidence].answer, value, order_number, quantities)
        if reading is not None and (evidence not in best or (depth, position) < best[evidence][0]):
            best[evidence] = ((depth, position), reading, said)
    statements, declined, parts = [], [], ()
    kind, kind_sentence, number = ClaimKind.UNKNOWN, "", ""
    for evidence, (_, reading, said) in best.items():
        answer = LINES[evidence].answer
        if answer is Answer.YES_NO:
            if reading:
                statements.append(Statement(evidence, said))
            else:
                declined.append(evidence)
        elif answer is Answer.QUANTITIES:
            parts = reading
            statements.append(Statement(evidence, said))
        elif answer is Answer.ORDER_NUMBER:
            number = reading
        elif answer is Answer.CASE:
            kind, kind_sentence = reading, said
    if best:
        log.debug("answer lines: %d answered, %d credited, %d answered no", len(best), len(statements), len(declined))
    return Answers(tuple(statements), parts, kind, kind_sentence, number, tuple(declined))


def _reading(answer: Answer, value: str, order_number: Callable[[str], str], quantities: Quantities):
    """What one line's value answers; None when it answers nothing (left empty or as we wrote it, or words
    that are no answer)."""
    if answer is Answer.YES_NO:
        return yes_or_no(value)
    if answer is Answer.QUANTITIES:
        # Each item of a list on its own ("LM2596S: 3, AMS1117: 5"), said to be missing as the line says.
        items = [f"{item.strip()} missing" for item in _LIST_BREAK.split(value) if item.strip()]
        return tuple(dict(quantities(items)).items()) or None
    if answer is Answer.ORDER_NUMBER:
        return order_number(value) or None
    if answer is Answer.CASE:
        return _CASE_WORDS.get(plain(value))
    return None


def yes_or_no(value: str) -> bool | None:
    """True for a yes, False for a no, None for anything else ("yes / no" untouched, or other words)."""
    said = plain(value)
    return True if said in _YES else False if said in _NO else None


def added_to(facts: ClaimFacts, full_text: str, order_number: Callable[[str], str],
             quantities: Quantities) -> ClaimFacts:
    """``facts`` with what the mail answers on our lines added. An answer to our question is the customer's
    explicit word: the case and the order number they answered win over what was read from their prose; a
    statement or a part adds to those already read, and nothing read is ever taken away."""
    answered = read(full_text, order_number, quantities)
    seen = {(s.evidence, s.boxes) for s in facts.statements}  # an answer speaks of all boxes ("One box came" not)
    statements = facts.statements + tuple(s for s in answered.statements if (s.evidence, s.boxes) not in seen)
    parts = dict(facts.missing_parts)
    parts.update((part, quantity) for part, quantity in answered.missing_parts if part not in parts)
    if answered.kind is not ClaimKind.UNKNOWN:
        facts = dataclasses.replace(facts, kind=answered.kind, kind_sentence=answered.kind_sentence,
                                    kind_by_model=False)
    return dataclasses.replace(facts, statements=statements, missing_parts=tuple(parts.items()),
                               order_number=answered.order_number or facts.order_number)


def without_lines(text: str) -> str:
    """The text without our lines, answered or not: they are read by ``read`` alone, never as prose
    (read as prose, "Each box emptied completely: no" says the boxes were emptied)."""
    return "\n".join(line for line in text.splitlines() if _ours(line) is None)


def _answer_lines(full_text: str):
    """(quote depth, evidence, value, the line) for each line of ours in the text."""
    for raw in full_text[:MAX_TEXT_CHARS].splitlines():
        if (ours := _ours(raw)) is not None:
            yield ours


def _ours(raw: str) -> tuple[int, Evidence, str, str] | None:
    if len(raw) > MAX_LINE_CHARS:
        return None
    body = raw.lstrip(_QUOTE_MARKS)
    start = len(raw) - len(body)
    colon = min((i for i in (raw.find(":", start), raw.find("：", start)) if i >= 0), default=-1)
    if colon < 0 or colon - start > MAX_LABEL_CHARS:
        return None
    evidence = _BY_LABEL.get(plain(_HINT.sub("", raw[start:colon])))
    if evidence is None:
        return None
    marks = raw[:start]
    return marks.count(">") + marks.count("|"), evidence, raw[colon + 1:].strip(), " ".join(body.split())
