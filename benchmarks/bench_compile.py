"""Does `torch.compile` speed up the fine-tune's training step on this CPU?

The same model (the project's `load_for_training`), one fixed batch, bf16 autocast where the
run's precision is bf16, AdamW steps; eager first, then compiled (inductor), each in its own
process so neither warms the other. Prints the compile (warm-up) time and seconds per step:

    python benchmarks/bench_compile.py                 # both modes
    python benchmarks/bench_compile.py --mode compile  # one
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run(mode: str, a) -> None:
    import torch

    from sentiment.finetune import load_for_training
    from sentiment.inference import autocast, device, resolve_precision

    torch.manual_seed(a.seed)
    _, model = load_for_training(a.model_name, 0.0)
    model.train()
    dev = device("cpu")
    precision = resolve_precision(a.precision, dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(1000, 20000, (a.batch_size, a.max_length))
    mask, y = torch.ones_like(ids), torch.randint(0, 2, (a.batch_size,))
    fwd = torch.compile(model) if mode == "compile" else model

    def step():
        with autocast(precision, dev):
            loss = fwd(input_ids=ids, attention_mask=mask, labels=y).loss
        loss.backward()
        opt.step()
        opt.zero_grad()

    t = time.time()
    for _ in range(2):
        step()
    warm = time.time() - t
    t = time.time()
    for _ in range(a.steps):
        step()
    print(
        f"{mode}: {precision}, warm-up (2 steps) {warm:.1f} s, {(time.time() - t) / a.steps:.3f} s/step "
        f"(batch {a.batch_size} x {a.max_length} tokens, {torch.get_num_threads()} threads)",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["eager", "compile", "both"], default="both")
    ap.add_argument("--model_name", default="minilm", help="short name, hub id or local dir")
    ap.add_argument("--max_length", type=int, default=128, help="tokens per row (the default fine-tune's)")
    ap.add_argument("--batch_size", type=int, default=16, help="rows per step (the default fine-tune's)")
    ap.add_argument("--steps", type=int, default=30, help="timed steps after the 2 warm-up steps")
    ap.add_argument("--precision", default="auto", help="auto, bf16 or fp32")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.mode != "both":
        return run(a.mode, a)
    for mode in ("eager", "compile"):  # separate processes: no shared warm caches
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--mode", mode], check=True)


if __name__ == "__main__":
    main()
