"""Two more NB-SVM levers from the literature, on IMDB validation in the stage's own setting.

* ratio = "count": r from raw n-gram counts (Mesnil et al. 2014's nbsvm.py counts every
  occurrence) instead of the stage's binarised counts (Wang & Manning 2012).
* nb_score: one more feature, the NB log-odds s = sum_i r_i * f(x_i) itself. Its single weight
  costs far less under L2 than moving every w_i, so the regression is pulled toward the NB
  solution: the closed-form cousin of Howard & Merity's "NBSVM++" (w_i + w_adj).
* both together.

Fits on train + the stage's sentence crops (params.yaml baseline), at every point of the
stage's nbsvm grid, scores the 2,478 validation reviews; the test split is not read. Notes
whether liblinear converged (it reached max_iter otherwise). Reads data/prepared
(`dvc repro prepare`); writes metrics/selection/nbsvm_variants.md.

    python scripts/nbsvm_variants.py
"""

import argparse
import logging
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sentiment.baseline import NBSVMClassifier, build, point_label, search_space, select_on_validation
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

    def _ratio_counts(self, X):
        return sp.csr_array(X) if self.ratio == "count" else super()._ratio_counts(X)  # count: every occurrence

    def _scale(self, X):
        S = super()._scale(X)
        if self.nb_score:
            S = sp.hstack([S, sp.csr_array(np.asarray(S.sum(axis=1)).reshape(-1, 1))], format="csr")
        return S


# the variants as grid values of the two extra params; (binary, False) is the stage's estimator
VARIANTS = {("binary", False): "stage (binary ratio)", ("count", False): "count ratio",
            ("binary", True): "binary ratio + NB score", ("count", True): "count ratio + NB score"}


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
    stage = build("nbsvm", p)
    stage.steps[-1] = ("nb", NBSVMVariant(**stage.named_steps["nb"].get_params()))
    grid = {**search_space("nbsvm", p), "nb__ratio": ["binary", "count"], "nb__nb_score": [False, True]}
    # the stage's own search: one vectorisation, min_df by column mask, the fits in worker processes
    _, rows = select_on_validation(stage, grid, fit_on.text.tolist(), fit_on.label.values,
                                   val.text.tolist(), val.label.values, n_jobs=args.n_jobs)
    stage_keys = list(search_space("nbsvm", p))
    rows = sorted(rows, key=lambda r: list(VARIANTS).index((r["nb__ratio"], r["nb__nb_score"])))  # stable
    name = lambda r: VARIANTS[(r["nb__ratio"], r["nb__nb_score"])]  # noqa: E731
    lines = ["# NB-SVM: NB-ratio variants x the stage's grid, IMDB validation accuracy", "",
             f"Fit on {len(fit_on)} texts (train + sentence crops, params.yaml baseline), scored on "
             f"{len(val)} validation reviews; test not read. `python scripts/nbsvm_variants.py` "
             f"({time.time() - t0:.0f} s).", "",
             "| variant | point | val accuracy | liblinear converged |", "|---|---|---|---|"]
    lines += [f"| {name(r)} | {point_label('nbsvm', {k: r[k] for k in stage_keys})} | {r['val_accuracy']:.4f} | "
              f"{'yes' if r['converged'] else 'no (max_iter)'} |" for r in rows]
    best = {v: max(r["val_accuracy"] for r in rows if name(r) == v) for v in VARIANTS.values()}
    lines += ["", "Best point per variant: " + "; ".join(f"{v} {a:.4f}" for v, a in best.items()) + "."]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
