"""The kind model: its n-grams and arithmetic are scikit-learn's, kinds.json is what the corpus trains, and it
names a kind only where it is sure (the corpus in tests/customers measures how well it reads)."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from conftest import write_config
from rma_mailbot import config as config_module
from rma_mailbot import extract, kinds
from rma_mailbot.models import ClaimKind, ClaimState
from rma_mailbot.review import judge

sys.path.insert(0, str(Path(__file__).parent / "customers"))
import train_kinds  # noqa: E402
from test_extract import facts  # noqa: E402
from test_policy import CUSTOMER, claim, day, order  # noqa: E402


@pytest.mark.parametrize("text", [
    "Hello  World,\tthe LM2596S arrived!",
    "已经到的两箱里东西全部拿出来",
    "a",
    "Grüße aus Graz: ça va, señor?",
    "",
])
def test_ngrams_are_scikit_learns_char_wb(text):
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=kinds.NGRAMS).build_analyzer()(text)
    assert sorted(kinds.ngrams(text)) == sorted(theirs)


@pytest.fixture(scope="module")
def trained():
    vectorizer, fitted, texts = train_kinds.fit()
    return vectorizer, fitted, texts


def test_the_scores_are_scikit_learns(trained):
    vectorizer, fitted, texts = trained
    ours = kinds.model_of(train_kinds.export(vectorizer, fitted, len(texts)))
    theirs = fitted.predict_proba(vectorizer.transform(texts[:200]))
    for text, probabilities in zip(texts[:200], theirs, strict=True):
        guess = ours.guess(text)
        best = probabilities.argmax()
        assert guess.kind == ClaimKind(fitted.classes_[best])
        assert guess.probability == pytest.approx(probabilities[best], abs=2e-3)


def test_kinds_json_is_what_the_corpus_trains(trained):
    vectorizer, fitted, texts = trained
    shipped = json.loads(kinds.MODEL_FILE.read_text(encoding="utf-8"))
    fresh = train_kinds.export(vectorizer, fitted, len(texts))
    hint = "the corpus changed: run python3 tests/customers/train_kinds.py"
    assert (shipped["trained_on"], shipped["kinds"]) == (fresh["trained_on"], fresh["kinds"]), hint
    assert shipped["features"].keys() == fresh["features"].keys(), hint
    model = kinds.model_of(shipped)
    assert [model.guess(t).kind for t in texts] == [kinds.model_of(fresh).guess(t).kind for t in texts], hint


# Mails that say no case: the bot asks which case applies; the model must not make one up.
@pytest.mark.parametrize("text", [
    "Hello, please help me with order SO104233.",
    "Hi, could you call me back about SO104233? Thanks.",
    "Guten Tag, bitte rufen Sie mich wegen SO104233 an.",
    "Bonjour, pouvez-vous m'envoyer la facture de la commande SO104233 ?",
    "您好，请问订单SO104233的发票什么时候开？",
])
def test_a_mail_that_names_no_case_keeps_no_kind(text):
    assert facts(text, "SO104233").kind is ClaimKind.UNKNOWN


# A plain sentence of one case: the phrases read it, and the model never overrules them below its threshold.
@pytest.mark.parametrize(("text", "kind"), [
    ("These STM32F103C8T6 are non-original parts.", ClaimKind.QUALITY),
    ("Die Teile sind nicht defekt, wir haben sie falsch bestellt.", ClaimKind.RETURN),
    ("The parcel never arrived.", ClaimKind.NON_RECEIPT),
    ("3 pcs of LM2596S are missing from the box.", ClaimKind.MISSING_ITEMS),
])
def test_a_plain_sentence_keeps_its_kind(text, kind):
    assert facts(text, "Order SO104233").kind is kind


def test_the_sentence_cited_is_the_one_that_says_the_kind():
    said = ["Good morning, hope you are well.", "Two of the regulators burn out after a minute.",
            "Our address is 12 Mill Road."]
    assert kinds.likeliest_sentence(ClaimKind.QUALITY, said) == said[1]


def test_the_model_is_sure_only_past_its_threshold():
    assert 0.5 < extract.MODEL_SURE < 1
    guess = kinds.guess("", ["x" * 50_000])  # one long hostile word: scored in one pass, a kind still told
    assert guess.kind in ClaimKind and 0 < guess.probability <= 1
    assert re.fullmatch(r"[a-z_]+", guess.kind.value)


@pytest.mark.parametrize(("kind", "by_model", "delivered", "on", "state", "routed_by"), [
    (ClaimKind.RETURN, False, True, 1, ClaimState.APPROVED, None),
    (ClaimKind.RETURN, True, True, 1, ClaimState.IN_REVIEW, "kind-by-model"),
    # Never delivered and long overdue by the order book: the refund is owed whatever the words meant.
    (ClaimKind.NON_RECEIPT, True, False, 30, ClaimState.APPROVED, None),
])
def test_an_rma_only_the_model_would_grant_goes_to_staff(tmp_path, kind, by_model, delivered, on, state, routed_by):
    config = config_module.load(write_config(tmp_path / "config.toml"))
    facts_ = dataclasses.replace(claim(kind), kind_by_model=by_model)
    order_ = order() if delivered else order(delivery_date=None)
    decision, rule = judge(facts_, order_, CUSTOMER, config, on=day(on), auth_failed=(), recent_claims=1)
    assert decision.state is state and (rule.name if rule else None) == routed_by
    assert decision.issue_rma is (state is ClaimState.APPROVED)


R, M, Q, U = ClaimKind.RETURN, ClaimKind.MISSING_ITEMS, ClaimKind.QUALITY, ClaimKind.UNKNOWN


# (id, kind the phrases read, kinds read anywhere, the model's guess, its probability, kind, sentence, by model)
COMBINED = [
    ("model_names_one", U, [], R, 0.95, R, "We send them back.", True),
    ("model_unsure", U, [], R, 0.7, U, "", False),
    ("model_agrees", R, [(R, "We send them back.")], R, 0.99, R, "We send them back.", False),
    ("model_picks_a_kind_read_later", M, [(M, "One is short."), (R, "We send them back.")], R, 0.9, R,
     "We send them back.", False),
    ("defect_stands", Q, [(Q, "They are fake.")], R, 0.99, Q, "They are fake.", False),
    ("model_reads_no_case", R, [(R, "We send them back.")], U, 0.9, U, "", False),
]


@pytest.mark.parametrize(("read", "somewhere", "guessed", "probability", "kind", "sentence", "by_model"),
                         [r[1:] for r in COMBINED], ids=[r[0] for r in COMBINED])
def test_the_model_and_the_phrases_combined(monkeypatch, read, somewhere, guessed, probability, kind, sentence,
                                            by_model):
    monkeypatch.setattr(kinds, "guess", lambda subject, said: kinds.Guess(guessed, probability))
    monkeypatch.setattr(kinds, "likeliest_sentence", lambda kind, candidates: "We send them back.")
    read_sentence = next((s for k, s in somewhere if k is read), "")
    assert extract._told_by_model((read, read_sentence), "", ["x"], ["x"], somewhere) == (kind, sentence, by_model)
