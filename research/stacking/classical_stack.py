"""A classical stacker for one-liners? The ensemble stage's own rule over classical members.

Issue 13 asks the best classical model for >= 0.85 on each source of the sentence set; NB-SVM
alone stays near 0.80 on Amazon and Yelp. VADER, a lexicon scorer with no IMDB training, is
near NB-SVM there (and far below it on IMDB). This script stacks classical members exactly as
the ensemble stage does (src/sentiment/ensemble.py): the members' out-of-sample *validation*
predictions (predictions/, the contract) are the stacker's training rows; C is chosen by CV log
loss on validation (`fit_stacker`, C grid from params.yaml ensemble); the features are the
stage's (`stack_features`). Each stacker then scores the sentence set's *selection* half
through the members' served models (the report half is not read), beside the IMDB validation
nested-CV accuracy. It measured the members of the classical_ensemble stage before it was
built (params.yaml classical_ensemble cites it); the stage now serves its chosen row.

    python scripts/classical_stack.py --out metrics/selection/classical_stack.md
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment import THRESHOLD
from sentiment.config import load_params
from sentiment.ensemble import fit_stacker, logit, member_features, stack_features
from sentiment.io import read_predictions, write_text
from sentiment.robustness import load_sentences, model_scorer, split_halves

SUBSETS = [["nbsvm"], ["nbsvm", "tfidf_lr"], ["nbsvm", "vader"], ["tfidf_lr", "vader"], ["nbsvm", "tfidf_lr", "vader"]]
FEATURES = ["logits", "logits_x_length"]


def stack_row(subset: list[str], feat: str, Z_val: dict, val: pd.DataFrame, Z_sel: dict, sel: pd.DataFrame,
              e) -> tuple[dict, dict[str, float]]:
    """Fit the stage's stacker on validation logits of `subset`; (its report, {source: accuracy}
    on the sentence rows `sel`)."""
    X = stack_features(np.column_stack([Z_val[m] for m in subset]), val.text.tolist(), feat)
    model, report, _, _ = fit_stacker(X, val.label.values, e.C, e.cv_folds, e.seed)
    Xs = stack_features(np.column_stack([Z_sel[m] for m in subset]), sel.text.tolist(), feat)
    right = (model.predict_proba(Xs)[:, 1] >= THRESHOLD) == sel.label.values.astype(bool)
    return report, {s: float(right[(sel.source == s).values].mean()) for s in sorted(sel.source.unique())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="markdown table (default: print only)")
    a = ap.parse_args()
    t0 = time.time()
    params = load_params()
    e, r = params.ensemble, params.robustness
    val = pd.read_parquet("data/prepared/val.parquet")
    sents = split_halves(load_sentences(r.data_dir), r.report_frac, r.seed)
    sel = sents[sents.half == "selection"].reset_index(drop=True)
    members = sorted({m for s in SUBSETS for m in s})
    preds = read_predictions("predictions", members)
    Z_val = dict(zip(members, member_features(preds, members, "val", val).T))
    Z_sel = {m: logit(model_scorer(m, params.pretrained_eval)(sel.text.tolist())) for m in members}
    sources = sorted(sel.source.unique())
    lines = ["# Classical stackers: IMDB validation and the sentence set's selection half", "",
             "`python scripts/classical_stack.py`: the ensemble stage's rule (fit on validation predictions, C by CV "
             f"log loss over {e.C}, {e.cv_folds} folds), classical members only; the sentence set's report half "
             "and the test split are not read.", "",
             "| members | features | C | IMDB val (nested CV) | " + " | ".join(sources) + " | worst source |",
             "|---|---|---|---|" + "---|" * (len(sources) + 1)]
    for subset in SUBSETS:
        for feat in FEATURES:
            report, acc = stack_row(subset, feat, Z_val, val, Z_sel, sel, e)
            acc = [acc[s] for s in sources]
            lines.append(f"| {', '.join(subset)} | {feat} | {report['C']:g} | {report['nested_cv_accuracy']:.4f} | "
                         + " | ".join(f"{x:.3f}" for x in acc) + f" | {min(acc):.3f} |")
    lines += ["", f"{time.time() - t0:.0f} s.", ""]
    if a.out:
        write_text("\n".join(lines), a.out)  # atomic
    print("\n".join(lines), end="")


if __name__ == "__main__":
    main()
