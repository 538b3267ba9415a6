"""Stage pretrained_eval: zero-shot scorers (no IMDB training) on the test set.

One predictions file per name in params `pretrained_eval.models` (see sentiment/scorers.py):
predictions/pretrained/<name>.parquet, where a hub id 'org/model' becomes 'org--model' and a
local model directory its basename.
"""

import logging
import time
from pathlib import Path

from sentiment import ConfigError, run_stage
from sentiment.config import load_params

TEST = "data/prepared/test.parquet"
PRED_DIR = Path("predictions/pretrained")

log = logging.getLogger("pretrained_eval")


def main() -> None:
    p = load_params().pretrained_eval  # validate before the heavy imports
    import pandas as pd

    from sentiment.io import make_predictions, write_predictions
    from sentiment.scorers import check_name, file_stem, load_scorer

    stems = {name: file_stem(name) for name in p.models}
    clash = {s for s in stems.values() if list(stems.values()).count(s) > 1}
    if clash:
        raise ConfigError(f"pretrained_eval.models: several models would write {sorted(clash)}")
    for name in p.models:  # a typo fails now, not after an hour of scoring
        check_name(name)

    test = pd.read_parquet(TEST)
    texts = test.text.tolist()
    for old in PRED_DIR.glob("*.parquet"):  # outputs of models no longer listed
        if old.stem not in stems.values():
            old.unlink()
    for name, stem in stems.items():
        start = time.perf_counter()
        scorer = load_scorer(name, p)
        loaded = time.perf_counter()
        prob = scorer(texts)
        took = time.perf_counter() - loaded
        preds = make_predictions(test.uid, test.label, prob)
        log.info("%s: test accuracy %.4f; scored %d reviews in %.1fs (%.0f reviews/s, %.1fs loading)", name,
                 (preds.pred == preds.label).mean(), len(test), took, len(test) / max(took, 1e-9),
                 loaded - start)
        write_predictions(preds, PRED_DIR / f"{stem}.parquet")


if __name__ == "__main__":
    run_stage(main)
