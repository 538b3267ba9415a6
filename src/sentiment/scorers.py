"""Zero-shot sentiment scorers for the pretrained_eval stage: review texts -> P(positive).

Nothing here is trained on IMDB. A scorer is built once by `load_scorer(name, params)` and
maps a list of texts to a float64 array of P(positive), in input order. Names:

- `vader`: the VADER lexicon; P(positive) = (compound + 1) / 2.
- `minilm_embed`: the bundled all-MiniLM-L6-v2 sentence embedding; softmax at `temperature`
  over its cosine similarities to a positive and a negative label description.
- `distilbert-sst2`, `nlptown-stars`, or any other hub id / local model directory: a
  sequence classifier. 2 labels: P(the label whose name says positive). 5 labels or
  star-named labels: `stars_to_positive`, i.e. P(4) + P(5) + 0.5 * P(3).

An empty or non-text review is an error naming its index (no score is invented for it).
The transformer scorers use the shared fast inference in `inference.py`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import numpy as np
from pydantic import ConfigDict, Field

from . import THRESHOLD, ConfigError
from .config import Grid, Subset
from .inference import (
    ModelLoadError,
    batched_forward,
    check_positions,
    device,
    encode,
    load_pretrained,
    logits_forward,
    mean_pool_forward,
    positive_index,
    softmax,
)
from .runtime import Device, Precision, Truncation

log = logging.getLogger(__name__)


Prompt = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=2, max_length=2)]


class ScorerParams(Subset):
    """params.yaml `pretrained_eval` without `models`: what building a zero-shot scorer reads
    (the ensemble and robustness stages read these keys too, to serve a zero-shot member)."""

    batch_size: int = Field(gt=0)
    max_length: list[Annotated[int, Field(gt=2)]] = Grid()
    truncation: Truncation
    precision: Precision
    device: Device = Field(description="auto: cuda, then mps, then cpu")
    prompts: list[Prompt] = Grid(
        description="[positive, negative] texts the embedding scorer compares reviews with; a grid "
        "searched on the validation split"
    )
    temperature: list[Annotated[float, Field(gt=0)]] = Grid(
        description="softmax temperature over the two cosine similarities; a grid chosen by "
        "validation log loss (it cannot change accuracy)"
    )


class PretrainedEvalParams(ScorerParams):
    """params.yaml `pretrained_eval` (the stage owns the whole section)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    models: list[str] = Field(min_length=1, description="scorer names (see SCORERS) or hub ids / local dirs")


Scorer = Callable[[Sequence[str]], np.ndarray]


def _check_length(name: str, tokenizer, model, max_length: int) -> None:
    """A max_length the model cannot take fails at load time as a params error."""
    try:
        check_positions(model, max_length)
        encode(tokenizer, ["x"], max_length, "head")  # checks the tokenizer's own limit
    except ValueError as e:
        raise ConfigError(f"pretrained_eval.max_length: {name}: {e}") from None


# --- VADER ---------------------------------------------------------------------------------


def _vader_analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    def window(words, i):
        # VADER's two checks below look at words i-3..i+2 but lowercase the whole review on
        # every call (quadratic in its length). A 6-word window gives identical results
        # (i < 3 keeps the full list, so even negative indices mean the same), ~3x faster.
        return (words, i) if i < 3 else (words[i - 3 : i + 3], 3)

    class FastAnalyzer(SentimentIntensityAnalyzer):
        @staticmethod
        def _negation_check(valence, words, start_i, i):
            w, j = window(words, i)
            return SentimentIntensityAnalyzer._negation_check(valence, w, start_i, j)

        @staticmethod
        def _special_idioms_check(valence, words, i):
            w, j = window(words, i)
            return SentimentIntensityAnalyzer._special_idioms_check(valence, w, j)

    return FastAnalyzer()


def vader(p=None) -> Scorer:
    from tqdm.auto import tqdm

    analyzer = _vader_analyzer()

    def score(texts: Sequence[str]) -> np.ndarray:
        compound = [
            analyzer.polarity_scores(t)["compound"]
            for t in tqdm(texts, desc="vader", unit="review", mininterval=5, disable=None)
        ]
        return (np.asarray(compound, dtype="float64") + 1) / 2

    return score


# --- sentence-embedding zero-shot ----------------------------------------------------------


