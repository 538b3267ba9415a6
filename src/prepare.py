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
    from sentiment.io import write_json, write_parquet

    with timed(f"loading IMDB ({p.source})", log):
        raw = load_local(p.data_dir) if p.source == "local" else load_hub(p.hub_dataset)
    with timed("cleaning and splitting", log):
        splits, stats = prepare(raw, p)
    for name, df in splits.items():
        write_parquet(df, f"{OUT_DIR}/{name}.parquet")
        log.info("%s: %d rows (%d neg / %d pos)", name, len(df), (df.label == 0).sum(), (df.label == 1).sum())
    write_json(stats, STATS)


if __name__ == "__main__":
    run_stage(main)
