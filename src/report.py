"""Stage evaluate: every model's predictions -> metrics per split, CIs, significance, plots, errors.

Validation metrics are for selection (the best model is the best on validation); test
metrics are the final word. (This file is not named evaluate.py: that would shadow the
Hugging Face `evaluate` package, which computes the metrics here.)
"""

import logging

from sentiment import run_stage, timed
from sentiment.config import load
from sentiment.report import EvaluateParams

READS = {"evaluate": EvaluateParams}  # the params.yaml keys this stage reads (= its dvc.yaml params; tested)

N_ERRORS = 20  # most confident mistakes listed in reports/errors.md (a report length: changes no metric)

log = logging.getLogger("evaluate")


def main() -> None:
    p = load(READS)["evaluate"]
    import pandas as pd

    from sentiment.io import read_dataset_info, read_predictions, write_json, write_stage_log, write_text
    from sentiment.report import (
        accuracy_metrics,
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
    labels = read_dataset_info("data/prepared")["labels"]  # names of label ids 0 and 1 in plots and tables
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
        write_json(model_metrics(tables, name, preds[name].attrs["meta"]), f"reports/models/{name}.json")
        write_json(confusion_rows(test[name], labels), f"plots/confusion/{name}.json")
    write_json(comparison_json(tables, best, pvalues), "reports/comparison.json")
    write_json(accuracy_metrics(tables), "metrics/accuracy.json")
    for kind, rows in curve_rows(test).items():
        write_json(rows, f"plots/curves/{kind}.json")
    stackers = {n: df.attrs["meta"] for n, df in preds.items() if "stacker" in df.attrs["meta"]}
    summary = summary_markdown(tables, best, pvalues, p.n_bootstrap, stackers)
    write_text("# Model comparison\n\n" + summary, "reports/summary.md")
    write_text(error_analysis(best, test[best], splits["test"], N_ERRORS, labels), "reports/errors.md")
    write_stage_log("evaluate", seconds)
    print(summary)


if __name__ == "__main__":
    run_stage(main)
