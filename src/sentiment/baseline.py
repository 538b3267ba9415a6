"""Classical baselines as sklearn Pipelines: normalisation lives inside the pipeline, so
text given at predict time gets exactly the treatment the training text got."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer, _document_frequency
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

# Keep apostrophes inside words (don't, isn't): negations matter for sentiment.
TOKEN_PATTERN = r"(?u)\b\w[\w']*\b"
_PUNCT = re.compile(r"[^\w\s']+")


def strip_punctuation(text: str) -> str:
    return _PUNCT.sub(" ", text.lower())


# --- vectorizers whose max_features cut does not depend on the CPU -----------------------


class _StableLimitMixin:
    """Deterministic pickles, and `max_features` keeps the first terms by (higher total count, then term, lexicographic).

    scikit-learn ranks with numpy's unstable argsort, whose order among equal counts depends
    on the SIMD path (AVX2 vs AVX-512), so the vocabulary (and the model) differed between
    CPUs. Written against scikit-learn 1.9.1's `CountVectorizer._limit_features`.
    """

    def __getstate__(self):
        # sklearn caches id(self.stop_words), a memory address, so the pickled model's bytes
        # differed between runs; without it the check simply runs again after loading.
        state = super().__getstate__()
        state.pop("_stop_words_id", None)
        return state

    def _limit_features(self, X, vocabulary, high=None, low=None, limit=None):
        if high is None and low is None and limit is None:
            return X, set()  # as sklearn (unreachable from fit_transform)
        dfs = _document_frequency(X)
        mask = np.ones(len(dfs), dtype=bool)
        if high is not None:
            mask &= dfs <= high
        if low is not None:
            mask &= dfs >= low
        if limit is not None and mask.sum() > limit:
            mask = self._stable_top(X, vocabulary, mask, limit)

        new_indices = np.cumsum(mask) - 1
        for term, old_index in list(vocabulary.items()):
            if mask[old_index]:
                vocabulary[term] = new_indices[old_index]
            else:
                del vocabulary[term]
        kept_indices = np.where(mask)[0]
        if len(kept_indices) == 0:
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        return X[:, kept_indices]

    @staticmethod
    def _stable_top(X, vocabulary, mask, limit):
        # int64 counts: exact whatever the dtype of X and the row order.
        tfs = np.asarray(X.sum(axis=0, dtype=np.int64)).ravel()
        cand = np.flatnonzero(mask)
        cut = np.sort(tfs[cand])[::-1][limit - 1]  # count of the last term kept
        keep = cand[tfs[cand] > cut]
        tied = cand[tfs[cand] == cut]
        need = limit - len(keep)
        if need < len(tied):
            # Compare the tied terms' strings, not their column positions: correct whatever
            # column order sklearn hands us (today: sorted by term, but that is its detail).
            tied_set = set(tied.tolist())
            names = sorted((t, i) for t, i in vocabulary.items() if i in tied_set)
            tied = np.array([i for _, i in names[:need]], dtype=cand.dtype)
        new_mask = np.zeros(len(mask), dtype=bool)
        new_mask[keep] = True
        new_mask[tied] = True
        return new_mask

    def restrict_min_df(self, X, min_df: int):
        """Make this vectoriser, fitted on some documents with a lower min_df (X: its
        fit_transform of them), what fitting it on them with `min_df` gives; returns X's kept
        columns. These are fit_transform's own last two steps (max_features None), on the same
        vocabulary dict, so the result pickles to the same bytes (a test checks)."""
        if self.max_features is not None or self.max_df != 1.0:
            raise ValueError("restrict_min_df needs max_features=None and max_df=1.0")
        X = self._limit_features(X, self.vocabulary_, low=min_df)
        X = self._sort_features(X, self.vocabulary_)
        self.min_df = min_df
        return X


class StableCountVectorizer(_StableLimitMixin, CountVectorizer):
    """CountVectorizer with a CPU-independent `max_features` cut (see _StableLimitMixin)."""


class StableTfidfVectorizer(_StableLimitMixin, TfidfVectorizer):
    """TfidfVectorizer with a CPU-independent `max_features` cut (see _StableLimitMixin)."""


# --- NB-SVM --------------------------------------------------------------------------------


class NBSVMClassifier(ClassifierMixin, BaseEstimator):
    """NB-SVM (Wang & Manning 2012, "Baselines and Bigrams"), logistic-regression variant.

    Features are scaled by the naive-Bayes log-count ratio r = log(p / |p|_1) - log(q / |q|_1),
    p = alpha + sum of binarised positive rows, q likewise for negative rows; a logistic
    regression is fitted on the scaled features. `tf` is what gets scaled: "binary" (Wang &
    Manning's 1{x > 0}) or "log" (log(1 + count), so a phrase repeated in a review weighs a
    little more; chosen on validation in the baseline stage, reports/selection/baseline.json).
    Default solver: liblinear's dual coordinate descent; on IMDB 1-3-grams (830k features >>
    22k reviews) it reaches the same optimum ~5x faster than lbfgs and ~10x faster than
    liblinear's primal. `dual` is ignored by other solvers.
    (ClassifierMixin comes first: scikit-learn's tags need mixins left of BaseEstimator.)
    """

    TF = ("binary", "log")

    def __init__(self, alpha=1.0, C=1.0, max_iter=1000, random_state=None, solver="liblinear", dual=True, tf="binary"):
        self.alpha = alpha
        self.tf = tf
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.solver = solver
        self.dual = dual

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = True
        return tags

    def _scale(self, X):
        if sp.issparse(X):
            X = sp.csr_array(X, dtype=self.r_.dtype, copy=True)
            X.data = np.where(X.data > 0, self._tf(X.data), 0).astype(X.dtype)
            X.eliminate_zeros()
            X.data *= self.r_[X.indices]  # = X @ diag(r) without building the diagonal
            return X
        X = np.asarray(X, dtype=self.r_.dtype)
        return np.where(X > 0, self._tf(X), 0) * self.r_

    def _tf(self, counts):
        return np.ones_like(counts) if self.tf == "binary" else np.log1p(np.maximum(counts, 0))

    def fit(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32])
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {y_type}.")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("NB-SVM needs samples of 2 classes; got 1 class")
        if self.alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if self.tf not in self.TF:
            raise ValueError(f"tf must be one of {self.TF}, got {self.tf!r}")
        self.r_ = self._log_count_ratio(X, y).astype(X.dtype)
        self.lr_ = LogisticRegression(
            C=self.C,
            solver=self.solver,
            max_iter=self.max_iter,
            dual=self.dual and self.solver == "liblinear",
            random_state=self.random_state,
        )
        self.lr_.fit(self._scale(X), y)
        self.n_iter_ = self.lr_.n_iter_
        return self

    def _log_count_ratio(self, X, y):
        """r from each class's summed `_ratio_counts` rows."""
        counts = self._ratio_counts(X)
        pos = self.alpha + np.asarray(counts[y == self.classes_[1]].sum(axis=0)).ravel()
        neg = self.alpha + np.asarray(counts[y == self.classes_[0]].sum(axis=0)).ravel()
        return np.log(pos / pos.sum()) - np.log(neg / neg.sum())

    def _ratio_counts(self, X):
        """What r counts: Wang & Manning's binarised counts (a subclass may count otherwise)."""
        return X > 0

    def _check(self, X):
        check_is_fitted(self, "r_")
        return self._scale(validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False))

    def decision_function(self, X):
        X = self._check(X)
        return self.lr_.decision_function(X)

    def predict_proba(self, X):
        X = self._check(X)
        return self.lr_.predict_proba(X)

    def predict_log_proba(self, X):
        X = self._check(X)
        return self.lr_.predict_log_proba(X)

    def predict(self, X):
        X = self._check(X)
        return self.lr_.predict(X)


