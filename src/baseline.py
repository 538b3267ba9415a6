"""Stage baseline: fit the classical sklearn pipelines and predict the test set."""

import logging

from sentiment import run_stage, timed
from sentiment.config import load_params

MODELS_DIR = "models/baseline"
PRED_DIR = "predictions/baseline"

log = logging.getLogger("baseline")


def main() -> None:
    p = load_params().baseline  # validate before the heavy imports
    import joblib
    import pandas as pd

    from sentiment.baseline import build, predict_proba
    from sentiment.io import atomic_path, make_predictions, write_predictions

    train = pd.read_parquet("data/prepared/train.parquet")
    test = pd.read_parquet("data/prepared/test.parquet")
    for name in p.models:
        model = build(name, p)
        with timed(f"{name}: fitting on {len(train)} reviews", log):
            model.fit(train.text.tolist(), train.label.values)
        with timed(f"{name}: predicting {len(test)} reviews", log):
            prob = predict_proba(model, test.text)
        preds = make_predictions(test.uid, test.label, prob)
        log.info("%s: test accuracy %.4f", name, (preds.pred == preds.label).mean())
        with atomic_path(f"{MODELS_DIR}/{name}.joblib") as tmp:
            joblib.dump(model, tmp)
        write_predictions(preds, f"{PRED_DIR}/{name}.parquet")


if __name__ == "__main__":
    run_stage(main)
