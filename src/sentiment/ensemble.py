"""A stacked ensemble: logistic regression on the members' logits, fit on validation only.

The members' validation predictions come from fits that never saw the validation split
(a baseline refit on train + val predicts only test), so they are honest inputs for a
second-level model (Wolpert 1992). The stacker's regularisation C is
chosen by cross-validation on validation; its reported validation score comes from nested
cross-validation (C re-chosen inside each outer fold), and its validation predictions are
out-of-fold, so nothing downstream sees a score the stacker was fit on. Test rows are only
ever transformed, never fitted.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict

from . import DataError
from .config import ENSEMBLES
from .io import split_rows
from .metrics import compute_metrics

EPS = 1e-6  # clip probabilities before the logit: a member that says exactly 0 or 1 stays finite

# Where the model behind a predictions file lives, by the stage folder it came from. The
# zero-shot scorers (stage folder "pretrained") are params-defined, not saved models: an
# ensemble carries such a member's settings in its ensemble.json instead of a path.
SERVABLE = {"baseline": "models/baseline/{name}.joblib", "finetune": "models/finetuned",
            **{e: f"models/{e}" for e in ENSEMBLES}}
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


def route_candidates(features: str, nested: np.ndarray, y: np.ndarray, val_texts: Sequence[str],
                     val_short_logit, short_words: Sequence[int], sel: pd.DataFrame | None = None,
                     sel_prob=None, sel_short_logit=None) -> list[dict]:
    """One candidate per short_words value for a fitted feature set: the accuracy of its nested-CV
    validation predictions and, given the sentence set's selection half `sel` (with the stacker's
    and the short-text member's answers there), its accuracy per source, each after the route.
    The route only replaces answers, so no value needs a refit."""
    from .robustness import source_metrics  # here, not at the top: robustness imports this module

    out = []
    for n in short_words:
        prob = route_short(nested, val_short_logit, val_texts, n)
        c = {"features": features, "short_words": int(n),
             "nested_cv_accuracy": _accuracy(prob, y)}
        if sel is not None:
            routed = route_short(sel_prob, sel_short_logit, sel.text, n)
            c["sentences_selection_accuracy"] = {src: m["accuracy"] for src, m in source_metrics(sel, routed).items()}
        out.append(c)
    return out


def choose_stacker(candidates: list[dict]) -> dict:
    """The candidate (feature set x short-text route) whose worst score is highest: IMDB validation
    (nested CV) and the accuracy on each source of the sentence set's selection half count alike,
    so a stacker that wins on long reviews by trusting a member that fails on one-liners loses.
    Ties: the earlier one in params order (features, then short_words)."""
    worst = [min([c["nested_cv_accuracy"], *c.get("sentences_selection_accuracy", {}).values()])
             for c in candidates]
    return candidates[int(np.argmax(worst))]  # argmax: the first of equal maxima


def member_features(preds: dict[str, pd.DataFrame], members: list[str], split: str,
                    reference: pd.DataFrame) -> np.ndarray:
    """(n_reviews, n_members) logits of one split, rows in `reference` order; a member whose
    predictions are missing, from another split or misaligned fails here, named."""
    cols = []
    for m in members:
        if m not in preds:
            raise DataError(f"ensemble.members: no predictions for member {m!r} (have {sorted(preds)})")
        try:
            df = split_rows(preds[m], split, reference, m)  # the contract's own coverage/order check
        except ValueError as e:
            raise DataError(f"ensemble member {m!r}: {e}") from None
        cols.append(logit(df.prob.values))
    return np.column_stack(cols)


def _accuracy(prob: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of P(positive) at the project's threshold, as the stage records it (6 decimals)."""
    from . import THRESHOLD

    return round(float(compute_metrics(np.asarray(y), (np.asarray(prob) >= THRESHOLD).astype(int), prob)["accuracy"]), 6)


def _folds(k: int, seed: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)


def fit_stacker(X: np.ndarray, y: np.ndarray, Cs: list[float], folds: int, seed: int):
    """Choose C by CV log loss on (X, y) = the validation split, refit on all of it.

    Log loss, not accuracy: CV accuracy is nearly flat in C (a few reviews apart), so it picked
    a grid edge by noise, while log loss is a smooth proper score (metrics/selection/ensemble.json
    keeps both per C). Returns (model, report, oof, nested): out-of-fold P(positive) of the chosen
    C, and nested-CV P(positive) (C re-chosen inside each outer fold: the whole procedure's honest
    predictions); report holds the CV log loss and accuracy per C, the chosen C and the accuracy of
    the nested-CV predictions.
    """
    search = GridSearchCV(LogisticRegression(max_iter=1000), {"C": list(Cs)}, cv=_folds(folds, seed),
                          scoring={"log_loss": "neg_log_loss", "accuracy": "accuracy"}, refit="log_loss")
    search.fit(X, y)  # ties in CV log loss go to the first C in the grid (GridSearchCV's rank order)
    nested = cross_val_predict(search, X, y, cv=_folds(folds, seed + 1), method="predict_proba")[:, 1]
    oof = cross_val_predict(search.best_estimator_, X, y, cv=_folds(folds, seed), method="predict_proba")[:, 1]
    res = search.cv_results_
    report = {"cv_log_loss_by_C": {str(c): round(float(-v), 6) for c, v in zip(res["param_C"], res["mean_test_log_loss"])},
              "cv_accuracy_by_C": {str(c): round(float(a), 6) for c, a in zip(res["param_C"], res["mean_test_accuracy"])},
              "C": float(search.best_params_["C"]), "cv_folds": folds,
              "nested_cv_accuracy": _accuracy(nested, y)}
    return search.best_estimator_, report, oof, nested


def stacker_spec(model: LogisticRegression, members: list[str], stages: dict[str, str],
                 features: str = "logits", short_words: int = 0, short_member: str | None = None,
                 scorers: dict[str, dict] | None = None) -> dict:
    """ensemble.json: what predict/serve need to rebuild P(positive) from the members. A member
    with no saved model (a zero-shot scorer) is stored by its settings: `scorers[name]`."""
    n = len(members)
    coef = model.coef_[0]
    out = []
    for i, name in enumerate(members):
        path = servable_path(name, stages[name])
        if path is None and name not in (scorers or {}):
            raise DataError(f"ensemble member {name!r} has no saved model and no scorer settings to serve it by")
        m = {"name": name, **({"path": path} if path else {"scorer": {"name": name, "settings": scorers[name]}}),
             "coef": float(coef[i])}
        if features == "logits_x_length":
            m["length_coef"] = float(coef[n + i])
        out.append(m)
    spec = {"kind": "stacked_logit", "features": features, "members": out, "intercept": float(model.intercept_[0])}
    if short_words > 0:  # short_member is a member: checked in params (config) and on load (EnsembleSpec)
        spec.update(short_words=int(short_words), short_member=short_member)
    return spec


def candidates_by_features(candidates: list[dict]) -> dict:
    """route_candidates' rows as {features: {short_words: scores}}: nested keys that
    `dvc metrics diff` flattens into one line per candidate and score."""
    out = {}
    for c in candidates:
        out.setdefault(c["features"], {})[str(c["short_words"])] = {
            k: v for k, v in c.items() if k not in ("features", "short_words")}
    return out
