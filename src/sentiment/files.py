"""Labelled texts from files or any table: read CSV/TSV/JSON Lines/parquet, map columns and label
values to the project's schema (uid, id, rating, label 0/1, text), count every row dropped.

One policy for bad input: what cannot be meant (a missing file or column, an unknown
extension, undecodable bytes, labels that are not two classes) stops prepare with a DataError
that says where; rows that carry no example (no text, no label, a rating in the middle band) are
dropped and counted by reason, and the counts go into reports/data.json.
"""

from __future__ import annotations

import codecs
import io
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import LABELS, DataError

FORMATS = (".csv", ".tsv", ".jsonl", ".parquet")
UID_LABEL = ("neg", "pos")  # the uid's middle part, 'train/pos/123', whatever the label names


@dataclass(frozen=True)
class Columns:
    """Where a table keeps what prepare needs, and how its labels read as 0/1."""

    text: str
    label: str
    positive: str | int | float | bool | None = None  # the positive label value (two-valued labels)
    negative: str | int | float | bool | None = None  # the negative one, where it is known (IMDB: 0)
    bands: tuple[float, float] | None = None  # numeric ratings: <= bands[0] negative, >= bands[1] positive
    id: str | None = None  # unique integer ids (None: row numbers)
    rating: str | None = None  # kept as the prepared `rating` (whole-number ratings)


# --- reading ---------------------------------------------------------------------------------


def read_table(path: str | Path) -> pd.DataFrame:
    """A file as a DataFrame; CSV/TSV cells are strings (an empty cell is null), JSON Lines keep their types."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found (prepare.data_dir + the *_file param)")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{path}: unknown extension {suffix or '(none)'!r}; use one of {', '.join(FORMATS)}")
    if suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as e:  # pyarrow's errors have no common base worth naming
            raise DataError(f"{path}: not a readable parquet file ({type(e).__name__}: {e})") from None
    text = _decode(path.read_bytes(), path)
    if suffix == ".jsonl":
        return _read_jsonl(text, path)
    try:
        # keep_default_na=False: a review that says "NA" or "null" is text; only an empty cell is missing
        return pd.read_csv(
            io.StringIO(text), sep="\t" if suffix == ".tsv" else ",", dtype=str, keep_default_na=False, na_values=[""]
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path}: not a valid {suffix[1:].upper()} file ({e})") from None


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """df as the file read_table reads back, by its extension (scripts/export_imdb.py, the tests)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False)
    elif path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")


def _decode(raw: bytes, path: Path) -> str:
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        at = start + e.start
        line = raw.count(b"\n", 0, at) + 1
        col = at - (raw.rfind(b"\n", 0, at) + 1) + 1
        raise DataError(
            f"{path}: not UTF-8 text: byte 0x{raw[at]:02x} at line {line}, column {col}; save the file as UTF-8"
        ) from None


def _read_jsonl(text: str, path: Path) -> pd.DataFrame:
    rows = []
    # split on "\n" only: str.splitlines() would also cut at U+2028 or U+0085, legal inside JSON strings
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {n} is not JSON ({e.msg}, column {e.colno})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {n} is not a JSON object (got {type(row).__name__})")
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no rows")
    return pd.DataFrame.from_records(rows)


# --- labels ----------------------------------------------------------------------------------


def label_key(v) -> str | None:
    """A label value as text, so 1, 1.0, "1" (CSV) and True read alike; None for a missing label."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    s = str(v).strip()
    if not s:
        return None
    try:
        f = float(s)
    except ValueError:
        return s
    return str(int(f)) if f.is_integer() else s


def label_values(frames: dict[str, pd.DataFrame], cols: Columns) -> tuple[str, str]:
    """The (negative, positive) label keys of two-valued labels, checked across all files."""
    seen: dict[str, str] = {}
    for split, df in frames.items():
        for k in df[cols.label].map(label_key).dropna().unique():
            seen.setdefault(k, split)
    pos = label_key(cols.positive)
    hint = (
        f"binary sentiment needs two; map numeric ratings with prepare.rating_bands "
        f"[negative_max, positive_min], or keep two values in column {cols.label!r}"
    )
    if len(seen) > 2:
        shown = sorted(seen, key=lambda k: (_number(k) is None, _number(k) or 0, k))
        raise DataError(f"column {cols.label!r} has {len(seen)} label values {shown[:20]}: {hint}")
    if pos not in seen:
        raise DataError(
            f"prepare.positive_label {cols.positive!r} is not a value of column {cols.label!r}; "
            f"its values: {sorted(seen)}"
        )
    if len(seen) < 2:
        raise DataError(f"column {cols.label!r} has one label value only ({pos!r}): {hint}")
    (neg,) = set(seen) - {pos}
    if cols.negative is not None and neg != label_key(cols.negative):
        raise DataError(
            f"column {cols.label!r}: labels must be {cols.negative!r}/{cols.positive!r}, got {sorted(seen)}"
        )
    return neg, pos


def label_names(neg: str, pos: str) -> list[str]:
    """What the models answer: the dataset's own words when its labels are words, else negative/positive."""
    return (
        [neg, pos]
        if _number(neg) is None and _number(pos) is None and {neg, pos} != {"true", "false"}
        else list(LABELS)
    )


