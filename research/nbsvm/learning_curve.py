"""Validation accuracy of the classical models against the amount of training data.

Each model is fit at the grid point the baseline stage chose (metrics/selection/baseline.json)
on stratified fractions of the training split (with the stage's crop augmentation where it
applies) and scored on the validation split. If accuracy still rises at 100%, refitting on
train + validation (`baseline.refit_with_val`, 11% more reviews) should pay on test too.
    python scripts/learning_curve.py --out metrics/selection/learning_curve.md
"""

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from sentiment.baseline import AUGMENTED, GRID_KEYS, build  # noqa: E402
from sentiment.config import load_params  # noqa: E402
from sentiment.data import with_crops  # noqa: E402


def chosen_params(name: str, label: str) -> dict:
    """'min_df=3 ngram_max=3 C=0.1' (metrics/selection/baseline.json) -> pipeline params."""
    out = {}
    for item in label.split():
        key, _, value = item.partition("=")
        value = yaml.safe_load(value)
        out[GRID_KEYS[name][key]] = (1, value) if key == "ngram_max" else value
    return out


def curve(name: str, p, train: pd.DataFrame, val: pd.DataFrame, fractions, chosen: str) -> list[float]:
    accs = []
    for frac in fractions:
        sub = train if frac >= 1 else train_test_split(train, train_size=frac, stratify=train.label,
                                                      random_state=p.seed)[0]
        fit_on = with_crops(sub, p.augment_crops, p.crop_max_sentences, p.seed) if name in AUGMENTED else sub
        model = build(name, p).set_params(**chosen_params(name, chosen)).fit(fit_on.text.tolist(), fit_on.label.values)
        accs.append(float(np.mean(model.predict(val.text.tolist()) == val.label.values)))
        logging.info("%s: %.0f%% of train (%d reviews): val accuracy %.4f", name, 100 * frac, len(sub), accs[-1])
    return accs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["nbsvm", "tfidf_lr"], help="baseline models to fit")
    ap.add_argument("--fractions", nargs="+", type=float, default=[0.25, 0.5, 0.75, 1.0],
                    help="fractions of the training split")
    ap.add_argument("--data", default="data/prepared", help="the prepare stage's output directory")
    ap.add_argument("--selection", default="metrics/selection/baseline.json", help="the chosen grid points")
    ap.add_argument("--out", required=True, help="markdown file to write")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    p = load_params().baseline
    chosen = json.loads(Path(a.selection).read_text())
    train, val = (pd.read_parquet(f"{a.data}/{s}.parquet") for s in ("train", "val"))
    lines = ["# Classical models: validation accuracy against training-set size",
             "",
             f"(`python scripts/learning_curve.py`; each model at its chosen grid point, fit on stratified "
             f"fractions of the {len(train):,} training reviews, scored on the {len(val):,} validation reviews.)",
             "",
             "| model | chosen | " + " | ".join(f"{f:.0%} of train" for f in a.fractions) + " |",
             "|---|---|" + "---|" * len(a.fractions)]
    for name in a.models:
        accs = curve(name, p, train, val, a.fractions, chosen[name]["chosen"])
        lines.append(f"| {name} | {chosen[name]['chosen']} | " + " | ".join(f"{x:.4f}" for x in accs) + " |")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
