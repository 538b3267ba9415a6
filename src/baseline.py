"""Stage baseline: fit the classical sklearn pipelines; choose their grids on validation.

For each model, every grid point in params (lists) is fit on train and scored on the
validation split; the best is kept (reports/selection/baseline.json records every score).
Test rows are only predicted, never used to choose.
"""

import logging

from sentiment import run_stage, timed
from sentiment.config import load
from sentiment.search import BaselineParams

READS = {"baseline": BaselineParams}  # the params.yaml keys this stage reads (= its dvc.yaml params; tested)
N_JOBS = -1  # every core for the forest, the grid's fits and predicting: results are the same for any value

MODELS_DIR = "models/baseline"
PRED_DIR = "predictions/baseline"
DATA = "data/prepared"

log = logging.getLogger("baseline")


def main() -> None:
    p = load(READS)["baseline"]
    import joblib
    import pandas as pd

    from sentiment.baseline import build
    from sentiment.crops import sentence_crops, with_crops
    from sentiment.io import (
        atomic_path,
        copy_dataset_info,
        make_predictions,
        write_json,
        write_predictions,
        write_stage_log,
    )
    from sentiment.search import (
        fit_predict,
        point_label,
        predict_proba,
        search_space,
        select_and_refit,
        select_on_validation,
    )

    train, val, test = (pd.read_parquet(f"{DATA}/{s}.parquet") for s in ("train", "val", "test"))
    augmented = with_crops(train, p.augment_crops, p.crop_max_sentences, p.seed)  # short-text robustness
    # with refit_with_val the validation reviews (and, for models in crop_models, their own crops) join the
    # training texts for the saved model: refit on fit_on + val + extra
    val_crops = (
        sentence_crops(val, p.augment_crops, p.crop_max_sentences, p.seed)
        if p.refit_with_val and set(p.crop_models) & set(p.models)
        else val.iloc[:0]
    )
    seconds, selection = {}, {}
    for name in p.models:
        model = build(name, p, N_JOBS)
        fit_on, extra = (augmented, val_crops) if name in p.crop_models else (train, val.iloc[:0])
        grid = search_space(name, p)
        sizes = {"fit": len(fit_on), "refit": len(fit_on) + len(val) + len(extra) if p.refit_with_val else 0}

        def step(what, name=name, sizes=sizes):  # bound now: one timer per model
            label = f"{name}: {what}" + (f" on {sizes[what]} texts" if what in sizes else "")
            return timed(label, log, seconds, f"{name}_{what}")

        if grid and any(len(v) > 1 for v in grid.values()):
            log.info("%s: selecting %s on %d validation reviews", name, grid, len(val))
            args = (model, grid, fit_on.text.tolist(), fit_on.label.values, val.text.tolist(), val.label.values)
            if p.refit_with_val:
                best, rows, model = select_and_refit(
                    *args, extra.text.tolist(), extra.label.values, n_jobs=N_JOBS, step=step
                )
            else:
                with step("select"):
                    best, rows = select_on_validation(*args, n_jobs=N_JOBS)
                model.set_params(**best)
            # validation accuracy per point (no fit times: the committed record must reproduce)
            selection[name] = {
                "chosen": point_label(name, best),
                "val_accuracy": {point_label(name, {k: r[k] for k in grid}): round(r["val_accuracy"], 6) for r in rows},
            }
            log.info("%s: chose %s", name, best)
            val_prob = next(r["val_prob"] for r in rows if {k: r[k] for k in grid} == best)  # its train-only fit
            if p.refit_with_val:
                with step("predict_test"):
                    test_prob = predict_proba(model, test.text, N_JOBS)
            else:
                val_prob, test_prob = fit_predict(model, fit_on, val, test, None, step, val_prob, N_JOBS)
        else:
            # Validation predictions stay out-of-sample (the ensemble is fit on them); with refit_with_val
            # the saved model and its test predictions also learn from the validation reviews
            # (learning curve: research/nbsvm/learning_curve.md).
            refit_on = pd.concat([fit_on, val, extra], ignore_index=True) if p.refit_with_val else None
            val_prob, test_prob = fit_predict(model, fit_on, val, test, refit_on, step, None, N_JOBS)
        frames = [
            make_predictions("val", val.uid, val.label, val_prob),
            make_predictions("test", test.uid, test.label, test_prob),
        ]
        log.info("%s: val accuracy %.4f", name, (frames[0].pred == frames[0].label).mean())
        with atomic_path(f"{MODELS_DIR}/{name}.joblib") as tmp:
            joblib.dump(model, tmp)
        write_predictions(frames, f"{PRED_DIR}/{name}.parquet")
    copy_dataset_info(DATA, MODELS_DIR)  # what the models' labels are called, for predict/serve
    write_json(selection, "reports/selection/baseline.json")
    write_stage_log("baseline", seconds)


if __name__ == "__main__":
    run_stage(main)
