"""Load, check, clean, de-duplicate and split labelled texts: IMDB (the default), your own files,
or a hub dataset (the prepare stage's library). Reading and label mapping: sentiment.files."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Literal

import pandas as pd
from pydantic import Field, model_validator
from sklearn.model_selection import train_test_split

from . import LABELS, DataError, sha256_file
from .config import Section
from .data import clean_text
from .files import Columns, label_names, label_values, read_table, to_standard
from .io import read_split, verify_checksums
from .sampling import stratified_subsample

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
IMDB = Columns(text="text", label="label", positive=1, negative=0, id="id", rating="rating")  # data/raw/imdb's parquet


class PrepareParams(Section):
    """params.yaml `prepare`."""

    source: Literal["local", "files", "hub"] = Field(
        description="local: IMDB's parquet in data_dir; files: your train/test files in data_dir; hub: a hub dataset"
    )
    data_dir: str = Field(description="the stage's input folder (its DVC dependency): IMDB's parquet or your files")
    train_file: str = Field(description="source files: the training file in data_dir (.csv, .tsv, .jsonl, .parquet)")
    validation_file: str | None = Field(description="source files: a validation file (null: a val_size hold-out)")
    test_file: str = Field(description="source files: the test file in data_dir")
    text_column: str = Field(description="source files/hub: the column with the texts")
    label_column: str = Field(description="source files/hub: the column with the labels")
    positive_label: str | int | bool | None = Field(
        description="the label value meaning positive; the one other value is negative (null: rating_bands)"
    )
    rating_bands: list[float] | None = Field(
        min_length=2,
        max_length=2,
        description="numeric labels: [negative_max, positive_min]; ratings between are dropped and counted",
    )
    id_column: str | None = Field(description="source files/hub: a column of integer ids (null: row numbers)")
    hub_dataset: str = Field(description="hub dataset id (source: hub)")
    hub_revision: str = Field(description="hub dataset commit (source: hub; pinned: same data every time)")
    val_size: float = Field(gt=0, lt=1, description="fraction of train held out for validation (no validation_file)")
    max_train: int | None = Field(gt=0, description="stratified subsample of train (null: all)")
    max_test: int | None = Field(gt=0, description="stratified subsample of test (null: all)")
    dedupe: bool = Field(description="drop duplicate texts, and train/validation texts that are also in test")
    seed: int

    @model_validator(mode="after")
    def _checks(self):
        if (self.positive_label is None) == (self.rating_bands is None):
            raise ValueError("prepare.positive_label or prepare.rating_bands: set exactly one (the other null)")
        if self.rating_bands and not self.rating_bands[0] < self.rating_bands[1]:
            raise ValueError(f"prepare.rating_bands: negative_max < positive_min, got {self.rating_bands}")
        for key in ("train_file", "validation_file", "test_file"):
            f = getattr(self, key)
            if f is not None and (PurePosixPath(f).is_absolute() or ".." in PurePosixPath(f).parts):
                raise ValueError(f"prepare.{key}: a path inside prepare.data_dir (its DVC dependency), got {f!r}")
        return self


def columns(p: PrepareParams) -> Columns:
    if p.source == "local":
        return IMDB
    bands = tuple(p.rating_bands) if p.rating_bands else None
    rating = p.label_column if bands else None  # the rating a label came from, for the report
    return Columns(
        text=p.text_column, label=p.label_column, positive=p.positive_label, bands=bands, id=p.id_column, rating=rating
    )


def dataset_name(p: PrepareParams) -> str:
    """What the card, the CLI, the API and the reports call the data."""
    return {"local": "IMDB", "hub": p.hub_dataset}.get(p.source) or Path(p.data_dir).name


# --- loading ---------------------------------------------------------------------------


def read_source(p: PrepareParams) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The raw splits {train, test[, val]} of p.source, and what they were read from {input: sha256 or revision}."""
    d = Path(p.data_dir)
    if p.source == "local":
        return load_local(d), {f"{s}.parquet": sha256_file(d / f"{s}.parquet") for s in SPLITS}
    if p.source == "hub":
        return load_hub(p.hub_dataset, p.hub_revision), {p.hub_dataset: p.hub_revision}
    files = {"train": p.train_file, "val": p.validation_file, "test": p.test_file}
    files = {s: f for s, f in files.items() if f is not None}
    return {s: read_table(d / f) for s, f in files.items()}, {f: sha256_file(d / f) for f in files.values()}


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
    out = {s: ds[s].to_pandas() for s in SPLITS}
    if "validation" in ds:
        out["val"] = ds["validation"].to_pandas()
    return out


