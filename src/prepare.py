"""Stage prepare: raw IMDB splits -> cleaned train/val/test parquet + data statistics."""

import logging

from sentiment import run_stage, timed
from sentiment.config import load_params

OUT_DIR = "data/prepared"
STATS = "metrics/data.json"

log = logging.getLogger("prepare")


def main() -> None:
    p = load_params().prepare  # validate before the heavy imports: a typo fails in < 1 s
    from sentiment.data import load_hub, load_local, prepare
    from sentiment.io import write_json, write_parquet, write_stage_log

    seconds = {}
    with timed(f"loading IMDB ({p.source})", log, seconds, "load"):
        raw = load_local(p.data_dir) if p.source == "local" else load_hub(p.hub_dataset, p.hub_revision)
    with timed("cleaning and splitting", log, seconds, "clean_split"):
        splits, stats = prepare(raw, p)
    for name, df in splits.items():
        write_parquet(df, f"{OUT_DIR}/{name}.parquet")
        log.info("%s: %d rows (%d neg / %d pos)", name, len(df), (df.label == 0).sum(), (df.label == 1).sum())
    write_json(stats, STATS)
    write_stage_log("prepare", seconds)


if __name__ == "__main__":
    run_stage(main)
