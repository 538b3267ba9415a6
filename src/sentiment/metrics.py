"""Every metric of every model, computed in one place.

Metrics are written as functions of per-row weights so that the point estimate
(all weights 1) and each bootstrap resample (multinomial weights) run the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from . import LABELS

# The Hugging Face `evaluate` interface to this module: evaluate.load(HF_METRIC_DIR).
HF_METRIC_DIR = Path(__file__).parent / "binary_sentiment"

METRICS = ["accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc", "mcc", "log_loss"]
_EPS = 1e-15  # log-loss clipping, as in the classic definition


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def _auc(y: np.ndarray, prob: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted ROC-AUC (ties count 1/2), w of shape (B, n)."""
    order = np.argsort(prob, kind="stable")
    p_sorted = prob[order]
    starts = np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1]])  # tie groups
    wp = np.add.reduceat(w[:, order] * y[order], starts, axis=1)  # positives per group
    wn = np.add.reduceat(w[:, order] * (1 - y[order]), starts, axis=1)  # negatives per group
    neg_below = np.cumsum(wn, axis=1) - wn
    return _div((wp * (neg_below + 0.5 * wn)).sum(1), wp.sum(1) * wn.sum(1))


def weighted_metrics(y, pred, prob, w) -> dict[str, np.ndarray]:
    """All METRICS for each row of the weight matrix w (B, n); positive class = 1."""
    y, pred, prob = (np.asarray(a, dtype="float64") for a in (y, pred, prob))
    w = np.atleast_2d(w).astype("float64")
    tp, fp = w @ (y * pred), w @ ((1 - y) * pred)
    fn, tn = w @ (y * (1 - pred)), w @ ((1 - y) * (1 - pred))
    n = tp + fp + fn + tn
    f1_pos = _div(2 * tp, 2 * tp + fp + fn)
    f1_neg = _div(2 * tn, 2 * tn + fn + fp)
    p = np.clip(prob, _EPS, 1 - _EPS)
    return {
        "accuracy": _div(tp + tn, n),
        "precision": _div(tp, tp + fp),
        "recall": _div(tp, tp + fn),
        "f1": f1_pos,
        "macro_f1": (f1_pos + f1_neg) / 2,
        "roc_auc": _auc(y, prob, w),
        "mcc": _div(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))),
        "log_loss": _div(-(w @ (y * np.log(p) + (1 - y) * np.log(1 - p))), n),
    }


def compute_metrics(y, pred, prob) -> dict[str, float]:
    m = weighted_metrics(y, pred, prob, np.ones(len(y)))
    return {k: float(v[0]) for k, v in m.items()}


def bootstrap_ci(
    y, pred, prob, n_boot: int, seed: int, level: float = 0.95, chunk: int = 100
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap confidence intervals of every metric."""
    if n_boot == 0:
        return {}
    rng = np.random.default_rng(seed)
    n = len(y)
    draws = {k: [] for k in METRICS}
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        # how often each row is drawn in a resample of n rows with replacement
        w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)])
        for k, v in weighted_metrics(y, pred, prob, w).items():
            draws[k].append(v)
    a = (1 - level) / 2
    return {
        k: (float(np.quantile(np.concatenate(v), a)), float(np.quantile(np.concatenate(v), 1 - a)))
        for k, v in draws.items()
    }


def mcnemar(y, pred_a, pred_b) -> dict:
    """Exact McNemar test: do two classifiers err on the same reviews equally often?"""
    y, pred_a, pred_b = (np.asarray(a) for a in (y, pred_a, pred_b))
    a_only = int(((pred_a == y) & (pred_b != y)).sum())  # a right, b wrong
    b_only = int(((pred_a != y) & (pred_b == y)).sum())
    n = a_only + b_only
    p = 1.0 if n == 0 else float(binomtest(min(a_only, b_only), n, 0.5).pvalue)
    return {"a_right_b_wrong": a_only, "b_right_a_wrong": b_only, "p_value": p}


def class_report(y, pred, labels: Sequence[str] = LABELS) -> pd.DataFrame:
    """Per-class precision/recall/F1/support (what sklearn's classification_report shows); rows
    named by `labels` (the names of label ids 0 and 1)."""
    y, pred = np.asarray(y), np.asarray(pred)
    rows = {}
    for c, name in enumerate(labels):
        m = compute_metrics(y == c, pred == c, (pred == c).astype(float))
        rows[name] = {"precision": m["precision"], "recall": m["recall"], "f1": m["f1"], "support": int((y == c).sum())}
    return pd.DataFrame(rows).T


def curves(y, prob) -> dict[str, pd.DataFrame]:
    """ROC and precision-recall curves, thinned to at most ~200 points for plotting."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(y, prob)
    prec, rec, _ = precision_recall_curve(y, prob)
    thin = lambda n: np.unique(np.linspace(0, n - 1, min(n, 200)).astype(int))
    i, j = thin(len(fpr)), thin(len(prec))
    return {
        "roc": pd.DataFrame({"fpr": fpr[i], "tpr": tpr[i]}),
        "pr": pd.DataFrame({"recall": rec[j], "precision": prec[j]}),
    }


@lru_cache(maxsize=1)
def hf_metric():
    """This module as an `evaluate.Metric` (loaded from the repo: works offline)."""
    import evaluate

    return evaluate.load(str(HF_METRIC_DIR), keep_in_memory=True)
