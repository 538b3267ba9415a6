"""Encoder x training view x predict view, on validation and the sentence set's selection half.

Each run fine-tunes with the finetune stage's own code (sentiment.finetune.train, the params.yaml
defaults but the overrides below) on the same stratified training reviews, then scores the whole
IMDB validation split through the one predict path (sentiment.inference.predict_logits) with each
predict view, and the sentence set's selection half. Test is never read. Writes results.json and
report.md beside this file (timings on this machine: see the CPU line).

    python research/encoder_windows/study.py --train_size 4000 --runs minilm:head_tail minilm:random mpnet:head_tail
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment import THRESHOLD
from sentiment.config import load_params
from sentiment.data import stratified_subsample
from sentiment.finetune import fingerprint, predict_proba, resolve_runtime, train
from sentiment.metrics import compute_metrics
from sentiment.robustness import load_sentences, split_halves

HERE = Path(__file__).parent
VIEWS = [("head_tail", None), ("windows", 126), ("windows", 63)]  # (predict view, stride)


def score(df: pd.DataFrame, prob: np.ndarray) -> dict:
    m = compute_metrics(df.label.to_numpy(), (prob >= THRESHOLD).astype(int), prob)
    return {k: round(float(m[k]), 4) for k in ("accuracy", "log_loss", "roc_auc")}


def run(spec: str, train_size: int, val: pd.DataFrame, sel: pd.DataFrame, p0, strides: list[int]) -> dict:
    model_name, truncation, *lr = spec.split(":")
    lr = float(lr[0]) if lr else p0.learning_rate
    p = p0.model_copy(
        update={"model_name": model_name, "truncation": truncation, "train_size": train_size, "learning_rate": lr}
    )
    train_df = stratified_subsample(pd.read_parquet("data/prepared/train.parquet"), p.train_size, p.seed)
    val_during = stratified_subsample(val, p.eval_size, p.seed)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        trainer, tok, _, rt = train(p, train_df, val_during, Path(tmp) / "ckpt", None,
                                    fingerprint({"spec": spec}, "data/prepared/train.parquet"))
        train_s = time.perf_counter() - t
        steps = trainer.state.global_step
    row = {"run": spec, "model_name": model_name, "truncation": truncation, "learning_rate": lr, "train_size": len(train_df),
           "train_seconds": round(train_s, 1), "seconds_per_step": round(train_s / steps, 3), "precision": rt["precision"]}
    for view, stride in VIEWS:
        if stride is not None and stride not in strides:
            continue
        t = time.perf_counter()
        prob = predict_proba(trainer.model, tok, val.text.tolist(), p.max_length, view, stride,
                             p.per_device_eval_batch_size, rt["precision"], progress=False)
        name = view if stride is None else f"{view}_{stride}"
        row[f"val_{name}"] = {**score(val, prob), "seconds": round(time.perf_counter() - t, 1)}
    prob = predict_proba(trainer.model, tok, sel.text.tolist(), p.max_length, "head_tail", None,
                         p.per_device_eval_batch_size, rt["precision"], progress=False)
    row["sentences_selection"] = {src: score(sel[sel.source == src], prob[(sel.source == src).to_numpy()])["accuracy"]
                                  for src in sorted(sel.source.unique())}
    return row


def report(rows: list[dict], meta: dict) -> str:
    views = [v if s is None else f"{v}_{s}" for v, s in VIEWS]
    srcs = sorted(rows[0]["sentences_selection"])
    lines = ["# Encoder x training view x predict view (128 tokens, 1 epoch)",
             "", f"On {meta['cpu']} ({rows[0]['precision']}). IMDB validation: all {meta['n_val']} reviews "
             "(accuracy, ±1.2 points at 95%); "
             f"sentences: the selection half ({meta['n_sel']} one-liners). Test not read.", "",
             "| run | reviews | learning rate | s/step | " + " | ".join(f"val {v}" for v in views) + " | " + " | ".join(srcs) + " |",
             "|---|---|---|---|" + "---|" * (len(views) + len(srcs))]
    for r in rows:
        cells = [f"{r[f'val_{v}']['accuracy']:.4f} ({r[f'val_{v}']['seconds']:.0f} s)" if f"val_{v}" in r else "not run"
                 for v in views]
        lr = r.get("learning_rate", 1.8e-4)  # the first row ran before the column existed, at params.yaml's 1.8e-4
        lines.append(f"| {r['run']} | {r['train_size']} | {lr:g} | {r['seconds_per_step']:.2f} | " + " | ".join(cells) + " | "
                     + " | ".join(f"{r['sentences_selection'][s]:.3f}" for s in srcs) + " |")
    lines += ["", "val windows_N: every 128-token window N tokens apart, mean logit; seconds: predicting the "
              f"{meta['n_val']} reviews. s/step: training seconds per optimizer step (16 x 128), evaluations included; "
              "some rows ran beside other jobs, so seconds compare only within a row (cost figures: docs/cost.md).",
              "", "Each row's commit and command:", ""]
    lines += [f"- {r['run']} ({r['train_size']}): {r.get('commit', '?')}, `{r.get('command', '?')}`" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train_size", type=int, default=4000, help="training reviews per run (stratified, seeded)")
    ap.add_argument("--runs", nargs="+", default=["minilm:head_tail", "minilm:random", "mpnet:head_tail"],
                    help="model_name:truncation[:learning_rate] (default: params.yaml's learning_rate)")
    ap.add_argument("--strides", type=int, nargs="*", default=[126, 63],
                    help="window strides to score (63 costs twice 126's time: MPNet runs use 126 only)")
    a = ap.parse_args()
    p = load_params()
    val = pd.read_parquet("data/prepared/val.parquet")
    sents = split_halves(load_sentences(p.robustness.data_dir), p.robustness.report_frac, p.robustness.seed)
    sel = sents[sents.half == "selection"].reset_index(drop=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    command = "python research/encoder_windows/study.py " + " ".join(sys.argv[1:])
    out = HERE / "results.json"  # rows of earlier invocations are kept: a run is done once
    rows = json.loads(out.read_text())["rows"] if out.is_file() else []
    for spec in a.runs:
        if (spec, a.train_size) in {(r["run"], r["train_size"]) for r in rows}:
            continue
        strides = a.strides if spec.startswith("minilm") else a.strides[:1]  # none given: head_tail only
        rows.append({**run(spec, a.train_size, val, sel, p, strides), "commit": commit, "command": command})
        print(json.dumps(rows[-1]), flush=True)
        out.write_text(json.dumps({"meta": {}, "rows": rows}, indent=1) + "\n")
    meta = {"train_size": a.train_size, "commit": commit, "cpu": resolve_runtime(p)["cpu_isa"] + " " + platform.processor(),
            "n_val": len(val), "n_sel": len(sel)}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    (HERE / "report.md").write_text(report(rows, meta))
    print(report(rows, meta))


if __name__ == "__main__":
    main()
