"""NB-SVM's sentence-crop augmentation (baseline.augment_crops x crop_max_sentences), bracketed.

For each crop setting, fits nbsvm at the grid point the baseline stage chose
(metrics/selection/baseline.json; or --point) on train + that many crops per review, and scores IMDB
validation and the sentence set's *selection* half per source (the report half and the test
split are not read). The augmentation rule of params.yaml: on where the sentence set gains
without costing more than 0.3 points of IMDB validation accuracy. Reads data/prepared
(`dvc repro prepare`); writes metrics/selection/nbsvm_crops.md.

    python scripts/nbsvm_crops.py
"""

import argparse
import json
import logging
import time

import numpy as np
import pandas as pd
import yaml

from sentiment import THRESHOLD
from sentiment.baseline import build, predict_proba
from sentiment.config import load_params
from sentiment.data import with_crops
from sentiment.metrics import compute_metrics
from sentiment.robustness import load_sentences, source_metrics, split_halves

SETTINGS = [(0.0, 2), (1.0, 1), (1.0, 2), (2.0, 1), (2.0, 2)]  # (crops per review, max sentences per crop)


def at_point(p, label: str):
    """BaselineParams p with the nbsvm grid narrowed to the one point `label` names (as
    metrics/selection/baseline.json labels points); the params schema validates the values."""
    values = {k: yaml.safe_load(v) for k, v in (kv.split("=", 1) for kv in label.split())}  # "1.0" -> 1.0
    section = type(p.nbsvm).model_validate({**p.nbsvm.model_dump(), **{k: [v] for k, v in values.items()}})
    return p.model_copy(update={"nbsvm": section})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="metrics/selection/nbsvm_crops.md", help="markdown table to write")
    ap.add_argument("--settings", nargs="+", default=[f"{n:g}x{k}" for n, k in SETTINGS],
                    help="crop settings as PERxMAX, e.g. 1x2")
    ap.add_argument("--point", default=None,
                    help="nbsvm grid point as metrics/selection/baseline.json labels it, e.g. "
                         "'min_df=3 ngram_max=3 tf=log C=1.0' (default: the stage's chosen point)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    params = load_params()
    p, r = params.baseline, params.robustness
    chosen = args.point or json.load(open("metrics/selection/baseline.json"))["nbsvm"]["chosen"]
    p = at_point(p, chosen)  # the nbsvm grid narrowed to that one point: build() fits it
    train, val = (pd.read_parquet(f"data/prepared/{s}.parquet") for s in ("train", "val"))
    sel = split_halves(load_sentences(r.data_dir), r.report_frac, r.seed)
    sel = sel[sel.half == "selection"]
    sources = sorted(sel.source.unique())
    rows = []
    for setting in args.settings:
        per, k = setting.split("x")
        start = time.time()
        fit_on = with_crops(train, float(per), int(k), p.seed)
        model = build("nbsvm", p).fit(fit_on.text.tolist(), fit_on.label.values)
        vp = predict_proba(model, val.text)
        acc = {"IMDB val": compute_metrics(val.label.values, (vp >= THRESHOLD).astype(int), vp)["accuracy"]}
        acc.update({s: m["accuracy"] for s, m in source_metrics(sel, predict_proba(model, sel.text)).items()})
        acc["sentences mean"] = float(np.mean([acc[s] for s in sources]))
        rows.append((setting, len(fit_on), acc, time.time() - start))
        logging.info("%s: %s", setting, {c: round(a, 4) for c, a in acc.items()})
    cols = ["IMDB val", *sources, "sentences mean"]
    command = (f" --point '{args.point}'" if args.point else "") + " --settings " + " ".join(args.settings)
    lines = ["# NB-SVM sentence crops: IMDB validation and the sentence set's selection half", "",
             f"nbsvm at {chosen} ({'--point' if args.point else 'the stage chose it'}), fit on train + crops (PER crops "
             f"per review of 1..MAX sentences); {len(val)} validation reviews, {len(sel) // len(sources)} selection-half "
             f"sentences per source (about ±2.7 points at 95%); test and report half not read. "
             f"`python scripts/nbsvm_crops.py{command}`.", "",
             "| crops (PERxMAX) | fit texts | " + " | ".join(cols) + " | seconds |",
             "|---|---|" + "---|" * len(cols) + "---|"]
    lines += [f"| {s} | {n} | " + " | ".join(f"{a[c]:.4f}" for c in cols) + f" | {t:.0f} |" for s, n, a, t in rows]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
