"""Stage finetune: Trainer fine-tuning of a pretrained encoder, tracked live with dvclive.

Trains, then writes the model and its validation + test predictions; nothing else (the
model card and the hub upload are the publish stage's), so only training params rerun it.
Also runs under `torchrun --nproc_per_node=N src/finetune.py` (DDP); rank 0 writes outputs.
An interrupted run resumes from the scratch folder checkpoints/finetune (git- and
dvc-ignored, guarded by a fingerprint of the params and data) on the next `dvc repro`.
"""

import logging
import shutil
from pathlib import Path

from sentiment import THRESHOLD, run_stage, timed
from sentiment.config import TOP, load
from sentiment.finetune import FinetuneParams

READS = {TOP: FinetuneParams}  # the params.yaml keys this stage reads (= its dvc.yaml params; tested)

MODEL_DIR = "models/finetuned"
PRED = "predictions/finetune/finetuned.parquet"
CKPT_DIR = Path("checkpoints/finetune")  # scratch, not a DVC output: keeps the run-cache usable
LIVE_DIR = Path("dvclive/finetune")
DATA = "data/prepared"

log = logging.getLogger("finetune")


def main() -> None:
    p = load(READS)[TOP]
    import pandas as pd

    from sentiment.crops import with_crops
    from sentiment.finetune import fingerprint, finish_checkpoints, is_main_process, predict_proba, save_model, train
    from sentiment.inference import hub_id
    from sentiment.io import (
        atomic_path,
        copy_dataset_info,
        make_predictions,
        read_dataset_info,
        write_json,
        write_predictions,
        write_stage_log,
    )
    from sentiment.negation import negation_pairs
    from sentiment.sampling import stratified_subsample

    hp = p.model_dump()
    labels = read_dataset_info(DATA)["labels"]  # the data's names of label ids 0 and 1: the model's too
    reviews = stratified_subsample(pd.read_parquet(f"{DATA}/train.parquet"), p.train_size, p.seed, "train_size texts")
    train_df = with_crops(reviews, p.augment_crops, p.crop_max_sentences, p.seed)  # short-text robustness
    pairs = negation_pairs(reviews, p.augment_negations, p.seed)  # "not bad" is not negative
    train_df = pd.concat([train_df[["uid", "label", "text"]], pairs], ignore_index=True)
    n_crops = len(train_df) - len(reviews) - len(pairs)
    val = pd.read_parquet(f"{DATA}/val.parquet")
    val_during = stratified_subsample(val, p.eval_size, p.seed, "eval_size texts")
    fp = fingerprint(hp, f"{DATA}/train.parquet", f"{DATA}/val.parquet")

    seconds = {}
    with timed("fine-tuning", log, seconds, "train"):
        trainer, tokenizer, _, rt = train(p, train_df, val_during, CKPT_DIR, CKPT_DIR / "dvclive", fp, labels=labels)
    if not is_main_process():
        return
    model = trainer.model

    test = pd.read_parquet(f"{DATA}/test.parquet")
    frames = []
    for split, df in (("val", val), ("test", test)):
        with timed(f"predicting {len(df)} {split} reviews", log, seconds, f"predict_{split}"):
            prob = predict_proba(
                model,
                tokenizer,
                df.text.tolist(),
                p.max_length,
                p.predict_truncation,
                p.window_stride,
                p.per_device_eval_batch_size,
                rt["precision"],
                labels=labels,
            )
        frames.append(make_predictions(split, df.uid, df.label, prob))
    log.info("val accuracy %.4f", (frames[0].pred == frames[0].label).mean())  # test: the evaluate stage's

    with atomic_path(MODEL_DIR) as tmp:
        save_model(trainer, tokenizer, tmp)
        # Everything predict-time code needs to treat text as training did (its one settings source).
        write_json(
            {
                "max_length": p.max_length,
                "truncation": p.predict_truncation,
                **({"window_stride": p.window_stride} if p.window_stride else {}),
                **rt,
                "labels": labels,
                "threshold": THRESHOLD,
                "cleaning": "sentiment.data.clean_text",
                "base_model": hub_id(p.model_name),
                "n_train": len(reviews),
                "n_crops": n_crops,
                "n_negation_pairs": len(pairs) // 2,
                "train_truncation": p.truncation,
            },
            tmp / "inference.json",
        )
        copy_dataset_info(DATA, tmp)
    write_predictions(frames, PRED, meta={"runtime": rt})
    with atomic_path(LIVE_DIR) as tmp:  # the curves of this run (a resumed run's included)
        shutil.copytree(CKPT_DIR / "dvclive", tmp)
    write_stage_log(
        "finetune", seconds, runtime=rt, n_train=len(reviews), n_crops=n_crops, n_negation_pairs=len(pairs) // 2
    )
    # the run's cost, as a metric: most of a default run's time is this stage's (docs/cost.md has every stage)
    write_json({"finetune_min": round(sum(seconds.values()) / 60, 1)}, "metrics/cost.json")
    finish_checkpoints(CKPT_DIR)


if __name__ == "__main__":
    run_stage(main)
