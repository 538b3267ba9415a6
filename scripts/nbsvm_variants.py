"""Two more NB-SVM levers from the literature, on IMDB validation in the stage's own setting.

* ratio = "count": r from raw n-gram counts (Mesnil et al. 2014's nbsvm.py counts every
  occurrence) instead of the stage's binarised counts (Wang & Manning 2012).
* nb_score: one more feature, the NB log-odds s = sum_i r_i * f(x_i) itself. Its single weight
  costs far less under L2 than moving every w_i, so the regression is pulled toward the NB
  solution: the closed-form cousin of Howard & Merity's "NBSVM++" (w_i + w_adj).

Fits on train + the stage's sentence crops (params.yaml baseline), at every point of the
stage's nbsvm grid, scores the 2,478 validation reviews; the test split is not read. Notes
whether liblinear converged (it reached max_iter otherwise). Reads data/prepared
(`dvc repro prepare`); writes metrics/selection/nbsvm_variants.md.

    python scripts/nbsvm_variants.py
"""

import argparse
import logging
import time
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sentiment.baseline import NBSVMClassifier, build, grid_points, point_label, search_space
from sentiment.config import load_params
from sentiment.data import with_crops

log = logging.getLogger("nbsvm_variants")


class NBSVMVariant(NBSVMClassifier):
    """NBSVMClassifier with the two levers above (defaults: the stage's estimator)."""

    def __init__(self, alpha=1.0, C=1.0, max_iter=1000, random_state=None, solver="liblinear", dual=True,
                 tf="binary", ratio="binary", nb_score=False):
        super().__init__(alpha=alpha, C=C, max_iter=max_iter, random_state=random_state, solver=solver,
                         dual=dual, tf=tf)
        self.ratio = ratio
        self.nb_score = nb_score

    def _scale(self, X):
        S = super()._scale(X)
        if self.nb_score:
            S = sp.hstack([S, sp.csr_array(np.asarray(S.sum(axis=1)).reshape(-1, 1))], format="csr")
        return S

    def fit(self, X, y):
        super().fit(X, y)
        if self.ratio == "count":  # refit with r from raw counts; everything else as the stage's
            X, y = sp.csr_array(X), np.asarray(y)
            pos = self.alpha + np.asarray(X[y == self.classes_[1]].sum(axis=0)).ravel()
            neg = self.alpha + np.asarray(X[y == self.classes_[0]].sum(axis=0)).ravel()
            self.r_ = (np.log(pos / pos.sum()) - np.log(neg / neg.sum())).astype(self.r_.dtype)
            self.lr_.fit(self._scale(X), y)
        return self


VARIANTS = {"stage (binary ratio)": {}, "count ratio": {"ratio": "count"}, "binary ratio + NB score": {"nb_score": True}}


def _score(clf, point, variant, Xtr, ytr, Xva, yva, df):
    keep = np.flatnonzero(df >= point["vec__min_df"])
    m = clone(clf).set_params(**{k.split("__", 1)[1]: v for k, v in point.items() if k.startswith("nb__")},
                              **VARIANTS[variant])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        m.fit(Xtr[:, keep], ytr)
    acc = float(np.mean((m.predict_proba(Xva[:, keep])[:, 1] >= 0.5) == yva))
    return {"variant": variant, "point": point, "val_accuracy": acc,
            "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="metrics/selection/nbsvm_variants.md", help="markdown table to write")
    ap.add_argument("--n_jobs", type=int, default=-1, help="worker processes for the fits")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    t0 = time.time()
    p = load_params().baseline
    train, val = (pd.read_parquet(f"data/prepared/{s}.parquet") for s in ("train", "val"))
    fit_on = with_crops(train, p.augment_crops, p.crop_max_sentences, p.seed)
    grid = search_space("nbsvm", p)
    stage = build("nbsvm", p)
    # one vectorisation at the grid's lowest min_df; higher min_df by column mask, as the stage does
    vec = clone(stage.named_steps["vec"]).set_params(min_df=min(grid["vec__min_df"]),
                                                     ngram_range=grid["vec__ngram_range"][0])
    assert len(grid["vec__ngram_range"]) == 1, "one n-gram range: the mask trick needs one vocabulary"
    Xtr, Xva = vec.fit_transform(fit_on.text.tolist()), vec.transform(val.text.tolist())
    df = np.diff(sp.csc_array(Xtr).indptr)
    clf = NBSVMVariant(**stage.named_steps["nb"].get_params())
    log.info("vectorised %d texts in %.0f s; %d fits", len(fit_on), time.time() - t0,
             len(VARIANTS) * len(grid_points(grid)))
    rows = Parallel(n_jobs=args.n_jobs)(delayed(_score)(clf, pt, v, Xtr, fit_on.label.values, Xva, val.label.values, df)
                                        for v in VARIANTS for pt in grid_points(grid))
    lines = ["# NB-SVM: NB-ratio variants x the stage's grid, IMDB validation accuracy", "",
             f"Fit on {len(fit_on)} texts (train + sentence crops, params.yaml baseline), scored on "
             f"{len(val)} validation reviews; test not read. `python scripts/nbsvm_variants.py` "
             f"({time.time() - t0:.0f} s).", "",
             "| variant | point | val accuracy | liblinear converged |", "|---|---|---|---|"]
    lines += [f"| {r['variant']} | {point_label('nbsvm', r['point'])} | {r['val_accuracy']:.4f} | "
              f"{'yes' if r['converged'] else 'no (max_iter)'} |" for r in rows]
    best = {v: max(r["val_accuracy"] for r in rows if r["variant"] == v) for v in VARIANTS}
    lines += ["", "Best point per variant: " + "; ".join(f"{v} {a:.4f}" for v, a in best.items()) + "."]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
