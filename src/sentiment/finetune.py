"""Fine-tune a pretrained encoder for binary sentiment with the Hugging Face Trainer.

Runs unchanged on CPU, one GPU or several processes (`torchrun`/`accelerate launch`):
the Trainer handles DDP, and only rank 0 writes outputs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from . import LABELS, THRESHOLD, runtime
from .config import Section
from .inference import check_positions, encode, load_pretrained, resolve_model, softmax
from .metrics import hf_metric
from .runtime import Device, Precision, PredictTruncation, TrainTruncation

log = logging.getLogger(__name__)


class FinetuneParams(Section):
    """params.yaml's top-level keys, named like transformers.TrainingArguments (so that
    `dvc exp run -S learning_rate=1e-5` works). This class is the one list of the fine-tune's
    keys: the stage, its resume fingerprint, the model card and dvc.yaml's params come from it."""

    model_name: str = Field(description="short name (minilm, mpnet), hub id or local dir of a pretrained encoder")
    learning_rate: float = Field(gt=0, lt=1)
    per_device_train_batch_size: int = Field(gt=0)
    per_device_eval_batch_size: int = Field(gt=0)
    num_train_epochs: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    warmup_steps: int | float = Field(ge=0, description="int: steps; float in [0, 1): ratio of all steps")
    seed: int
    max_length: int = Field(gt=2, description="tokens per window, special tokens included")
    truncation: TrainTruncation = Field(
        description="what a training review is cut to: head (first tokens), head_tail (a quarter head, the rest "
        "tail) or random (one window per review, drawn with seed)"
    )
    predict_truncation: PredictTruncation = Field(
        description="what predict-time code reads: head, head_tail, or windows (every max_length window, logits "
        "averaged)"
    )
    window_stride: int | None = Field(
        gt=0,
        description="predict_truncation windows: tokens between window starts (null: back to back, max_length "
        "minus the special tokens)",
    )
    train_size: int | None = Field(gt=0, description="stratified train subset for CPU budgets (null: all)")
    eval_size: int | None = Field(gt=0, description="validation subset evaluated during training")
    evals_per_epoch: int = Field(ge=1)
    attention_dropout: float = Field(ge=0, lt=1, description="0 keeps PyTorch's fast fused attention on CPU")
    precision: Precision = Field(description="auto: bf16 where native (CUDA, AMX/AVX512-BF16 CPUs), else fp32/fp16")
    device: Device = Field(description="auto: cuda, then mps, then cpu")
    group_by_length: bool = Field(description="length-grouped batches: less padding")
    augment_crops: float = Field(
        ge=0, le=4, description="sentence crops of the training reviews added per review, labelled like it (0: none)"
    )
    crop_max_sentences: int = Field(ge=1, le=10, description="a crop is 1..this many consecutive sentences")
    augment_negations: float = Field(
        ge=0,
        le=1,
        description="negation contrast pairs added per training review, at most one each "
        "(sentiment.negation.negation_pairs; 0: none)",
    )

    @model_validator(mode="after")
    def _windows(self):
        if self.window_stride is not None and self.window_stride > self.max_length - 2:
            raise ValueError(
                f"window_stride: {self.window_stride} skips tokens; at most max_length - 2 ({self.max_length - 2})"
            )
        return self

    @field_validator("warmup_steps")
    @classmethod
    def _warmup(cls, v):
        if isinstance(v, float) and v >= 1:
            raise ValueError("a float is a ratio in [0, 1); give an int for a number of steps")
        return v


