"""The baseline stage's model selection: every grid point of params.yaml fit on train and scored
on validation, the best refit; and the stage's params schema.

The estimators themselves (and everything needed to unpickle them at serving) are in
sentiment/baseline.py; this module is only what training runs.
"""

from __future__ import annotations

import itertools
import time
from contextlib import nullcontext
from typing import Annotated, Literal

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from pydantic import Field
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import Pipeline

from . import THRESHOLD
from .baseline import _StableLimitMixin, predict_proba
from .config import Grid, Section

Model = Literal["bow_rf", "tfidf_lr", "nbsvm"]


class BowRFParams(Section):
    """The classic bag-of-words + RandomForest reference (conventional settings, not tuned)."""

    max_features: int = Field(gt=0)
    ngram_max: int = Field(ge=1, le=3)
    n_estimators: int = Field(gt=0)
    min_samples_leaf: int = Field(ge=1)


class TfidfLRParams(Section):
    min_df: int = Field(ge=1)
    ngram_max: list[Annotated[int, Field(ge=1, le=3)]] = Grid()
    C: list[Annotated[float, Field(gt=0)]] = Grid()


class NBSVMParams(Section):
    min_df: list[Annotated[int, Field(ge=1)]] = Grid()
    ngram_max: list[Annotated[int, Field(ge=1, le=3)]] = Grid()
    tf: list[Literal["binary", "log"]] = Grid()
    C: list[Annotated[float, Field(gt=0)]] = Grid()


class BaselineParams(Section):
    """params.yaml `baseline`."""

    models: list[Model] = Field(min_length=1)
    bow_rf: BowRFParams
    tfidf_lr: TfidfLRParams
    nbsvm: NBSVMParams
    augment_crops: float = Field(
        ge=0, le=4, description="sentence-window crops added per training review of the crop_models (0: none)"
    )
    crop_max_sentences: int = Field(ge=1, le=10, description="a crop is 1..this many consecutive sentences")
    crop_models: list[Model] = Field(
        description="the models whose training data get the crops (bow_rf stays the classic reference)"
    )
    refit_with_val: bool = Field(
        description="after selection, refit on train + validation for the saved model and its test predictions "
        "(validation predictions stay out-of-sample)"
    )
    seed: int


def fit_predict(
    model: Pipeline, fit_on, val, test, refit_on=None, step=lambda what: nullcontext(), val_prob=None, n_jobs: int = 1
):
    """Fit on `fit_on` and predict P(positive) for `val`; then, with `refit_on` (train + val),
    refit before predicting `test`. Returns (val_prob, test_prob); `model` ends as the last fit.
    Predictions run in `n_jobs` processes (`predict_proba`).

    Validation probabilities always come from a model that never saw those reviews: the
    ensemble is fit on them and evaluate reports them. `val_prob`, if given, are those of this
    very train-only fit already (the selection's best point: `select_on_validation`), so with a
    refit the train-only fit is not repeated. The frames need text and label columns;
    step(what) wraps each step (the stage times them).
    """
    if val_prob is None or refit_on is None:
        with step("fit"):
            model.fit(fit_on.text.tolist(), fit_on.label.values)
    if val_prob is None:
        with step("predict_val"):
            val_prob = predict_proba(model, val.text, n_jobs)
    if refit_on is not None:
        with step("refit"):
            model.fit(refit_on.text.tolist(), refit_on.label.values)
    with step("predict_test"):
        test_prob = predict_proba(model, test.text, n_jobs)
    return val_prob, test_prob


# --- model selection on the validation split ------------------------------------------------


