"""Stratified subsets: prepare's quick-run caps and the fine-tune's training budget."""

from __future__ import annotations

import logging

import pandas as pd
from sklearn.model_selection import train_test_split

log = logging.getLogger(__name__)


def stratified_subsample(df: pd.DataFrame, n: int | None, seed: int, what: str = "rows") -> pd.DataFrame:
    """n rows in the class proportions of df; all of them when n is None or not below len(df)."""
    if n is None or n >= len(df):
        if n is not None and n > len(df):
            log.info("%d %s asked for, %d available: using all of them", n, what, len(df))
        return df
    keep, _ = train_test_split(df, train_size=n, stratify=df.label, random_state=seed)
    return keep.sort_index()
