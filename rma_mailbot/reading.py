"""Reading by concepts: a customer's sentences -> the facts the return policy needs. Pure.

A sentence is read in five steps: numbers written as words become digits (text2num; Chinese numerals
with cn2an); the text is folded (case, accents, "ae" for "ä"); words are looked up in the vocabulary of
every language at once (vocab/: lemmas and their inflected forms; German compounds by their last part;
Chinese words as written); the sentence is cut into clauses at commas and conjunctions; and each fact's
rule looks at the concepts of one clause. A negation negates its own clause only, so one sentence can
state several facts ("both cartons came and we emptied each of them") and deny one of them.

The rules are the same for every language. Besides the vocabulary, a few function words the rules read
by their form (conjunctions, "of", time units, plural articles) are listed here, beside the rules that use them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from lingua import Language, LanguageDetectorBuilder
from text_to_num import alpha2digit

from rma_mailbot.models import ClaimKind, Evidence, PartCount, Statement
from rma_mailbot.vocab import CJK, INFLECTED, TOKEN, Concept, fold, vocabulary

C = Concept

_NOT = re.compile(r"(?:\b(?:wo|ca|sha)(?=n['’]t\b))?n['’]t\b")  # "didn't", "won't" are "... not"; other
# apostrophes split words ("n'avons", "l'a")
_NUMBER_SIGN = re.compile(r"\bn[°º]\s*")  # "n°SO-510010" is "number", not the French negation "n'"
_ORDINAL = re.compile(r"^\d{1,2}(?:st|nd|rd|th|er|re|e|eme|ere|o|a|te|ten|ter)$")  # "1st", "1er", "2e", "2o"
_PLURAL_ARTICLES = frozenset({"les", "des", "ces", "these", "those", "los", "las", "unos", "unas", "beiden"})
_BREAK_MARKS = frozenset(",;!?，；、。！？/|")
_CONJUNCTIONS = frozenset({
    "and", "but", "however", "although", "though", "whereas", "while", "und", "aber", "jedoch", "sondern",
    "doch", "obwohl", "et", "mais", "cependant", "pourtant", "y", "e", "pero", "aunque", "sino",
    # a cause says its own fact: in "no lo destapamos porque el encargado anda de vacaciones" nothing fails to work
    "because", "weil", "porque", "parce", "tandis",
})
_FRENCH_BEFORE_Y = frozenset({"n", "il", "j", "on", "s", "m", "t", "l", "nous", "vous", "en"})  # "n'y", "il y a"
_CJK_BREAKS = ("但是", "不过", "不過", "可是", "而且", "并且", "並且", "然后", "然後", "因为", "因為", "但",
               "结果", "結果")
_COUNT_WITH_UNIT = re.compile(r"^(\d{1,6})(pcs|pc|x|stk|st|pz|pzas|pieces|units|uds)$")
_FRACTION = re.compile(r"^(\d{1,6})/(\d{1,6})$")
_CHINESE_FIRST_N = re.compile("前(?=[两兩二三四五六七八九十0-9]+\\s*[个個]?[箱件])")
# with the financial numerals of invoices and orders (壹貳參肆伍...: "參佰顆", "肆箱")
# A run is tried from its first character only, and never given back (no unit is a numeral): linear in the text.
_CHINESE_NUMBER = re.compile("(?<![零〇一二两兩三四五六七八九十廿卅百千壹贰貳叁參肆伍陆陸柒捌玖拾佰仟])"
                             "([零〇一二两兩三四五六七八九十廿卅百千壹贰貳叁參肆伍陆陸柒捌玖拾佰仟]++)"
                             "(?=[个個只隻颗顆粒片盘盤件箱卷包套台块塊袋支条條盒]|\\s*(?:pcs|pc)\\b)")
# "一件件", "一件一件", "一个个" (one by one) are no count: written 逐件, each one
_NOT_ONE = re.compile("一[个個颗顆只隻件粒片]?[都也](?:没|沒|冇)有?")  # "一个都没有": not one, none of them
_NONE_SHORT = re.compile("一[个個颗顆只隻件箱粒片样樣]不[差少缺落漏]")  # "一件不差": not one short, all of them
# "那一袋": that bag, no count
_THAT_ONE = re.compile("([那这這])一(?=[个個只隻颗顆粒片盘盤件箱卷包套台块塊袋支条條盒])")
_EVERY_ONE = re.compile("每一(?=[个個件箱只隻颗顆])")  # "每一箱" is every box, not "每" and one box
_CJK_SPACE = re.compile(f"(?<=[{CJK}])\\s+(?=[{CJK}])")  # "三箱到了两箱 第三箱没到": a space ends a clause
_ONE_BY_ONE = re.compile("一([个個只隻颗顆粒片盘盤件箱袋盒])一?\\1")  # not 包: "一包包裹" is one parcel
# "2,6 V", "0,5 mm": a measurement with a decimal comma, no list of two numbers (but "cartons 1,2" is)
_DECIMAL_COMMA = re.compile(r"(?<![\d,.])(\d{1,4}),(\d{1,3})(?=\s?(?:[vawm]|mv|ma|mw|mm|cm|kg|ohm|hz|khz|mhz|ghz|%|°|Ω)"
                            r"(?![a-z]))", re.IGNORECASE)
# "1,000", "1.000", "1'000", "1 000" (no-break spaces) are a thousand; "1,5" and "12.03.2025" are not
_THOUSANDS = re.compile("(?<![\\d.,'’])(\\d{1,3})((?:[,.'’\u00a0\u202f]\\d{3})+)(?!\\d|[.,'’]\\d)")
# A package ("SOT-223", "TO-220", "LQFP48") is how a part is built, not a part number of the order
_PACKAGE = re.compile(
    r"^(?:sot|soic|sop|ssop|tssop|msop|qfn|dfn|qfp|lqfp|tqfp|dip|pdip|to|bga|sod|sma|smb|smc)-?\d+[a-z]?$")
_OF_WORDS = frozenset({"of", "von", "sur", "de", "out", "aus", "en", "on"})  # "37 of 40", "2 von 2", "37 sur 40"
_OF_THE = _OF_WORDS | {"der", "des", "del"}  # of boxes: "zwei der drei Kartons", "deux des trois colis"


# German number words typed without umlauts ("zwoelf", "fuenf", "dreissig"), which text2num reads only with them.
_GERMAN_TYPED = re.compile(r"\b\w*(?:zwoelf|fuenf|dreissig)\w*\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _detector():
    # Low accuracy mode: a few MB and some 30 µs a sentence, which is plenty to tell five languages apart.
    return LanguageDetectorBuilder.from_languages(*_LANGUAGES).with_low_accuracy_mode().build()


_LANGUAGES = {Language.ENGLISH: "en", Language.GERMAN: "de", Language.FRENCH: "fr", Language.SPANISH: "es",
              Language.CHINESE: "zh"}


def language_of(sentence: str) -> str:
    """The sentence's language among the five we read ("" when it cannot be told)."""
    return _LANGUAGES.get(_detector().detect_language_of(sentence), "")


def numbers_as_digits(text: str, language: str) -> str:
    """'twelve', 'zwölf', 'quinze', 'veinte', '三十只' -> digits; isolated small numbers too ('both' is a concept).

    Only in the sentence's own language: French reads "uns" as a number and Spanish "once" as eleven."""
    return _chinese_digits(_words_as_digits(text, language))


def _words_as_digits(text: str, language: str) -> str:
    if language == "de":
        text = _GERMAN_TYPED.sub(lambda m: m.group(0).replace("oe", "ö").replace("ue", "ü").replace("ss", "ß"), text)
    if language in INFLECTED and re.search(r"[^\W\d_]", text):
        try:
            return alpha2digit(text, language, threshold=0)
        except Exception:  # text2num is strict about odd input; a sentence it cannot read keeps its words
            pass
    return text


def _chinese_digits(text: str) -> str:
    text = _THAT_ONE.sub("\\1", _NOT_ONE.sub("全无", _ONE_BY_ONE.sub("逐\\1", text)))
    text = _EVERY_ONE.sub("每", _NONE_SHORT.sub("全都", text))
    if _CHINESE_NUMBER.search(text):
        # "SO-510008两箱": the number keeps apart from the order number it is written against
        text = _CHINESE_NUMBER.sub(lambda m: m.group() if _parts_word(text, m) else " " * _after_latin(
            text, m.start()) + _chinese_number(m.group(1)), text)
    return text


def _parts_word(text: str, numeral: re.Match) -> bool:
    """ "零件" is parts, not zero pieces."""
    return numeral.group(1) in ("零", "〇") and text.startswith("件", numeral.end())


def _after_latin(text: str, at: int) -> bool:
    return at > 0 and text[at - 1].isascii() and text[at - 1].isalnum()


def _chinese_number(numeral: str) -> str:
    import cn2an  # here: importing it costs some 0.4 s, and most mails hold no Chinese numeral

    try:
        # 廿 and 卅 (twenty, thirty), common in Cantonese, are not numerals to cn2an
        numeral = numeral.replace("兩", "两").replace("廿", "二十").replace("卅", "三十")
        numeral = numeral.replace("參", "叁").replace("貳", "贰").replace("陸", "陆")  # traditional financial ones
        return str(int(cn2an.cn2an(numeral, "smart")))
    except (ValueError, KeyError, TypeError):
        return numeral


