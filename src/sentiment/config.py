"""Typed, validated view of params.yaml.

Every stage calls `load_params()` first: an unknown key, a wrong type or an impossible
value stops it before any work, with a message naming the key. Fine-tune hyperparameters
are top-level and named like `transformers.TrainingArguments`, so that
`dvc exp run -S learning_rate=1e-5` works.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import ConfigError

PARAMS_FILE = "params.yaml"


class _Section(BaseModel):
    # strict: "0.1" is not a float, 1.0 is not an int; extra keys are errors
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PrepareParams(_Section):
    source: Literal["local", "hub"] = Field("local", description="local parquet files, or the HF hub")
    data_dir: str = Field("data/raw/imdb", description="folder with train.parquet and test.parquet")
    hub_dataset: str = Field("stanfordnlp/imdb", description="hub dataset id when source=hub")
    hub_revision: str = Field(
        "e6281661ce1c48d982bc483cf8a173c1bbeb5d31",
        description="hub dataset commit when source=hub (pinned: same data every time)",
    )
    val_size: float = Field(0.1, gt=0, lt=1, description="fraction of train held out for validation")
    max_train: int | None = Field(None, gt=0, description="stratified subsample of train (null: all)")
    max_test: int | None = Field(None, gt=0, description="stratified subsample of test (null: all)")
    dedupe: bool = Field(True, description="drop duplicate train texts and train texts that are also in test")
    seed: int = 42


class BowRFParams(_Section):
    max_features: int = Field(20000, gt=0)
    ngram_max: int = Field(1, ge=1, le=3)
    n_estimators: int = Field(100, gt=0)
    min_samples_leaf: int = Field(1, ge=1)


def _Grid(default: list):
    return Field(default, min_length=1, description="grid searched on the validation split")


class TfidfLRParams(_Section):
    max_features: int | None = Field(None, gt=0, description="vocabulary cap (null: all)")
    min_df: int = Field(2, ge=1)
    ngram_max: list[Annotated[int, Field(ge=1, le=3)]] = _Grid([3])
    C: list[Annotated[float, Field(gt=0)]] = _Grid([8.0, 16.0, 32.0])


class NBSVMParams(_Section):
    max_features: int | None = Field(None, gt=0, description="vocabulary cap (null: all)")
    min_df: list[Annotated[int, Field(ge=1)]] = _Grid([2, 3, 5])
    alpha: float = Field(1.0, gt=0, description="naive-Bayes count smoothing")
    ngram_max: list[Annotated[int, Field(ge=1, le=3)]] = _Grid([3])
    tf: list[Literal["binary", "log"]] = _Grid(["log"])
    C: list[Annotated[float, Field(gt=0)]] = _Grid([0.1, 0.3, 1.0])


class BaselineParams(_Section):
    models: list[Literal["bow_rf", "tfidf_lr", "nbsvm"]] = Field(["bow_rf", "tfidf_lr", "nbsvm"], min_length=1)
    bow_rf: BowRFParams = BowRFParams()
    tfidf_lr: TfidfLRParams = TfidfLRParams()
    nbsvm: NBSVMParams = NBSVMParams()
    n_jobs: int = Field(-1, description="cores for RandomForest, the grid's classifier fits and predicting (-1: all)")
    augment_crops: float = Field(
        2.0,
        ge=0,
        le=4,
        description="sentence-window crops added per training review of the crop_models (0: none)",
    )
    crop_max_sentences: int = Field(1, ge=1, le=10, description="a crop is 1..this many consecutive sentences")
    crop_models: list[Literal["bow_rf", "tfidf_lr", "nbsvm"]] = Field(
        ["nbsvm"], description="the models whose training data get the crops (bow_rf stays the classic reference)"
    )
    refit_with_val: bool = Field(
        True,
        description="after selection, refit on train + validation for the saved "
        "model and its test predictions (validation predictions stay out-of-sample)",
    )
    seed: int = 42


class EnsembleParams(_Section):
    members: list[str] = Field(
        ["nbsvm", "tfidf_lr", "finetuned"],
        min_length=1,
        description="models (predictions file names) whose logits the stacker combines",
    )
    C: list[Annotated[float, Field(gt=0)]] = _Grid([0.001, 0.003, 0.01, 0.03, 0.1, 1.0])
    features: list[Literal["logits", "logits_x_length"]] = Field(
        ["logits", "logits_x_length"],
        min_length=1,
        description="stacker inputs to choose from: the members' logits, or also each logit times the text's "
        "log length; chosen on IMDB validation and the sentence set's selection half",
    )
    short_words: list[Annotated[int, Field(ge=0)]] = Field(
        [0, 16, 32, 64],
        min_length=1,
        description="texts of at most this many words take short_member's P instead of the stacker's (0: "
        "never); chosen with features on IMDB validation and the sentence set's selection half",
    )
    short_member: str = Field("finetuned", description="the member that answers short texts (one of members)")
    cv_folds: int = Field(5, ge=2, description="folds of the cross-validation on the validation split")
    seed: int = 42

    @model_validator(mode="after")
    def _short_member(self):
        if any(self.short_words) and self.short_member not in self.members:
            raise ValueError(f"short_member: {self.short_member!r} is not one of members {self.members}")
        return self


class ClassicalEnsembleParams(EnsembleParams):
    """The same stacker and rule over classical members only (no transformer): on one-liners the
    VADER lexicon knows words IMDB reviews under-teach (research/stacking/classical_stack.md)."""

    members: list[str] = Field(
        ["nbsvm", "vader"],
        min_length=1,
        description="classical models or zero-shot lexicon scorers whose logits it combines",
    )
    short_words: list[Annotated[int, Field(ge=0)]] = Field(
        [0], min_length=1, description="as in ensemble (0: no short-text route)"
    )
    short_member: str = Field("nbsvm", description="the member that answers short texts (one of members)")


# The stacked models: each is a Params section below, a dvc.yaml stage (src/ensemble.py --section)
# and the name of its predictions and model folder. ensemble is the default model; the other has
# classical members only (issue 13: the best classical model on one-liners).
ENSEMBLES = ("ensemble", "classical_ensemble")


class EvaluateParams(_Section):
    n_bootstrap: int = Field(1000, ge=0, description="bootstrap resamples for 95% CIs (0: none)")
    n_errors: int = Field(20, ge=0, description="most confident mistakes listed in the error analysis")
    seed: int = 42


class PublishParams(_Section):
    push_to_hub: bool = Field(False, description="upload model, tokenizer and card to the hub (needs HF_TOKEN)")
    hub_model_id: str | None = Field(None, description="hub repo id for push_to_hub, e.g. user/imdb-minilm")

    @model_validator(mode="after")
    def _hub_id(self):
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("hub_model_id: required when push_to_hub is true")
        return self


Truncation = Literal["head", "head_tail"]  # one cut of each text (zero-shot scorers)
TrainTruncation = Literal["head", "head_tail", "random"]  # random: one seeded random window per review
PredictTruncation = Literal["head", "head_tail", "windows"]  # windows: every window, mean logit
Precision = Literal["auto", "bf16", "fp16", "fp32"]
Device = Literal["auto", "cuda", "mps", "cpu"]


Prompt = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=2, max_length=2)]


class PretrainedEvalParams(_Section):
    models: list[str] = Field(
        ["vader"], min_length=1, description="scorer names (see sentiment.scorers.SCORERS) or hub ids / local dirs"
    )
    batch_size: int = Field(64, gt=0)
    max_length: list[Annotated[int, Field(gt=2)]] = _Grid([128, 256])
    truncation: Truncation = "head_tail"
    precision: Precision = "auto"
    device: Device = Field("auto", description="auto: cuda, then mps, then cpu")
    prompts: list[Prompt] = Field(
        [
            [
                "a positive movie review: the film is great, I loved it",
                "a negative movie review: the film is terrible, I hated it",
            ],
            ["positive", "negative"],
            ["I loved it. It was great.", "I hated it. It was terrible."],
            ["a positive review", "a negative review"],
        ],
        min_length=1,
        description="[positive, negative] texts the embedding scorer compares "
        "reviews with; a grid searched on the validation split",
    )
    temperature: list[Annotated[float, Field(gt=0)]] = Field(
        [0.01, 0.02, 0.05, 0.1],
        min_length=1,
        description="softmax temperature over the two cosine similarities; a grid "
        "chosen by validation log loss (it cannot change accuracy)",
    )


class RobustnessParams(_Section):
    data_dir: str = Field("data/raw/sentences", description="folder with sentences.parquet and SHA256SUMS")
    report_frac: float = Field(0.5, gt=0, lt=1, description="share of the sentence set in the report half")
    models: list[str] = Field(
        ["bow_rf", "tfidf_lr", "nbsvm", "vader", "classical_ensemble", "finetuned", "ensemble"],
        min_length=1,
        description="trained models (by predictions name) or zero-shot scorers",
    )
    cases_per_test: int = Field(200, ge=10, description="generated cases per behavioural test")
    dir_tolerance: float = Field(
        0.1, ge=0, lt=1, description="directional tests: allowed wrong-way move of P(positive)"
    )
    n_bootstrap: int = Field(1000, ge=0, description="bootstrap resamples for 95% CIs (0: none)")
    n_worst: int = Field(5, ge=0, description="failing cases listed per test and per source")
    seed: int = 42


class Params(_Section):
    """Top level of params.yaml. Fine-tune keys are top-level, named like TrainingArguments."""

    prepare: PrepareParams = PrepareParams()
    baseline: BaselineParams = BaselineParams()
    pretrained_eval: PretrainedEvalParams = PretrainedEvalParams()
    ensemble: EnsembleParams = EnsembleParams()
    classical_ensemble: ClassicalEnsembleParams = ClassicalEnsembleParams()
    evaluate: EvaluateParams = EvaluateParams()
    publish: PublishParams = PublishParams()
    robustness: RobustnessParams = RobustnessParams()

    # --- finetune ---
    model_name: str = Field(
        "mpnet", description="short name (minilm, mpnet), hub id or local dir of a pretrained encoder"
    )
    learning_rate: float = Field(5e-5, gt=0, lt=1)
    per_device_train_batch_size: int = Field(16, gt=0)
    per_device_eval_batch_size: int = Field(64, gt=0)
    num_train_epochs: float = Field(1.0, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_steps: int | float = Field(0.1, ge=0, description="int: steps; float in [0, 1): ratio of all steps")
    seed: int = 42
    max_length: int = Field(128, gt=2, description="tokens per review, special tokens included")
    truncation: TrainTruncation = Field(
        "head_tail",
        description="what a training review is cut to: head (first "
        "tokens), head_tail (a quarter head, the rest tail) or random (one window "
        "per review, drawn with seed)",
    )
    predict_truncation: PredictTruncation = Field(
        "head_tail",
        description="what predict-time code reads: head, "
        "head_tail, or windows (every max_length window, logits averaged)",
    )
    window_stride: int | None = Field(
        None,
        gt=0,
        description="predict_truncation windows: tokens between window "
        "starts (null: back to back, max_length minus the special tokens)",
    )
    train_size: int | None = Field(6000, gt=0, description="stratified train subset for CPU budgets (null: all)")
    eval_size: int | None = Field(1000, gt=0, description="validation subset evaluated during training")
    evals_per_epoch: int = Field(2, ge=1)
    attention_dropout: float = Field(0.0, ge=0, lt=1, description="0 keeps PyTorch's fast fused attention on CPU")
    precision: Precision = Field(
        "auto", description="auto: bf16 where native (CUDA, AMX/AVX512-BF16 CPUs), else fp32/fp16"
    )
    device: Device = Field("auto", description="auto: cuda, then mps, then cpu")
    group_by_length: bool = True
    augment_crops: float = Field(
        0.0,
        ge=0,
        le=4,
        description="sentence-window crops of the training reviews added per review, labelled like it (0: none)",
    )
    crop_max_sentences: int = Field(2, ge=1, le=10, description="a crop is 1..this many consecutive sentences")
    augment_negations: float = Field(
        0.0,
        ge=0,
        le=1,
        description="negation contrast pairs added per training "
        "review, at most one each (sentiment.data.negation_pairs; 0: none)",
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


FINETUNE_KEYS = [
    k
    for k in Params.model_fields
    if k not in ("prepare", "baseline", "pretrained_eval", "ensemble", "evaluate", "publish", "robustness")
]


# YAML 1.1 needs a dot in floats: PyYAML reads 1e-05 (what `dvc exp run -S` writes) as a str.
_FLOAT = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
# keep ints ints: the int resolver was registered first and still wins for "42"


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found (run from the project root)")
    with open(path) as f:
        data = yaml.load(f, Loader=_Loader)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _format(err: ValidationError, path: Path) -> str:
    lines = [f"{path}: invalid params"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<top level>"
        lines.append(f"  {key}: {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def validate(model: type[BaseModel], data: dict, path: str | Path = PARAMS_FILE) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format(err, Path(path))) from None


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    return validate(Params, read_yaml(path), path)
