"""Which tokens NB-SVM sees: words only (the default TOKEN_PATTERN) or words plus punctuation
tokens (Mesnil et al. 2014 split `. " , ( ) ! ? ; :` off as tokens). Fits nbsvm on the train
split (with the stage's sentence crops) for each token pattern x grid point, scores IMDB
validation; writes metrics/selection/nbsvm_tokens.md. Reads data/prepared (run `dvc repro prepare`).

    python scripts/nbsvm_tokens.py
"""

import argparse
import logging

import pandas as pd

from sentiment.baseline import TOKEN_PATTERN, build, point_label, search_space, select_on_validation
from sentiment.config import load_params
from sentiment.data import with_crops

PATTERNS = {"words": TOKEN_PATTERN,
            "words + ! ?": TOKEN_PATTERN + r"|[!?]",
            "words + any punctuation": TOKEN_PATTERN + r"|[^\w\s]"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="metrics/selection/nbsvm_tokens.md", help="markdown table to write")
    ap.add_argument("--n_jobs", type=int, default=1, help="worker processes for the classifier fits")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    p = load_params().baseline
    train, val = (pd.read_parquet(f"data/prepared/{s}.parquet") for s in ("train", "val"))
    fit_on = with_crops(train, p.augment_crops, p.crop_max_sentences, p.seed)
    grid = {"vec__token_pattern": list(PATTERNS.values()), **search_space("nbsvm", p)}
    _, rows = select_on_validation(build("nbsvm", p), grid, fit_on.text.tolist(), fit_on.label.values,
                                   val.text.tolist(), val.label.values, n_jobs=args.n_jobs)
    names = {v: k for k, v in PATTERNS.items()}
    lines = ["# NB-SVM: token pattern x grid, IMDB validation accuracy", "",
             f"Fit on {len(fit_on)} texts (train + sentence crops, params.yaml baseline), scored on "
             f"{len(val)} validation reviews. `python scripts/nbsvm_tokens.py`.", "",
             "| tokens | point | val accuracy |", "|---|---|---|"]
    for r in rows:
        point = {k: r[k] for k in grid if k != "vec__token_pattern"}
        lines.append(f"| {names[r['vec__token_pattern']]} | {point_label('nbsvm', point)} | {r['val_accuracy']:.4f} |")
        logging.info(lines[-1])
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
