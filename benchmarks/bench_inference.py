"""Inference speed: a plain `transformers.pipeline` vs the project's shared inference.

Both score the same N real IMDB test reviews with the same model (a sequence classifier on
the bundled all-MiniLM-L6-v2; its head is randomly initialised, which does not change the
speed) at the same max_length, in one process:

  (a) pipeline("text-classification", ..., truncation=True, max_length=L) called the ordinary
      way: the whole list, default batch size, fp32;
  (b) sentiment.finetune.predict_proba: length-sorted batches with dynamic padding,
      inference_mode and bf16 autocast where the CPU/GPU has it (precision=auto).

Tokenisation is timed in both. Run from the project root:

  HF_HUB_OFFLINE=1 python benchmarks/bench_inference.py --n 2000 --max_length 128 256

It prints the project's speed against the pipeline used the ordinary way (truncated at the
model's 512 tokens) and against a pipeline cut at the same max_length (like for like).

On a CPU shared with another busy process, pass --threads 1: with more threads than free
cores, every op waits on its slowest thread, which penalises many small batch-1 ops (the
pipeline) far more than a few large batches and inflates the speed-up.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


@dataclass
class Args:
    n: int = field(default=2000, metadata={"help": "number of test reviews scored by each method"})
    seed: int = field(default=0, metadata={"help": "seed of the random sample of reviews"})
    data: str = field(default="data/raw/imdb/test.parquet", metadata={"help": "raw IMDB test split"})
    max_length: list[int] = field(
        default_factory=lambda: [256],
        metadata={"help": "tokens per review, same for both methods; several values run one comparison each"},
    )
    batch_size: int = field(default=64, metadata={"help": "batch size of the project's inference"})
    truncation: str = field(default="head_tail", metadata={"help": "project truncation: head or head_tail"})
    precision: str = field(default="auto", metadata={"help": "project precision: auto, bf16, fp16 or fp32"})
    warmup: int = field(default=16, metadata={"help": "reviews each method scores before timing starts"})
    threads: int = field(
        default=0,
        metadata={
            "help": "torch CPU threads for both methods (0: torch's default); "
            "use 1 on a machine shared with other busy processes"
        },
    )


def fp32_peak_gflops() -> tuple[float, str]:
    """cores x clock x fp32 FLOPs per cycle per core (two FMA units: 2 x 2 x SIMD lanes)."""
    from sentiment.runtime import cpu_isa

    mhz = 0.0
    with open("/proc/cpuinfo") as f:
        mhz = max((float(l.split(":")[1]) for l in f if l.startswith("cpu MHz")), default=0.0)
    lanes = 16 if cpu_isa().startswith(("avx512", "amx")) else 8
    cores = os.cpu_count() or 1
    return cores * mhz / 1000 * 2 * 2 * lanes, f"{cores} cores x {mhz / 1000:.2f} GHz x {4 * lanes} FLOP/cycle"


def forward_flops_per_token(config, seq_len: float) -> float:
    """Encoder forward, per token: 2 x (weights touched) + attention scores and mix (2 x 2 x L x d)."""
    d, ff, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return layers * (2 * (4 * d * d + 2 * d * ff) + 4 * seq_len * d)


def timed(fn, texts):
    start = time.perf_counter()
    out = fn(texts)
    return out, len(texts) / (time.perf_counter() - start)


def main() -> None:
    import numpy as np
    import pandas as pd
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, HfArgumentParser, pipeline

    from sentiment.data import clean_text
    from sentiment.finetune import predict_proba
    from sentiment.inference import positive_index, resolve_model, resolve_precision

    (args,) = HfArgumentParser(Args).parse_args_into_dataclasses()
    if args.threads:
        torch.set_num_threads(args.threads)
    df = pd.read_parquet(args.data)
    texts = df.text.sample(n=min(args.n, len(df)), random_state=args.seed).map(clean_text).tolist()

    torch.manual_seed(0)
    path = resolve_model("minilm")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2).eval()
    pos = positive_index(model.config)
    pos_name = model.config.id2label[pos]
    print(
        f"{len(texts)} reviews, all-MiniLM-L6-v2 classifier, {torch.get_num_threads()} torch threads, "
        f"{'cuda' if torch.cuda.is_available() else 'cpu'}; project precision "
        f"{resolve_precision(args.precision)}, batch {args.batch_size}, truncation {args.truncation}"
    )

    def pipeline_runner(**kw):
        pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, truncation=True, **kw)
        return lambda xs: np.array([r["score"] if r["label"] == pos_name else 1 - r["score"] for r in pipe(xs)])

    # The ordinary way: truncation=True cuts at the model's limit (512 tokens for MiniLM).
    ordinary = pipeline_runner()
    ordinary(texts[: args.warmup])
    _, ordinary_rate = timed(ordinary, texts)
    print(
        f"pipeline, the ordinary way (truncation at {tokenizer.model_max_length} tokens): {ordinary_rate:.1f} reviews/s"
    )
    for max_length in args.max_length:
        like = pipeline_runner(max_length=max_length)

        def run_project(xs, max_length=max_length):
            return predict_proba(
                model,
                tokenizer,
                xs,
                max_length,
                args.truncation,
                None,
                args.batch_size,
                args.precision,
                progress=False,
            )

        like(texts[: args.warmup])
        run_project(texts[: args.warmup])
        p_pipe, pipe_rate = timed(like, texts)
        p_proj, proj_rate = timed(run_project, texts)
        agree = ((p_pipe >= 0.5) == (p_proj >= 0.5)).mean()
        lengths = np.array([min(len(ids), max_length) for ids in tokenizer(texts)["input_ids"]], dtype=float)
        gflops = proj_rate * lengths.mean() * forward_flops_per_token(model.config, lengths.mean()) / 1e9
        peak, how = fp32_peak_gflops()
        print(
            f"max_length {max_length}: project {gflops:.0f} GFLOP/s = {gflops / peak:.0%} of this CPU's fp32 peak "
            f"({peak:.0f} GFLOP/s: {how}); mean {lengths.mean():.0f} tokens/review"
        )
        print(
            f"max_length {max_length}: project {proj_rate:.1f} reviews/s | vs the ordinary pipeline "
            f"{proj_rate / ordinary_rate:.2f}x | vs a pipeline also cut at {max_length} tokens "
            f"({pipe_rate:.1f} reviews/s) {proj_rate / pipe_rate:.2f}x | same label as it on {agree:.1%}, "
            f"max |dP| {np.abs(p_pipe - p_proj).max():.3f}"
        )


if __name__ == "__main__":
    main()
