"""Train the kind model (rma_mailbot/kinds.json) on the customer corpus: `python3 tests/customers/train_kinds.py`.

Run it after adding mails to the corpus. The texts are what the bot reads of each mail (subject and the
customer's own sentences, parsed as the bot parses them); the labels are the kinds the policy demands.
scikit-learn fits the model; the bot scores it without scikit-learn (rma_mailbot.kinds).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parents[1])]

import corpus  # noqa: E402

from rma_mailbot import kinds  # noqa: E402
from rma_mailbot.extract import sentences  # noqa: E402

C = 30  # weak regularisation: the corpus is small and clean; chosen by 5-fold cross-validation
DECIMALS = 4


def training_set() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with tempfile.TemporaryDirectory(prefix="rma-kinds-") as work:
        judge = corpus.Judge(Path(work))
        try:
            for case in corpus.cases():
                [parsed] = list(judge.parser.parse_all([corpus.raw_mail(case)]))
                texts.append(kinds.text_of(parsed.subject, sentences(parsed.text)))
                labels.append(case.expect_kind)
        finally:
            judge.close()
    return texts, labels


def fit():
    """The vectorizer and the model, fitted on the corpus."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = training_set()
    vectorizer = TfidfVectorizer(analyzer=kinds.ngrams, min_df=2, sublinear_tf=True)
    fitted = LogisticRegression(C=C, max_iter=5000).fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, fitted, texts


def export(vectorizer, fitted, trained_on: int) -> dict:
    """The model as kinds.json holds it: per n-gram its idf and one weight per kind."""
    features = {}
    for gram, column in sorted(vectorizer.vocabulary_.items()):
        weights = [round(float(w), DECIMALS) for w in fitted.coef_[:, column]]
        if any(weights):
            features[gram] = [round(float(vectorizer.idf_[column]), DECIMALS), *weights]
    return {"kinds": [str(k) for k in fitted.classes_],
            "intercepts": [round(float(b), DECIMALS) for b in fitted.intercept_],
            "trained_on": trained_on, "features": features}


def train() -> dict:
    vectorizer, fitted, texts = fit()
    return export(vectorizer, fitted, len(texts))


def main() -> None:
    model = train()
    kinds.MODEL_FILE.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
                                encoding="utf-8")
    print(f"{len(model['features'])} n-grams, trained on {model['trained_on']} mails: {kinds.MODEL_FILE}")


if __name__ == "__main__":
    main()