# --- builders -------------------------------------------------------------------------------


def bow_rf(p, n_jobs: int, seed: int) -> Pipeline:
    """Bag of words (lowercased, no punctuation, English stopwords) + RandomForest."""
    return Pipeline(
        [
            (
                "bow",
                StableCountVectorizer(
                    preprocessor=strip_punctuation,
                    token_pattern=TOKEN_PATTERN,
                    stop_words="english",
                    max_features=p.max_features,
                    ngram_range=(1, p.ngram_max),
                ),
            ),
            (
                "rf",
                RandomForestClassifier(
                    n_estimators=p.n_estimators, min_samples_leaf=p.min_samples_leaf, n_jobs=n_jobs, random_state=seed
                ),
            ),
        ]
    )


def tfidf_lr(p, n_jobs: int, seed: int) -> Pipeline:
    """TF-IDF word n-grams with sublinear tf + L2 logistic regression.

    Stopwords are kept: bigrams like "not good" carry the sentiment.
    """
    return Pipeline(
        [
            (
                "tfidf",
                StableTfidfVectorizer(
                    lowercase=True,
                    token_pattern=TOKEN_PATTERN,
                    ngram_range=(1, p.ngram_max),
                    min_df=p.min_df,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
            ("lr", LogisticRegression(C=p.C, max_iter=1000, random_state=seed)),
        ]
    )


def nbsvm(p, n_jobs: int, seed: int) -> Pipeline:
    """Word n-gram counts + NB-SVM (NB log-count-ratio features, logistic regression)."""
    return Pipeline(
        [
            (
                "vec",
                StableCountVectorizer(
                    lowercase=True,
                    token_pattern=TOKEN_PATTERN,
                    ngram_range=(1, p.ngram_max),
                    min_df=p.min_df,
                    dtype=np.float32,
                ),
            ),
            ("nb", NBSVMClassifier(C=p.C, tf=p.tf, random_state=seed)),  # alpha 1: add-one smoothing
        ]
    )


BUILDERS = {"bow_rf": bow_rf, "tfidf_lr": tfidf_lr, "nbsvm": nbsvm}


def _fields(section) -> dict:
    # attributes, not model_dump(): a model_copy'd section may hold scalars in list fields
    names = type(section).model_fields if hasattr(type(section), "model_fields") else vars(section)
    return {k: getattr(section, k) for k in names}


def build(name: str, params, n_jobs: int = -1) -> Pipeline:
    """params: BaselineParams. A field given as a grid (list) is built with its first value.
    n_jobs: cores for RandomForest (-1: all); the fitted forest is the same for any value."""
    if name not in BUILDERS:
        raise ValueError(f"unknown baseline model {name!r}; known: {sorted(BUILDERS)}")
    first = {k: v[0] if isinstance(v, (list, tuple)) else v for k, v in _fields(getattr(params, name)).items()}
    return BUILDERS[name](SimpleNamespace(**first), n_jobs, params.seed)


# A worker pays for a copy of the model (bow_rf's forest: 2,478 validation reviews took 3.7 s in
# two workers, 0.5 s in one; AMX run of f98b0b6), so only batches this large per worker are split.
MIN_TEXTS_PER_WORKER = 5000


def predict_proba(model: Pipeline, texts, n_jobs: int = 1) -> np.ndarray:
    """P(positive) for each text. n_jobs > 1 (-1: all cores) splits the texts over worker
    processes: tokenising holds the GIL and is most of the cost; every row is scored alone,
    so the result is the same for any n_jobs."""
    texts = list(texts)
    jobs = min(effective_n_jobs(n_jobs), max(1, len(texts) // MIN_TEXTS_PER_WORKER))
    if jobs > 1:
        chunks = np.array_split(np.arange(len(texts)), jobs)
        parts = Parallel(n_jobs=jobs)(delayed(predict_proba)(model, [texts[i] for i in idx]) for idx in chunks)
        return np.concatenate(parts)
    classes = list(model.classes_)
    return model.predict_proba(texts)[:, classes.index(1)]