def _minilm(p):
    from transformers import AutoModel, AutoTokenizer

    tokenizer = load_pretrained("minilm", AutoTokenizer)
    model = load_pretrained("minilm", AutoModel).to(device(p.device))
    _check_length("minilm_embed", tokenizer, model, p.max_length)
    pad = tokenizer.pad_token_id or 0

    def embed(texts, desc):
        enc = encode(tokenizer, texts, p.max_length, p.truncation)
        return batched_forward(model, enc, mean_pool_forward, p.batch_size, p.precision, pad, desc=desc).astype(
            "float64"
        )  # unit norm

    return embed


def minilm_embed(p) -> Scorer:
    embed = _minilm(p)
    labels = embed([p.positive_label, p.negative_label], "labels")  # (2, dim)

    def score(texts: Sequence[str]) -> np.ndarray:
        return softmax(embed(texts, "minilm_embed") @ labels.T / p.temperature)[:, 0]

    return score


# --- sequence classifiers ------------------------------------------------------------------

_STAR = re.compile(r"(\d+)\s*star", re.IGNORECASE)


def stars_to_positive(probs: np.ndarray, stars: Sequence[float] | None = None) -> np.ndarray:
    """P(positive) from probabilities over star ratings, one column per rating.

    On the usual 1..5 scale this is P(4) + P(5) + 0.5 * P(3): ratings above the middle of
    the scale count as positive, the middle one as half positive. `stars` gives each
    column's rating (default 1, 2, ..., n_columns).
    """
    probs = np.asarray(probs, dtype="float64")
    stars = np.arange(1, probs.shape[1] + 1) if stars is None else np.asarray(stars, dtype="float64")
    mid = (stars.min() + stars.max()) / 2
    weight = np.where(stars > mid, 1.0, np.where(stars == mid, 0.5, 0.0))
    return probs @ weight


def star_values(config) -> list[float] | None:
    """The rating of each output of a star classifier, or None if it is not one.

    A star classifier has 5 labels or labels named like '4 stars'; ratings are read from the
    label names when they all carry one, else taken as 1..n in label order.
    """
    names = [str(config.id2label.get(i, "")) for i in range(config.num_labels)]
    if config.num_labels != 5 and not any("star" in n.lower() for n in names):
        return None
    found = [_STAR.search(n) for n in names]
    if all(found):
        return [float(m.group(1)) for m in found]
    return [float(i + 1) for i in range(config.num_labels)]


def _check_classifier(name: str):
    """Load and check a classifier's config (cheap): a name that cannot work fails here."""
    from transformers import AutoConfig

    config = load_pretrained(name, AutoConfig)
    arch = config.architectures or []
    if arch and not any(a.endswith("ForSequenceClassification") for a in arch):
        raise ModelLoadError(
            f"{name!r} is a {'/'.join(arch)} without a trained classification head, not a "
            f"sentiment classifier (for zero-shot embeddings use 'minilm_embed')"
        )
    if star_values(config) is None:
        if config.num_labels != 2:
            raise ModelLoadError(
                f"{name!r} has {config.num_labels} labels; pretrained_eval takes 2-label "
                "(negative/positive) or 5-label (star rating) classifiers"
            )
        try:
            positive_index(config)
        except ValueError as e:
            raise ModelLoadError(f"{name!r}: {e}") from None
    return config


def classifier(name: str, p) -> Scorer:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    config = _check_classifier(name)
    tokenizer = load_pretrained(name, AutoTokenizer)
    model = load_pretrained(name, AutoModelForSequenceClassification, config=config).to(device(p.device))
    _check_length(name, tokenizer, model, p.max_length)
    stars = star_values(config)
    pos = None if stars else positive_index(config)
    log.info("%s: %s", name, f"star ratings {stars}" if stars else f"positive label {config.id2label[pos]!r}")

    def score(texts: Sequence[str]) -> np.ndarray:
        enc = encode(tokenizer, texts, p.max_length, p.truncation)
        logits = batched_forward(
            model, enc, logits_forward, p.batch_size, p.precision, tokenizer.pad_token_id or 0, desc=Path(name).name
        )
        probs = softmax(logits.astype("float64"))
        return stars_to_positive(probs, stars) if stars else probs[:, pos]

    return score


# --- registry ------------------------------------------------------------------------------

HUB_CLASSIFIERS = ("distilbert-sst2", "nlptown-stars")  # short names in inference.SHORT_NAMES
TRANSFORMER_SCORERS = ("minilm_embed", *HUB_CLASSIFIERS)  # their numbers depend on device and precision

SCORERS: dict[str, Callable[..., Scorer]] = {
    "vader": vader,
    "minilm_embed": minilm_embed,
    **{short: partial(classifier, short) for short in HUB_CLASSIFIERS},
}


