"""Real-time inference: load a trained model once, classify reviews. Shared by the CLI
(src/predict.py) and the HTTP service (src/serve.py); imports no training code.

The path decides the kind of model:
  - a directory with ensemble.json: a stacked-logit ensemble of other models (below); a member
    is a model path, or a zero-shot scorer (the VADER lexicon) stored by its settings;
  - a directory with config.json: a transformer classifier saved with `save_pretrained`
    (models/finetuned), predicted with the shared fast inference (sorted batches, dynamic
    padding, bf16 autocast where the hardware has it);
  - a `.joblib` file: a baseline sklearn pipeline (models/baseline/<name>.joblib). joblib
    files are pickles: load only files you trust.

What the model's labels are called comes from dataset.json in its folder (a baseline's: the folder
the .joblib is in; an ensemble's: its own, not its members'), written from the prepared data by the
stage that trained it; a folder without one is an IMDB model (negative/positive). Label id 1 is
positive sentiment whatever its name.

Bad input has one policy, here, for the library, the CLI and the API: a text that is not
a string, or is empty once cleaned (whitespace/HTML only), raises `InputError` naming its
0-based index. Text is cleaned once, with `sentiment.data.clean_text`, as in training.

Heavy imports (torch, transformers, sklearn) happen only when a model is loaded, so a bad
path or bad arguments fail in well under a second.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import LABELS, THRESHOLD, ConfigError, DataError
from .data import InputError, check_texts  # noqa: F401 (the one bad-input policy, re-exported)
from .runtime import Precision, PredictTruncation

log = logging.getLogger(__name__)

TRUNCATIONS = get_args(PredictTruncation)  # one source of truth: the params schema
PRECISIONS = get_args(Precision)
CLEANING = "sentiment.data.clean_text"  # the only cleaning this code knows how to apply
# The model predict.py and serve.py load when none is named: the best servable model on validation
# (reports/comparison.json, best_on_val).
DEFAULT_MODEL = "models/ensemble"


class PredictorError(ConfigError):
    """The model cannot be loaded or used; the message says why."""


class Prediction(NamedTuple):
    label: str  # the model's name of the label: labels[prob_positive >= THRESHOLD]
    prob_positive: float


def model_kind(path: str | Path) -> str:
    """'ensemble', 'transformer' (a directory) or 'baseline' (a .joblib file); else PredictorError."""
    p = Path(path)
    if not p.exists():
        hint = " (train it with the pipeline: dvc repro)" if p.parts[:1] == ("models",) else ""
        raise PredictorError(
            f"model path {str(path)!r} does not exist{hint}; give a fine-tuned model "
            "directory (save_pretrained), an ensemble directory or a baseline .joblib file"
        )
    if p.is_dir():
        if (p / "ensemble.json").is_file():
            return "ensemble"
        if not (p / "config.json").is_file():
            raise PredictorError(f"{path}: not a model directory (no config.json or ensemble.json)")
        return "transformer"
    if p.suffix == ".joblib":
        return "baseline"
    raise PredictorError(f"{path}: not a model directory or a .joblib file")


# --- what a model directory says about itself ------------------------------------------------


class InferenceSettings(BaseModel):
    """models/<dir>/inference.json, written by the finetune stage. precision/device/cpu_isa
    record what training resolved; they are reported, not reused (see Predictor)."""

    model_config = ConfigDict(extra="forbid")
    max_length: int = Field(gt=2)
    truncation: PredictTruncation  # how predict-time code reads a text
    window_stride: int | None = Field(None, gt=0)  # truncation windows: tokens between window starts
    labels: list[str] = list(LABELS)
    threshold: float = THRESHOLD
    cleaning: str = CLEANING
    precision: Precision | None = None
    device: str | None = None
    cpu_isa: str | None = None
    # provenance, reported only
    torch: str | None = None
    gpu: str | None = None
    base_model: str | None = None
    n_train: int | None = None
    n_crops: int | None = None
    n_negation_pairs: int | None = None
    train_truncation: str | None = None


class ScorerRef(BaseModel):
    """A zero-shot scorer member (sentiment.scorers): no model file, its settings instead."""

    model_config = ConfigDict(extra="forbid")
    name: str
    settings: dict = Field(
        default_factory=dict,
        description="the scorer's settings, as the pretrained_eval stage chose them (sentiment.scorers.settings)",
    )


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    path: str | None = Field(None, description="relative to the current working directory (the repo root)")
    scorer: ScorerRef | None = Field(None, description="instead of a path: a zero-shot scorer")
    coef: float
    length_coef: float = 0.0

    @model_validator(mode="after")
    def _one_source(self):
        if (self.path is None) == (self.scorer is None):
            raise ValueError(f"member {self.name!r}: give exactly one of path and scorer")
        return self


class _ScorerMember:
    """A zero-shot scorer with the member interface the ensemble uses (`_proba`, `info`)."""

    def __init__(self, ref: ScorerRef):
        from types import SimpleNamespace

        from .scorers import load_scorer

        try:
            self._score = load_scorer(ref.name, SimpleNamespace(**ref.settings))  # checks the name first
        except (ValueError, TypeError) as e:
            raise PredictorError(f"cannot load scorer {ref.name!r}: {e}") from None
        self.name = ref.name
        self._info = {"sha256": hashlib.sha256(ref.model_dump_json().encode()).hexdigest()[:12], "scorer": ref.name}

    def _proba(self, cleaned: list[str]):
        return self._score(cleaned)

    def info(self) -> dict:
        return {"name": self.name, "kind": "scorer", **self._info}


class EnsembleSpec(BaseModel):
    """models/ensemble/ensemble.json: P = sigmoid(intercept + sum (coef_m + length_coef_m * s) * logit(clip(p_m)))
    with s = log(words) - log(170) (sentiment.stacker.length_feature) for features logits_x_length;
    texts of at most short_words words take short_member's P instead (sentiment.stacker.route_short)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["stacked_logit"]
    features: Literal["logits", "logits_x_length"] = "logits"
    members: list[Member] = Field(min_length=1)
    intercept: float
    short_words: int = Field(0, ge=0)
    short_member: str | None = None

    @model_validator(mode="after")
    def _short_member(self):
        if self.short_words and self.short_member not in [m.name for m in self.members]:
            raise ValueError(f"short_member {self.short_member!r} is not one of the members")
        return self


