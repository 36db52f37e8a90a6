"""The vocabulary the reader reads by: for each language, the concepts the return policy needs, as lemmas.

Each `<language>.toml` maps a concept to lemmas (`"a b"` is a phrase of consecutive words); `unrelated`
lists forms that simplemma gives one of our lemmas but that mean something else here (Spanish "nos" is not "no"). Customers write
inflected words ("vaciamos", "ausgepackt", "vidés", "emptied"): `forms.json` maps every inflected form that
simplemma's dictionaries know for our lemmas back to the lemma. It is built from simplemma by
`python -m rma_mailbot.vocab` (tests/test_vocab.py checks it is current), so that the bot itself never loads
simplemma's dictionaries: all four take about 4 s of CPU and 250 MB, for a vocabulary of a few hundred words.
Chinese has no inflection: its words are found as they are written.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
FORMS = HERE / "forms.json"
INFLECTED = ("en", "de", "fr", "es")  # languages with simplemma dictionaries
LANGUAGES = (*INFLECTED, "zh")


class Concept(StrEnum):
    BOX = "box"  # a box, carton, parcel: what a shipment is counted in
    PARCEL = "parcel"  # the shipment as a whole ("the order never came")
    ALL = "all"  # all, every, both
    FULLY = "fully"  # completely, thoroughly
    EACH = "each"  # one by one, one after the other: every box, of an emptying (not of boxes arriving)
    RECEIVE = "receive"
    EMPTY = "empty"  # unpack, empty, take out
    SEARCH = "search"  # search, check, go through (emptying only with the packing or every box)
    PACKING = "packing"  # filler, foam, packing material
    SHORT = "short"  # short, shortfall: some of it
    ABSENT = "absent"  # missing, fehlen, manquer, faltar: some of it, or the whole shipment
    NEG = "neg"
    PARTIAL = "partial"  # only, one of, the first, the other
    OPEN = "open"
    SENSITIVE = "sensitive"  # ESD, moisture barrier, vacuum
    BAG = "bag"
    LOST = "lost"
    WHERE = "where"
    SIGN = "sign"  # "no sign of it", "no update"
    WAIT = "wait"
    STUCK = "stuck"
    RETURN = "return"
    BACK = "back"  # German "zurück": a return with a verb of sending ("schicken ... zurück"), not "rufen ... zurück"
    SEND = "send"
    MISTAKE = "mistake"
    WRONG = "wrong"
    ORDER_VERB = "order_verb"
    EXPECTED = "expected"  # "should be 100", "bestellt waren 200", "应该是 100": the count there ought to be
    NEED = "need"
    LONGER = "longer"  # "no longer", "not any more", cancelled
    DEFECT = "defect"
    WORK = "work"
    UNIT = "unit"  # pcs, pieces, units
    FIND = "find"
    INSIDE = "inside"
    DOZEN = "dozen"
    PAPERS = "papers"  # an invoice, a packing list: paperwork missing is no missing part
    MESSAGE = "message"  # "resend the message" returns no goods
    ORIGINAL = "original"  # "not original": a quality claim
    NOTICE = "notice"  # a legal notice or terms: "intended recipient", "conformément à nos CGV"
    NOISE = "noise"  # phrases that say none of the above ("didn't work out", "no problem")
    HYPOTHETICAL = "hypothetical"  # if, will, please: a condition, a plan or a request states no fact
    DEVICE = "device"  # the customer's own tools: "our camera is broken" is no defect of the goods


# A German compound is a noun: its last part is looked up among these concepts only ("Versandkarton"),
# never among verbs (the English "something" would end in "hing", a form of "hängen").
_NOUNS = frozenset({"box", "parcel", "packing", "short", "bag", "papers", "defect", "unit", "return", "sensitive",
                    "device"})


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")  # accents, once decomposed


def fold(text: str) -> str:
    """Lower case without accents, umlauts as 'ae', 'oe', 'ue' and 'ß' as 'ss': customers type all of these."""
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", _COMBINING.sub("", unicodedata.normalize("NFKD", text)))


@dataclass(frozen=True)
class Vocabulary:
    phrases: dict[tuple[str, ...], frozenset[Concept]]  # folded words of a phrase -> its concepts
    first_words: frozenset[str]
    by_first_word: dict[str, tuple[tuple[tuple[str, ...], frozenset[Concept]], ...]]  # of 2 words or more, longest first
    forms: dict[str, frozenset[str]]  # folded inflected form -> the lemmas it may stand for
    compound_heads: dict[str, frozenset[Concept]]  # German: the last part of a compound ("Versandkarton")
    chinese: dict[str, frozenset[Concept]]  # a Chinese word -> its concepts
    chinese_longest: int


CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The one tokeniser of the vocabulary and of the reader (reading.py). A word keeps its inner hyphens, slashes
# and dots, so that part numbers ("LM2596S-5.0"), order numbers and counts ("37/40") stay whole; a slash
# or bar standing alone divides a line's columns ("ordered 1000 pcs / received 800 pcs").
TOKEN = re.compile(rf"[a-z0-9]+(?:[-/.#][a-z0-9]+)*|[{CJK}]+|[,;:()!?，；：、。！？（）/|\-–—]")


def words(text: str) -> tuple[str, ...]:
    """The folded Latin-script words of a phrase, as the reader splits a customer's text."""
    return tuple(t for t in TOKEN.findall(fold(text)) if t[0].isascii() and t[0].isalnum())


