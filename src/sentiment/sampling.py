"""Stratified subsets: prepare's quick-run caps and the fine-tune's training budget."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split


def stratified_subsample(df: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    if n is None or n >= len(df):
        return df
    keep, _ = train_test_split(df, train_size=n, stratify=df.label, random_state=seed)
    return keep.sort_index()
