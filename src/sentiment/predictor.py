"""Real-time inference: load a trained model once, classify reviews. Shared by the CLI
(src/predict.py) and the HTTP service (src/serve.py).

The path decides the kind of model:
  - a directory: a fine-tuned transformer classifier saved with `save_pretrained`
    (models/finetuned), predicted with the shared fast inference (sorted batches, dynamic
    padding, bf16 autocast where the hardware has it);
  - a `.joblib` file: a baseline sklearn pipeline (models/baseline/<name>.joblib). joblib
    files are pickles: load only files you trust.

Text is cleaned with `sentiment.data.clean_text`, exactly as the training data was.

Heavy imports (torch, transformers, sklearn) happen only when a model is loaded, so a bad
path or bad arguments fail in well under a second.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, get_args

from . import ConfigError
from .config import Precision, Truncation

log = logging.getLogger(__name__)

THRESHOLD = 0.5  # the same cut as io.make_predictions: P(positive) >= 0.5 -> positive
LABELS = ("negative", "positive")
CHUNK = 1024  # reviews per predict call on large inputs (bounds memory, drives the progress bar)
TRUNCATIONS = get_args(Truncation)  # one source of truth: the params schema
PRECISIONS = get_args(Precision)


class PredictorError(ConfigError):
    """The model cannot be loaded or used; the message says why."""


@dataclass(frozen=True)
class Prediction:
    label: str
    prob_positive: float

    def __iter__(self):  # unpacks like a (label, prob_positive) tuple
        return iter((self.label, self.prob_positive))


def model_kind(path: str | Path) -> str:
    """'transformer' for a model directory, 'baseline' for a .joblib file; else PredictorError."""
    p = Path(path)
    if not p.exists():
        hint = " (train it with the pipeline: dvc repro)" if p.parts[:1] == ("models",) else ""
        raise PredictorError(f"model path {str(path)!r} does not exist{hint}; give a fine-tuned model "
                             "directory (save_pretrained) or a baseline .joblib file")
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise PredictorError(f"{path}: not a model directory (no config.json); give a fine-tuned model "
                                 "directory (save_pretrained) or a baseline .joblib file")
        return "transformer"
    if p.suffix == ".joblib":
        return "baseline"
    raise PredictorError(f"{path}: not a model directory or a .joblib file")


def _trained_params(model_dir: Path) -> tuple[dict, str | None]:
    """max_length/truncation the model was trained with, from the inference.json the finetune
    stage saves beside it. ({}, None) when the directory has none (e.g. a hub model)."""
    saved = model_dir / "inference.json"
    if not saved.is_file():
        return {}, None
    try:
        data = json.loads(saved.read_text())
    except ValueError as e:
        raise PredictorError(f"{saved}: not valid JSON ({e})") from None
    found = {k: data[k] for k in ("max_length", "truncation") if k in data}
    if "max_length" in found and (not isinstance(found["max_length"], int) or found["max_length"] < 3):
        raise PredictorError(f"{saved}: max_length must be an int > 2, got {found['max_length']!r}")
    return found, str(saved.name)


def _params_file_defaults(params_file: str | Path | None) -> dict:
    """max_length/truncation/precision from the validated params.yaml (schema defaults if absent)."""
    from .config import Params, load_params

    if params_file is not None and Path(params_file).is_file():
        p = load_params(params_file)  # ConfigError (with the key) if params.yaml is invalid
        source = str(params_file)
    else:
        p, source = Params(), "built-in defaults"
    return {"max_length": p.max_length, "truncation": p.truncation, "precision": p.precision, "_source": source}


class Predictor:
    """A loaded model: `predict(texts) -> [Prediction(label, prob_positive), ...]` in input order.

    max_length / truncation (transformers only) default to what the model was trained with:
    the model directory's inference.json when it has one, else params.yaml
    (the pipeline's validated params), else the schema defaults; precision to params.yaml. Explicit arguments override; an explicit
    max_length beyond the model's positions is an error, a default one is capped with a warning.

    Not thread-safe for concurrent predict calls (fast tokenizers are not): serialise them
    (src/serve.py does).
    """

    def __init__(self, path: str | Path, *, max_length: int | None = None, truncation: str | None = None,
                 precision: str | None = None, batch_size: int = 32, params_file: str | Path | None = "params.yaml",
                 threads: int | None = None):
        self.path = Path(path)
        self.kind = model_kind(self.path)
        self.name = self.path.stem if self.kind == "baseline" else self.path.resolve().name
        if batch_size < 1:
            raise PredictorError(f"batch_size must be >= 1, got {batch_size}")
        if truncation is not None and truncation not in TRUNCATIONS:
            raise PredictorError(f"truncation must be one of {TRUNCATIONS}, got {truncation!r}")
        if precision is not None and precision not in PRECISIONS:
            raise PredictorError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if max_length is not None and max_length < 3:
            raise PredictorError(f"max_length must be > 2, got {max_length}")
        if threads is not None and threads < 1:
            raise PredictorError(f"threads must be >= 1, got {threads}")
        self.batch_size = batch_size
        self.max_length = self.truncation = self.precision = None
        self.settings_source = None
        if self.kind == "baseline":
            self._load_baseline()
        else:
            self._load_transformer(max_length, truncation, precision, params_file, threads)

    # --- loading -----------------------------------------------------------------------

    def _load_baseline(self) -> None:
        import joblib

        try:
            model = joblib.load(self.path)
        except Exception as e:  # unpickling raises many types
            raise PredictorError(f"{self.path}: not a loadable joblib model ({type(e).__name__}: {e})") from None
        classes = list(getattr(model, "classes_", []))
        if not hasattr(model, "predict_proba") or sorted(classes) != [0, 1]:
            raise PredictorError(f"{self.path}: not a binary sentiment classifier (need predict_proba and "
                                 f"classes [0, 1]; got {type(model).__name__} with classes {classes})")
        self.model, self.tokenizer = model, None

    def _load_transformer(self, max_length, truncation, precision, params_file, threads) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from .inference import ModelLoadError, device, load_pretrained, positive_index, resolve_precision

        if threads is not None:
            # process-wide. On a busy machine fewer threads than cores avoids OpenMP threads
            # spin-waiting on each other (measured: 100x slower small forwards with 2 threads
            # on 2 cores shared with other jobs)
            torch.set_num_threads(threads)
        path = str(self.path)
        try:
            tokenizer = load_pretrained(path, AutoTokenizer)
            model, info = load_pretrained(path, AutoModelForSequenceClassification, output_loading_info=True)
        except ModelLoadError as e:
            raise PredictorError(str(e)) from None
        missing = [k for k in info.get("missing_keys", []) if "position_ids" not in k]
        if missing:  # e.g. a base encoder: transformers would silently add a random classifier head
            raise PredictorError(f"{path}: not a fine-tuned classifier, weights missing: {', '.join(sorted(missing)[:4])}")
        if model.config.num_labels != 2:
            raise PredictorError(f"{path}: expected a 2-label (negative/positive) classifier, "
                                 f"got {model.config.num_labels} labels {model.config.id2label}")
        try:
            self._pos = positive_index(model.config)
        except ValueError as e:
            raise PredictorError(f"{path}: {e}") from None

        defaults = _params_file_defaults(params_file)
        saved, saved_source = _trained_params(self.path)
        trained = {**{k: v for k, v in defaults.items() if not k.startswith("_")}, **saved}
        self.settings_source = saved_source or defaults["_source"]
        limit = _position_limit(model, tokenizer)
        if max_length is None:
            max_length = trained["max_length"]
            if limit is not None and max_length > limit:
                log.warning("max_length %d (%s) exceeds this model's %d positions: using %d",
                            max_length, self.settings_source, limit, limit)
                max_length = limit
        elif limit is not None and max_length > limit:
            raise PredictorError(f"max_length {max_length} exceeds this model's limit of {limit} positions")
        self.max_length = max_length
        self.truncation = truncation or trained["truncation"]
        if self.truncation not in TRUNCATIONS:
            raise PredictorError(f"{self.path} ({self.settings_source}): unknown truncation {self.truncation!r}")
        dev = device()
        self.precision = resolve_precision(precision or defaults["precision"], dev)
        self.model, self.tokenizer = model.to(dev).eval(), tokenizer

    def info(self) -> dict:
        """What is loaded, for logs and /health."""
        out = {"name": self.name, "path": str(self.path), "kind": self.kind}
        if self.kind == "transformer":
            out.update(architecture=type(self.model).__name__, max_length=self.max_length,
                       truncation=self.truncation, precision=self.precision, device=str(self.model.device),
                       threads=torch_threads(), settings_from=self.settings_source)
        else:
            out["pipeline"] = [name for name, _ in getattr(self.model, "steps", [])]
        return out

    # --- prediction --------------------------------------------------------------------

    @staticmethod
    def clean(texts: Sequence[str]) -> list[str]:
        from .data import clean_text  # (imports pandas/sklearn: not at module level)

        return [clean_text(t) for t in texts]

    def predict_proba(self, texts: Sequence[str], progress: bool | None = False) -> list[float]:
        """P(positive) per text, in input order. progress: tqdm bar on stderr (None: on a terminal)."""
        from tqdm.auto import tqdm

        texts = list(texts)
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise TypeError(f"texts must be strings; item(s) {bad[:5]} are not")
        cleaned = self.clean(texts)
        empty = [i for i, t in enumerate(cleaned) if not t]
        if empty:
            raise ValueError(f"{len(empty)} text(s) empty after cleaning, e.g. item(s) {empty[:5]}")
        out: list[float] = []
        with tqdm(total=len(cleaned), desc=f"predict ({self.name})", unit="review", file=sys.stderr,
                  disable=None if progress is None else not progress, mininterval=1) as bar:
            for start in range(0, len(cleaned), CHUNK):
                chunk = cleaned[start:start + CHUNK]
                out.extend(float(p) for p in self._proba(chunk))
                bar.update(len(chunk))
        return out

    def _proba(self, texts: list[str]):
        if self.kind == "baseline":
            from .baseline import predict_proba

            return predict_proba(self.model, texts)
        from .finetune import predict_proba

        return predict_proba(self.model, self.tokenizer, texts, self.max_length, self.truncation,
                             self.batch_size, self.precision, progress=False)

    def predict(self, texts: Sequence[str], progress: bool | None = False) -> list[Prediction]:
        return [Prediction(LABELS[p >= THRESHOLD], p) for p in self.predict_proba(texts, progress)]


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _position_limit(model, tokenizer) -> int | None:
    limits = [n for n in (getattr(tokenizer, "model_max_length", None),
                          getattr(model.config, "max_position_embeddings", None)) if n and n < 10**6]
    return min(limits) if limits else None
