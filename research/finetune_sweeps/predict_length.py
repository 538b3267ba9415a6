"""Does a fine-tuned model score validation better when it reads more tokens at predict time
than it was trained on? Predicts the validation split at each max_length (the model's own
truncation, the stage's inference code) and writes accuracy, log loss and ROC-AUC per length.
Validation only; reads models/finetuned and data/prepared (after `dvc repro finetune`).

    python scripts/predict_length.py --lengths 128 192 256 320 384 512
"""

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from sentiment import THRESHOLD
from sentiment.metrics import compute_metrics


def scores(model_dir: Path, df: pd.DataFrame, lengths: list[int], batch_size: int = 64) -> list[dict]:
    """One row per max_length: the validation metrics and the seconds the prediction took."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from sentiment.finetune import predict_proba

    info = json.loads((model_dir / "inference.json").read_text())
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    rows = []
    for n in lengths:
        t = time.perf_counter()
        # precision "auto", as predict/serve do: inference.json records training's, not a setting to reuse
        prob = predict_proba(model, tok, df.text.tolist(), n, info["truncation"], None, batch_size, "auto", progress=False)
        took = time.perf_counter() - t
        m = compute_metrics(df.label.to_numpy(), (prob >= THRESHOLD).astype(int), prob)
        rows.append({"max_length": n, "seconds": round(took, 1),
                     **{k: round(float(m[k]), 4) for k in ("accuracy", "log_loss", "roc_auc", "precision", "recall")}})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/finetuned", type=Path)
    ap.add_argument("--lengths", nargs="+", type=int, default=[128, 192, 256, 320, 384, 512])
    ap.add_argument("--out", default="metrics/selection/predict_length.md")
    a = ap.parse_args()
    val = pd.read_parquet("data/prepared/val.parquet")
    trained = json.loads((a.model / "inference.json").read_text())["max_length"]
    rows = scores(a.model, val, a.lengths)
    cols = list(rows[0])
    text = "\n".join([f"# Predict-time max_length, {a.model} (trained at {trained} tokens), IMDB validation", "",
                      f"{len(val)} validation reviews; `python scripts/predict_length.py`. Seconds: this machine.", "",
                      "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols),
                      *("| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows)]) + "\n"
    Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
