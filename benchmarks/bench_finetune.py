"""Training throughput: a plain fp32, fixed-padding Trainer vs this project's settings.

Same model, same reviews, same number of optimizer steps, one process; prints samples/s of
both and the ratio. Run from the repo root:

    python benchmarks/bench_finetune.py --max_length 512 --steps 12
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from transformers import DataCollatorWithPadding, HfArgumentParser, Trainer, TrainingArguments, default_data_collator  # noqa: E402

from sentiment.config import TOP, read_yaml, section_values, validate  # noqa: E402
from sentiment.data import clean_text  # noqa: E402
from sentiment.finetune import (  # noqa: E402
    FinetuneParams,
    load_for_training,
    resolve_runtime,
    to_dataset,
    training_args,
)


@dataclass
class Args:
    model_name: str = field(default="minilm", metadata={"help": "short name, hub id or local dir"})
    max_length: int = field(default=512, metadata={"help": "tokens per review for both runs"})
    reviews: int = field(default=1024, metadata={"help": "real IMDB train reviews to draw batches from"})
    steps: int = field(default=12, metadata={"help": "optimizer steps per run"})
    batch_size: int = field(default=16, metadata={"help": "per-device train batch size"})
    precision: str = field(default="auto", metadata={"help": "the project run's precision: auto, bf16, fp32"})
    skip_plain: bool = field(default=False, metadata={"help": "time the project settings only"})
    seed: int = 0


def plain_run(a: Args, df: pd.DataFrame, out: Path) -> float:
    """What a tutorial does: pad every review to max_length, fp32, the model's own dropout."""
    import datasets
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from sentiment.inference import resolve_model

    path = resolve_model(a.model_name)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    enc = tok(df.text.tolist(), padding="max_length", truncation=True, max_length=a.max_length)
    ds = datasets.Dataset.from_dict({**enc, "labels": df.label.tolist()})
    args = TrainingArguments(
        output_dir=str(out / "plain"),
        per_device_train_batch_size=a.batch_size,
        max_steps=a.steps,
        seed=a.seed,
        save_strategy="no",
        report_to="none",
        logging_steps=10**6,
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=True,
    )
    return _timed_train(Trainer(model=model, args=args, train_dataset=ds, data_collator=default_data_collator), a)


def project_params(**overrides) -> FinetuneParams:
    """The fine-tune params of the repo's params.yaml (its top-level keys) with `overrides`,
    validated as the stage validates them."""
    path = ROOT / "params.yaml"
    return validate(FinetuneParams, {**section_values(read_yaml(path), TOP), **overrides}, path)


def project_run(a: Args, df: pd.DataFrame, out: Path) -> float:
    """The finetune stage's own code path and params.yaml's settings (bf16 where supported,
    dynamic padding, length-grouped batches, attention dropout 0, head+tail truncation)."""
    p = project_params(
        model_name=a.model_name,
        max_length=a.max_length,
        per_device_train_batch_size=a.batch_size,
        seed=a.seed,
        precision=a.precision,
    )
    tok, model = load_for_training(p.model_name, p.attention_dropout)
    ds = to_dataset(tok, df, p.max_length, p.truncation)
    args = dataclasses.replace(
        training_args(p, out / "project", len(ds), resolve_runtime(p)),
        max_steps=a.steps,
        eval_strategy="no",
        save_strategy="no",
        load_best_model_at_end=False,
        logging_steps=10**6,
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=ds, data_collator=DataCollatorWithPadding(tok))
    return _timed_train(trainer, a)


def _timed_train(trainer: Trainer, a: Args) -> float:
    t = time.perf_counter()
    trainer.train()
    return a.steps * a.batch_size / (time.perf_counter() - t)


def main() -> None:
    (a,) = HfArgumentParser(Args).parse_args_into_dataclasses()
    torch.manual_seed(a.seed)
    raw = pd.read_parquet("data/raw/imdb/train.parquet").sample(a.reviews, random_state=a.seed)
    df = raw.assign(text=raw.text.map(clean_text))
    out = Path("/tmp/bench_finetune")
    print(
        f"{a.model_name}, max_length {a.max_length}, batch {a.batch_size}, {a.steps} steps, "
        f"{torch.get_num_threads()} threads, cuda={torch.cuda.is_available()}",
        flush=True,
    )
    fast = project_run(a, df, out)
    print(
        f"project settings : {fast:7.2f} samples/s ({resolve_runtime(project_params(precision=a.precision))['precision']})",
        flush=True,
    )
    if a.skip_plain:
        return
    plain = plain_run(a, df, out)
    print(f"plain fp32 padded: {plain:7.2f} samples/s", flush=True)
    print(f"speed-up         : {fast / plain:7.2f}x")


if __name__ == "__main__":
    main()
