"""Classical baselines as sklearn Pipelines: normalisation lives inside the pipeline, so
text given at predict time gets exactly the treatment the training text got."""

from __future__ import annotations

import re

import numpy as np

from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

# Keep apostrophes inside words (don't, isn't): negations matter for sentiment.
TOKEN_PATTERN = r"(?u)\b\w[\w']*\b"
_PUNCT = re.compile(r"[^\w\s']+")


def strip_punctuation(text: str) -> str:
    return _PUNCT.sub(" ", text.lower())


def bow_rf(p, n_jobs: int, seed: int) -> Pipeline:
    """Bag of words (lowercased, no punctuation, English stopwords) + RandomForest."""
    return Pipeline([
        ("bow", CountVectorizer(preprocessor=strip_punctuation, token_pattern=TOKEN_PATTERN,
                                stop_words="english", max_features=p.max_features,
                                ngram_range=(1, p.ngram_max))),
        ("rf", RandomForestClassifier(n_estimators=p.n_estimators, min_samples_leaf=p.min_samples_leaf,
                                      n_jobs=n_jobs, random_state=seed)),
    ])


def tfidf_lr(p, n_jobs: int, seed: int) -> Pipeline:
    """TF-IDF word n-grams with sublinear tf + L2 logistic regression.

    Stopwords are kept: bigrams like "not good" carry the sentiment.
    """
    return Pipeline([
        ("tfidf", TfidfVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN, ngram_range=(1, p.ngram_max),
                                  min_df=p.min_df, max_features=p.max_features, sublinear_tf=True,
                                  dtype=np.float32)),
        ("lr", LogisticRegression(C=p.C, max_iter=1000, random_state=seed)),
    ])


BUILDERS = {"bow_rf": bow_rf, "tfidf_lr": tfidf_lr}


def build(name: str, params) -> Pipeline:
    """params: BaselineParams."""
    if name not in BUILDERS:
        raise ValueError(f"unknown baseline model {name!r}; known: {sorted(BUILDERS)}")
    return BUILDERS[name](getattr(params, name), params.n_jobs, params.seed)


def predict_proba(model: Pipeline, texts) -> np.ndarray:
    """P(positive) for each text."""
    classes = list(model.classes_)
    return model.predict_proba(list(texts))[:, classes.index(1)]
