"""Sentence crops: short training examples cut from reviews, for short-text robustness
(the baseline's crop_models and the fine-tune's augment_crops)."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_CROP_WORDS = 4  # "Wow." or "Spoilers." carries no label of its own
MAX_CROP_WORDS = 60  # a "sentence" of an unpunctuated review is cut here


def sentences(text: str) -> list[str]:
    """Split a cleaned review into sentences at end punctuation followed by a space."""
    return [s for s in _SENTENCE_END.split(text) if s]


def sentence_crops(df: pd.DataFrame, per_review: float, max_sentences: int, seed: int) -> pd.DataFrame:
    """Short training examples for short-text robustness: round(per_review * len(df)) windows of
    1..max_sentences consecutive sentences of randomly drawn reviews, labelled like their review.

    Windows under MIN_CROP_WORDS words grow by a sentence while they can; windows are cut to
    MAX_CROP_WORDS words. Deterministic for a
    seed; uids are '<review uid>#<n>'. Returns the columns uid, label, text.
    """
    n = int(round(per_review * len(df)))
    if n == 0 or df.empty:
        return pd.DataFrame(
            {"uid": pd.Series(dtype=str), "label": pd.Series(dtype="int8"), "text": pd.Series(dtype=str)}
        )
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(df), size=n, replace=n > len(df))
    texts = []
    for i in rows:
        sents = sentences(df.text.iat[i])
        k = int(rng.integers(1, max_sentences + 1))
        start = int(rng.integers(0, max(1, len(sents) - k + 1)))
        end = min(len(sents), start + k)
        while end < len(sents) and len(" ".join(sents[start:end]).split()) < MIN_CROP_WORDS:
            end += 1
        texts.append(" ".join(" ".join(sents[start:end]).split()[:MAX_CROP_WORDS]))
    return pd.DataFrame(
        {
            "uid": [f"{df.uid.iat[i]}#{j}" for j, i in enumerate(rows)],
            "label": df.label.values[rows].astype("int8"),
            "text": texts,
        }
    )


def with_crops(train: pd.DataFrame, per_review: float, max_sentences: int, seed: int) -> pd.DataFrame:
    """train plus its sentence crops (train itself first, unchanged)."""
    crops = sentence_crops(train, per_review, max_sentences, seed)
    if crops.empty:
        return train
    log.info(
        "augmenting %d reviews with %d sentence crops (median %d words)",
        len(train),
        len(crops),
        int(crops.text.str.split().str.len().median()),
    )
    return pd.concat([train[["uid", "label", "text"]], crops], ignore_index=True)
