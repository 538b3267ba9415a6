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

from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict

from . import DataError
from .config import Grid, Section
from .io import split_rows
from .metrics import compute_metrics
from .sentences import source_metrics
from .stacker import logit, route_short, servable_path


class EnsembleParams(Section):
    """params.yaml `ensemble` and `classical_ensemble`: a stacker, its members and its grids."""

    members: list[str] = Field(
        min_length=1, description="models (predictions file names) whose logits the stacker combines"
    )
    C: list[Annotated[float, Field(gt=0)]] = Grid(description="inverse regularisation, chosen by CV log loss")
    features: list[Literal["logits", "logits_x_length"]] = Grid(
        description="stacker inputs to choose from: the members' logits, or also each logit times the text's "
        "log length; chosen on IMDB validation and the sentence set's selection half"
    )
    short_words: list[Annotated[int, Field(ge=0)]] = Grid(
        description="texts of at most this many words take short_member's P instead of the stacker's (0: "
        "never); chosen with features on IMDB validation and the sentence set's selection half"
    )
    short_member: str = Field(description="the member that answers short texts (one of members)")
    cv_folds: int = Field(ge=2, description="folds of the cross-validation on the validation split")
    seed: int

    @model_validator(mode="after")
    def _short_member(self):
        if any(self.short_words) and self.short_member not in self.members:
            raise ValueError(f"short_member: {self.short_member!r} is not one of members {self.members}")
        return self


def route_candidates(
    features: str,
    nested: np.ndarray,
    y: np.ndarray,
    val_texts: Sequence[str],
    val_short_logit,
    short_words: Sequence[int],
    sel: pd.DataFrame | None = None,
    sel_prob=None,
    sel_short_logit=None,
) -> list[dict]:
    """One candidate per short_words value for a fitted feature set: the accuracy of its nested-CV
    validation predictions and, given the sentence set's selection half `sel` (with the stacker's
    and the short-text member's answers there), its accuracy per source, each after the route.
    The route only replaces answers, so no value needs a refit."""

    out = []
    for n in short_words:
        prob = route_short(nested, val_short_logit, val_texts, n)
        c = {"features": features, "short_words": int(n), "nested_cv_accuracy": _accuracy(prob, y)}
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
    worst = [min([c["nested_cv_accuracy"], *c.get("sentences_selection_accuracy", {}).values()]) for c in candidates]
    return candidates[int(np.argmax(worst))]  # argmax: the first of equal maxima


def member_features(
    preds: dict[str, pd.DataFrame], members: list[str], split: str, reference: pd.DataFrame
) -> np.ndarray:
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

    return round(
        float(compute_metrics(np.asarray(y), (np.asarray(prob) >= THRESHOLD).astype(int), prob)["accuracy"]), 6
    )


def _folds(k: int, seed: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)


def fit_stacker(X: np.ndarray, y: np.ndarray, Cs: list[float], folds: int, seed: int):
    """Choose C by CV log loss on (X, y) = the validation split, refit on all of it.

    Log loss, not accuracy: CV accuracy is nearly flat in C (a few reviews apart), so it picked
    a grid edge by noise, while log loss is a smooth proper score (reports/selection/ensemble.json
    keeps both per C). Returns (model, report, oof, nested): out-of-fold P(positive) of the chosen
    C, and nested-CV P(positive) (C re-chosen inside each outer fold: the whole procedure's honest
    predictions); report holds the CV log loss and accuracy per C, the chosen C and the accuracy of
    the nested-CV predictions.
    """
    smallest, need = int(np.bincount(y, minlength=2).min()), -(-folds * folds // (folds - 1))
    if smallest < need:  # nested CV: an inner fold of an outer fold's training part must hold each class
        raise DataError(
            f"the validation split has {smallest} text(s) of its smaller class: too few for the stacker's nested "
            f"{folds}-fold cross-validation (it needs {need} per class); lower ensemble.cv_folds and "
            "classical_ensemble.cv_folds, or add validation data"
        )
    search = GridSearchCV(
        LogisticRegression(max_iter=1000),
        {"C": list(Cs)},
        cv=_folds(folds, seed),
        scoring={"log_loss": "neg_log_loss", "accuracy": "accuracy"},
        refit="log_loss",
    )
    search.fit(X, y)  # ties in CV log loss go to the first C in the grid (GridSearchCV's rank order)
    nested = cross_val_predict(search, X, y, cv=_folds(folds, seed + 1), method="predict_proba")[:, 1]
    oof = cross_val_predict(search.best_estimator_, X, y, cv=_folds(folds, seed), method="predict_proba")[:, 1]
    res = search.cv_results_
    report = {
        "cv_log_loss_by_C": {str(c): round(float(-v), 6) for c, v in zip(res["param_C"], res["mean_test_log_loss"])},
        "cv_accuracy_by_C": {str(c): round(float(a), 6) for c, a in zip(res["param_C"], res["mean_test_accuracy"])},
        "C": float(search.best_params_["C"]),
        "cv_folds": folds,
        "nested_cv_accuracy": _accuracy(nested, y),
    }
    return search.best_estimator_, report, oof, nested


def stacker_spec(
    model: LogisticRegression,
    members: list[str],
    stages: dict[str, str],
    features: str = "logits",
    short_words: int = 0,
    short_member: str | None = None,
    scorers: dict[str, dict] | None = None,
) -> dict:
    """ensemble.json: what predict/serve need to rebuild P(positive) from the members. A member
    with no saved model (a zero-shot scorer) is stored by its settings: `scorers[name]`."""
    n = len(members)
    coef = model.coef_[0]
    out = []
    for i, name in enumerate(members):
        path = servable_path(name, stages[name])
        if path is None and name not in (scorers or {}):
            raise DataError(f"ensemble member {name!r} has no saved model and no scorer settings to serve it by")
        m = {
            "name": name,
            **({"path": path} if path else {"scorer": {"name": name, "settings": scorers[name]}}),
            "coef": float(coef[i]),
        }
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
            k: v for k, v in c.items() if k not in ("features", "short_words")
        }
    return out
