"""Negation contrast pairs for fine-tuning (augment_negations)."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from .crops import MIN_CROP_WORDS, sentences

log = logging.getLogger(__name__)

# Negation contrast pairs (issue #13): IMDB reviews almost never say "not bad" in a sentence of
# their own, so every trained model read "X is not terrible" as negative. A pair is a real
# training sentence whose one sentiment word is a copula's adjective agreeing with its review's
# label ("The acting was terrible.", label 0), and the same sentence negated ("The acting was
# not terrible.", label 1). The pair differs in the negation alone, so only the negation can
# explain the flipped label.
_COPULA = re.compile(
    r"\b(is|was|are|were)\s+((?:very|really|so|quite|pretty|truly|rather|too|extremely)\s+)?"
    r"([A-Za-z]+)\b",
    re.I,
)
NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|none|nobody|nowhere|hardly|barely|neither|nor|without|cannot)\b"
    r"|n't\b",
    re.I,
)
_CONTRACTED = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't"}
NEGATION_MIN_VALENCE = 1.5  # |VADER valence| of the adjective: "terrible" -2.1, "good" 1.9, "fine" 0.8 (too weak)
NEGATION_MAX_WORDS = 25


def vader_lexicon() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer().lexicon


def negatable(sentence: str, label: int, lexicon: dict[str, float]) -> re.Match | None:
    """The copula match to negate in `sentence`, or None when the sentence is no clean case:
    MIN_CROP_WORDS..NEGATION_MAX_WORDS words, no negation already, one copula, and exactly one
    lexicon word, the copula's adjective, at least NEGATION_MIN_VALENCE strong and agreeing
    with `label`."""
    if not MIN_CROP_WORDS <= len(sentence.split()) <= NEGATION_MAX_WORDS or NEGATION.search(sentence):
        return None
    words = [w for w in re.findall(r"[a-z']+", sentence.lower()) if w in lexicon]
    copulas = list(_COPULA.finditer(sentence))
    if len(words) != 1 or len(copulas) != 1:
        return None
    v = lexicon.get(copulas[0].group(3).lower())
    if v is None or abs(v) < NEGATION_MIN_VALENCE or (v > 0) != (label == 1):
        return None
    return copulas[0]


def negate(sentence: str, m: re.Match, contracted: bool) -> str:
    """'The plot was (really) dull.' -> 'The plot was not (really) dull.' or '... wasn't ...'."""
    cop = m.group(1)
    neg = _CONTRACTED[cop.lower()] if contracted else f"{cop} not"
    if contracted and cop[0].isupper():
        neg = neg[0].upper() + neg[1:]
    return sentence[: m.start(1)] + neg + sentence[m.end(1) :]


def negation_pairs(
    df: pd.DataFrame, per_review: float, seed: int, lexicon: dict[str, float] | None = None
) -> pd.DataFrame:
    """Up to round(per_review * len(df)) contrast pairs, at most one per review, from reviews
    drawn in a seeded order (fewer when not enough reviews have a `negatable` sentence).
    Each pair is two rows: the sentence with its review's label, and `negate`d (half of them
    contracted, "wasn't") with the other label. uids '<review uid>#neg<j>' and '...#neg<j>not'.
    """
    n = int(round(per_review * len(df)))
    cols = {"uid": pd.Series(dtype=str), "label": pd.Series(dtype="int8"), "text": pd.Series(dtype=str)}
    if n == 0 or df.empty:
        return pd.DataFrame(cols)
    lexicon = vader_lexicon() if lexicon is None else lexicon
    rng = np.random.default_rng(seed)
    uids, labels, texts = [], [], []
    for i in rng.permutation(len(df)):
        if len(uids) >= 2 * n:
            break
        y = int(df.label.iat[i])
        found = [(s, m) for s in sentences(df.text.iat[i]) if (m := negatable(s, y, lexicon))]
        if not found:
            continue
        s, m = found[int(rng.integers(len(found)))]
        j = len(uids) // 2
        uids += [f"{df.uid.iat[i]}#neg{j}", f"{df.uid.iat[i]}#neg{j}not"]
        labels += [y, 1 - y]
        texts += [s, negate(s, m, contracted=bool(rng.integers(2)))]
    out = pd.DataFrame({"uid": uids, "label": np.array(labels, dtype="int8"), "text": texts})
    log.info("augmenting %d reviews with %d negation pairs (asked for %d)", len(df), len(out) // 2, n)
    return out
