"""Stage prepare: raw IMDB splits -> cleaned train/val/test parquet + data counts and statistics."""

import logging

from sentiment import run_stage, timed
from sentiment.config import load
from sentiment.dataset import PrepareParams

READS = {"prepare": PrepareParams}  # the params.yaml keys this stage reads (= its dvc.yaml params; tested)
OUT_DIR = "data/prepared"

log = logging.getLogger("prepare")


def main() -> None:
    p = load(READS)["prepare"]
    from sentiment.dataset import data_metrics, load_hub, load_local, prepare
    from sentiment.io import write_json, write_parquet, write_stage_log

    seconds = {}
    with timed(f"loading IMDB ({p.source})", log, seconds, "load"):
        raw = load_local(p.data_dir) if p.source == "local" else load_hub(p.hub_dataset, p.hub_revision)
    with timed("cleaning and splitting", log, seconds, "clean_split"):
        splits, stats = prepare(raw, p)
    for name, df in splits.items():
        write_parquet(df, f"{OUT_DIR}/{name}.parquet")
        log.info("%s: %d rows (%d neg / %d pos)", name, len(df), (df.label == 0).sum(), (df.label == 1).sum())
    write_json(stats, "reports/data.json")  # per split: rows, classes, words
    write_json(data_metrics(stats), "metrics/data.json")  # the counts a reviewer compares
    write_stage_log("prepare", seconds)


if __name__ == "__main__":
    run_stage(main)