def _number(k: str) -> float | None:
    try:
        return float(k)
    except ValueError:
        return None


# --- one table -> the project's schema --------------------------------------------------------


def to_standard(df: pd.DataFrame, split: str, cols: Columns, keys: tuple[str, str] | None = None):
    """(rows as uid, id, rating, label, text; Counter of dropped rows by reason). `keys`: the
    (negative, positive) label keys of two-valued labels (label_values)."""
    wanted = {"text_column": cols.text, "label_column": cols.label, "id_column": cols.id, "rating": cols.rating}
    missing = {param: c for param, c in wanted.items() if c is not None and c not in df.columns}
    if missing:
        named = ", ".join(f"{c!r} (prepare.{p})" if p != "rating" else repr(c) for p, c in missing.items())
        raise DataError(f"{split}: no column {named}; the columns are {list(df.columns)}")
    dropped: Counter = Counter()
    df = df.reset_index(drop=True)
    row = pd.Series(np.arange(len(df)), index=df.index)  # the row in the file, for ids and messages

    no_text = df[cols.text].isna()
    if no_text.any():
        dropped["no text"] = int(no_text.sum())
    if cols.bands:
        rating = pd.to_numeric(df[cols.label], errors="coerce")
        bad = rating.isna() & df[cols.label].map(label_key).notna()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{split}: prepare.rating_bands needs numeric ratings; column {cols.label!r} has "
                f"{df[cols.label].iloc[i]!r} at row {i}"
            )
        label = pd.Series(np.where(rating <= cols.bands[0], 0, np.where(rating >= cols.bands[1], 1, -1)), df.index)
        no_label = rating.isna()
        middle = (label == -1) & ~no_label
        if middle.any():
            dropped["rating in the middle band"] = int((middle & ~no_text).sum())
    else:
        k = df[cols.label].map(label_key)
        no_label = k.isna()
        label = pd.Series(np.where(k == keys[1], 1, 0), df.index)
        middle = pd.Series(False, df.index)
    if (no_label & ~no_text).any():
        dropped["label missing"] = int((no_label & ~no_text).sum())
    keep = ~(no_text | no_label | middle)
    df, label, row = df[keep], label[keep], row[keep]
    if df.empty:
        raise DataError(f"{split}: no rows left ({_counts(dropped) or 'the file is empty'})")

    if cols.id:
        ids = pd.to_numeric(df[cols.id], errors="coerce")
        bad = ids.isna() | (ids != ids.round())
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{split}: {int(bad.sum())} id(s) in column {cols.id!r} (prepare.id_column) are missing or not "
                f"integers, e.g. row {int(row.iloc[i])}: {df[cols.id].iloc[i]!r}"
            )
        ids = ids.astype("int64")
    else:
        ids = row
    rating = _ratings(df[cols.rating]) if cols.rating else pd.array([pd.NA] * len(df), "Int8")
    out = pd.DataFrame(
        {
            "id": ids.astype("int32").to_numpy(),
            "rating": rating,
            "label": label.astype("int8").to_numpy(),
            "text": df[cols.text].astype(str).to_numpy(),
        }
    )
    out.insert(0, "uid", [f"{split}/{UID_LABEL[l]}/{i}" for l, i in zip(out.label, out.id)])
    if out.uid.duplicated().any():
        raise DataError(f"{split}: duplicate (label, id) pairs, e.g. {out.uid[out.uid.duplicated()].iloc[0]}")
    return out, dropped


def _ratings(values: pd.Series) -> pd.arrays.IntegerArray:
    """Whole-number ratings as Int8 (the report's accuracy-by-rating table); other ratings: null."""
    r = pd.to_numeric(values, errors="coerce")
    whole = r.notna().all() and (r == r.round()).all() and r.between(-128, 127).all()
    return pd.array(r.to_numpy() if whole else [pd.NA] * len(r), "Int8")


def _counts(c: Counter) -> str:
    return ", ".join(f"{n} {why}" for why, n in c.items())