@dataclass(frozen=True)
class Word:
    text: str  # folded
    concepts: frozenset[Concept] = frozenset()
    number: int | None = None
    fraction: tuple[int, int] | None = None  # "37/40"
    part: str = ""  # looks like a part number ("LM2596S"), as written upper-cased
    plural: bool = False


@dataclass
class Clause:
    words: list[Word] = field(default_factory=list)
    carried_neg: bool = False  # "we haven't, as far as I know, received all boxes": a negation left dangling
    after_conjunction: str = ""  # the "and", "aber", "mais" it began at
    concepts: frozenset[Concept] = frozenset()  # of all its words, once the clause is read

    def has(self, *concepts: Concept) -> bool:
        return not self.concepts.isdisjoint(concepts)

    def has_word(self, concept: Concept) -> bool:
        """As has(), while the clause is being read (before its concepts are gathered)."""
        return any(concept in w.concepts for w in self.words)

    def index(self, concept: Concept) -> int:
        return next((i for i, w in enumerate(self.words) if concept in w.concepts), -1)

    @property
    def negated(self) -> bool:
        return self.carried_neg or self.has(C.NEG)

    @property
    def dangling(self) -> bool:
        """Ends in a negation with nothing for it to negate: "we have not, ..."."""
        return bool(self.words) and C.NEG in self.words[-1].concepts and len(self.words) <= 4

    def numbers(self) -> list[tuple[int, int]]:
        return [(i, w.number) for i, w in enumerate(self.words) if w.number is not None]


@lru_cache(maxsize=16384)
def _concepts_of(word: str) -> frozenset[Concept]:
    """A single word's concepts: itself, its lemmas, or (German compounds) its last part."""
    vocab = vocabulary()
    found = set(vocab.phrases.get((word,), ()))
    for lemma in vocab.forms.get(word, ()):
        found |= vocab.phrases.get((lemma,), frozenset())
    if not found and 7 <= len(word) <= 40 and word.isalpha():  # a compound, not a hostile 20,000-letter word
        for cut in range(1, len(word) - 3):
            head = word[cut:]
            lemmas = {head, *vocab.forms.get(head, ())}
            heads = set().union(*(vocab.compound_heads.get(h, ()) for h in lemmas))
            if heads:
                found |= heads
                if _concepts_of(word[:cut]) & {C.SENSITIVE} or any(
                        word.startswith(p) for p in ("esd", "antistat", "feucht", "vakuum", "trocken")):
                    found.add(C.SENSITIVE)
                break
    if not found and "-" in word:
        for piece in word.split("-"):
            found |= _concepts_of(piece)
    if not found and (clitic := _SPANISH_CLITICS.match(word)) and clitic.group(1) != word:
        found |= _concepts_of(clitic.group(1))  # "regresarles", "devolvérselos", "vaciarlas": the verb
    return frozenset(found)


# A Spanish infinitive, gerund or imperative with its pronouns glued on (folded: "devolverselos").
_SPANISH_CLITICS = re.compile(r"^([a-z]{2,30}(?:ar|er|ir|ando|iendo))(?:se|me|te|nos|os)?(?:le|les|lo|los|la|las)?$")


@lru_cache(maxsize=16384)
def _lemmas(word: str) -> frozenset[str]:
    return frozenset({word, *vocabulary().forms.get(word, ())})


def with_digits(sentence: str, languages: tuple[str, ...] = INFLECTED) -> str:
    """The sentence with its numbers as digits. The sentence's language is told (lingua) only when one of
    ``languages`` reads a number in it: most sentences hold none, and telling costs more than reading."""
    # "前两箱" (the first two boxes) is some of them; "两个月前" is "ago"
    sentence = _chinese_digits(_CHINESE_FIRST_N.sub("其中", sentence))
    if not languages or not re.search(r"[^\W\d_]", sentence):
        return sentence
    readings = {language: _words_as_digits(sentence, language) for language in languages}
    if all(r == sentence for r in readings.values()):
        return sentence
    return readings.get(language_of(sentence), sentence)


def clauses(sentence: str, is_order: Callable[[str], bool], languages: tuple[str, ...] = INFLECTED) -> list[Clause]:
    """The sentence's clauses, each a list of words with their concepts (numbers read in ``languages``)."""
    vocab = vocabulary()
    sentence = _THOUSANDS.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), sentence)
    sentence = _DECIMAL_COMMA.sub(r"\1.\2", sentence)
    sentence = _CJK_SPACE.sub("，", sentence)
    tokens = TOKEN.findall(_NOT.sub(" not", fold(_NUMBER_SIGN.sub("nr ", with_digits(sentence, languages)))))
    found: list[Clause] = [Clause()]
    outer: list[Clause] = []  # the clauses a parenthesis interrupts: they go on after it
    dashed: list[Clause] = []  # those of them a dash interrupted
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in "(（":
            outer.append(found[-1])
            found.append(Clause())
            i += 1
            continue
        if token in ")）" and outer:
            inside = found[-1]
            resumed = outer.pop()
            if all(w.number is not None for w in inside.words):  # "quinze (15)" says its number again
                found.pop()
            elif all(w.number is not None or w.text in _OF_WORDS for w in inside.words) or _restated(inside, resumed):
                found.pop()  # "not a single AMS1117 (0 of 200)", "los bultos están los dos (2/2)": its clause's count
                resumed.words.extend(inside.words)
            found.append(resumed)
            i += 1
            continue
        if token in _BREAK_MARKS or token in _CONJUNCTIONS and not _phrase_at(tokens, i) and not (
                token == "y" and i > 0 and tokens[i - 1] in _FRENCH_BEFORE_Y) and not _joins_numbers(tokens, i):
            # not "all boxes but one", "il n'y a", "cartons 1 and 2"
            last = found[-1]
            found.append(Clause(carried_neg=token in ",()" and (
                last.dangling or last.carried_neg and not any(w.concepts for w in last.words))
                or last.carried_neg and not last.words,  # "we have not, however, opened it"
                after_conjunction=token if token in _CONJUNCTIONS else ""))
            i += 1
            continue
        if token in "-–—":
            while i + 1 < len(tokens) and tokens[i + 1] in "-–—":
                i += 1  # "——", "--": one dash
            # a pair of dashes sets a remark apart, as brackets do ("we opened - sorry - the bag"): the clause
            # goes on after it; one dash after a clause of some words begins another ("went through the wrap
            # twice - only 20 in there"); after a name or a key it is a list's separator ("1N4007 - 988 Stück")
            if outer and dashed and outer[-1] is dashed[-1]:
                found.append(outer.pop())
                dashed.pop()
            elif any(t in "-–—" for t in tokens[i + 1:i + 9]):
                outer.append(found[-1])
                dashed.append(found[-1])
                found.append(Clause())
            elif len(found[-1].words) >= 3:
                found.append(Clause())
            i += 1
            continue
        if token in ":：":
            # "le compte n'y est pas : le bon de livraison annonce 100", "pour compléter mon message : les 4
            # cartons sont arrivés": a negation or a mail before the colon is not of what follows ("Kartons: 4" is)
            words = found[-1].words
            # nor is an emptying of the details after it: "il a été vidé de fond en comble : chaque sachet sorti"
            if len(words) > 3 and any(w.concepts & {C.NEG, C.MESSAGE, C.EMPTY} for w in words[-8:]):
                found.append(Clause())  # "Not yet arrived: box 3" is a key and its value: one clause
            i += 1
            continue
        if not token[0].isascii():
            _read_chinese(token, found, vocab, i + 1 < len(tokens) and tokens[i + 1].isascii() and (
                tokens[i + 1][0].isalpha() or not tokens[i + 1].isdigit() and tokens[i + 1][0].isdigit()))  # "1N4007"
            i += 1
            continue
        if phrase := _phrase_at(tokens, i):
            length, concepts = phrase
            found[-1].words.append(Word(" ".join(tokens[i:i + length]), concepts))
            i += length
            continue
        if is_order(token):
            found[-1].words.append(Word(token, frozenset({C.PARCEL})))  # "SO-510002 fehlt": the order, as a whole
        else:
            found[-1].words.extend(_word(token, i > 0 and tokens[i - 1] in _PLURAL_ARTICLES))
        i += 1
    seen: set[int] = set()  # a clause a parenthesis interrupted is in the list twice
    kept: list[Clause] = []
    for clause in found:
        if not clause.words or id(clause) in seen or seen.add(id(clause)):
            continue
        if kept and clause.after_conjunction and clause.numbers() and all(w.concepts <= {C.UNIT} for w in clause.words):
            if clause.after_conjunction == "but" and all(w.number is not None or w.concepts for w in clause.words):
                # "all boxes arrived but 2 (pcs)": all of them but some
                kept[-1].words.append(Word("but", frozenset({C.PARTIAL})))
            kept[-1].words.extend(clause.words)  # "es fehlen aber 25 Stk.": "aber" joins no clause there
        elif kept and len(clause.words) <= 3 and clause.has_word(C.NEG) and (
                clause.numbers() or clause.has_word(C.PARTIAL)) and all(
                w.number is not None or w.concepts <= {C.NEG, C.BOX, C.PARTIAL} for w in clause.words):
            kept[-1].words.append(Word("not all", frozenset({C.PARTIAL})))  # "alle angekommen, aber 2 nicht"
        elif kept and clause.after_conjunction in _CONTRASTING and _of_a_part(kept[-1]) and not _part_in(clause):
            kept[-1].words.extend(clause.words)  # "von den LM358N aber kein einziges Stück": one clause, of them
        else:
            kept.append(clause)
    for clause in kept:
        _restrictive_ne(clause)
        clause.words = [_beside(w, clause.words[i - 1] if i else None) for i, w in enumerate(clause.words)]
        if any(q in "".join(w.text for w in clause.words) for q in _QUANTITY_WORDS):
            # "實點數量與帳上不符": the count does not match the books, a shortage, not parts out of specification
            clause.words = [replace(w, concepts=frozenset({C.SHORT})) if w.text in ("不符", "不符合") else w
                            for w in clause.words]
        if len(clause.words) >= 2 and clause.words[-2].text in ("没", "沒") and clause.words[-1].text == "有":
            clause.words[-2:] = [Word("没有", frozenset({C.ABSENT}))]  # "整单都没有": there is none of it
        clause.concepts = frozenset().union(*(w.concepts for w in clause.words))
    return kept


