"""Stage prepare: labelled texts (IMDB by default, your files, or a hub dataset) -> cleaned
train/val/test parquet, the dataset's name and label names, and the data report."""

import logging

from sentiment import run_stage, timed
from sentiment.config import load
from sentiment.dataset import PrepareParams

READS = {"prepare": PrepareParams}  # the params.yaml keys this stage reads (= its dvc.yaml params; tested)
OUT_DIR = "data/prepared"

log = logging.getLogger("prepare")


def main() -> None:
    p = load(READS)["prepare"]
    from sentiment.dataset import data_metrics, prepare, read_source
    from sentiment.io import write_json, write_parquet, write_stage_log

    seconds = {}
    with timed(
        f"loading the data ({p.source}: {p.data_dir if p.source != 'hub' else p.hub_dataset})", log, seconds, "load"
    ):
        raw, inputs = read_source(p)
    with timed("cleaning and splitting", log, seconds, "clean_split"):
        splits, report = prepare(raw, p)
    for name, df in splits.items():
        write_parquet(df, f"{OUT_DIR}/{name}.parquet")
        log.info("%s: %d rows (%d neg / %d pos)", name, len(df), (df.label == 0).sum(), (df.label == 1).sum())
    write_json(report["dataset"], f"{OUT_DIR}/dataset.json")  # what the models, card, CLI and API call things
    write_json({**report, "inputs": inputs}, "reports/data.json")  # sha256 of each input, dropped rows, statistics
    write_json(data_metrics(report), "metrics/data.json")  # the counts a reviewer compares
    write_stage_log("prepare", seconds)


if __name__ == "__main__":
    run_stage(main)
