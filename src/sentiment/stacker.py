"""The stacker's forward pass and the model folders it points at: what serving needs of an
ensemble (numpy only). Fitting lives in sentiment.ensemble; both use these functions, so a
served ensemble computes exactly what the stage evaluated."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# The stacked models: each is a params.yaml section, a dvc.yaml stage (src/ensemble.py --section)
# and the name of its predictions and model folder. ensemble is the default model; the other has
# classical members only (the best classical model on one-liners).
ENSEMBLES = ("ensemble", "classical_ensemble")

EPS = 1e-6  # clip probabilities before the logit: a member that says exactly 0 or 1 stays finite

# Where the model behind a predictions file lives, by the stage folder it came from. The
# zero-shot scorers (stage folder "pretrained") are params-defined, not saved models: an
# ensemble carries such a member's settings in its ensemble.json instead of a path.
SERVABLE = {
    "baseline": "models/baseline/{name}.joblib",
    "finetune": "models/finetuned",
    **{e: f"models/{e}" for e in ENSEMBLES},
}
_STAGE_OF = {"finetuned": "finetune", **{e: e for e in ENSEMBLES}}


def servable_path(name: str, stage: str | None = None) -> str | None:
    """The saved model behind predictions `name` (what Predictor loads), None for a zero-shot
    scorer's stage; without `stage`, a name that is not finetuned or ensemble is a baseline's."""
    pattern = SERVABLE.get(stage or _STAGE_OF.get(name, "baseline"))
    return pattern.format(name=name) if pattern else None


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), EPS, 1 - EPS)
    return np.log(p / (1 - p))


# logits_x_length: each member's weight becomes coef + length_coef * (log(words) - log(170)), so
# the stacker can trust members differently on short texts. 170 words is IMDB's median review:
# there the weights are the plain coefficients.
LOG_WORDS_CENTER = math.log(170)


def word_counts(texts: Sequence[str]) -> np.ndarray:
    return np.array([len(t.split()) for t in texts], dtype="int64")


def length_feature(texts: Sequence[str]) -> np.ndarray:
    """log(word count) - log(170) of cleaned texts."""
    return np.log(np.maximum(word_counts(texts), 1)) - LOG_WORDS_CENTER


# The short-text route: the stacker is fit on IMDB validation reviews, 1% of which have under 40
# words, so on one-liners it extrapolates; there a single member (the one-liners' best, chosen on
# the sentence set's selection half) answers instead. One implementation for stage and Predictor.
def route_short(prob: np.ndarray, member_logit: np.ndarray, texts: Sequence[str], short_words: int) -> np.ndarray:
    """The stacker's P(positive), except for texts of at most `short_words` words (0: none), which
    take the short-text member's P = sigmoid(its clipped logit)."""
    prob = np.asarray(prob, dtype="float64")
    if short_words <= 0:
        return prob
    member_prob = 1 / (1 + np.exp(-np.asarray(member_logit, dtype="float64")))
    return np.where(routed(texts, short_words), member_prob, prob)


def routed(texts: Sequence[str], short_words: int) -> np.ndarray:
    """True for the texts that route_short hands to the short-text member."""
    return word_counts(texts) <= short_words if short_words > 0 else np.zeros(len(texts), dtype=bool)


def stack_features(Z: np.ndarray, texts: Sequence[str], features: str) -> np.ndarray:
    """The stacker's input from the members' logits Z (n, members) for feature set `features`."""
    if features == "logits":
        return Z
    if features == "logits_x_length":
        return np.column_stack([Z, Z * length_feature(texts)[:, None]])
    raise ValueError(f"unknown stacker features {features!r}")
