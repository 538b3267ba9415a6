"""Atomic file output and the predictions contract shared by every model stage.

A predictions file `predictions/<stage>/<model>.parquet` has one row per test review:
uid, label (true), pred (0/1) and prob (P(positive)). `evaluate` computes every metric
from these files and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

PRED_COLUMNS = ["uid", "label", "pred", "prob"]


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


def make_predictions(uid, label, prob, threshold: float = 0.5) -> pd.DataFrame:
    prob = np.asarray(prob, dtype="float64")
    if prob.shape != (len(uid),) or not np.all((prob >= 0) & (prob <= 1)):
        raise ValueError("prob must hold one probability in [0, 1] per review")
    return pd.DataFrame({"uid": np.asarray(uid, dtype=object), "label": np.asarray(label, dtype="int8"),
                         "pred": (prob >= threshold).astype("int8"), "prob": prob})


def write_predictions(preds: pd.DataFrame, path: str | Path) -> None:
    check_predictions(preds, str(path))
    write_parquet(preds[PRED_COLUMNS], path)


def check_predictions(preds: pd.DataFrame, name: str) -> None:
    missing = set(PRED_COLUMNS) - set(preds.columns)
    if missing:
        raise ValueError(f"{name}: predictions lack column(s) {sorted(missing)}")
    if preds.uid.duplicated().any():
        raise ValueError(f"{name}: duplicate uids")
    if preds.prob.isna().any() or not preds.prob.between(0, 1).all():
        raise ValueError(f"{name}: prob must be in [0, 1]")


def read_predictions(folder: str | Path) -> dict[str, pd.DataFrame]:
    """All predictions files under `folder` (recursively), keyed by model name."""
    out = {}
    for path in sorted(Path(folder).rglob("*.parquet")):
        name = path.stem
        if name in out:
            raise ValueError(f"two predictions files for model {name!r}: {path}")
        df = pd.read_parquet(path)
        check_predictions(df, str(path))
        out[name] = df
    if not out:
        raise FileNotFoundError(f"no predictions files under {folder}")
    return out
