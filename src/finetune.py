"""Stage finetune: Trainer fine-tuning of a pretrained encoder, tracked live with dvclive.

Also runs under `torchrun --nproc_per_node=N src/finetune.py` (DDP); rank 0 writes outputs.
An interrupted run resumes from checkpoints/finetune on the next `dvc repro`.
"""

import logging
from pathlib import Path

from sentiment import run_stage, timed
from sentiment.config import load_params

MODEL_DIR = "models/finetuned"
PRED = "predictions/finetune/finetuned.parquet"
CKPT_DIR = Path("checkpoints/finetune")
LIVE_DIR = Path("dvclive/finetune")
DATA = "data/prepared"

log = logging.getLogger("finetune")


def main() -> None:
    p = load_params()  # validate before the heavy imports
    import pandas as pd

    from sentiment.card import model_card, push_to_hub
    from sentiment.data import stratified_subsample
    from sentiment.finetune import FINETUNE_KEYS, fingerprint, finish_checkpoints, is_main_process, predict_proba, train
    from sentiment.inference import hub_id
    from sentiment.io import atomic_path, make_predictions, write_json, write_predictions
    from sentiment.metrics import bootstrap_ci, compute_metrics

    hp = {k: getattr(p, k) for k in FINETUNE_KEYS}
    train_df = stratified_subsample(pd.read_parquet(f"{DATA}/train.parquet"), p.train_size, p.seed)
    val_df = stratified_subsample(pd.read_parquet(f"{DATA}/val.parquet"), p.eval_size, p.seed)
    fp = fingerprint(hp, f"{DATA}/train.parquet", f"{DATA}/val.parquet")

    with timed("fine-tuning", log):
        trainer, tokenizer, _ = train(p, train_df, val_df, CKPT_DIR, LIVE_DIR, fp)
    if not is_main_process():
        return
    model = trainer.model

    test = pd.read_parquet(f"{DATA}/test.parquet")
    with timed(f"predicting {len(test)} test reviews", log):
        prob = predict_proba(model, tokenizer, test.text.tolist(), p.max_length, p.truncation,
                             p.per_device_eval_batch_size, p.precision)
    preds = make_predictions(test.uid, test.label, prob)
    # Same metrics module as the evaluate stage; the card reports them with CIs.
    m = compute_metrics(preds.label, preds.pred, preds.prob)
    ci = bootstrap_ci(preds.label.values, preds.pred.values, preds.prob.values, p.evaluate.n_bootstrap, p.evaluate.seed)
    log.info("test accuracy %.4f", m["accuracy"])

    card = model_card(hub_id(p.model_name), hp, m, ci, len(train_df), len(val_df), len(test))
    with atomic_path(MODEL_DIR) as tmp:
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        card.save(tmp / "README.md")
        # what predict-time code needs to treat text exactly as in training
        write_json({"max_length": p.max_length, "truncation": p.truncation}, tmp / "inference.json")
    write_predictions(preds, PRED)
    finish_checkpoints(CKPT_DIR, fp)
    if p.push_to_hub:
        log.info("pushed to %s", push_to_hub(MODEL_DIR, p.hub_model_id))


if __name__ == "__main__":
    run_stage(main)