_QUANTITY_WORDS = ("数量", "數量", "数目", "數目", "点数", "點數", "件数", "件數")


def _beside(word: Word, before: Word | None) -> Word:
    """A word as the one before it makes it: "40 down" is a shortage; "两只箱子" 只 after a number is the
    measure word, not "only"; "ya no me sirven" (of no use to me) is a return, where "no sirven" does not work."""
    if before is None:
        return word
    if before.number is not None and word.text == "down":
        return replace(word, concepts=word.concepts | {C.SHORT})
    if before.number is not None and word.text in ("只", "隻"):
        return replace(word, concepts=frozenset({C.UNIT}))
    if before.text in _DATIVE and C.NEED in word.concepts:
        return replace(word, concepts=word.concepts - {C.WORK})
    return word


_DATIVE = frozenset({"me", "te", "le", "nos", "les"})


def _joins_numbers(tokens: list[str], i: int) -> bool:
    return 0 < i < len(tokens) - 1 and tokens[i - 1].isdigit() and tokens[i + 1].isdigit()


def _of_a_part(clause: Clause) -> bool:
    """ "von den LM358N", "of the NE555P": the subject a clause begins with, before "aber" or "however"."""
    words = clause.words
    return 2 <= len(words) <= 3 and words[0].text in _OF_WORDS and bool(words[-1].part)


_CONTRASTING = frozenset({"aber", "jedoch", "but", "however", "mais", "cependant", "pero"})


def _restated(inside: Clause, resumed: Clause) -> bool:
    """ "los dos (2/2)": a bracketed fraction of all that says again the number just before it; not a box's
    label ("Paket (2/2)", "box 2 (2/2)") nor a part's count ("LM358N (180/200)")."""
    words = resumed.words
    if len(inside.words) != 1 or not (fraction := inside.words[0].fraction) or fraction[0] != fraction[1]:
        return False
    return len(words) >= 2 and words[-1].number == fraction[0] and C.BOX not in words[-2].concepts


def _restrictive_ne(clause: Clause) -> None:
    """French "nous n'en avons que 25" is "only 25": a "ne" closed by "que", no "pas" between, negates nothing."""
    words = clause.words
    for i, w in enumerate(words):
        if w.text in ("n", "ne") and C.NEG in w.concepts and _expletive_ne(words, i):
            words[i] = replace(w, concepts=frozenset())  # "avant que la décision ne tombe": before it fell
            continue
        if w.text in ("n", "ne") and C.NEG in w.concepts:
            for later in words[i + 1:i + 6]:
                if C.NEG in later.concepts:
                    break
                if later.text in ("que", "qu"):
                    words[i] = replace(w, concepts=frozenset({C.PARTIAL}))
                    break


def _expletive_ne(words: list[Word], i: int) -> bool:
    """The "ne" after "avant que", "à moins que", "de peur que" with no "pas" after it negates nothing."""
    after_que = any(words[j].text == "que" and words[j - 1].text in _EXPLETIVE_BEFORE_QUE
                    for j in range(max(i - 6, 1), i))
    return after_que and not any(C.NEG in later.concepts for later in words[i + 1:i + 6])


_EXPLETIVE_BEFORE_QUE = frozenset({"avant", "moins", "peur", "crainte"})


def _phrase_at(tokens: list[str], i: int) -> tuple[int, frozenset[Concept]] | None:
    """The longest phrase of the vocabulary (two words or more) that starts at tokens[i], by lemmas."""
    vocab = vocabulary()
    best: tuple[int, frozenset[Concept]] | None = None
    for lemma in _lemmas(tokens[i]) & vocab.first_words:
        for phrase, concepts in vocab.by_first_word[lemma]:
            if best and len(phrase) < best[0]:
                break
            end = i + len(phrase)
            if end <= len(tokens) and all(w in _lemmas(t) for w, t in zip(phrase[1:], tokens[i + 1:end], strict=True)):
                best = (len(phrase), best[1] | concepts if best and best[0] == len(phrase) else concepts)
                break
    return best


@lru_cache(maxsize=16384)
def _word(token: str, after_plural_article: bool) -> tuple[Word, ...]:
    if token.isdigit():
        return (Word(token, number=int(token)),) if len(token) <= 6 else (Word(token),)
    if m := _COUNT_WITH_UNIT.match(token):
        return Word(m.group(1), number=int(m.group(1))), Word(m.group(2), frozenset({C.UNIT}))
    if m := _FRACTION.match(token):
        return (Word(token, fraction=(int(m.group(1)), int(m.group(2)))),)
    if _ORDINAL.match(token):
        return (Word(token, frozenset({C.PARTIAL})),)  # "the 1st box", "le 1er", after text2num: one box of several
    concepts = _concepts_of(token)
    part = ""
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token) and len(token) >= 4 and \
            not _PACKAGE.match(token):
        part = token.upper()
    if C.DOZEN in concepts:
        return (Word(token, concepts, number=12),)
    # "Kartons", "boxes", "cajas" are forms of their lemma; "colis" is its own: then the article tells.
    plural = after_plural_article or token in vocabulary().forms and token[-1] in "sne"
    return (Word(token, concepts, part=part, plural=plural),)


def _read_chinese(run: str, found: list[Clause], vocab, before_letters: bool) -> None:
    """A run of Chinese characters: the longest known word at each place; clause breaks at 但是, 不过, and
    where a clause ends in 了 before "also" or a part number: "两箱都到齐了也都倒空检查过了AMS1117好像少了一些"."""
    i = 0
    while i < len(run):
        if brk := next((b for b in _CJK_BREAKS if run.startswith(b, i)), ""):
            found.append(Clause())
            i += len(brk)
            continue
        for length in range(min(vocab.chinese_longest, len(run) - i), 0, -1):
            concepts = vocab.chinese.get(run[i:i + length])
            if concepts:
                found[-1].words.append(Word(run[i:i + length], concepts, number=12 if C.DOZEN in concepts else None))
                i += length
                break
        else:
            found[-1].words.append(Word(run[i]))
            i += 1
        if run[i - 1] == "了" and _fact_ends(found[-1], run[i:], i == len(run) and before_letters):
            found.append(Clause())
        elif i == len(run) and before_letters and found[-1].words[-1].concepts & {C.SEARCH, C.EMPTY}:
            found.append(Clause())  # "纸团全部翻了一遍1N4007只有800个": the search done, the count begins


def _fact_ends(clause: Clause, rest: str, before_letters: bool) -> bool:
    """After a 了: the next fact begins at "also" ("到齐了也都倒空了"), at a part number ("翻过了NE555P按400颗",
    not "我们拆开了MPU-6050的袋子": what was opened follows), or at the boxes' count after all arrived
    ("两箱都签收了两箱拆开后", not "三箱到了两箱": of three, two came)."""
    words = clause.words
    opened_just = len(words) >= 2 and C.OPEN in words[-2].concepts
    return rest[:1] in _CJK_ALSO or before_letters and not opened_just or clause.has_word(C.RECEIVE) and \
        clause.has_word(C.ALL) and bool(_CHINESE_COUNT_OF_BOXES.match(rest))


_CJK_ALSO = frozenset("也还還又并並而")  # after a 了: the next fact ("到齐了也都倒空了")
_CHINESE_COUNT_OF_BOXES = re.compile("[一二两兩三四五六七八九十0-9]+[个個]?[箱件]")


# ---------------------------------------------------------------------------------------------- facts

@dataclass
class Reading:
    statements: list[Statement] = field(default_factory=list)
    missing_parts: list[tuple[str, int, str]] = field(default_factory=list)  # (part, quantity, sentence)
    kinds: list[tuple[ClaimKind, str]] = field(default_factory=list)  # in the order the customer wrote them
    whole_parcel_missing: str = ""  # a sentence saying the whole shipment never came
    defects: list[str] = field(default_factory=list)  # sentences naming a defect ("burn out", "fake", "烫得")
    denied_defects: set[str] = field(default_factory=set)  # sentences denying one ("nothing is broken")
    notices: set[str] = field(default_factory=set)  # about paperwork, mail or terms: no claim kind in them
    # Sentences that say a fact of some boxes only, or deny it: no phrase pattern may confirm it from them.
    partly: set[tuple[Evidence, str]] = field(default_factory=set)
    opened: list[str] = field(default_factory=list)  # the sentences saying a sealed bag was opened
    # The last sentence saying some box is not yet emptied or opened ("el segundo todavía no lo destapamos",
    # "还没来得及全部翻出来"): every box emptied is not said, whatever an earlier sentence says.
    emptying_denied: str = ""
    counts: list[PartCount] = field(default_factory=list)  # numbers given for parts, not said to be short

    @property
    def opened_sensitive(self) -> str:
        return self.opened[0] if self.opened else ""

    def state(self, evidence: Evidence, sentence: str, boxes: int = 0) -> None:
        if evidence is Evidence.BOXES_EMPTIED:
            if self.emptying_denied == sentence:
                return
            self.emptying_denied = ""  # said after the denial: they have been emptied since
        if not any(s.evidence is evidence and s.boxes == 0 for s in self.statements):
            self.statements.append(Statement(evidence, sentence, boxes))

    def deny_emptying(self, sentence: str) -> None:
        self.emptying_denied = sentence
        self.statements = [s for s in self.statements if s.evidence is not Evidence.BOXES_EMPTIED]


