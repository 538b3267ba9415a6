"""The sentence set: 3,000 labelled one-liners from Amazon, Yelp and IMDB (data/raw/sentences),
a development set, never training data. It is split once, seeded and stratified by source x
label, into a *selection* half, on which settings may be chosen (the ensembles' features and
short-text route), and a *report* half, on which figures are reported (the robustness stage).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.model_selection import train_test_split

from . import THRESHOLD, DataError
from .config import Subset
from .data import check_texts
from .io import read_split, verify_checksums
from .metrics import hf_metric

log = logging.getLogger(__name__)

HALVES = ("selection", "report")
COLUMNS = {"source", "id", "text", "label"}
Scorer = Callable[[Sequence[str]], np.ndarray]


class SentenceSplitParams(Subset):
    """params.yaml `robustness` keys that decide the sentence set and its halves (the ensembles
    choose on the selection half, the robustness stage reports on the other)."""

    data_dir: str = Field(description="folder with sentences.parquet and SHA256SUMS")
    report_frac: float = Field(gt=0, lt=1, description="share of the sentence set in the report half")
    seed: int


# --- data ------------------------------------------------------------------------------------


def load_sentences(data_dir: str | Path) -> pd.DataFrame:
    """sentences.parquet, checked: checksum, columns, labels in {0, 1}, text that can be scored."""
    data_dir = Path(data_dir)
    path = data_dir / "sentences.parquet"
    df = read_split(path)
    verify_checksums(data_dir)
    missing = COLUMNS - set(df.columns)
    if missing:
        raise DataError(f"{path}: missing column(s) {sorted(missing)}; got {list(df.columns)}")
    labels = {v.item() if hasattr(v, "item") else v for v in pd.unique(df.label)}
    if not labels <= {0, 1}:
        raise DataError(f"{path}: labels must be 0/1, got {sorted(labels, key=str)}")
    try:
        text = check_texts(df.text.tolist())  # the project's one bad-input policy
    except ValueError as e:
        raise DataError(f"{path}: {e}") from None
    out = pd.DataFrame(
        {
            "uid": [f"{s}/{i}" for s, i in zip(df.source, df.id)],
            "source": df.source.astype(str),
            "label": df.label.astype("int8"),
            "text": text,
        }
    )
    if out.uid.duplicated().any():
        raise DataError(f"{path}: duplicate (source, id) pairs, e.g. {out.uid[out.uid.duplicated()].iloc[0]}")
    return out


def split_halves(df: pd.DataFrame, report_frac: float, seed: int) -> pd.DataFrame:
    """Add `half` in {selection, report}: one seeded split, stratified by source x label."""
    strata = df.source + "/" + df.label.astype(str)
    _, report = train_test_split(df.index, test_size=report_frac, stratify=strata, random_state=seed)
    return df.assign(half=np.where(df.index.isin(report), "report", "selection"))


# --- models ----------------------------------------------------------------------------------


def model_scorer(name: str, pretrained_params, pretrained_dir: str | Path = "predictions/pretrained") -> Scorer:
    """P(positive) for cleaned texts from a model by its predictions name: a trained model
    (baseline, finetuned, ensemble) through the serving Predictor; a zero-shot scorer with the
    settings the pretrained_eval stage chose on validation (its predictions meta file)."""

    from .predictor import Predictor
    from .scorers import check_name, file_stem, load_scorer, settings
    from .stacker import servable_path

    path = servable_path(name)
    if Path(path).exists():
        predictor = Predictor(path)
        return lambda texts: np.asarray(predictor.predict_proba(list(texts)), dtype="float64")
    check_name(name)  # an unknown name fails here, naming it
    meta = Path(pretrained_dir) / f"{file_stem(name)}.json"
    if not meta.is_file():
        raise DataError(
            f"robustness.models: {name!r} is neither a trained model ({path}) nor a scored zero-shot "
            f"model ({meta} not found: add it to pretrained_eval.models)"
        )
    return load_scorer(name, settings(pretrained_params, **json.loads(meta.read_text()).get("settings", {})))


# --- metrics ---------------------------------------------------------------------------------


def source_metrics(df: pd.DataFrame, prob: np.ndarray, n_boot: int = 0, seed: int = 0) -> dict:
    """{source: accuracy, F1, ROC-AUC (+ 95% CIs with n_boot), n} of one model's P(positive) over
    the rows of df, with the project's one metrics module."""

    out = {}
    for source, rows in df.reset_index(drop=True).groupby("source").indices.items():
        p = np.asarray(prob)[rows]
        m = hf_metric().compute(
            predictions=(p >= THRESHOLD).astype(int),
            references=df.label.values[rows],
            prediction_scores=p,
            n_bootstrap=n_boot,
            seed=seed,
        )
        ci = m.pop("ci95", {})
        out[source] = {
            **{k: round(float(m[k]), 6) for k in ("accuracy", "f1", "roc_auc")},
            **{
                f"{k}_ci": [round(float(v[0]), 6), round(float(v[1]), 6)]
                for k, v in ci.items()
                if k in ("accuracy", "f1", "roc_auc")
            },
            "n": len(rows),
        }
    return out
