"""Load, check, clean, de-duplicate and split the IMDB reviews (the prepare stage's library)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.model_selection import train_test_split

from . import DataError
from .config import Section
from .data import clean_text
from .io import read_split, verify_checksums
from .sampling import stratified_subsample

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
REQUIRED = {"label", "text"}  # id and rating are optional (the hub copy has neither)
LABEL_NAMES = {0: "neg", 1: "pos"}


class PrepareParams(Section):
    """params.yaml `prepare`."""

    source: Literal["local", "hub"] = Field(description="local parquet files, or the HF hub")
    data_dir: str = Field(description="folder with train.parquet and test.parquet (source: local)")
    hub_dataset: str = Field(description="hub dataset id (source: hub)")
    hub_revision: str = Field(description="hub dataset commit (source: hub; pinned: same data every time)")
    val_size: float = Field(gt=0, lt=1, description="fraction of train held out for validation")
    max_train: int | None = Field(gt=0, description="stratified subsample of train (null: all)")
    max_test: int | None = Field(gt=0, description="stratified subsample of test (null: all)")
    dedupe: bool = Field(description="drop duplicate train texts and train texts that are also in test")
    seed: int


# --- loading ---------------------------------------------------------------------------


def load_local(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    data_dir = Path(data_dir)
    frames = {s: read_split(data_dir / f"{s}.parquet") for s in SPLITS}
    verify_checksums(data_dir)
    return frames


def load_hub(dataset_id: str, revision: str | None = None) -> dict[str, pd.DataFrame]:
    """The same splits from the Hugging Face hub at a pinned revision (needs internet, or a local path)."""
    import datasets

    try:
        ds = datasets.load_dataset(dataset_id, revision=revision)
    except Exception as e:
        raise DataError(
            f"could not load dataset {dataset_id!r} ({type(e).__name__}: {e}); offline? use prepare.source: local"
        ) from e
    missing = [s for s in SPLITS if s not in ds]
    if missing:
        raise DataError(f"dataset {dataset_id!r} has no split(s) {missing}")
    return {s: ds[s].to_pandas() for s in SPLITS}


def standardise(df: pd.DataFrame, split: str) -> pd.DataFrame:
    """Check the schema and give every row a unique `uid` like 'test/pos/123'."""
    missing = REQUIRED - set(df.columns)
    if missing:
        raise DataError(f"{split}: missing column(s) {sorted(missing)}; got {list(df.columns)}")
    if df.empty:
        raise DataError(f"{split}: no rows")
    labels = set(pd.unique(df["label"]))
    if not labels <= {0, 1}:
        raise DataError(f"{split}: labels must be 0/1, got {sorted(labels, key=str)}")
    not_text = ~df["text"].map(lambda t: isinstance(t, str))
    if not_text.any():
        raise DataError(
            f"{split}: {int(not_text.sum())} review(s) are not text, e.g. row {int(np.flatnonzero(not_text)[0])}"
        )
    if "id" in df:
        ids = pd.to_numeric(df["id"], errors="coerce")
        bad = ids.isna() | (ids != ids.round())
        if bad.any():
            raise DataError(
                f"{split}: {int(bad.sum())} id(s) are missing or not integers, "
                f"e.g. row {int(np.flatnonzero(bad)[0])}: {df['id'].iloc[int(np.flatnonzero(bad)[0])]!r}"
            )
    out = pd.DataFrame(
        {
            "id": df["id"].astype("int32") if "id" in df else np.arange(len(df), dtype="int32"),
            "rating": df["rating"].astype("Int8") if "rating" in df else pd.array([pd.NA] * len(df), "Int8"),
            "label": df["label"].astype("int8"),
            "text": df["text"].astype(str),
        }
    )
    out.insert(0, "uid", [f"{split}/{LABEL_NAMES[l]}/{i}" for l, i in zip(out.label, out.id)])
    if out.uid.duplicated().any():
        raise DataError(f"{split}: duplicate (label, id) pairs, e.g. {out.uid[out.uid.duplicated()].iloc[0]}")
    return out


def clean(df: pd.DataFrame, split: str) -> pd.DataFrame:
    df = df.assign(text=df.text.map(clean_text))
    empty = df.text.eq("")
    if empty.any():
        raise DataError(
            f"{split}: {int(empty.sum())} review(s) are empty after cleaning, e.g. {df.uid[empty].iloc[:5].tolist()}"
        )
    return df


def dedupe(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Drop repeated train texts and train texts also in test (leakage); test stays whole."""
    dup = train.text.duplicated()
    leak = train.text.isin(set(test.text))
    return train[~(dup | leak)], {
        "train_duplicates_dropped": int(dup.sum()),
        "train_test_overlap_dropped": int((leak & ~dup).sum()),
    }


def split_train_val(train: pd.DataFrame, val_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    tr, va = train_test_split(train, test_size=val_size, stratify=train.label, random_state=seed)
    if tr.label.nunique() < 2 or va.label.nunique() < 2:
        raise DataError("train/val split lost a class: too few rows for prepare.val_size")
    return tr.sort_index(), va.sort_index()


def prepare(raw: dict[str, pd.DataFrame], p) -> tuple[dict[str, pd.DataFrame], dict]:
    """raw splits -> cleaned {train, val, test} and data statistics. `p`: PrepareParams."""
    std = {s: clean(standardise(raw[s], s), s) for s in SPLITS}
    train = stratified_subsample(std["train"], p.max_train, p.seed)
    test = stratified_subsample(std["test"], p.max_test, p.seed)
    info = {}
    if p.dedupe:
        train, info = dedupe(train, test)
    tr, va = split_train_val(train, p.val_size, p.seed)
    out = {"train": tr.reset_index(drop=True), "val": va.reset_index(drop=True), "test": test.reset_index(drop=True)}
    return out, {**split_stats(out), **info}


def split_stats(splits: dict[str, pd.DataFrame]) -> dict:
    stats = {}
    for name, df in splits.items():
        words = df.text.str.split().str.len()
        stats[name] = {
            "rows": len(df),
            "neg": int((df.label == 0).sum()),
            "pos": int((df.label == 1).sum()),
            "words_mean": round(float(words.mean()), 1),
            "words_median": round(float(words.median()), 1),
            "words_p95": round(float(words.quantile(0.95)), 1),
            "words_max": int(words.max()),
        }
    return stats


def data_metrics(stats: dict) -> dict:
    """The DVC metrics of the data: rows per split (classes, lengths and dropped rows: reports/data.json)."""
    return {"rows": {s: stats[s]["rows"] for s in ("train", "val", "test")}}