def read(sentences: list[str], is_order: Callable[[str], bool]) -> Reading:
    reading = Reading()
    whole = "\n".join(sentences)
    # The languages that read some number in the mail at all: each sentence is tried in these only.
    numbered = tuple(language for language in INFLECTED if _words_as_digits(whole, language) != whole)
    previous_bag = False
    previous: list[Clause] = []
    for sentence in sentences:
        said = clauses(sentence, is_order, numbered)
        asked: list[Clause] = []
        if sentence.rstrip().endswith(("?", "？")):
            # A question states no fact ("wrong variant, want to send back, rma?") but asks for its case:
            # "¿me los reciben de vuelta?" is a return.
            said, asked = said[:-1], said[-1:]
        boxes_named: int | None = None  # "it was a single carton and it arrived": the boxes, then the arrival
        arrived = False  # "the delivery came in, both boxes (2 of 2)": the arrival, then the boxes
        named_bag = any(c.has(C.SENSITIVE) and not c.negated for c in said)
        # "Of the 500 NE555P, 20 are missing": one part named in the sentence is the part of its shortage
        parts = {w.part for c in said for w in c.words if w.part}
        sentence_part = next(iter(parts)) if len(parts) == 1 else ""
        bag_in_view = previous_bag or named_bag  # a sealed bag named, that "we opened it" may be about
        spoken_of = ""  # the part the sentence's last clause naming one named: "NE555P：订 100，收 64"
        for at, (said_before, clause) in enumerate(zip([Clause(), *said], said, strict=False)):
            if clause.has(C.NOTICE) or clause.has(C.PAPERS, C.MESSAGE) and not (
                    _quantity_numbers(clause) and (_part_in(clause) or clause.has(C.UNIT))) and not (
                    clause.has(C.BOX) and clause.has(C.RECEIVE) and clause.numbers()) and not (
                    clause.has(C.DEFECT) and (_part_in(clause) or clause.has(C.UNIT))):
                # (but "components not conforming to the datasheet" are the goods)
                if clause.has(C.NOTICE) or clause.has(C.SHORT, C.ABSENT) and not clause.has(C.UNIT):
                    reading.notices.add(sentence)  # "3 missing docs" is no claim either; "20 pcs missing" is
                elif clause.has(C.BOX) and not clause.negated:
                    boxes_named = _box_count(clause)  # "laut Lieferschein aus einem Kolli, und dieses ist da"
                continue  # paperwork, a mail or a legal notice ("the invoice is missing"): not the goods,
                # unless parts are counted beside it ("compared to the packing list, 50 LM2596S are missing")
                # or boxes ("Cajas: recibimos las 3 que indica la guía")
            _opened(clause, sentence, reading, bag_in_view)
            # "if all boxes had arrived", "we will empty them", "please confirm they all came": no checklist fact
            if not clause.has(C.HYPOTHETICAL):
                if clause.has(C.BOX) and not clause.has(C.RECEIVE) and not clause.negated:
                    boxes_named = _box_count(clause)
                    if arrived and boxes_named is not None and not clause.has(
                            C.EMPTY, C.SEARCH, C.OPEN, C.SHORT, C.ABSENT, C.LOST) and (
                            not clause.has(C.PARTIAL) or _only_one_box(clause)) and (
                            clause.has(C.ALL) or any(w.fraction for w in clause.words) or clause.numbers()):
                        reading.state(Evidence.ALL_BOXES_RECEIVED, sentence, boxes_named)  # "kam, nur ein Paket"
                elif boxes_named is not None and (clause.has(C.RECEIVE) or boxes_named and clause.has(C.EMPTY)) \
                        and not clause.has(C.BOX, C.SHORT, C.ABSENT, C.PARTIAL) and not clause.negated \
                        and (not clause.numbers() or clause.has(C.ALL) and {n for _, n in clause.numbers()} == {
                            boxes_named}):  # not "laut Lieferschein 3 Kartons, davon sind 2 da"; "die alle 4 da sind"
                    # "it was a single carton and it arrived"; "就一个纸箱，已经被我们拆空了": what was emptied came.
                    # Not "both boxes which we have were unpacked": all those that came, maybe not all.
                    reading.state(Evidence.ALL_BOXES_RECEIVED, sentence, boxes_named)
                arrived = arrived or clause.has(C.RECEIVE) and not clause.has(C.BOX) and not clause.negated \
                    and not clause.has(C.SHORT, C.ABSENT, C.PARTIAL)
                _boxes_received(clause, sentence, reading)
                _boxes_emptied(clause, sentence, reading, said_before)
            before = len(reading.missing_parts)
            _shortage(_with_its_subject(said, at), sentence, reading, sentence_part)
            if len(reading.missing_parts) > before:
                reading.kinds.append((ClaimKind.MISSING_ITEMS, sentence))
            elif not clause.negated and not clause.has(C.HYPOTHETICAL):
                reading.counts.extend(_part_counts(clause, sentence, spoken_of or sentence_part))
            elif _not_a_single(clause):
                reading.counts.append(PartCount(_part_in(clause), 0, sentence))
            spoken_of = _part_in(clause) or spoken_of
            if not _returns_the_papers(clause, said_before):
                _kind(clause, sentence, reading)
        for clause in asked:
            if not clause.has(C.NOTICE, C.PAPERS, C.MESSAGE):
                _kind(clause, sentence, reading)
        if not any(found == sentence for _, _, found in reading.missing_parts) and (
                _counted_against_order(said, sentence, reading, sentence_part)
                or _count_further_on(said, sentence, reading, sentence_part)
                or _same_part(previous, said) and _counted_against_order(previous[-1:] + said[:1], sentence, reading,
                                                                         sentence_part)):  # "ordered: 20" / "found: 14"
            reading.kinds.append((ClaimKind.MISSING_ITEMS, sentence))
        if reading.whole_parcel_missing == sentence and any(_denied_shortage(c) and c.has(C.UNIT, C.PARTIAL)
                                                            for c in said):
            # "不是少几个零件，是整单都没有", "not a few parts short: the whole order never came"
            reading.kinds = [(k, s) for k, s in reading.kinds if not (k is ClaimKind.MISSING_ITEMS and s == sentence)]
        previous_bag = named_bag
        previous = said
    return reading


def _box_count(clause: Clause, all_counts: bool = True) -> int | None:
    """How many boxes the clause is about: 0 for all of them, n for "n boxes", 1 for "the box"; None when
    it speaks of part of them only ("2 of 3 boxes", "only one box")."""
    box = clause.index(C.BOX)
    for w in clause.words:
        if w.fraction:
            return 0 if w.fraction[0] == w.fraction[1] else None
    if labelled := _labelled_boxes(clause):
        return labelled
    nums = clause.numbers()
    # "2 of 3 boxes", "2 von 3 Kartons", "zwei der drei Kartons"
    for (i, a), (j, b) in zip(nums, nums[1:], strict=False):
        between = {w.text for w in clause.words[i + 1:j]}
        if j - i <= 3 and between & _OF_THE:
            return 0 if a == b else None
    # "三箱到了两箱", "von 3 Kartons sind 2 Kartons da": two counts of boxes, the smaller of them came
    counts = {n for i, n in nums if i + 1 < len(clause.words) and C.BOX in clause.words[i + 1].concepts}
    if len(counts) > 1:
        return None
    if clause.has(C.PARTIAL):
        return 1 if _only_one_box(clause) else None
    if clause.has(C.ALL) and all_counts:
        return 0
    if box >= 0:
        before = [n for i, n in nums if box - 3 <= i < box]
        if before:
            return before[-1]
        after = [n for i, n in nums if box < i <= box + 3]
        if after and clause.has(C.RECEIVE):
            return after[0]  # "Bultos: llegaron los 2"
        return 0 if clause.words[box].plural else 1
    return None


_ONE_WORDS = frozenset({"1", "one", "a", "single", "ein", "eine", "einen", "einzige", "un", "une", "seul", "uno",
                        "una", "solo"})


def _only_one_box(clause: Clause) -> bool:
    """ "war nur ein Paket", "就一个纸箱", "it was only one carton", "en un seul colis": the order came as one box
    (not "only one of the boxes")."""
    words, box = clause.words, clause.index(C.BOX)
    only = next((i for i, w in enumerate(words) if C.PARTIAL in w.concepts), -1)
    # "un seul", "una sola"; "only ever consisted of the one carton", not "only one of the boxes"
    one = next((i for i in range(max(only - 1, 0), box) if C.PARTIAL not in words[i].concepts and (
        words[i].text in _ONE_WORDS or words[i].number == 1)), -1)
    return 0 <= only < box <= only + 6 and one >= 0 and len(clause.numbers()) <= 1 and \
        not any(w.text in _OF_WORDS for w in words[one:box + 2])


def _numbered_box(clause: Clause) -> bool:
    """A count stands before the box: "one box is missing" is a box of several, "the parcel is missing" all."""
    box = clause.index(C.BOX)
    return any(box - 3 <= i < box for i, _ in clause.numbers())