def clean(df: pd.DataFrame, split: str, dropped: Counter | None = None) -> pd.DataFrame:
    """Cleaned texts; texts left empty (whitespace/HTML only) are dropped and counted in `dropped`."""
    df = df.assign(text=df.text.map(clean_text))
    empty = df.text.eq("")
    if empty.any():
        if dropped is not None:
            dropped["no text"] += int(empty.sum())
        log.info("%s: %d empty text(s) dropped, e.g. %s", split, int(empty.sum()), df.uid[empty].iloc[:5].tolist())
        df = df[~empty]
    if df.empty:
        raise DataError(f"{split}: no texts left after cleaning")
    return df


def dedupe(
    train: pd.DataFrame, test: pd.DataFrame, val: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, Counter]]:
    """Drop repeated texts and texts also in a later split (leakage): train loses what is in val or
    test, val what is in test; test stays whole. Returns the kept rows and the counts by reason."""
    out = {"train": Counter(), "val": Counter()}
    later = set(test.text)
    if val is not None:
        dup = val.text.duplicated()
        leak = val.text.isin(later) & ~dup
        out["val"].update({"duplicate": int(dup.sum()), "also in test": int(leak.sum())})
        val = val[~(dup | leak)]
    dup = train.text.duplicated()
    leak_test = train.text.isin(later) & ~dup
    leak_val = train.text.isin(set(val.text) if val is not None else set()) & ~dup & ~leak_test
    out["train"].update(
        {"duplicate": int(dup.sum()), "also in test": int(leak_test.sum()), "also in validation": int(leak_val.sum())}
    )
    return train[~(dup | leak_test | leak_val)], val, {s: +c for s, c in out.items()}  # +c: drop zero counts


def split_train_val(train: pd.DataFrame, val_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    smallest = int(train.label.value_counts().min())
    if smallest * min(val_size, 1 - val_size) < 1:
        raise DataError(
            f"train has {smallest} text(s) of its smaller class: too few for a stratified prepare.val_size="
            f"{val_size} hold-out; add data, change val_size or give a prepare.validation_file"
        )
    tr, va = train_test_split(train, test_size=val_size, stratify=train.label, random_state=seed)
    return tr.sort_index(), va.sort_index()


def prepare(raw: dict[str, pd.DataFrame], p: PrepareParams) -> tuple[dict[str, pd.DataFrame], dict]:
    """raw splits {train, test[, val]} -> cleaned {train, val, test} and the data report (statistics,
    dropped rows by split and reason, the dataset's name and label names)."""
    cols = columns(p)
    keys = None if cols.bands else label_values(raw, cols)
    std, dropped = {}, {}
    for s, df in raw.items():
        std[s], dropped[s] = to_standard(df, s, cols, keys)
        std[s] = clean(std[s], s, dropped[s])
        if std[s].label.nunique() < 2:
            only = "positive" if std[s].label.iloc[0] else "negative"
            raise DataError(f"{s}: every text is {only}; each split needs both classes")
    train = stratified_subsample(std["train"], p.max_train, p.seed)
    test = stratified_subsample(std["test"], p.max_test, p.seed)
    val = std.get("val")
    if p.dedupe:
        train, val, leaks = dedupe(train, test, val)
        for s, c in leaks.items():
            dropped.setdefault(s, Counter()).update(c)
    if val is None:
        train, val = split_train_val(train, p.val_size, p.seed)
    out = {
        "train": train.reset_index(drop=True),
        "val": val.reset_index(drop=True),
        "test": test.reset_index(drop=True),
    }
    for s, df in out.items():
        if df.label.nunique() < 2:
            raise DataError(f"{s}: one class left after de-duplication ({len(df)} texts); add data")
    names = label_names(*keys) if keys else list(LABELS)  # ratings: numbers, no words to name them
    report = {
        "dataset": {"name": dataset_name(p), "labels": names},
        "dropped": {s: dict(c) for s, c in dropped.items() if c},
        **split_stats(out),
    }
    for s, c in report["dropped"].items():
        log.info("%s: dropped %s", s, ", ".join(f"{n} ({why})" for why, n in c.items()))
    return out, report


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
    """The DVC metrics of the data: rows per split (classes, lengths, dropped rows, inputs: reports/data.json)."""
    return {"rows": {s: stats[s]["rows"] for s in ("train", "val", "test")}}
