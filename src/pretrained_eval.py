"""Stage pretrained_eval: zero-shot scorers (no IMDB training) on the validation and test splits.

Each scorer's settings (max_length; prompt and temperature for minilm_embed) are chosen on
the validation split from the grids in params (reports/selection/pretrained_eval.json, and
the chosen settings in each predictions meta file, which the robustness stage reuses).

One predictions file per name in params `pretrained_eval.models` (see sentiment/scorers.py):
predictions/pretrained/<name>.parquet, where a hub id 'org/model' becomes 'org--model' and a
local model directory its basename. Validation rows let later stages select and combine.
"""

import logging
import time
from pathlib import Path

from sentiment import ConfigError, run_stage
from sentiment.config import load
from sentiment.scorers import PretrainedEvalParams

READS = {"pretrained_eval": PretrainedEvalParams}  # the params.yaml keys this stage reads (= dvc.yaml; tested)

DATA = "data/prepared"
PRED_DIR = Path("predictions/pretrained")
SELECTION = "reports/selection/pretrained_eval.json"

log = logging.getLogger("pretrained_eval")


def main() -> None:
    p = load(READS)["pretrained_eval"]
    import pandas as pd

    from sentiment import runtime
    from sentiment.io import make_predictions, write_json, write_predictions, write_stage_log
    from sentiment.scorers import (
        SCORERS,
        TRANSFORMER_SCORERS,
        check_name,
        file_stem,
        load_scorer,
        select_settings,
        settings,
    )

    stems = {name: file_stem(name) for name in p.models}
    clash = {s for s in stems.values() if list(stems.values()).count(s) > 1}
    if clash:
        raise ConfigError(f"pretrained_eval.models: several models would write {sorted(clash)}")
    for name in p.models:  # a typo fails now, not after an hour of scoring
        check_name(name)

    splits = {s: pd.read_parquet(f"{DATA}/{s}.parquet") for s in ("val", "test")}
    texts = [t for df in splits.values() for t in df.text]
    dev = runtime.pick_device(p.device)
    rt = runtime.runtime_info(dev, runtime.resolve_precision(p.precision, dev))
    seconds, selection = {}, {}
    val = splits["val"]
    for name, stem in stems.items():
        start = time.perf_counter()
        chosen, selection[stem] = select_settings(name, p, val.text.tolist(), val.label.values)
        if chosen:
            log.info("%s: chose %s on validation", name, chosen)
        scorer = load_scorer(name, settings(p, **chosen))
        loaded = time.perf_counter()
        prob = scorer(texts)
        took = time.perf_counter() - loaded
        seconds[name] = round(time.perf_counter() - start, 1)
        n_val = len(splits["val"])
        frames = [
            make_predictions("val", splits["val"].uid, splits["val"].label, prob[:n_val]),
            make_predictions("test", splits["test"].uid, splits["test"].label, prob[n_val:]),
        ]
        log.info(
            "%s: val accuracy %.4f; scored %d reviews in %.1fs (%.0f reviews/s, %.1fs choosing settings and loading)",
            name,
            (frames[0].pred == frames[0].label).mean(),
            len(texts),
            took,
            len(texts) / max(took, 1e-9),
            loaded - start,
        )
        meta = {"settings": chosen} | ({"runtime": rt} if name in TRANSFORMER_SCORERS or name not in SCORERS else {})
        write_predictions(frames, PRED_DIR / f"{stem}.parquet", meta=meta)
    write_json(selection, SELECTION)
    write_stage_log("pretrained_eval", seconds, runtime=rt)


if __name__ == "__main__":
    run_stage(main)