_RANGE_WORDS = frozenset({"to", "bis", "a", "au", "-", "through", "thru", "hasta"})


def _labelled_boxes(clause: Clause) -> int:
    """Boxes named by their number ("carton 4", "la caja 1", "cartons 1 to 3", "cartons 1 and 2"): those only."""
    words, count = clause.words, 0
    for i, w in enumerate(words[:-1]):
        # Chinese numbers a box before it ("第2箱"): "开箱：两个箱子" counts boxes
        if C.BOX in w.concepts and w.text.isascii() and words[i + 1].number is not None and not (
                i + 2 < len(words) and words[i + 2].text in _OF_WORDS):  # "Kartons: 4 von 4" counts them
            first = words[i + 1].number
            if i + 3 < len(words) and words[i + 2].text in _RANGE_WORDS and words[i + 3].number is not None:
                count += max(words[i + 3].number - first + 1, 1)
            elif i + 3 < len(words) and words[i + 2].text in _CONJUNCTIONS and words[i + 3].number is not None:
                count += 2
            else:
                count += 1
    return count


def _some_of(clause: Clause) -> int:
    """ "we emptied three of them", "2 of the boxes": that many, not all."""
    words = clause.words
    for i, w in enumerate(words[:-1]):
        if w.number is not None and words[i + 1].text in _OF_THE | {"davon", "d'entre"} and not (
                i + 2 < len(words) and words[i + 2].number is not None) and not (  # "3 of 3" is all of them
                i > 0 and C.ALL in words[i - 1].concepts):  # "every one of them"
            return w.number
    return 0


def _boxes_received(clause: Clause, sentence: str, reading: Reading) -> None:
    if not clause.has(C.BOX) or clause.has(C.SHORT, C.ABSENT, C.LOST):
        return
    if clause.negated:
        if clause.has(C.RECEIVE):
            reading.partly.add((Evidence.ALL_BOXES_RECEIVED, sentence))
        return
    # In "the three boxes that came were all emptied" the "all" is about the emptying.
    emptying = clause.has(C.EMPTY, C.SEARCH, C.OPEN)  # "收到的這三箱我們都已經整箱拆開": all of them opened
    count = _box_count(clause, all_counts=not emptying)
    key_value = any(w.fraction for w in clause.words) or ":" in sentence
    if count is None and clause.has(C.RECEIVE):
        reading.partly.add((Evidence.ALL_BOXES_RECEIVED, sentence))
    if count is None or not (clause.has(C.RECEIVE) or (key_value and count == 0)):
        return
    if count == 0 and not (clause.has(C.ALL) and not emptying or any(w.fraction for w in clause.words)
                           or len(clause.numbers()) >= 2):
        return  # "the boxes arrived" says how many by no number: it may be some of them
    reading.state(Evidence.ALL_BOXES_RECEIVED, sentence, count)


def _boxes_emptied(clause: Clause, sentence: str, reading: Reading, said_before: Clause) -> None:
    # searched: the packing, or all boxes ("we've gone through the pair of them", of the cartons just named)
    # or searched through ("this one has been gone through entirely"), not the parts ("checked every part")
    emptied = clause.has(C.EMPTY) or clause.has(C.SEARCH) and (clause.has(C.PACKING) or clause.has(C.ALL) and (
        clause.has(C.BOX) or said_before.has(C.BOX)) or clause.has(C.FULLY) and not clause.has(C.UNIT, C.BAG))
    if _not_yet_emptied(clause, said_before):
        reading.deny_emptying(sentence)
        return
    if emptied and (clause.negated or clause.has(C.PARTIAL)) or clause.has(C.BOX) and _labelled_boxes(clause):
        reading.partly.add((Evidence.BOXES_EMPTIED, sentence))  # "we only unpacked one", "box 3 not yet"
    if clause.negated or clause.has(C.PARTIAL) or clause.words[0].text in _BEFORE:
        return  # nor "before we unpack the boxes, please confirm": not done yet
    if not emptied or clause.has(C.BAG) and not clause.has(C.BOX) or any(w.text in _MEASURES for w in clause.words):
        return  # nor "au lieu de sortir 5 V": what a regulator puts out
    if reading.emptying_denied and not clause.has(C.ALL, C.FULLY, C.EACH):
        return  # after "the third one we haven't opened yet", "in what we unpacked" empties no more of them
    count = _labelled_boxes(clause) or _some_of(clause)
    if clause.has(C.BOX) and not count and not clause.has(C.ALL, C.FULLY, C.EACH):
        count = _box_count(clause)
        if count is None:
            return
    reading.state(Evidence.BOXES_EMPTIED, sentence, count)


def _returns_the_papers(clause: Clause, said_before: Clause) -> bool:
    """ "Bitte füllen Sie das Formular aus und senden Sie es zurück": what goes back is the form, no goods."""
    return said_before.has(C.PAPERS) and clause.has(C.RETURN, C.BACK) and not (
        clause.has(C.UNIT, C.BOX, C.PAPERS) or _part_in(clause))


def _not_yet_emptied(clause: Clause, said_before: Clause) -> bool:
    """A box not emptied, or not even opened: "we haven't unpacked the second carton", "el segundo todavía no
    lo destapamos", "le 2/2, je ne l'ai pas encore ouvert". Not "we emptied them and found nothing", "no box was
    missing", "the ESD bag stays unopened"."""
    neg = clause.index(C.NEG)
    box_named = clause.has(C.BOX, C.PARTIAL) or not said_before.has(C.BAG, C.SENSITIVE) and (
        said_before.has(C.BOX, C.PARTIAL) or any(w.fraction for w in said_before.words))
    act = max(clause.index(C.EMPTY), clause.index(C.OPEN) if box_named else -1)
    # "todavía no terminamos de sacar todo lo que venía en la caja": what came, said after the emptying
    received_before = 0 <= clause.index(C.RECEIVE) < act
    return 0 <= neg < act and not clause.has(C.FIND, C.SHORT, C.ABSENT, C.UNIT, C.BAG, C.SENSITIVE) \
        and not received_before and not clause.numbers()


def _quantity_numbers(clause: Clause) -> list[tuple[int, int]]:
    """Numbers that count parts: not boxes, days or weeks, not part of a fraction of boxes; not a date, a price,
    a year, a phone number, a package size ("0805") or the number of a line, a position or a box ("box 2")."""
    found = []
    words = clause.words
    for i, n in clause.numbers():
        if n > 99_999 or words[i].text[0] == "0" and n or 1900 <= n <= 2100:
            continue  # an order or a phone number written bare, "0805", a year: not a count of parts
        after = words[i + 1] if i + 1 < len(words) else None
        later = words[i + 2] if i + 2 < len(words) and after is not None and after.text in _OF_WORDS else None
        before = words[i - 1] if i > 0 else None
        if after is not None and (C.BOX in after.concepts or after.text in _TIME_WORDS | _MEASURES
                                  or later is not None and later.text in _TIME_WORDS):
            continue  # "2 boxes", "24 November", "24 de noviembre", "45 euros", "5 V"
        if before is not None and (C.BOX in before.concepts or before.text in _LABEL_WORDS):
            continue  # "box 2", "line 2", "Position 4", "USD 45"
        if any(w.number is not None and len(w.text) + len(words[i].text) >= 6 for w in (before, after) if w):
            continue  # "call 555 1234": a phone number written in groups
        found.append((i, n))
    return found


# Words before a number that make it a label, not a count: "line 2", "Position 4", "ligne 2", "$45".
_LABEL_WORDS = frozenset({
    "line", "item", "position", "pos", "nr", "no", "number", "page", "ref", "reference", "invoice", "ticket", "po",
    "zeile", "nummer", "seite", "rechnung", "ligne", "numero", "facture", "linea", "posicion", "pagina", "factura",
    "usd", "eur", "rmb", "cny", "gbp", "chf",
})


_TIME_WORDS = frozenset({
    "day", "days", "week", "weeks", "month", "months", "hours", "hour", "tage", "tagen", "tag", "wochen", "woche",
    "jours", "jour", "semaines", "semaine", "mois", "dias", "dia", "semanas", "meses", "天", "周", "个月",
    "pm", "am", "uhr", "h",
    # months (a day of the month is no count) and money (a price neither)
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "januar", "jaenner", "februar", "maerz", "mai", "juni", "juli", "oktober", "dezember",
    "janvier", "fevrier", "mars", "avril", "juin", "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre",
    "diciembre", "月", "日", "号", "號", "元", "块",
    "eur", "euro", "euros", "usd", "dollar", "dollars", "cent", "cents", "gbp", "chf", "rmb", "cny", "yuan", "franken",
})


# Units of a measurement: "instead of 5 V they put out 12 V" counts no parts
_MEASURES = frozenset({"v", "mv", "kv", "vdc", "vac", "ma", "w", "mw", "kw", "mm", "cm", "kg", "mg", "hz", "khz", "mhz",
                       "ghz", "ohm", "kohm", "db", "ms", "nm"})


def is_time_word(word: str) -> bool:
    """A unit of time, a month or a currency ("days", "November", "EUR"): a number before it counts no part."""
    return fold(word) in _TIME_WORDS


def _part_in(clause: Clause) -> str:
    return next((w.part for w in clause.words if w.part), "")