def grid_points(grid: dict[str, list]) -> list[dict]:
    """The grid's points in its own order: keys as given, the last key varying fastest
    (put the vectorizer's keys first so consecutive points share one vectorisation)."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def _maskable_min_df(vectorizer, values) -> bool:
    """True if min_df=k can be had by dropping the columns of a min_df=min(values) matrix whose
    document frequency is below k: a count vectoriser (no tf-idf row norm to change), integer
    min_df, no max_features cut (which comes after min_df) and no max_df."""
    return (
        isinstance(vectorizer, CountVectorizer)
        and not isinstance(vectorizer, TfidfVectorizer)
        and vectorizer.max_features is None
        and vectorizer.max_df == 1.0
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
    )


def _fit_point(clf, clf_name: str, point: dict, Xtr, train_y, Xva, val_y, df, min_df_key) -> dict:
    """Fit one grid point's classifier on prepared train features, score it on val (a worker)."""
    start = time.perf_counter()
    if df is not None:  # min_df by column mask (see _maskable_min_df)
        keep = np.flatnonzero(df >= point[min_df_key])
        Xtr, Xva = Xtr[:, keep], Xva[:, keep]
    model = clone(clf).set_params(**{k.split("__", 1)[1]: v for k, v in point.items() if k.startswith(clf_name + "__")})
    model.fit(Xtr, train_y)
    prob = model.predict_proba(Xva)[:, list(model.classes_).index(1)]
    acc = float(np.mean((prob >= THRESHOLD) == val_y))  # the project's decision rule, from the same pass
    # an iterative solver that stopped at max_iter (liblinear warns then) did not converge
    n_iter, max_iter = getattr(model, "n_iter_", None), model.get_params().get("max_iter")
    converged = None if n_iter is None or max_iter is None else bool(np.max(n_iter) < max_iter)
    return {
        **point,
        "val_accuracy": acc,
        "fit_s": time.perf_counter() - start,
        "val_prob": prob,
        "converged": converged,
    }


def select_on_validation(
    pipeline: Pipeline, grid: dict[str, list], train_texts, train_y, val_texts, val_y, n_jobs: int = 1
) -> tuple[dict, list[dict]]:
    """Fit `pipeline` for every grid point on the train split only, score accuracy on val.

    pipeline: feature steps, then a classifier. grid: {"step__param": [values, ...]}.
    Returns (best params, one row per grid point: its params, "val_accuracy", "fit_s",
    "val_prob" (P(positive) per validation review) and "converged" (False: the solver stopped at
    max_iter; None: not iterative), in grid_points order). A tie in val accuracy
    goes to the earliest grid point, so list the simpler/cheaper values first. No model is kept:
    the caller refits the best params (its val_prob are those of that fit: `fit_predict`), or
    calls `select_and_refit`.

    Vectorising dominates the cost, so the feature steps are fitted once per setting of their
    own params and every classifier setting reuses the matrices; a count vectoriser's min_df
    grid costs one vectorisation in all (`_maskable_min_df`), with the very same matrices.
    The classifier fits of one vectorisation run in `n_jobs` worker processes (-1: all cores).
    Processes, not threads: liblinear draws from one process-wide random generator, so threads
    would make the fits depend on scheduling; each process seeds its own, so the rows are the
    same for any n_jobs (a test checks).
    """
    best, rows, _ = _search(pipeline, grid, train_texts, train_y, val_texts, val_y, None, n_jobs)
    return best, rows


def select_and_refit(
    pipeline: Pipeline,
    grid: dict[str, list],
    train_texts,
    train_y,
    val_texts,
    val_y,
    extra_texts=(),
    extra_y=(),
    n_jobs: int = 1,
    step=lambda what: nullcontext(),
) -> tuple[dict, list[dict], Pipeline]:
    """`select_on_validation`, then the best point refit on train + val + extra, in that order
    (the stage's refit_with_val; extra: e.g. the validation reviews' crops). Returns (best, rows,
    the refit pipeline): the very model `clone(pipeline).set_params(**best).fit(...)` on those
    texts gives (a test compares pickles). step(what) wraps "select" and "refit" (timing).

    Where min_df is a column mask (`_maskable_min_df`) the search vectorises train, val and
    extra at once: each grid point still sees only the columns of terms in >= min_df train
    texts, which are exactly the train-only vectoriser's columns, so every row is unchanged; the
    refit then needs no second vectorisation (the nbsvm default: 41 s of its 148 s).
    """
    train_texts, val_texts, extra_texts = list(train_texts), list(val_texts), list(extra_texts)
    with step("select"):
        best, rows, shared = _search(pipeline, grid, train_texts, train_y, val_texts, val_y, extra_texts, n_jobs)
    all_y = np.concatenate(
        [np.asarray(train_y), np.asarray(val_y), np.asarray(extra_y, dtype=np.asarray(train_y).dtype)]
    )
    with step("refit"):
        model = clone(pipeline).set_params(**best)
        if shared is None:
            return best, rows, model.fit(train_texts + val_texts + extra_texts, all_y)
        (vec_name, vec), (_, clf) = shared["vectorizer"], model.steps[-1]
        X = vec.restrict_min_df(shared["X"], best[f"{vec_name}__min_df"])
        model.steps[0] = (vec_name, vec)  # as Pipeline.fit leaves its fitted steps
        clf.fit(X, all_y)
    return best, rows, model


