"""Stage evaluate: every model's predictions -> metrics per split, CIs, significance, plots, errors.

Validation metrics are for selection (the best model is the best on validation); test
metrics are the final word. (This file is not named evaluate.py: that would shadow the
Hugging Face `evaluate` package, which computes the metrics here.)
"""

import logging

from sentiment import run_stage, timed
from sentiment.config import load_params

log = logging.getLogger("evaluate")


def main() -> None:
    p = load_params().evaluate  # validate before the heavy imports
    import pandas as pd

    from sentiment.io import read_predictions, write_json, write_stage_log, write_text
    from sentiment.report import (
        align,
        best_on_val,
        comparison_json,
        confusion_rows,
        curve_rows,
        error_analysis,
        mcnemar_matrix,
        model_metrics,
        score,
        summary_markdown,
    )

    splits = {s: pd.read_parquet(f"data/prepared/{s}.parquet") for s in ("val", "test")}
    preds = read_predictions("predictions")
    log.info("models: %s", ", ".join(preds))
    seconds, tables, aligned = {}, {}, {}
    for split, ref in splits.items():
        aligned[split] = align(preds, split, ref)
        with timed(f"{split} metrics with {p.n_bootstrap} bootstrap resamples", log, seconds, split):
            tables[split] = score(aligned[split], p.n_bootstrap, p.seed)
    best = best_on_val(tables["val"])
    pvalues = mcnemar_matrix(aligned["test"])
    test = aligned["test"]
    for name in preds:
        write_json(model_metrics(tables, name, preds[name].attrs["meta"]), f"metrics/models/{name}.json")
        write_json(confusion_rows(test[name]), f"plots/confusion/{name}.json")
    write_json(comparison_json(tables, best, pvalues), "metrics/comparison.json")
    for kind, rows in curve_rows(test).items():
        write_json(rows, f"plots/curves/{kind}.json")
    stackers = {n: df.attrs["meta"] for n, df in preds.items() if "stacker" in df.attrs["meta"]}
    summary = summary_markdown(tables, best, pvalues, p.n_bootstrap, stackers)
    write_text("# Model comparison\n\n" + summary, "metrics/summary.md")
    write_text(error_analysis(best, test[best], splits["test"], p.n_errors), "metrics/errors.md")
    write_stage_log("evaluate", seconds)
    print(summary)


if __name__ == "__main__":
    run_stage(main)