def check_name(name: str) -> None:
    """Fail fast, with a ModelLoadError listing the known scorers, on a name that cannot be scored.

    Classifier names are checked by loading their config only (no weights).
    """
    if name in SCORERS and name not in HUB_CLASSIFIERS:
        return
    try:
        _check_classifier(name)
    except ModelLoadError as e:
        what = "cannot be loaded" if name in SCORERS else "is not a known scorer and not a usable classifier"
        raise ModelLoadError(
            f"pretrained_eval.models: {name!r} {what} (known scorers: {', '.join(SCORERS)}; "
            f"or a hub id / local directory of a sequence classifier): {e}"
        ) from None


def load_scorer(name: str, p) -> Scorer:
    """Build scorer `name` with PretrainedEvalParams `p`. The texts must be cleaned reviews
    (the prepare stage rejects empty ones); a non-text or empty one is a ValueError naming
    its index: the one bad-input policy of the project (sentiment.data.check_texts)."""
    from .data import check_texts

    check_name(name)
    inner = SCORERS[name](p) if name in SCORERS else classifier(name, p)

    def score(texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        check_texts(texts)
        out = inner(texts) if texts else np.zeros(0)
        return np.clip(np.asarray(out, dtype="float64"), 0.0, 1.0)  # float rounding must not break [0, 1]

    return score


def file_stem(name: str) -> str:
    """Predictions file name for a scorer: 'org/model' -> 'org--model'; a local dir -> its basename."""
    if Path(name).is_dir():
        return Path(name).resolve().name
    return re.sub(r"[^\w.-]+", "-", name.replace("/", "--"))


# --- settings chosen on validation -----------------------------------------------------------


def settings(p, max_length: int | None = None, prompt: int = 0, temperature: float | None = None) -> SimpleNamespace:
    """One point of the PretrainedEvalParams grids, as the scalar settings a scorer reads."""
    pos, neg = p.prompts[prompt]
    return SimpleNamespace(
        batch_size=p.batch_size,
        truncation=p.truncation,
        precision=p.precision,
        device=p.device,
        max_length=p.max_length[0] if max_length is None else max_length,
        positive_label=pos,
        negative_label=neg,
        temperature=p.temperature[0] if temperature is None else temperature,
    )


def select_settings(name: str, p, texts: Sequence[str], y) -> tuple[dict, dict]:
    """Choose a zero-shot scorer's settings on validation (texts, y): max_length and, for
    minilm_embed, the prompt by accuracy (ties: the earlier point, so list cheaper values
    first); then minilm_embed's temperature by log loss (it cannot change accuracy).

    Returns (chosen keyword arguments of `settings`, {point label: validation score}).
    """
    from .metrics import compute_metrics

    y = np.asarray(y)
    if name == "vader":
        return {}, {}  # a lexicon: nothing to choose
    acc, cosines = {}, {}
    for m in p.max_length:
        if name == "minilm_embed":
            embed = _minilm(settings(p, m))
            cos = embed(texts, f"minilm_embed@{m}") @ embed([t for pr in p.prompts for t in pr], "prompts").T
            for i in range(len(p.prompts)):
                c = cos[:, 2 * i : 2 * i + 2]
                acc[(m, i)] = float(np.mean((c[:, 0] >= c[:, 1]) == (y == 1)))
                cosines[(m, i)] = c
        else:
            prob = load_scorer(name, settings(p, m))(texts)
            acc[(m, 0)] = float(np.mean((prob >= THRESHOLD) == (y == 1)))
    m, i = max(acc, key=lambda k: acc[k])  # max() keeps the first of equal values
    label = (lambda m, i: f"max_length={m} prompt={i}") if name == "minilm_embed" else (lambda m, i: f"max_length={m}")
    record = {"val_accuracy": {label(*k): round(v, 6) for k, v in acc.items()}}
    chosen = {"max_length": m}
    if name == "minilm_embed":
        loss = {}
        for t in p.temperature:
            prob = softmax(cosines[(m, i)] / t)[:, 0]
            loss[t] = compute_metrics(y, (prob >= THRESHOLD).astype(int), prob)["log_loss"]
        best_t = min(loss, key=lambda t: loss[t])
        record["val_log_loss_by_temperature"] = {str(t): round(v, 6) for t, v in loss.items()}
        chosen |= {"prompt": i, "temperature": best_t}
    record["chosen"] = chosen
    return chosen, record