def _shortage(clause: Clause, sentence: str, reading: Reading, sentence_part: str = "") -> None:
    part = _part_in(clause) or sentence_part
    for w in clause.words:
        if w.fraction and not clause.has(C.BOX) and w.fraction[0] < w.fraction[1] and \
                (clause.has(C.RECEIVE, C.SHORT, C.ABSENT, C.UNIT) or part):
            reading.missing_parts.append((part, w.fraction[1] - w.fraction[0], sentence))
            return
    nums = _quantity_numbers(clause)
    if clause.has(C.BOX) and not any(clause.words[i + 1].concepts & {C.UNIT} for i, _ in nums
                                     if i + 1 < len(clause.words)):
        if clause.has(C.SHORT, C.ABSENT) and not part:
            return  # "one box is missing": a box, not parts
    # "received 37 of 40", "only 480 of 500 arrived", "37 von 40"
    for (i, a), (j, b) in zip(nums, nums[1:], strict=False):
        between = {w.text for w in clause.words[i + 1:j]}
        # "24 statt der bestellten 30", "38 comptés pour 50 attendus"
        expected = any(C.EXPECTED in w.concepts for w in clause.words[i + 1:j]) or _due_near(
            clause, j, (C.EXPECTED, C.ORDER_VERB))
        # a word of the due count reaches further: "on arrive à 60 pièces alors que le bordereau en annonce 100"
        if (j - i <= 6 and between & _OF_WORDS or j - i <= 9 and expected) and a < b:
            if clause.has(C.RECEIVE, C.SHORT, C.ABSENT, C.UNIT, C.PARTIAL, C.FIND) or part:
                # "3 of 40 are missing" is 3 short, "received 37 of 40" 3 too
                short = a if clause.has(C.SHORT, C.ABSENT) and not clause.has(C.RECEIVE) else b - a
                reading.missing_parts.append((part, short, sentence))
                return
    # "of the 200 ordered only 180 came", "de los 200 solo nos llegaron 180"; the due count first: "statt 400
    # NE555P waren nur 360 drin", "instead of 100 we got 90"
    for (i, a), (j, b) in zip(nums, nums[1:], strict=False):
        between = frozenset().union(*(w.concepts for w in clause.words[i + 1:j]))
        lead = clause.words[max(i - 2, 0):i]
        if (any(w.text in _OF_WORDS for w in lead) or any(C.EXPECTED in w.concepts for w in lead) and j - i <= 6) \
                and b < a and not clause.negated and \
                between & {C.RECEIVE, C.PARTIAL, C.INSIDE} and not between & {C.SHORT, C.ABSENT}:
            reading.missing_parts.append((part, a - b, sentence))
            return
    if clause.has(C.SHORT, C.ABSENT) and not _denied_shortage(clause):
        # the count after the word ("short by 12", "il en manque donc 15"), else the one before ("12 units short")
        at = min(i for i in (clause.index(C.SHORT), clause.index(C.ABSENT)) if i >= 0)
        # not the due count: "Differenz CH340G: Soll 300 / Ist 240" is 60 short, "comes up light: 100 on your
        # invoice" says no shortage's size
        nums = [(i, n) for i, n in nums if not (i > 0 and C.EXPECTED in clause.words[i - 1].concepts)
                and not (i > at and _on_the_papers(clause, i))]
        counted = [n for i, n in nums if i > at and n > 0] or [n for i, n in reversed(nums) if n > 0]
        if counted:
            reading.missing_parts.append((part, counted[0], sentence))
            return
    # "the 30 resistors were not in the box", "20 NE555P did not arrive", "we could not find 12 pcs"
    if clause.negated and clause.has(C.RECEIVE, C.INSIDE, C.FIND) and nums and (
            part or clause.has(C.UNIT)):
        reading.missing_parts.append((part, nums[0][1], sentence))


def _with_its_subject(said: list[Clause], at: int) -> Clause:
    """The clause ``said[at]``; "but the AMS1117-3.3, all 200 pieces, are not in it": a denial of what is inside,
    with the part and count the clauses just before it name (clauses of nothing else), is of them."""
    clause = said[at]
    if not (clause.negated and clause.has(C.INSIDE, C.RECEIVE, C.FIND)) or _part_in(clause) or clause.numbers():
        return clause
    denied = clause.words[max(clause.index(C.NEG), 0) + 1:]
    if not all(w.concepts & _PRESENCE or len(w.text) <= 3 for w in denied):
        return clause  # of something else: "we did not find any problem", "not received late"
    subject: list[Word] = []
    for before in reversed(said[:at]):
        if not all(w.part or w.number is not None or w.concepts <= _SUBJECT_WORDS for w in before.words):
            break
        subject[:0] = before.words
    if not any(w.part for w in subject):
        return clause
    return Clause([*subject, *clause.words], clause.carried_neg, clause.after_conjunction,
                  clause.concepts.union(*(w.concepts for w in subject)))


_SUBJECT_WORDS = frozenset({C.ALL, C.UNIT})
_PRESENCE = frozenset({C.INSIDE, C.RECEIVE, C.FIND, C.PARCEL, C.BOX})


def _not_a_single(clause: Clause) -> bool:
    """ "pas un seul LM358N", "not a single NE555P", "ni un solo BC547", "none of the 200 AMS1117-3.3": none of
    the part came."""
    words = clause.words
    single = {i for i, w in enumerate(words[:-1]) if (w.number == 1 or w.text in _NONE_WORDS) and
              words[i + 1].text in _SINGLE or w.text in _NONE_WORDS and words[i + 1].text in _OF_THE}
    if not single or not _part_in(clause) or sum(C.NEG in w.concepts for w in words) != 1:
        return False  # one negation only: "none of the LM358N were not received" says they all came
    said = [w for i, w in enumerate(words) if i - 1 not in single and i not in single]  # but "not a single"
    # and nothing but that none came: not "kein einziges Stück kam zu spät", "pas un seul ... en retard", nor
    # of one box ("kein einziges Stück im ersten Karton")
    return all(w.concepts <= _NONE_OF_IT and (w.concepts or w.part or w.number is not None or len(w.text) <= 3
                                               or w.text in _NONE_SAYING) for w in said) \
        and not (clause.has(C.BOX) and any(w.number is not None for w in said))


_NONE_OF_IT = frozenset({C.NEG, C.RECEIVE, C.FIND, C.INSIDE, C.UNIT, C.BOX, C.PARCEL})
_SINGLE = frozenset({"seul", "seule", "single", "einzig", "einziger", "einzige", "einziges", "einzigen", "solo",
                     "sola"})
_BEFORE = frozenset({"before", "bevor", "avant", "antes"})


def _on_the_papers(clause: Clause, index: int) -> bool:
    """ "100 on your invoice", "100 sur le bon": the count the papers give, not the shortage (but "20 Stück laut
    Lieferschein" is)."""
    words = clause.words[index + 1:index + 4]
    return bool(words) and words[0].text in ("on", "in", "auf", "sur", "en") and any(
        C.PAPERS in w.concepts for w in words[1:])


def _part_counts(clause: Clause, sentence: str, spoken_of: str) -> list[PartCount]:
    """The numbers of pieces a clause gives for its part: "LM358N: 76"; or for the part just spoken of, when it
    counts pieces or what came ("我们点了两遍都是76个", "收 64"; not "on les a vidés tous les trois"); not of
    reels, tubes or bags ("the LM2596S came on 2 reels"), nor how often ("点了两遍")."""
    part, words = _part_in(clause), clause.words
    if not (part or spoken_of):
        return []
    if any(w.text == "全无" for w in words):
        return [PartCount(part or spoken_of, 0, sentence)]  # "一颗都没看到": none of them
    # a count of what came or was found ("we counted 76", "hay 34", "收 64", a table's cell); not "we need 30",
    # "we already soldered 20", "2 photos attached"
    if clause.has(C.DEFECT, C.MESSAGE, C.HYPOTHETICAL):
        return []
    counted = clause.has(C.RECEIVE, C.FIND, C.PARTIAL, C.EXPECTED, C.ORDER_VERB, C.PAPERS) or len(words) == 1 \
        or _THERE_ARE.intersection(w.text for w in words)
    # "one" may be an article ("für ein Projekt"): a count is two or more; of pieces ("988 Stück"), when nothing
    # else says it was counted
    return [PartCount(part or spoken_of, n, sentence) for i, n in _quantity_numbers(clause)
            if n > 1 and (i + 1 >= len(words) or words[i + 1].text not in _NOT_PIECES)
            and (counted or i + 1 < len(words) and words[i + 1].text in _PIECES)]


_PIECES = frozenset({"pcs", "pc", "pieces", "piece", "units", "stueck", "stk", "st", "pzas", "piezas",
                     "unidades", "uds", "个", "個", "只", "隻", "颗", "顆", "片", "粒", "pz"})


# "there are 34", "hay 34", "es sind 34", "il y a 34", "有 34": what is there, counted
_THERE_ARE = frozenset({"there", "hay", "habia", "sind", "waren", "gibt", "y", "有", "只有", "共"})


# After a number, words that count no pieces: containers, and times ("twice" as "2 times", "两遍").
_NOT_PIECES = frozenset({
    "reel", "reels", "roll", "rolls", "tray", "trays", "tube", "tubes", "bag", "bags", "pack", "packs", "times",
    "rolle", "rollen", "spule", "spulen", "beutel", "tuete", "tueten", "stangen", "mal",
    "bobine", "bobines", "rouleau", "rouleaux", "sachet", "sachets", "plateau", "plateaux", "fois",
    "carrete", "carretes", "rollo", "rollos", "bolsa", "bolsas", "bandeja", "bandejas", "tubo", "tubos", "veces",
    "盘", "卷", "袋", "管", "盒", "遍", "次", "photo", "photos", "picture", "pictures", "foto", "fotos", "bilder", "张",
})


