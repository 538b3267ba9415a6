"""Stage ensemble: a stacker fit on the members' validation predictions, applied to test.

Reads only the members' predictions files (val rows to fit, test rows to transform) and
writes its own predictions under the same contract, the stacker (models/ensemble) and its
selection record (metrics/selection/ensemble.json).
"""

import logging

from sentiment import DataError, run_stage, timed
from sentiment.config import load_params

DATA = "data/prepared"
MODEL_DIR = "models/ensemble"
PRED = "predictions/ensemble/ensemble.parquet"

log = logging.getLogger("ensemble")


def main() -> None:
    p = load_params().ensemble  # validate before the heavy imports
    import pandas as pd

    from sentiment.ensemble import fit_stacker, member_features, stacker_spec
    from sentiment.io import (atomic_path, make_predictions, read_predictions, write_json, write_predictions,
                              write_stage_log)

    try:
        preds = read_predictions("predictions", p.members)
    except ValueError as e:
        raise DataError(f"ensemble.members: {e}") from None
    val = pd.read_parquet(f"{DATA}/val.parquet")
    test = pd.read_parquet(f"{DATA}/test.parquet")
    X_val = member_features(preds, p.members, "val", val)  # checks every member before fitting
    X_test = member_features(preds, p.members, "test", test)

    seconds = {}
    with timed(f"fitting the stacker on {len(val)} validation reviews", log, seconds, "fit"):
        model, report, oof = fit_stacker(X_val, val.label.values, p.C, p.cv_folds, p.seed)
    spec = stacker_spec(model, p.members, {m: df.attrs["stage"] for m, df in preds.items()})
    weights = {m["name"]: m["coef"] for m in spec["members"]}
    log.info("C=%s, weights %s; nested-CV validation accuracy %.4f", report["C"],
             {k: round(v, 3) for k, v in weights.items()}, report["nested_cv_accuracy"])
    frames = [make_predictions("val", val.uid, val.label, oof),  # out-of-fold: honest val metrics
              make_predictions("test", test.uid, test.label, model.predict_proba(X_test)[:, 1])]
    stacker = {**report, "coef": weights, "intercept": spec["intercept"]}
    # a transformer member's arithmetic decides the ensemble's numbers too: record it
    runtimes = [df.attrs["meta"]["runtime"] for df in preds.values() if df.attrs["meta"].get("runtime")]
    write_predictions(frames, PRED, meta={"stacker": stacker, **({"runtime": runtimes[0]} if runtimes else {})})
    with atomic_path(MODEL_DIR) as tmp:
        tmp.mkdir()
        write_json(spec, tmp / "ensemble.json")
    write_json(stacker, "metrics/selection/ensemble.json")
    write_stage_log("ensemble", seconds)


if __name__ == "__main__":
    run_stage(main)
