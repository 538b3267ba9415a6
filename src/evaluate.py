"""Stage evaluate: every predictions file -> metrics, CIs, significance, plots, error analysis."""

import logging

from sentiment import run_stage, timed
from sentiment.config import load_params

log = logging.getLogger("evaluate")


def main() -> None:
    p = load_params().evaluate  # validate before the heavy imports
    import pandas as pd

    from sentiment.io import read_predictions, write_json, write_text
    from sentiment.report import (align, compare, comparison_json, confusion_rows, curve_rows,
                                  error_analysis, model_metrics, summary_markdown)

    test = pd.read_parquet("data/prepared/test.parquet")
    preds = align(read_predictions("predictions"), test)
    log.info("models: %s", ", ".join(preds))
    with timed(f"metrics with {p.n_bootstrap} bootstrap resamples", log):
        table = compare(preds, p.n_bootstrap, p.seed)
    for name in preds:
        write_json(model_metrics(table, name), f"metrics/models/{name}.json")
        write_json(confusion_rows(preds[name]), f"plots/confusion/{name}.json")
    write_json(comparison_json(table), "metrics/comparison.json")
    for kind, rows in curve_rows(preds).items():
        write_json(rows, f"plots/curves/{kind}.json")
    summary = summary_markdown(table, p.n_bootstrap)
    write_text("# Test-set comparison\n\n" + summary, "metrics/summary.md")
    best = table.attrs["best"]
    write_text(error_analysis(best, preds[best], test, p.n_errors), "metrics/errors.md")
    print(summary)


if __name__ == "__main__":
    run_stage(main)
