"""NB-SVM variants by k-fold cross-validation on the TRAINING split (test never read).

The baseline stage chooses on the 2,478-review validation split, where one point is 25 reviews:
too coarse to tell variants that differ by a few tenths. This script scores the stage's own
estimator (`sentiment.baseline.NBSVMClassifier`, min_df and n-grams as chosen) over k folds of
train (~7,400 scored reviews per fold) for the levers the literature uses:
  * tokens: words only (the project's TOKEN_PATTERN) or words + every punctuation mark
    (Mesnil et al. 2014 tokenise "!" and "?" as words);
  * tf: binary or log(1 + count); C;
  * beta: Wang & Manning's interpolation w' = (1 - beta) * mean|w| + beta * w (beta = 1: plain LR).
No crop augmentation (it costs every variant the same). Writes a markdown table:
    python scripts/nbsvm_cv.py --out metrics/selection/nbsvm_cv.md
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from sentiment.baseline import TOKEN_PATTERN, NBSVMClassifier, build  # noqa: E402
from sentiment.config import BaselineParams  # noqa: E402

PATTERNS = {"words": TOKEN_PATTERN, "words+punct": TOKEN_PATTERN + r"|[^\w\s]"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default="data/prepared/train.parquet")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--min_df", type=int, default=3)
    ap.add_argument("--ngram_max", type=int, default=3)
    ap.add_argument("--C", type=float, nargs="+", default=[0.3, 1.0, 3.0])
    ap.add_argument("--beta", type=float, nargs="+", default=[1.0, 0.5, 0.25])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="markdown table (default: print only)")
    a = ap.parse_args()
    tr = pd.read_parquet(a.train)
    acc: dict[tuple, list[float]] = {}
    stage = build("nbsvm", BaselineParams())  # the stage's own vectoriser and estimator, re-parametrised below
    t0 = time.time()
    folds = StratifiedKFold(a.folds, shuffle=True, random_state=a.seed).split(tr.text, tr.label)
    for k, (fit_idx, score_idx) in enumerate(folds):
        y_fit, y_score = tr.label.values[fit_idx], tr.label.values[score_idx]
        for name, pattern in PATTERNS.items():
            vec = clone(stage.named_steps["vec"]).set_params(token_pattern=pattern, ngram_range=(1, a.ngram_max),
                                                             min_df=a.min_df)
            X_fit, X_score = vec.fit_transform(tr.text.iloc[fit_idx]), vec.transform(tr.text.iloc[score_idx])
            for tf in NBSVMClassifier.TF:
                for C in a.C:
                    m = clone(stage.named_steps["nb"]).set_params(C=C, tf=tf).fit(X_fit, y_fit)
                    S, w, b = m._check(X_score), m.lr_.coef_.ravel(), m.lr_.intercept_[0]
                    for beta in a.beta:
                        pred = (S @ ((1 - beta) * np.abs(w).mean() + beta * w) + b > 0).astype(int)
                        acc.setdefault((name, tf, C, beta), []).append(float((pred == y_score).mean()))
        print(f"fold {k + 1}/{a.folds} done ({time.time() - t0:.0f} s)", flush=True)
    rows = sorted(acc.items(), key=lambda kv: -np.mean(kv[1]))
    lines = [f"# NB-SVM variants, {a.folds}-fold CV on train ({len(tr)} reviews; min_df {a.min_df}, "
             f"1-{a.ngram_max}-grams; `python scripts/nbsvm_cv.py`)", "",
             "| tokens | tf | C | beta | CV accuracy (mean) | per fold |", "|---|---|---|---|---|---|"]
    lines += [f"| {n} | {tf} | {C:g} | {beta:g} | {np.mean(v):.4f} | {' '.join(f'{x:.4f}' for x in v)} |"
              for (n, tf, C, beta), v in rows]
    lines += ["", f"Train folds only; the test split is not read. {time.time() - t0:.0f} s."]
    print("\n".join(lines))
    if a.out:
        a.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