def _count_further_on(said: list[Clause], sentence: str, reading: Reading, sentence_part: str) -> bool:
    """ "we're missing, by the look of it, 40 of the LM2596S": the shortage's count in a clause after it."""
    for k, clause in enumerate(said):
        if not clause.has(C.SHORT, C.ABSENT) or clause.negated or _quantity_numbers(clause) or clause.has(
                C.BOX, C.PARCEL, C.PAPERS, C.HYPOTHETICAL):  # "the order (200x NE555P) is missing": all of it
            continue
        for later in said[k + 1:k + 3]:
            counts = _quantity_numbers(later)
            if counts and not later.negated and not later.has(C.RECEIVE, C.EXPECTED, C.ORDER_VERB, C.BOX):
                part = _part_in(later) or _part_in(clause) or sentence_part
                reading.missing_parts.append((part, counts[0][1], sentence))
                return True
    return False


def _same_part(before: list[Clause], after: list[Clause]) -> bool:
    """Two list lines about one part: "- ATMEGA328P-PU ordered: 20", "- ATMEGA328P-PU found: 14"."""
    return bool(before and after) and _part_in(before[-1]) != "" and _part_in(before[-1]) == _part_in(after[0])


def _due_near(clause: Clause, index: int, concepts: tuple[Concept, ...]) -> bool:
    """A word saying the count there ought to be stands next to the number: "should be 1000", "laut Lieferschein
    300", "50 attendus"; not "that should be enough for 200 boards"."""
    return any(clause.words[n].concepts.intersection(concepts)
               for n in range(max(index - 2, 0), min(index + 3, len(clause.words))) if n != index)


_DUE = (C.EXPECTED, C.ORDER_VERB, C.PAPERS)  # "should be 100", "ordered 100", "packing list: 100"


def _counted_against_order(said: list[Clause], sentence: str, reading: Reading, sentence_part: str) -> bool:
    """A count and the count there ought to be, in the clauses that follow: "only 950 pcs, should be 1000",
    "gezählt 280, laut Lieferschein 300", "nur 88 Stück, bestellt und berechnet waren 100",
    "只有 90 个，订单是 100 个"."""
    counted = [(k, c, _quantity_numbers(c)) for k, c in enumerate(said)]
    counted = [(k, c, n) for k, c, n in counted if n and not c.negated and not _supposing(c)]
    for (k, first, in_first), (m, second, in_second) in zip(counted, counted[1:], strict=False):
        (i, a), (j, b) = in_first[-1], in_second[0]
        lead_in = said[m - 1] if m - 1 > k and len(said[m - 1].words) <= 3 else Clause()  # "bestellt und ... 100"
        # The papers' count against a count compares them: "LM2596S - 440 pcs, invoice says 500"
        if _due_near(first, i, _DUE):
            got, due, count_clause, expected = b, a, second, _due_near(first, i, (C.EXPECTED, C.PAPERS))
        elif _due_near(second, j, _DUE) or lead_in.has(*_DUE):
            got, due, count_clause, expected = a, b, first, _due_near(second, j, (C.EXPECTED, C.PAPERS))
        else:
            continue
        # "ordered 100, 40 are for project B" compares nothing; "hay 150 y deberían ser 200" does
        said_so = expected or count_clause.has(C.RECEIVE, C.PARTIAL, C.FIND, C.INSIDE)
        if 0 < got < due and said_so:
            reading.missing_parts.append((_part_in(first) or _part_in(second) or sentence_part, due - got, sentence))
            return True
    return False


def _supposing(clause: Clause) -> bool:
    """A clause of what may be, not of a count: "if we get 90"; not "Soll 300" (the due count, in a Soll/Ist list)."""
    words = clause.words
    return any(C.HYPOTHETICAL in w.concepts and not (
        C.EXPECTED in w.concepts and i + 1 < len(words) and words[i + 1].number is not None)
        for i, w in enumerate(words))


def _denied_shortage(clause: Clause) -> bool:
    """ "nothing else is missing", "no box is missing": a shortage denied."""
    neg = clause.index(C.NEG)
    return 0 <= neg and any(0 <= neg < clause.index(c) for c in (C.SHORT, C.ABSENT))


def _kind(clause: Clause, sentence: str, reading: Reading) -> None:
    has = clause.has
    quantities = bool(_quantity_numbers(clause)) or bool(_part_in(clause)) or has(C.UNIT)
    defect = has(C.DEFECT) and not clause.negated and not has(C.DEVICE)  # not "our camera is broken"
    if defect:
        reading.defects.append(sentence)
    elif has(C.DEFECT) and clause.negated and sentence not in reading.defects:
        reading.denied_defects.add(sentence)  # "Kaputt ist an den Teilen nichts": no defect
    elif has(C.DEFECT, C.WORK) and has(C.DEVICE) and sentence not in reading.defects:
        reading.notices.add(sentence)  # of our camera, not of the goods: no phrase may read a claim in it
    if defect or clause.negated and (
            has(C.WORK) and not has(C.RECEIVE, C.NOISE, C.DEVICE, C.PAPERS)  # not "die Rechnung geht nicht auf"
            or 0 <= clause.index(C.NEG) < clause.index(C.ORIGINAL)):
        # "not original" is a quality claim; "original packaging, never opened" is not
        reading.kinds.append((ClaimKind.QUALITY, sentence))
    whole = has(C.PARCEL) and not has(C.BOX) or has(C.PARCEL) and _box_count(clause) in (0, 1)
    if has(C.SHORT, C.ABSENT) and not _denied_shortage(clause):
        if has(C.ABSENT) and has(C.ALL) and _whole_named(clause) and not _quantity_numbers(clause) \
                and not _part_in(clause):  # "the whole shipment is missing: none of the three cartons came"
            reading.whole_parcel_missing = reading.whole_parcel_missing or sentence
            reading.kinds.append((ClaimKind.NON_RECEIPT, sentence))
        elif quantities or has(C.SHORT) or has(C.BOX) and (_box_count(clause) is None or _numbered_box(clause)):
            reading.kinds.append((ClaimKind.MISSING_ITEMS, sentence))
        elif whole or has(C.ALL):
            reading.whole_parcel_missing = reading.whole_parcel_missing or sentence
            reading.kinds.append((ClaimKind.NON_RECEIPT, sentence))
    if has(C.RECEIVE) and has(C.NEG) and not has(C.SHORT, C.ABSENT):
        if quantities:
            reading.kinds.append((ClaimKind.MISSING_ITEMS, sentence))
        elif has(C.BOX) and _box_count(clause) is None or _not_all(clause):
            reading.kinds.append((ClaimKind.MISSING_ITEMS, sentence))  # "one of the boxes never came", "not all came"
        elif _of_the_goods(clause) and (
                not has(C.ALL) or has(C.PARCEL) or clause.index(C.ALL) < clause.index(C.NEG)):  # "both never came"
            reading.whole_parcel_missing = reading.whole_parcel_missing or sentence
            reading.kinds.append((ClaimKind.NON_RECEIPT, sentence))
    named = _parcel_named(clause)
    if has(C.LOST) and named and not has(C.NEG) or has(C.WHERE) and named or has(C.SIGN) and has(C.NEG) or \
            has(C.WAIT) and named or has(C.STUCK) and named:
        reading.whole_parcel_missing = reading.whole_parcel_missing or sentence
        reading.kinds.append((ClaimKind.NON_RECEIPT, sentence))
    if (has(C.RETURN) or has(C.BACK) and has(C.SEND)) and not has(C.NEG) or has(C.MISTAKE) and has(C.ORDER_VERB) or \
            has(C.WRONG) and has(C.ORDER_VERB) or has(C.NEED) and has(C.LONGER) or has(C.LONGER) and has(C.NEG):
        reading.kinds.append((ClaimKind.RETURN, sentence))


_NONE_WORDS = frozenset({"none", "neither", "nothing", "keins", "keiner", "keine", "kein", "nichts", "aucun", "aucune",
                         "rien", "ninguno", "ninguna", "nada", "ningun"})
_NONE_SAYING = _SINGLE | _NONE_WORDS | _CONTRASTING | {"them", "these", "those", "ihnen", "dieser", "diesen"}


def _not_all(clause: Clause) -> bool:
    """ "not everything came", "no ha venido todo": a negation before the "all" (but "none of them" is none)."""
    neg, every = clause.index(C.NEG), clause.index(C.ALL)
    return 0 <= neg < every and clause.words[neg].text not in _NONE_WORDS


def _of_the_goods(clause: Clause) -> bool:
    """What did not come is the goods: named ("nothing came", "it never arrived"), or said in few words
    ("never came"); not "the change did not reach purchasing in time", "the design did not work out"."""
    return clause.has(C.PARCEL, C.BOX, C.UNIT) or len(clause.words) <= 5 or not clause.words[0].text.isascii()


def _parcel_named(clause: Clause) -> bool:
    """A parcel, box or the order named by a noun: not by "la", "le", "it", "es" ("la compta me la bloque")."""
    return any(w.concepts & {C.PARCEL, C.BOX} and (len(w.text) > 3 or not w.text.isascii()) for w in clause.words)


