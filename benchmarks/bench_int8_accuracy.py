"""Dynamic int8 inference for the fine-tuned model: speed *and* validation accuracy against
fp32, through the same Predictor that predict/serve use (same cleaning, truncation, batching).
bench_cpu_levers.py times int8 with a random head; this scores the trained model on IMDB
validation (never test), so it says what int8 would cost in accuracy.

    python benchmarks/bench_int8_accuracy.py --model models/finetuned      # after dvc repro
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from sentiment import THRESHOLD  # noqa: E402
from sentiment.metrics import compute_metrics  # noqa: E402
from sentiment.predictor import Predictor  # noqa: E402
from sentiment.runtime import cpu_isa  # noqa: E402


def score(pred: Predictor, texts: list[str]) -> tuple[np.ndarray, float]:
    pred.predict_proba(texts[: pred.batch_size])  # warm-up
    start = time.perf_counter()
    prob = np.asarray(pred.predict_proba(texts))
    return prob, len(texts) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/finetuned", help="a fine-tuned model folder")
    ap.add_argument("--data", default="data/prepared/val.parquet", help="labelled reviews (validation)")
    ap.add_argument("--n", type=int, default=None, help="first n reviews only (default: all)")
    ap.add_argument("--batch_size", type=int, default=64)
    ap.add_argument("--engine", default="fbgemm", choices=["fbgemm", "onednn"], help="int8 kernels")
    a = ap.parse_args()
    df = pd.read_parquet(a.data)
    df = df.iloc[: a.n] if a.n else df
    texts, y = df.text.tolist(), df.label.to_numpy()
    pred = Predictor(a.model, precision="fp32", batch_size=a.batch_size)
    print(
        f"CPU class {cpu_isa()}, {torch.get_num_threads()} threads; {len(texts)} reviews of {a.data}, "
        f"max_length {pred.max_length}"
    )
    fp32, fp32_rate = score(pred, texts)
    torch.backends.quantized.engine = a.engine
    pred.model = torch.ao.quantization.quantize_dynamic(pred.model, {torch.nn.Linear}, dtype=torch.qint8)
    int8, int8_rate = score(pred, texts)
    acc = lambda p: compute_metrics(y, (p >= THRESHOLD).astype(int), p)["accuracy"]  # noqa: E731
    print(f"fp32: accuracy {acc(fp32):.4f}, {fp32_rate:.1f} reviews/s")
    print(
        f"int8 dynamic ({a.engine}): accuracy {acc(int8):.4f}, {int8_rate:.1f} reviews/s = "
        f"{int8_rate / fp32_rate:.2f}x; same label as fp32 for {np.mean((fp32 >= THRESHOLD) == (int8 >= THRESHOLD)):.4f}, "
        f"max |P difference| {np.abs(fp32 - int8).max():.3f}"
    )


if __name__ == "__main__":
    main()
