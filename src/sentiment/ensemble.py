"""A stacked ensemble: logistic regression on the members' logits, fit on validation only.

The members' own fits never saw the validation split, so their validation predictions are
honest inputs for a second-level model (Wolpert 1992). The stacker's regularisation C is
chosen by cross-validation on validation; its reported validation score comes from nested
cross-validation (C re-chosen inside each outer fold), and its validation predictions are
out-of-fold, so nothing downstream sees a score the stacker was fit on. Test rows are only
ever transformed, never fitted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict, cross_val_score

from . import DataError
from .io import split_rows

EPS = 1e-6  # clip probabilities before the logit: a member that says exactly 0 or 1 stays finite

# Where the model behind a predictions file lives, by the stage folder it came from; the
# zero-shot scorers are params-defined, not saved models, so they cannot be served as members.
SERVABLE = {"baseline": "models/baseline/{name}.joblib", "finetune": "models/finetuned"}


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), EPS, 1 - EPS)
    return np.log(p / (1 - p))


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


def _folds(k: int, seed: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)


def fit_stacker(X: np.ndarray, y: np.ndarray, Cs: list[float], folds: int, seed: int):
    """Choose C by CV on (X, y) = the validation split, refit on all of it.

    Returns (model, report, out-of-fold P(positive)); report holds the CV accuracy per C, the
    chosen C and the nested-CV accuracy of the whole procedure.
    """
    search = GridSearchCV(LogisticRegression(max_iter=1000), {"C": list(Cs)}, cv=_folds(folds, seed),
                          scoring="accuracy")
    search.fit(X, y)  # ties in CV accuracy go to the first C in the grid (GridSearchCV's rank order)
    nested = cross_val_score(search, X, y, cv=_folds(folds, seed + 1), scoring="accuracy")
    oof = cross_val_predict(search.best_estimator_, X, y, cv=_folds(folds, seed), method="predict_proba")[:, 1]
    report = {"cv_accuracy_by_C": {str(c): round(float(a), 6) for c, a in
                                   zip(search.cv_results_["param_C"], search.cv_results_["mean_test_score"])},
              "C": float(search.best_params_["C"]), "cv_folds": folds,
              "nested_cv_accuracy": round(float(nested.mean()), 6)}
    return search.best_estimator_, report, oof


def stacker_spec(model: LogisticRegression, members: list[str], stages: dict[str, str]) -> dict:
    """ensemble.json: what predict/serve need to rebuild P(positive) from the members."""
    out = []
    for name, coef in zip(members, model.coef_[0]):
        pattern = SERVABLE.get(stages[name])
        out.append({"name": name, "path": pattern.format(name=name) if pattern else None, "coef": float(coef)})
    return {"kind": "stacked_logit", "members": out, "intercept": float(model.intercept_[0])}