def _whole_named(clause: Clause) -> bool:
    """The shipment itself is named ("shipment", "Sendung", "pedido"), not only a box of it."""
    return any(C.PARCEL in w.concepts and C.BOX not in w.concepts and (len(w.text) > 3 or len(w.text) > 1 and not
                                                                       w.text.isascii()) for w in clause.words)


# What a clause may hold and still go on listing what the clause before it opened: "we opened the bags of the
# NE555P and the STM32F103", "..., the STM32F103 too". "The STM32 stay sealed" says something of its own.
_LIST_GOES_ON = frozenset({C.BAG, C.UNIT, C.ALL, C.INSIDE})


def opened_parts(sentence: str, is_order: Callable[[str], bool], before: str = "") -> tuple[str, ...]:
    """The part numbers named in the clauses that say something was opened, and in the clauses that only go
    on listing them: "we opened the bag of the AMS1117-3.3, the STM32 stay sealed" opened AMS1117-3.3 only,
    "we opened the bags of the AMS1117-3.3 and the STM32F103" both. An opening that names no part but points
    back ("their bag", "la bolsa de los reguladores") opened the one part the sentence ``before`` names."""
    folded = fold(sentence)
    if any(t in _EXCLUDING for t in TOKEN.findall(folded)) or any(m in folded for m in _EXCLUDING_CJK):
        return ()  # "all bags bar the AMS1117", "除AMS1117-3.3外袋子都拆开了": which were opened, staff read
    found: list[str] = []
    listing = False
    listed: list[Clause] = []
    unnamed_bag = False
    for c in clauses(sentence, is_order):
        # "... and the moisture barrier bag", "... and all the others", "..., then the other one": more bags
        unnamed_bag |= listing and (c.has(C.BAG, C.ALL) or _another(c.words)) and not \
            c.has(C.NEG) and not any(w.part or w.text in _STILL_SEALED for w in c.words)
        listing = c.has(C.OPEN) and not c.negated or listing and c.concepts <= _LIST_GOES_ON
        if listing:
            found.extend(w.part for w in c.words if w.part)
            listed.append(c)
            # "the AMS1117-3.3 bag plus the other one": another bag, in the opening's own clause
            unnamed_bag |= _another(list(itertools.dropwhile(lambda w: not w.part, c.words)))
    if unnamed_bag:
        return ()
    if not found and before and _points_back(listed, sentence):
        said_before = clauses(before, is_order)
        named = {w.part for c in said_before for w in c.words if w.part}
        # only a sentence that says nothing but the part: not "everything except the AMS1117", "it stays sealed"
        plain = not any(c.has(C.NEG, C.PARTIAL, C.SENSITIVE, C.ALL) for c in said_before)
        return tuple(named) if len(named) == 1 and plain else ()
    return tuple(dict.fromkeys(found)) if _names_every_bag(listed, len(set(found))) else ()


def _another(words: list[Word]) -> bool:
    """Another bag spoken of: "the other", "the rest", "the one with the microcontrollers" ("one" read as 1, before
    a word that counts nothing; not "那一包")."""
    return any(w.text in _ANOTHER or w.text == "1" and i + 1 < len(words) and words[i + 1].text.isascii() and
               not words[i + 1].concepts & {C.UNIT, C.BOX, C.BAG} and words[i + 1].number is None
               for i, w in enumerate(words))


def also_opened(sentence: str, is_order: Callable[[str], bool]) -> tuple[str, ...]:
    """The parts the sentence after an opening adds to it: "Same for the STM32F103C8T6.", "The STM32 bag too.";
    not "The STM32 bag is still sealed"."""
    said = clauses(sentence, is_order)
    parts = tuple(w.part for c in said for w in c.words if w.part)
    if not parts or any(c.negated or any(w.text in _STILL_SEALED for w in c.words) for c in said):
        return ()
    return parts if any(c.has(C.BAG, C.OPEN) or any(w.text in _TOO for w in c.words) for c in said) else ()


# "too", "as well", "same": the sentence goes on with what the one before said
_TOO = frozenset({"too", "also", "same", "well", "likewise", "auch", "ebenso", "ebenfalls", "gleiche", "aussi",
                  "pareil", "idem", "meme", "tambien", "igual", "mismo", "也", "同样", "同樣", "一样", "一樣"})


def _names_every_bag(listed: list[Clause], parts: int) -> bool:
    """The parts an opening names are all it opened: not "all bags except the AMS1117", "apart from the AMS1117
    we opened their bags", "the AMS1117's bag and the moisture barrier bag" (a bag no part is named for)."""
    # what stands before the first part: "J'ai ouvert le sachet des AMS1117-3.3 pour en compter quelques-uns"
    leading = [w for c in listed for w in itertools.takewhile(lambda w: not w.part, c.words)]
    if any(C.ALL in w.concepts or C.PARTIAL in w.concepts and w.text not in _ONLY for w in leading):
        return False
    # "bis auf" is "but" only here: of emptying it is "to the bottom" ("bis auf den Boden ausgepackt")
    if any((a.text, b.text) == ("bis", "auf") for a, b in itertools.pairwise(leading)):
        return False
    # "包装" (packaging) is both a bag and packing: no bag of its own
    return sum(C.BAG in w.concepts and C.PACKING not in w.concepts and not w.part
               for c in listed for w in c.words) <= parts


# Words that leave a part out of an opening ("all bags bar the AMS1117"), in any of the languages: then the
# opening names no part and staff read it.
_EXCLUDING = frozenset({
    "except", "excepting", "exception", "apart", "aside", "besides", "bar", "barring", "minus", "excluding",
    "save", "ausser", "ausnahme", "abgesehen", "ausgenommen", "aufs", "ohne", "sauf", "excepte", "exceptes",
    "hormis", "hors", "excepto", "salvo", "menos", "quitando", "aparte", "excepcion",
})
_EXCLUDING_CJK = ("除", "以外", "之外")
# Another bag spoken of after the one a part is named for: "..., then the other one", "plus the rest".
_ANOTHER = frozenset({
    "other", "others", "rest", "remaining", "second", "autre", "autres", "reste", "deuxieme", "seconde",
    "andere", "anderen", "anderes", "zweite", "zweiten", "restlichen", "otro", "otra", "otros", "otras", "resto",
    "segundo", "segunda", "其他", "其余", "其餘", "另一", "另外", "剩下", "one", "ones",
})

# What the bags named after an opening still are: "the other bag is still sealed".
_STILL_SEALED = frozenset({"sealed", "intact", "untouched", "closed", "unopened", "versiegelt", "verschlossen", "zu",
                           "intakt", "unberuehrt", "ungeoeffnet", "verschweisst", "scelle", "scelles", "scellee",
                           "scellees", "ferme", "fermes", "fermee", "fermees", "sellado", "sellados", "sellada",
                           "selladas", "cerrado", "cerrados", "cerrada", "cerradas", "intacto", "intactos", "intacta",
                           "intactas", "密封", "未拆", "没拆", "沒拆", "完好"})

# The partial words that keep an opening to the parts named: "we only opened the AMS1117's bag".
_ONLY = frozenset({"only", "just", "nur", "lediglich", "seulement", "seul", "seule", "uniquement", "juste", "solo",
                   "solamente", "unicamente", "只", "仅", "僅"})


def _points_back(listed: list[Clause], sentence: str) -> bool:
    """One opening clause naming its bag by a possessive alone ("we opened their bag"): not "all other units",
    not "the bag of the LQFP48 chips" (a package), not "their bags, and the microcontrollers too"."""
    return len(listed) == 1 and any(w.text in _POINTING_BACK for w in listed[0].words) and not listed[0].has(
        C.ALL, C.PARTIAL, C.UNIT) and not any(_PACKAGE.match(t) for t in TOKEN.findall(fold(sentence)))


# Possessives that name the parts just spoken of: "I opened their bag".
_POINTING_BACK = frozenset({"their", "its", "leur", "leurs", "su", "sus", "ihre", "ihren", "deren", "dessen"})


def _opened(clause: Clause, sentence: str, reading: Reading, bag_in_view: bool = False) -> None:
    """A bag opened: said of a sealed one ("we opened the ESD bag"), of any bag ("die Beutel wurden geoeffnet",
    "把包装袋都拆开": the sealed one may be among them, the policy looks at the order's lines), or of "it" when a
    sealed bag was named just before ("the reel came in a moisture barrier bag; we opened it"). Opening a box
    opens no bag."""
    if clause.negated and not _without_a_part(clause) or not clause.has(C.OPEN) or sentence in reading.opened:
        return
    pack = any(w.text in _PACKS for w in clause.words)  # "拆开了其中一包": a pack of the parts, a bag
    if clause.has(C.SENSITIVE) or pack or (bag_in_view or clause.has(C.BAG)) and not _opens_a_box(clause):
        reading.opened.append(sentence)


_PACKS = frozenset({"包", "小包"})


def _without_a_part(clause: Clause) -> bool:
    """ "die Beutel ohne den AMS1117-3.3 geöffnet": "without" leaves a part out, it denies no opening."""
    words = clause.words
    return any(w.text in _WITHOUT and any(v.part for v in words[i + 1:i + 3]) for i, w in enumerate(words)) and \
        not any(C.NEG in w.concepts and w.text not in _WITHOUT for w in words)


_WITHOUT = frozenset({"without", "ohne", "sans", "sin"})


def _opens_a_box(clause: Clause) -> bool:
    """The box is what was opened ("we opened the carton"), not only named ("on l'a ouvert en recevant la boîte")."""
    opened, box = clause.index(C.OPEN), clause.index(C.BOX)
    return box >= 0 and (box < opened or box - opened <= 3)