# Wall-clock figures differ on every run: they stay out of the metrics `dvc metrics diff` compares.
_TIMING = re.compile(r"runtime|per_second|total_flos")


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def load_for_training(name: str, attention_dropout: float, labels: Sequence[str] = LABELS):
    """Tokenizer and a 2-label sequence classifier from any encoder, through the Auto* classes;
    `labels`: the data's names of label ids 0 and 1 (dataset.json), what the saved config calls them."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = load_pretrained(name, AutoTokenizer)
    id2label = dict(enumerate(labels))
    config = load_pretrained(
        name, AutoConfig, num_labels=2, id2label=id2label, label2id={v: k for k, v in id2label.items()}
    )
    # Attention dropout > 0 sends PyTorch's CPU attention down a slow path (~5x slower here).
    for key in ("attention_probs_dropout_prob", "attention_dropout"):
        if hasattr(config, key):
            setattr(config, key, attention_dropout)
    model = load_pretrained(
        name, AutoModelForSequenceClassification, config=config, ignore_mismatched_sizes=True
    )  # e.g. a 5-label head becomes 2 labels
    return tokenizer, model


def to_dataset(tokenizer, df: pd.DataFrame, max_length: int, truncation: str, seed: int | None = None):
    import datasets

    ids = encode(tokenizer, df.text.tolist(), max_length, truncation, seed)
    return datasets.Dataset.from_dict({"input_ids": ids, "labels": df.label.astype(int).tolist()})


def fingerprint(params: dict, *files: str | Path) -> str:
    """What a checkpoint must match to be resumed: the fine-tune params and the data."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for f in files:
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def prepare_checkpoints(ckpt_dir: Path, fp: str) -> bool:
    """True if ckpt_dir holds checkpoints of this very run to resume; else start it afresh."""
    state = ckpt_dir / "run.json"
    if state.is_file():
        s = json.loads(state.read_text())
        if s.get("fingerprint") == fp and not s.get("complete") and any(ckpt_dir.glob("checkpoint-*")):
            return True
    if is_main_process():
        shutil.rmtree(ckpt_dir, ignore_errors=True)
        ckpt_dir.mkdir(parents=True)
        state.write_text(json.dumps({"fingerprint": fp, "complete": False}) + "\n")
    return False


def finish_checkpoints(ckpt_dir: Path) -> None:
    """Training finished and its outputs are written: nothing is left to resume."""
    if is_main_process():
        shutil.rmtree(ckpt_dir, ignore_errors=True)


def resolve_runtime(p) -> dict:
    """Device and precision this run trains and predicts with, and the CPU class (recorded)."""
    dev = runtime.pick_device(p.device)
    return runtime.runtime_info(dev, runtime.resolve_precision(p.precision, dev))