def _entries(language: str) -> dict[str, list[str]]:
    return tomllib.loads((HERE / f"{language}.toml").read_text(encoding="utf-8"))


@cache
def vocabulary() -> Vocabulary:
    phrases: dict[tuple[str, ...], set[Concept]] = {}
    heads: dict[str, set[Concept]] = {}
    chinese: dict[str, set[Concept]] = {}
    for language in LANGUAGES:
        for concept, entries in _entries(language).items():
            if concept == "unrelated":
                continue
            for entry in entries:
                if language == "zh":
                    chinese.setdefault(fold(entry), set()).add(Concept(concept))
                    continue
                phrase = words(entry)
                if phrase:
                    phrases.setdefault(phrase, set()).add(Concept(concept))
                    if language == "de" and len(phrase) == 1 and len(phrase[0]) >= 4 and concept in _NOUNS:
                        heads.setdefault(phrase[0], set()).add(Concept(concept))
    forms = json.loads(FORMS.read_text(encoding="utf-8")) if FORMS.exists() else {}
    by_form: dict[str, set[str]] = {}
    for table in forms.values():
        for form, lemmas in table.items():
            by_form.setdefault(form, set()).update(lemmas)
    return Vocabulary(
        phrases={k: frozenset(v) for k, v in phrases.items()},
        first_words=frozenset(p[0] for p in phrases if len(p) > 1),
        by_first_word={first: tuple(sorted(((p, frozenset(c)) for p, c in phrases.items() if len(p) > 1 and p[0] == first),
                                           key=lambda item: -len(item[0])))
                       for first in {p[0] for p in phrases if len(p) > 1}},
        forms={k: frozenset(v) for k, v in by_form.items()},
        compound_heads={k: frozenset(v) for k, v in heads.items()},
        chinese={k: frozenset(v) for k, v in chinese.items()},
        chinese_longest=max(map(len, chinese)),
    )


def build_forms() -> dict[str, dict[str, list[str]]]:
    """Every form simplemma's dictionaries know for the lemmas of our vocabulary, folded: {language: {form: lemma}}."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    factory = DefaultDictionaryFactory()
    built = {}
    for language in INFLECTED:
        entries = _entries(language)
        unrelated = {fold(w) for w in entries.pop("unrelated", [])}
        wanted = {w for entries in entries.values() for entry in entries for w in words(entry)}
        table: dict[str, set[str]] = {}
        dictionary = factory.get_dictionary(language)
        for form, lemma in dictionary.items():
            # "arrivées" has the lemma "arrivée", itself a form of "arriver": one step further is allowed.
            folded_lemma = fold(lemma)
            if folded_lemma not in wanted and lemma != form:
                folded_lemma = fold(dictionary.get(lemma, lemma))
            if folded_lemma in wanted and fold(form) not in unrelated:
                folded_form = words(form)
                if len(folded_form) == 1 and folded_form[0] != folded_lemma:
                    table.setdefault(folded_form[0], set()).add(folded_lemma)  # folding can merge two forms
        built[language] = {form: sorted(lemmas) for form, lemmas in sorted(table.items())}
    return built


def write_forms() -> None:
    FORMS.write_text(json.dumps(build_forms(), ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
