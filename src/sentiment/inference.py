"""Loading pretrained encoders and fast batched inference, shared by every transformer stage.

Speed on CPU comes from (measured in benchmarks/, figures in the README): batches sorted by
length with dynamic padding, `torch.inference_mode`, and bf16 autocast where the hardware
has it. Outputs always come back in input order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import runtime
from .pretrained import BUNDLED, SHORT_NAMES, ModelLoadError, hub_id, resolve_model  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

# Sun et al. 2019 (How to Fine-Tune BERT for Text Classification?): on IMDB the best
# truncation kept the first 128 and last 382 tokens of 510, i.e. a quarter head.
HEAD_FRACTION = 0.25
# Predict-time text cut (cut()): a huge text costs no more than a very long review. English
# averages 4-5 characters per token; 12 leaves a wide margin. The longest IMDB review is
# about 3,000 tokens.
CHARS_PER_TOKEN = 12
MAX_WINDOWS_TOKENS = 4096


def load_pretrained(name: str, auto_cls, **kwargs):
    """`auto_cls.from_pretrained` with an error that says what went wrong."""
    path = resolve_model(name)
    try:
        return auto_cls.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as e:
        if Path(path).exists():
            why = f"{path} exists but is not a loadable model/tokenizer directory"
        elif os.environ.get("HF_HUB_OFFLINE") == "1" or _hub_unreachable():
            why = (
                f"{path!r} is not a local directory and the Hugging Face hub is unreachable "
                "(offline); use 'minilm' or a local model directory"
            )
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


def truncate(ids: Sequence[int], budget: int, strategy: str, rng: np.random.Generator | None = None) -> list[int]:
    """Fit token ids into `budget`: the head, a quarter head and the rest tail, or a random window."""
    ids = list(ids)
    if len(ids) <= budget:
        return ids
    if strategy == "head":
        return ids[:budget]
    if strategy == "head_tail":
        head = int(budget * HEAD_FRACTION)
        return ids[:head] + ids[len(ids) - (budget - head) :]
    if strategy == "random":
        if rng is None:
            raise ValueError("truncation 'random' needs a seeded rng")
        start = int(rng.integers(0, len(ids) - budget + 1))
        return ids[start : start + budget]
    raise ValueError(f"unknown truncation {strategy!r}; use 'head', 'head_tail' or 'random'")


def windows(ids: Sequence[int], budget: int, stride: int) -> list[list[int]]:
    """Every `budget`-token window of `ids`, starts `stride` apart; the last window ends at the end,
    so each token is seen (stride <= budget) and a short text is one window."""
    ids = list(ids)
    if len(ids) <= budget:
        return [ids]
    starts = list(range(0, len(ids) - budget, stride)) + [len(ids) - budget]
    return [ids[s : s + budget] for s in starts]


def _special_layout(tokenizer) -> tuple[int, int]:
    """How many special tokens a single sequence gets before and after its text ([CLS] x [SEP])."""
    full = tokenizer("hello")["input_ids"]
    bare = tokenizer("hello", add_special_tokens=False)["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return i, len(full) - i - len(bare)
    raise ValueError("cannot locate the text between the tokenizer's special tokens")


def _tokenize(tokenizer, texts: Sequence[str], max_length: int):
    """Each text's ids without truncation, split as (special prefix, text ids, special suffix)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if limit and limit < 10**6 and max_length > limit:
        raise ValueError(f"max_length {max_length} exceeds this model's limit of {limit} positions")
    pre, post = _special_layout(tokenizer)
    if max_length - pre - post < 1:
        raise ValueError(f"max_length {max_length} leaves no room for text after {pre + post} special tokens")
    full = tokenizer(list(texts), truncation=False, verbose=False)["input_ids"]
    return max_length - pre - post, [(ids[:pre], ids[pre : len(ids) - post], ids[len(ids) - post :]) for ids in full]


def encode(tokenizer, texts: Sequence[str], max_length: int, strategy: str, seed: int | None = None) -> list[list[int]]:
    """Token ids with special tokens, at most max_length each (no model-specific code).
    strategy 'random' takes one window per text, drawn with `seed` (same seed, same windows)."""
    budget, parts = _tokenize(tokenizer, texts, max_length)
    rng = np.random.default_rng(seed) if strategy == "random" else None
    return [a + truncate(t, budget, strategy, rng) + b for a, t, b in parts]


