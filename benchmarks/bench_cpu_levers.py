"""Two speed levers for fp32-only CPUs, as ratios in one run: dynamic int8 inference and
frozen word embeddings in training. Speed only: the classifier head is random, so the
agreement figures it prints say nothing about accuracy.

    # as an AVX2-only CPU would run it, on an AVX-512 machine (DEVELOPERS.md's emulation):
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \\
        python benchmarks/bench_cpu_levers.py --n 256

fbgemm picks its int8 kernels from the CPU itself (the emulation does not limit it); the
oneDNN engine does honour ONEDNN_MAX_CPU_ISA.
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

from sentiment.finetune import load_for_training  # noqa: E402
from sentiment.inference import batched_forward, encode, logits_forward  # noqa: E402
from sentiment.runtime import cpu_isa  # noqa: E402


def inference_rate(model, enc, batch_size: int) -> tuple[float, np.ndarray]:
    batched_forward(model, enc[:batch_size], logits_forward, batch_size, "fp32", progress=False)  # warm-up
    start = time.perf_counter()
    out = batched_forward(model, enc, logits_forward, batch_size, "fp32", progress=False)
    return len(enc) / (time.perf_counter() - start), out


def train_rate(enc, freeze_embeddings: bool, steps: int, batch_size: int) -> float:
    _, model = load_for_training("minilm", 0.0)
    if freeze_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    model.train()
    order = np.argsort([-len(x) for x in enc], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), max(1, len(order) // steps))][: steps + 1]

    def step(idx):
        ids = torch.zeros((len(idx), max(len(enc[i]) for i in idx)), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, i in enumerate(idx):
            ids[r, : len(enc[i])], mask[r, : len(enc[i])] = torch.tensor(enc[i]), 1
        model(input_ids=ids, attention_mask=mask, labels=torch.zeros(len(idx), dtype=torch.long)).loss.backward()
        opt.step()
        opt.zero_grad()

    step(batches[0])  # warm-up
    start = time.perf_counter()
    for b in batches[1:]:
        step(b)
    return (len(batches) - 1) * batch_size / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=256, help="IMDB test reviews to time")
    ap.add_argument("--max_length", type=int, default=256)
    ap.add_argument("--batch_size", type=int, default=64, help="inference batch")
    ap.add_argument("--train_steps", type=int, default=6)
    ap.add_argument("--train_batch_size", type=int, default=16)
    a = ap.parse_args()
    print(f"CPU class {cpu_isa()}, {torch.get_num_threads()} threads")
    df = pd.read_parquet(Path(__file__).resolve().parents[1] / "data/raw/imdb/test.parquet").sample(a.n, random_state=0)
    tok, model = load_for_training("minilm", 0.0)
    enc = encode(tok, df.text.tolist(), a.max_length, "head_tail")
    fp32, ref = inference_rate(model, enc, a.batch_size)
    print(f"inference fp32: {fp32:.1f} reviews/s")
    for engine in ("fbgemm", "onednn"):
        if engine not in torch.backends.quantized.supported_engines:
            continue
        torch.backends.quantized.engine = engine
        q = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        rate, out = inference_rate(q, enc, a.batch_size)
        print(
            f"inference int8 dynamic ({engine}): {rate:.1f} reviews/s = {rate / fp32:.2f}x fp32 "
            f"(max |logit difference| {np.abs(out - ref).max():.3f}, random head)"
        )
    full = train_rate(enc, False, a.train_steps, a.train_batch_size)
    frozen = train_rate(enc, True, a.train_steps, a.train_batch_size)
    print(f"training: {full:.1f} samples/s; word embeddings frozen: {frozen:.1f} samples/s = {frozen / full:.2f}x")


if __name__ == "__main__":
    main()