def training_args(p, out_dir: Path, n_train: int, rt: dict):
    from transformers import TrainingArguments

    steps_per_epoch = math.ceil(n_train / (p.per_device_train_batch_size * world_size()))
    every = max(1, steps_per_epoch // p.evals_per_epoch)
    precision = rt["precision"]
    return TrainingArguments(
        output_dir=str(out_dir),
        learning_rate=p.learning_rate,
        per_device_train_batch_size=p.per_device_train_batch_size,
        per_device_eval_batch_size=p.per_device_eval_batch_size,
        num_train_epochs=p.num_train_epochs,
        weight_decay=p.weight_decay,
        warmup_steps=p.warmup_steps,
        seed=p.seed,
        data_seed=p.seed,
        eval_strategy="steps",
        eval_steps=every,
        save_strategy="steps",
        save_steps=every,
        save_total_limit=2,  # best + last, to resume
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        greater_is_better=True,
        logging_steps=max(1, min(every, 20)),
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        train_sampling_strategy="group_by_length" if p.group_by_length else "random",
        use_cpu=rt["device"] == "cpu",
        report_to="none",  # DVCLiveCallback is added explicitly (see train)
        ddp_backend="gloo" if world_size() > 1 and rt["device"] != "cuda" else None,
    )


def eval_metrics(pred) -> dict:
    """Validation metrics during training: the project's `evaluate` module (one implementation)."""
    prob = softmax(pred.predictions)[:, 1]
    m = hf_metric().compute(
        predictions=(prob >= THRESHOLD).astype(int), references=pred.label_ids, prediction_scores=prob
    )
    return {k: m[k] for k in ("accuracy", "f1", "roc_auc")}


def live_callback(live):
    """transformers' DVCLiveCallback, with optimizer steps on the x axis (not log events) and
    without wall-clock figures (they would show as changed metrics in every diff)."""
    from transformers.integrations import DVCLiveCallback

    class StepDVCLiveCallback(DVCLiveCallback):
        def on_log(self, args, state, control, model=None, logs=None, **kwargs):
            logs = {k: v for k, v in (logs or {}).items() if not _TIMING.search(k)}
            if self.live is not None:
                self.live.step = state.global_step
            super().on_log(args, state, control, model=model, logs=logs, **kwargs)

    return StepDVCLiveCallback(live=live)


def train(
    p,
    train_df: pd.DataFrame,
    val_df: pd.DataFrame,
    ckpt_dir: Path,
    live_dir: Path | None,
    fp: str,
    callbacks: list | None = None,
    labels: Sequence[str] = LABELS,
):
    """Fine-tune; resumes from ckpt_dir when it holds an interrupted run with the same fingerprint.
    `labels`: the names of label ids 0 and 1 the model's config gets.

    Returns (trainer, tokenizer, resumed, runtime info).
    """
    from transformers import DataCollatorWithPadding, Trainer, set_seed

    rt = resolve_runtime(p)
    set_seed(p.seed)
    tokenizer, model = load_for_training(p.model_name, p.attention_dropout, labels)
    check_positions(model, p.max_length)
    train_ds = to_dataset(tokenizer, train_df, p.max_length, p.truncation, p.seed)
    # checkpoint choice sees what predict-time code reads (one cut per review, windows averaged
    # only at predict: the Trainer scores one row per example)
    val_ds = to_dataset(tokenizer, val_df, p.max_length, p.truncation, p.seed + 1)
    resume = prepare_checkpoints(ckpt_dir, fp)
    callbacks = list(callbacks or [])
    if live_dir is not None and is_main_process():
        from dvclive import Live

        # dvcyaml=None: dvc.yaml declares these outputs; dvclive must not rewrite it.
        live = Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, resume=resume)
        callbacks.append(live_callback(live))
    trainer = Trainer(
        model=model,
        args=training_args(p, ckpt_dir, len(train_ds), rt),
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=eval_metrics,
        callbacks=callbacks,
    )
    log.info(
        "training %s on %d reviews (val %d), %d process(es), %s, %s precision, CPU %s%s",
        resolve_model(p.model_name),
        len(train_ds),
        len(val_ds),
        world_size(),
        rt["device"],
        rt["precision"],
        rt["cpu_isa"],
        ", resuming from the last checkpoint" if resume else "",
    )
    trainer.train(resume_from_checkpoint=resume or None)
    return trainer, tokenizer, resume, rt


def save_model(trainer, tokenizer, out_dir: Path) -> None:
    """Weights, config and tokenizer: files that depend on the params and data only. Not the
    Trainer's training_args.bin, a pickle of runtime state (its output_dir, the accelerate
    state) that changed the folder's hash between otherwise identical runs; the full
    TrainingArguments are in dvclive/finetune/params.yaml."""
    trainer.save_model(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    (Path(out_dir) / "training_args.bin").unlink(missing_ok=True)


def predict_proba(
    model,
    tokenizer,
    texts,
    max_length: int,
    truncation: str,
    stride: int | None,
    batch_size: int,
    precision: str = "auto",
    progress: bool | None = None,
    labels: Sequence[str] = LABELS,
) -> np.ndarray:
    """P(positive) per text, in input order, through the one transformer predict path; `labels`: the
    names load_for_training gave the outputs (which tell the positive one when the names do not)."""
    from .inference import positive_index, predict_logits

    logits = predict_logits(model, tokenizer, texts, max_length, truncation, stride, batch_size, precision, progress)
    return softmax(logits)[:, positive_index(model.config, labels)]