def _read_json(path: Path, schema: type[BaseModel]):
    try:
        return schema.model_validate_json(path.read_bytes())
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(map(str, first["loc"])) or "file"
        raise PredictorError(f"{path}: {where}: {first['msg']}") from None


def _sha256(files: Sequence[Path]) -> str:
    """Short identity of the weights: sha256 over the files' bytes, in name order."""
    h = hashlib.sha256()
    for f in sorted(files):
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()[:12]


class Predictor:
    """A loaded model: `predict(texts) -> [Prediction(label, prob_positive), ...]` in input order;
    `dataset` and `labels` (names of label ids 0 and 1) from the model folder's dataset.json.

    Transformer settings come from the model's own folder (never from params.yaml of the
    current folder): max_length / truncation from its inference.json, or, when it has none
    (e.g. a hub classifier), from its config/tokenizer position limit with truncation 'head'
    and a logged warning. Explicit arguments override; an explicit max_length beyond the
    model's positions is an error. precision defaults to 'auto' resolved for *this*
    hardware (bf16 where supported, else fp32), not to what training used: the serving
    machine may differ from the training one.

    Not thread-safe for concurrent predict calls (fast tokenizers are not): serialise them
    (src/serve.py does).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_length: int | None = None,
        truncation: str | None = None,
        precision: str | None = None,
        batch_size: int = 32,
        threads: int | None = None,
    ):
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
        from .io import read_dataset_info  # here: pandas only once a model is loaded

        try:
            data = read_dataset_info(self.path.parent if self.kind == "baseline" else self.path)
        except DataError as e:
            raise PredictorError(str(e)) from None
        self.dataset, self.labels = data["name"], tuple(data["labels"])
        self.batch_size = batch_size
        self._info: dict = {}
        if self.kind == "baseline":
            self._load_baseline()
        elif self.kind == "ensemble":
            self._load_ensemble(
                dict(
                    max_length=max_length,
                    truncation=truncation,
                    precision=precision,
                    batch_size=batch_size,
                    threads=threads,
                )
            )
        else:
            self._load_transformer(max_length, truncation, precision, threads)

    # --- loading -----------------------------------------------------------------------

    def _load_baseline(self) -> None:
        import joblib

        try:
            model = joblib.load(self.path)
        except Exception as e:  # unpickling raises many types
            raise PredictorError(f"{self.path}: not a loadable joblib model ({type(e).__name__}: {e})") from None
        classes = list(getattr(model, "classes_", []))
        if not hasattr(model, "predict_proba") or sorted(classes) != [0, 1]:
            raise PredictorError(
                f"{self.path}: not a binary sentiment classifier (need predict_proba and "
                f"classes [0, 1]; got {type(model).__name__} with classes {classes})"
            )
        self.model, self._pos = model, classes.index(1)
        self._info = {"sha256": _sha256([self.path]), "pipeline": [n for n, _ in getattr(model, "steps", [])]}

    def _load_ensemble(self, member_kwargs: dict) -> None:
        spec_file = self.path / "ensemble.json"
        self.spec = _read_json(spec_file, EnsembleSpec)
        self.members = []
        for m in self.spec.members:
            try:
                if m.scorer is not None:
                    self.members.append(_ScorerMember(m.scorer))
                    continue
                if model_kind(m.path) == "ensemble":
                    raise PredictorError("an ensemble cannot contain an ensemble")
                self.members.append(Predictor(m.path, **member_kwargs))
            except PredictorError as e:
                raise PredictorError(f"{spec_file}: member {m.name!r}: {e}") from None
        names = [m.name for m in self.spec.members]
        self._short = self.members[names.index(self.spec.short_member)] if self.spec.short_words else None
        ids = "".join(p._info["sha256"] for p in self.members)
        self._info = {
            "sha256": hashlib.sha256(spec_file.read_bytes() + ids.encode()).hexdigest()[:12],
            "features": self.spec.features,
            "members": [
                {"name": m.name, "coef": m.coef, "length_coef": m.length_coef, "model": p.info()}
                for m, p in zip(self.spec.members, self.members)
            ],
            "intercept": self.spec.intercept,
            "short_words": self.spec.short_words,
            "short_member": self.spec.short_member,
        }

    def _load_transformer(self, max_length, truncation, precision, threads) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from .inference import (
            ModelLoadError,
            _special_layout,
            device,
            load_pretrained,
            positive_index,
            resolve_precision,
        )

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
            raise PredictorError(
                f"{path}: not a fine-tuned classifier, weights missing: {', '.join(sorted(missing)[:4])}"
            )
        if model.config.num_labels != 2:
            raise PredictorError(
                f"{path}: expected a 2-label (negative/positive sentiment) classifier, "
                f"got {model.config.num_labels} labels {model.config.id2label}"
            )
        try:
            self._pos = positive_index(model.config, self.labels)
        except ValueError as e:
            raise PredictorError(f"{path}: {e}") from None

        limit = _position_limit(model, tokenizer)
        saved_file = self.path / "inference.json"
        if saved_file.is_file():
            saved = _read_json(saved_file, InferenceSettings)
            if saved.labels != list(self.labels):  # both written by the finetune stage from the same data
                raise PredictorError(
                    f"{saved_file}: labels {saved.labels!r} differ from {list(self.labels)!r} (the "
                    "dataset.json beside it; IMDB's without one): the folder mixes files of two models"
                )
            for key, ours in (("threshold", THRESHOLD), ("cleaning", CLEANING)):
                if getattr(saved, key) != ours:
                    raise PredictorError(
                        f"{saved_file}: {key} {getattr(saved, key)!r} differs from this code's "
                        f"{ours!r}; this model needs other prediction code"
                    )
            source, default_length, default_trunc = "inference.json", saved.max_length, saved.truncation
            stride = saved.window_stride
            trained = {k: getattr(saved, k) for k in ("precision", "device", "cpu_isa") if getattr(saved, k)}
        else:
            default_length, default_trunc, trained, stride = limit or 512, "head", {}, None
            source = "model config (no inference.json)"
            if max_length is None or truncation is None:
                log.warning(
                    "%s has no inference.json: using max_length %s and truncation %r from the model's "
                    "config; pass them explicitly if it was trained otherwise",
                    path,
                    max_length or default_length,
                    truncation or default_trunc,
                )
        if max_length is None:
            max_length = default_length
            if limit is not None and max_length > limit:
                log.warning(
                    "max_length %d (%s) exceeds this model's %d positions: using %d", max_length, source, limit, limit
                )
                max_length = limit
        elif limit is not None and max_length > limit:
            raise PredictorError(f"max_length {max_length} exceeds this model's limit of {limit} positions")
        self.max_length, self.truncation = max_length, truncation or default_trunc
        # windows: the saved stride, or back-to-back windows; never wider than a window's text
        budget = max_length - sum(_special_layout(tokenizer))
        self.window_stride = min(stride or budget, budget) if self.truncation == "windows" else None
        dev = device()
        self.precision = resolve_precision(precision or "auto", dev)
        self.model, self.tokenizer = model.to(dev).eval(), tokenizer
        weights = [f for f in self.path.iterdir() if f.suffix in {".safetensors", ".bin"}]
        self._info = {
            "sha256": _sha256(weights),
            "architecture": type(model).__name__,
            "max_length": self.max_length,
            "truncation": self.truncation,
            **({"window_stride": self.window_stride} if self.window_stride else {}),
            "precision": self.precision,
            "device": str(dev),
            "threads": torch.get_num_threads(),
            "settings_from": source,
            **({"trained_with": trained} if trained else {}),
        }

    def info(self) -> dict:
        """What is loaded (identity = short sha256 of the weights) and how, for logs and /health."""
        return {
            "name": self.name,
            "path": str(self.path),
            "kind": self.kind,
            "dataset": self.dataset,
            "labels": list(self.labels),
            **self._info,
        }

    # --- prediction --------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        """P(positive) per text, in input order; InputError if any text is bad (see check_texts)."""
        return [p.prob_positive for p in self.predict(texts)]

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return self.predict_cleaned(check_texts(list(texts)))

    def predict_cleaned(self, cleaned: list[str]) -> list[Prediction]:
        """predict() for texts that already went through check_texts (serve.py cleans once)."""
        probs = [float(p) for p in self._proba(cleaned)] if cleaned else []
        return [Prediction(self.labels[p >= THRESHOLD], p) for p in probs]

    def _proba(self, cleaned: list[str]):
        if self.kind == "baseline":
            return self.model.predict_proba(cleaned)[:, self._pos]
        if self.kind == "ensemble":
            import numpy as np

            from .stacker import length_feature, logit, route_short, routed  # the stacker's own transforms

            # Routed (short) texts need only the short-text member; the others, every member.
            short = routed(cleaned, self.spec.short_words)
            prob, member_logit = np.zeros(len(cleaned)), np.zeros(len(cleaned))
            long_texts = [t for t, r in zip(cleaned, short) if not r]
            if long_texts:
                s = length_feature(long_texts) if self.spec.features == "logits_x_length" else 0.0
                zs = {m.name: logit(p._proba(long_texts)) for m, p in zip(self.spec.members, self.members)}
                z = self.spec.intercept + sum((m.coef + m.length_coef * s) * zs[m.name] for m in self.spec.members)
                prob[~short] = 1 / (1 + np.exp(-z))
            if short.any():
                member_logit[short] = logit(self._short._proba([t for t, r in zip(cleaned, short) if r]))
            return route_short(prob, member_logit, cleaned, self.spec.short_words)
        from .inference import predict_logits, softmax

        logits = predict_logits(
            self.model,
            self.tokenizer,
            cleaned,
            self.max_length,
            self.truncation,
            self.window_stride,
            self.batch_size,
            self.precision,
            progress=False,
        )
        return softmax(logits.astype("float64"))[:, self._pos]


def _position_limit(model, tokenizer) -> int | None:
    limits = [
        n
        for n in (getattr(tokenizer, "model_max_length", None), getattr(model.config, "max_position_embeddings", None))
        if n and n < 10**6
    ]
    return min(limits) if limits else None
