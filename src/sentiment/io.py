"""Atomic file output and the predictions contract shared by every model stage.

Predictions contract v2: `predictions/<stage>/<model>.parquet` has one row per review of the
validation split *and* of the test split: uid, split ('val' or 'test'), label (true), pred
(0/1) and prob (P(positive)). Later stages select and combine models on the 'val' rows
only; the 'test' rows are for the final report. A sibling `<model>.json` holds what the
result depends on beyond params and data (device, precision, CPU instruction set).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from datetime import UTC
from pathlib import Path

import numpy as np
import pandas as pd

from . import LABELS, THRESHOLD, DataError, sha256_file

log = logging.getLogger(__name__)

PRED_COLUMNS = ["uid", "split", "label", "pred", "prob"]
PRED_SPLITS = ("val", "test")
# What the prepared data is called and the names of its label ids 0 and 1: written by prepare,
# copied beside every model, read by whatever names them (predictor, API, card, reports).
DATASET_INFO = "dataset.json"


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temp path beside `path`; rename it over `path` only if the block succeeds.

    Works for files and directories, so a crash never leaves a half-written artifact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def write_json(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False, compression="zstd")


def make_predictions(split: str, uid, label, prob) -> pd.DataFrame:
    """One split's rows of a predictions file."""
    if split not in PRED_SPLITS:
        raise ValueError(f"split must be one of {PRED_SPLITS}, got {split!r}")
    prob = np.asarray(prob, dtype="float64")
    if prob.shape != (len(uid),) or not np.all((prob >= 0) & (prob <= 1)):
        raise ValueError("prob must hold one probability in [0, 1] per review")
    return pd.DataFrame(
        {
            "uid": np.asarray(uid, dtype=object),
            "split": split,
            "label": np.asarray(label, dtype="int8"),
            "pred": (prob >= THRESHOLD).astype("int8"),
            "prob": prob,
        }
    )


def write_predictions(preds: pd.DataFrame | list[pd.DataFrame], path: str | Path, meta: dict | None = None) -> None:
    """Write a model's val + test predictions (and its meta JSON beside them)."""
    if isinstance(preds, list):
        preds = pd.concat(preds, ignore_index=True)
    check_predictions(preds, str(path))
    write_parquet(preds[PRED_COLUMNS], path)
    if meta is not None:
        write_json(meta, Path(path).with_suffix(".json"))


def check_predictions(preds: pd.DataFrame, name: str) -> None:
    missing = set(PRED_COLUMNS) - set(preds.columns)
    if missing:
        raise ValueError(
            f"{name}: predictions lack column(s) {sorted(missing)} (contract v2: {PRED_COLUMNS}); rerun its stage"
        )
    splits = set(preds.split.unique())
    if splits != set(PRED_SPLITS):
        raise ValueError(f"{name}: predictions must cover the splits {list(PRED_SPLITS)}, got {sorted(splits)}")
    if preds.uid.duplicated().any():
        raise ValueError(f"{name}: duplicate uids")
    if preds.prob.isna().any() or not preds.prob.between(0, 1).all():
        raise ValueError(f"{name}: prob must be in [0, 1]")


def read_predictions(folder: str | Path, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Predictions files under `folder` (recursively), keyed by model name; `names`: only these,
    each of which must exist."""
    out = {}
    for path in sorted(Path(folder).rglob("*.parquet")):
        name = path.stem
        if names is not None and name not in names:
            continue
        if name in out:
            raise ValueError(f"two predictions files for model {name!r}: {path}")
        try:
            df = pd.read_parquet(path)
        except Exception as e:  # pyarrow raises several types for a damaged file
            raise ValueError(f"{path}: not a readable predictions file ({type(e).__name__}: {e})") from None
        check_predictions(df, str(path))
        meta = path.with_suffix(".json")
        df.attrs["meta"] = json.loads(meta.read_text()) if meta.is_file() else {}
        df.attrs["stage"] = path.parent.name
        out[name] = df
    missing = sorted(set(names or []) - set(out))
    if missing:
        raise ValueError(f"no predictions under {folder} for model(s) {missing}; have {sorted(out)}")
    if not out:
        raise FileNotFoundError(f"no predictions files under {folder}")
    return out


def split_rows(preds: pd.DataFrame, split: str, reference: pd.DataFrame, name: str) -> pd.DataFrame:
    """A model's rows of one split, in the order of `reference` (a prepared split), checked."""
    df = preds[preds.split == split]
    if len(df) != len(reference) or set(df.uid) != set(reference.uid):
        raise ValueError(
            f"predictions of {name!r} do not cover the prepared {split} split "
            f"({len(df)} rows vs {len(reference)}): rerun its stage"
        )
    df = df.set_index("uid").loc[reference.uid].reset_index()
    if not (df.label.values == reference.label.values).all():
        raise ValueError(f"predictions of {name!r}: true labels disagree with the {split} split")
    return df


def write_stage_log(stage: str, seconds: dict, path: str | Path | None = None, **extra) -> None:
    """logs/<stage>.json: step timings and the machine, for the README's cost table (not metrics)."""
    from datetime import datetime

    from .runtime import machine

    write_json(
        {
            "stage": stage,
            "seconds": seconds,
            "machine": machine(),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            **extra,
        },
        path or f"logs/{stage}.json",
    )


# --- input files ------------------------------------------------------------------------


def read_dataset_info(folder: str | Path) -> dict:
    """<folder>/dataset.json, checked: {"name", "labels": [name of label 0, name of label 1]}. A folder
    without one was made before the file existed, from the IMDB data."""
    path = Path(folder) / DATASET_INFO
    if not path.is_file():
        return {"name": "IMDB", "labels": list(LABELS)}
    try:
        info = json.loads(path.read_bytes())
    except ValueError as e:  # bad JSON or bad UTF-8
        raise DataError(f"{path}: not valid JSON ({e})") from None
    name, labels = (info.get("name"), info.get("labels")) if isinstance(info, dict) else (None, None)
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"{path}: name must be a non-empty string, got {name!r}")
    if not (
        isinstance(labels, list)
        and len(labels) == 2
        and all(isinstance(x, str) and x.strip() for x in labels)
        and labels[0] != labels[1]
    ):
        raise DataError(f"{path}: labels must be 2 distinct non-empty names (label 0, label 1), got {labels!r}")
    return info


def copy_dataset_info(src_folder: str | Path, dst_folder: str | Path) -> None:
    """Put the data's dataset.json beside a model (checked on the way), so the model names its labels."""
    write_json(read_dataset_info(src_folder), Path(dst_folder) / DATASET_INFO)


def verify_checksums(data_dir: Path) -> None:
    """Check files against data_dir/SHA256SUMS when it exists."""
    sums = data_dir / "SHA256SUMS"
    if not sums.is_file():
        log.warning("%s not found: checksums not verified", sums)
        return
    for n, line in enumerate(sums.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            raise DataError(f"{sums}:{n}: not a '<sha256>  <file name>' line: {line[:80]!r}")
        digest, name = parts
        path = data_dir / name.strip().lstrip("*")
        if path.is_file() and sha256_file(path) != digest:
            raise DataError(f"{path}: checksum mismatch with {sums} (file changed or corrupt)")


def read_split(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    try:
        return pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise DataError(f"{path}: not a readable parquet file ({type(e).__name__}: {e})") from e
