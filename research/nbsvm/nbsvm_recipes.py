"""Whole NB-SVM recipes by k-fold cross-validation on the TRAINING split (test never read).

Mesnil et al. (2014, arXiv 1412.5335; code github.com/mesnilgr/nbsvm) report 0.9187 test accuracy
for NB-SVM with 1-3-grams. Their recipe differs from the baseline stage's in four places at
once: punctuation and apostrophes are tokens ("do n't", "!"), every n-gram seen once is a feature
(no min_df), the ratio r counts every occurrence, and the scaled features are binary, with C = 1.
The stage's choices were each made one lever at a time on the 2,478-review validation split
(one review = 0.04 points), so this script scores the recipes whole, over k folds of train
(~7,400 scored reviews a fold), with the same folds for every recipe, so that their paired
per-fold differences say whether any recipe would lift the stage's ~0.915 to the 0.918 anchor.
No crop augmentation (it would cost every recipe the same). Writes a markdown table:

    python scripts/nbsvm_recipes.py --out metrics/selection/nbsvm_recipes.md
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from nbsvm_variants import NBSVMVariant
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from sentiment.baseline import TOKEN_PATTERN, build
from sentiment.config import load_params
from sentiment.io import write_text

# Mesnil et al.'s tokeniser (their go.sh, sed): apostrophes and punctuation become tokens.
PUNCT_TOKENS = r"(?u)\w+|[^\w\s]"

# name -> (token pattern, min_df, tf, ratio, C); the first row is the stage's chosen point
# (params.yaml baseline.nbsvm, metrics/selection/baseline.json)
RECIPES = {
    "stage (words, min_df 3, log tf, binary r, C 0.3)": (TOKEN_PATTERN, 3, "log", "binary", 0.3),
    "stage, min_df 1": (TOKEN_PATTERN, 1, "log", "binary", 0.3),
    "stage, punctuation tokens": (PUNCT_TOKENS, 3, "log", "binary", 0.3),
    "stage, count r": (TOKEN_PATTERN, 3, "log", "count", 0.3),
    "Mesnil (punct tokens, min_df 1, binary tf, count r, C 1)": (PUNCT_TOKENS, 1, "binary", "count", 1.0),
    "Mesnil, C 0.3": (PUNCT_TOKENS, 1, "binary", "count", 0.3),
    "Mesnil, log tf, C 0.3": (PUNCT_TOKENS, 1, "log", "count", 0.3),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", default="data/prepared/train.parquet")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="markdown table (default: print only)")
    a = ap.parse_args()
    t0 = time.time()
    p = load_params().baseline
    tr = pd.read_parquet(a.train)
    stage = build("nbsvm", p)  # the stage's own vectoriser and estimator, re-parametrised below
    acc: dict[str, list[float]] = {name: [] for name in RECIPES}
    folds = StratifiedKFold(a.folds, shuffle=True, random_state=a.seed).split(tr.text, tr.label)
    for k, (fit_idx, score_idx) in enumerate(folds):
        y_fit, y_score = tr.label.values[fit_idx], tr.label.values[score_idx]
        cache: dict[tuple, tuple] = {}  # one vectorisation per (tokens, min_df) per fold
        for name, (pattern, min_df, tf, ratio, C) in RECIPES.items():
            if (pattern, min_df) not in cache:
                vec = clone(stage.named_steps["vec"]).set_params(token_pattern=pattern, min_df=min_df,
                                                                 ngram_range=(1, 3))
                cache[pattern, min_df] = (vec.fit_transform(tr.text.iloc[fit_idx]),
                                          vec.transform(tr.text.iloc[score_idx]))
            X_fit, X_score = cache[pattern, min_df]
            nb = NBSVMVariant(**{**stage.named_steps["nb"].get_params(), "tf": tf, "ratio": ratio, "C": C})
            acc[name].append(float((nb.fit(X_fit, y_fit).predict(X_score) == y_score).mean()))
            print(f"fold {k + 1}/{a.folds} {name}: {acc[name][-1]:.4f} "
                  f"({X_fit.shape[1]} features, {time.time() - t0:.0f} s)", flush=True)
    base = np.array(acc[next(iter(RECIPES))])
    lines = [f"# NB-SVM recipes, {a.folds}-fold CV on train ({len(tr)} reviews, 1-3-grams, no crops)", "",
             "`python scripts/nbsvm_recipes.py`; train folds only, the test split is not read. "
             "Difference: paired, per fold, against the stage's recipe (first row).", "",
             "| recipe | CV accuracy (mean) | per fold | difference to the stage (mean, per fold) |",
             "|---|---|---|---|"]
    for name, v in acc.items():
        d = np.array(v) - base
        lines.append(f"| {name} | {np.mean(v):.4f} | {' '.join(f'{x:.4f}' for x in v)} | "
                     f"{d.mean():+.4f} ({' '.join(f'{x:+.4f}' for x in d)}) |")
    text = "\n".join([*lines, "", f"{time.time() - t0:.0f} s.", ""])
    print(text, end="")
    if a.out:
        write_text(text, a.out)  # atomic: a crash leaves no half table


if __name__ == "__main__":
    main()