def _search(pipeline, grid, train_texts, train_y, val_texts, val_y, extra_texts, n_jobs):
    """select_on_validation's search. With extra_texts (not None) and a maskable min_df grid, also
    returns the best point's vectoriser fitted on train + val + extra and that matrix, else None."""
    points = grid_points(grid)
    if not points:
        raise ValueError("empty grid")
    train_texts, val_texts, train_y, val_y = list(train_texts), list(val_texts), np.asarray(train_y), np.asarray(val_y)
    clf_name, clf = pipeline.steps[-1]
    features = Pipeline(clone(pipeline).steps[:-1])
    vec_name, vec = features.steps[0]
    feat_keys = [k for k in grid if not k.startswith(clf_name + "__")]
    min_df_key = f"{vec_name}__min_df"
    masked = len(features.steps) == 1 and min_df_key in grid and _maskable_min_df(vec, grid[min_df_key])
    shared_fit = masked and extra_texts is not None and isinstance(vec, _StableLimitMixin)
    shared = [k for k in feat_keys if not (masked and k == min_df_key)]
    n_train, n_val = len(train_texts), len(val_texts)

    # grid_points varies the classifier keys fastest: consecutive points share one vectorisation
    rows, kept, best_acc = [], None, -1.0
    for key, group in itertools.groupby(points, key=lambda pt: tuple((k, pt[k]) for k in shared)):
        group = list(group)
        f = clone(features).set_params(**dict(key))
        if masked:
            f.set_params(**{min_df_key: min(grid[min_df_key])})
        start = time.perf_counter()
        if shared_fit:  # one vectorisation of everything; the train rows' document counts mask it
            X = f.fit_transform(train_texts + val_texts + list(extra_texts))
            # transform() sorts each row's columns, fit_transform() does not: sorted, as the
            # train-only path has it, so the dot products add up in the same order (same bits)
            Xtr, Xva = X[:n_train], X[n_train : n_train + n_val].sorted_indices()
        else:
            Xtr = f.fit_transform(train_texts, train_y)
            Xva = f.transform(val_texts)
        df = np.diff(sp.csc_array(Xtr).indptr) if masked else None  # train documents per term
        vec_s = time.perf_counter() - start
        jobs = min(len(group), effective_n_jobs(n_jobs))
        fitted = Parallel(n_jobs=jobs)(
            delayed(_fit_point)(clf, clf_name, pt, Xtr, train_y, Xva, val_y, df, min_df_key) for pt in group
        )
        for row in fitted:
            row["fit_s"] += vec_s / len(group)  # the shared vectorisation, spread over its points
        rows += fitted
        group_best = max(r["val_accuracy"] for r in fitted)
        if shared_fit and group_best > best_acc:  # strictly: ties go to the earlier point
            kept = {"vectorizer": f.steps[0], "X": X}
        best_acc = max(best_acc, group_best)
    best = int(np.argmax([r["val_accuracy"] for r in rows]))  # the first maximum: ties go to the earlier point
    return dict(points[best]), rows, kept


# --- params.yaml grids -> pipeline params ----------------------------------------------------

# Params that are lists in params.yaml are grids; each sets this pipeline parameter.
GRID_KEYS = {
    "tfidf_lr": {"ngram_max": "tfidf__ngram_range", "C": "lr__C"},
    "nbsvm": {"min_df": "vec__min_df", "ngram_max": "vec__ngram_range", "tf": "nb__tf", "C": "nb__C"},
}


def search_space(name: str, params) -> dict[str, list]:
    """The validation grid of model `name` from its params section (vectoriser keys first)."""
    spec = getattr(params, name)
    return {
        step: [(1, v) for v in getattr(spec, key)] if key == "ngram_max" else list(getattr(spec, key))
        for key, step in GRID_KEYS.get(name, {}).items()
    }


def point_label(name: str, point: dict) -> str:
    """A grid point in params.yaml's terms, e.g. 'ngram_max=3 C=0.3' (a key for the metrics file)."""
    by_step = {step: key for key, step in GRID_KEYS.get(name, {}).items()}
    return " ".join(f"{by_step[s]}={v[1] if by_step[s] == 'ngram_max' else v}" for s, v in point.items())
