"""Which case of the policy a mail is about, told by a linear model over character n-grams.

The phrase patterns and the concepts (reading.py) read the kind where a customer writes as their vocabulary
expects; blind mails showed that most misses were of the kind itself ("the count is off", "a dud batch",
"订的货只来了一部分"). Character n-grams carry inflections, typing without accents and Chinese alike. The model
is trained on the customer corpus by `python3 tests/customers/train_kinds.py` (scikit-learn, a test
dependency) and written to kinds.json; the bot reads that file only, and scores with plain arithmetic.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rma_mailbot.models import ClaimKind

MODEL_FILE = Path(__file__).with_name("kinds.json")
NGRAMS = (1, 4)
_SPACES = re.compile(r"\s+")


def ngrams(text: str) -> list[str]:
    """The character n-grams of each word padded with spaces (what scikit-learn calls char_wb)."""
    return [gram for word in _words(text) for gram in _word_ngrams(word)]


def ngram_counts(text: str) -> Counter[str]:
    """Counter(ngrams(text)), each distinct word cut into n-grams once: a mail repeats its words."""
    counts: Counter[str] = Counter()
    for word, times in Counter(_words(text)).items():
        for gram in _word_ngrams(word):
            counts[gram] += times
    return counts


def _words(text: str) -> list[str]:
    return _SPACES.sub(" ", text.lower()).split()


@lru_cache(maxsize=65536)
def _word_ngrams(word: str) -> tuple[str, ...]:
    low, high = NGRAMS
    padded = f" {word} "
    return tuple(padded[i:i + n] for n in range(low, min(high, len(padded)) + 1) for i in range(len(padded) - n + 1))


@dataclass(frozen=True)
class Guess:
    kind: ClaimKind
    probability: float


@dataclass(frozen=True)
class Model:
    kinds: tuple[ClaimKind, ...]
    intercepts: tuple[float, ...]
    features: dict[str, tuple[float, tuple[float, ...]]]  # n-gram: (idf, one weight per kind)

    def scores(self, text: str) -> list[float]:
        """tf-idf (sublinear tf, l2 norm) times the weights, plus the intercepts."""
        weighted = []
        for gram, count in ngram_counts(text).items():
            if feature := self.features.get(gram):
                idf, weights = feature
                weighted.append(((1 + math.log(count)) * idf, weights))
        norm = math.sqrt(sum(v * v for v, _ in weighted)) or 1.0
        values = [value / norm for value, _ in weighted]
        columns = list(zip(*(weights for _, weights in weighted), strict=True)) or [()] * len(self.intercepts)
        # per kind: the intercept, then each n-gram's share added in turn
        return [sum(map(operator.mul, values, column), intercept)
                for intercept, column in zip(self.intercepts, columns, strict=True)]

    def guess(self, text: str) -> Guess:
        scores = self.scores(text)
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        best = scores.index(top)
        return Guess(self.kinds[best], exp[best] / sum(exp))


def model_of(data: dict) -> Model:
    return Model(kinds=tuple(ClaimKind(k) for k in data["kinds"]), intercepts=tuple(data["intercepts"]),
                 features={g: (f[0], tuple(f[1:])) for g, f in data["features"].items()})


@lru_cache(maxsize=1)
def model() -> Model:
    return model_of(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


# A claim says its case near the top: the longest mail of the corpus has some 1,600 characters. A newsletter or
# a long thread quoted whole is scored on its beginning, not n-gram by n-gram to its end.
MODEL_READS = 4000  # characters


def text_of(subject: str, sentences: list[str]) -> str:
    """What the model reads: the subject and the customer's own sentences, as training saw them."""
    return "\n".join([subject, *sentences])[:MODEL_READS]


def guess(subject: str, sentences: list[str]) -> Guess:
    return model().guess(text_of(subject, sentences))


def likeliest_sentence(kind: ClaimKind, candidates: list[str]) -> str:
    """The sentence that says the kind most: the one whose score for it stands highest over the others."""
    m = model()
    k = m.kinds.index(kind)

    def margin(sentence: str) -> float:
        scores = m.scores(sentence)
        return scores[k] - max(s for i, s in enumerate(scores) if i != k)

    return max(candidates, key=margin, default="")