def encode_windows(
    tokenizer, texts: Sequence[str], max_length: int, stride: int | None
) -> tuple[list[list[int]], np.ndarray]:
    """Every window of every text, special tokens included, and the index of the text each came from."""
    budget, parts = _tokenize(tokenizer, texts, max_length)
    stride = stride or budget  # None: back to back
    if not 0 < stride <= budget:
        raise ValueError(f"window stride {stride} must be in [1, {budget}] (max_length minus special tokens)")
    enc, owner = [], []
    for i, (a, t, b) in enumerate(parts):
        for w in windows(t, budget, stride):
            enc.append(a + w + b)
            owner.append(i)
    return enc, np.asarray(owner, dtype=np.int64)


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


def batched_forward(
    model,
    encoded: list[list[int]],
    forward: Callable,
    batch_size: int,
    precision: str = "auto",
    pad_id: int = 0,
    desc: str = "inference",
    progress: bool | None = None,
) -> np.ndarray:
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
    bar = tqdm(
        total=len(encoded), desc=desc, unit="review", mininterval=5, disable=None if progress is None else not progress
    )
    with torch.inference_mode(), autocast(precision, dev):
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encoded[i]) for i in idx)
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                ids[r, : len(encoded[i])] = torch.tensor(encoded[i])
                mask[r, : len(encoded[i])] = 1
            res = forward(model, ids.to(dev), mask.to(dev)).float().cpu().numpy()
            for r, i in enumerate(idx):
                out[i] = res[r]
            bar.update(len(idx))
    bar.close()
    return np.stack(out) if out else np.zeros((0,))


def cut(text: str, max_length: int, truncation: str) -> str:
    """The part of `text` that can reach the model: the head, both ends for head_tail, or (windows)
    the first MAX_WINDOWS_TOKENS tokens. Bounds the cost of a huge text; for any ordinary review the
    tokens are unchanged (CHARS_PER_TOKEN leaves a wide margin; tested)."""
    if truncation == "windows":
        return text[: CHARS_PER_TOKEN * MAX_WINDOWS_TOKENS]
    budget = CHARS_PER_TOKEN * max_length
    if truncation == "head":
        return text[:budget]
    return text if len(text) <= 2 * budget else text[:budget] + " " + text[-budget:]


def predict_logits(
    model,
    tokenizer,
    texts: Sequence[str],
    max_length: int,
    truncation: str,
    stride: int | None,
    batch_size: int,
    precision: str = "auto",
    progress: bool | None = None,
) -> np.ndarray:
    """(n, labels) logits per text, in input order: the one transformer predict path (stage,
    Predictor, CLI, API). truncation 'windows' scores every max_length window (`stride` tokens
    apart) and averages their logits; head / head_tail score one cut of each text."""
    texts = [cut(t, max_length, truncation) for t in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    if truncation != "windows":
        enc = encode(tokenizer, texts, max_length, truncation)
        return batched_forward(
            model, enc, logits_forward, batch_size, precision, pad, desc="predict", progress=progress
        )
    enc, owner = encode_windows(tokenizer, texts, max_length, stride)
    logits = batched_forward(
        model, enc, logits_forward, batch_size, precision, pad, desc="predict windows", progress=progress
    ).astype(np.float64)
    sums = np.zeros((len(texts), logits.shape[1]))
    np.add.at(sums, owner, logits)
    return sums / np.bincount(owner, minlength=len(texts))[:, None]


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


def positive_index(config, labels: Sequence[str] = ()) -> int:
    """Which output of a 2-label classifier means 'positive', from config.id2label: 1 where id2label
    names the outputs `labels` (a dataset's names of label ids 0 and 1, e.g. bad/good: the finetune
    stage saves them so, and label id 1 is positive), else the output whose name says positive."""
    id2label = getattr(config, "id2label", {})
    if labels and [id2label.get(0), id2label.get(1)] == list(labels):
        return 1
    for i, l in ((i, str(l).lower()) for i, l in id2label.items()):
        if l.startswith("pos") or l in {"label_1", "1"}:
            return int(i)
    raise ValueError(f"cannot tell which label is positive from id2label={config.id2label}")
