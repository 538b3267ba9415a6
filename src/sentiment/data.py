"""Load, check, clean and split the IMDB reviews.

Cleaning here is what every model gets (HTML and whitespace); model-specific
normalisation (lowercasing, stopwords, tokenisation) lives in each model's own pipeline.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from . import DataError, sha256_file

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
REQUIRED = {"label", "text"}  # id and rating are optional (the hub copy has neither)
LABEL_NAMES = {0: "neg", 1: "pos"}


# --- loading ---------------------------------------------------------------------------


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


# --- cleaning --------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Strip HTML tags (IMDB has `<br />`), unescape entities, collapse whitespace."""
    return _WS.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def clean(df: pd.DataFrame, split: str) -> pd.DataFrame:
    df = df.assign(text=df.text.map(clean_text))
    empty = df.text.eq("")
    if empty.any():
        raise DataError(
            f"{split}: {int(empty.sum())} review(s) are empty after cleaning, e.g. {df.uid[empty].iloc[:5].tolist()}"
        )
    return df


# --- the one bad-input policy (library, CLI, API and scorers) ---------------------------------


class InputError(ValueError):
    """Some texts cannot be classified; `indices` are their 0-based positions."""

    def __init__(self, message: str, indices: list[int]):
        super().__init__(message)
        self.indices = indices


def check_texts(texts: Sequence, offset: int = 0) -> list[str]:
    """The cleaned texts, or InputError naming (offset + index of) the first bad ones."""
    cleaned, bad, why = [], [], ""
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            bad.append(i)
            why = why or f"is not text ({type(t).__name__})"
            continue
        try:
            t.encode("utf-8")  # lone surrogates (a command-line argument in another encoding)
        except UnicodeEncodeError:
            bad.append(i)
            why = why or "is not valid UTF-8/Unicode text"
            continue
        c = clean_text(t)
        if not c:
            bad.append(i)
            why = why or "is empty (whitespace/HTML only)"
        cleaned.append(c)
    if bad:
        idx = [offset + i for i in bad]
        more = f" (and {len(idx) - 1} more: {idx[1:10]})" if len(idx) > 1 else ""
        raise InputError(f"text at index {idx[0]} {why}{more}", idx)
    return cleaned


# --- splitting -------------------------------------------------------------------------


def stratified_subsample(df: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    if n is None or n >= len(df):
        return df
    keep, _ = train_test_split(df, train_size=n, stratify=df.label, random_state=seed)
    return keep.sort_index()


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


# --- augmentation ----------------------------------------------------------------------

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


# Negation contrast pairs (issue #13): IMDB reviews almost never say "not bad" in a sentence of
# their own, so every trained model read "X is not terrible" as negative. A pair is a real
# training sentence whose one sentiment word is a copula's adjective agreeing with its review's
# label ("The acting was terrible.", label 0), and the same sentence negated ("The acting was
# not terrible.", label 1). The pair differs in the negation alone, so only the negation can
# explain the flipped label.
_COPULA = re.compile(
    r"\b(is|was|are|were)\s+((?:very|really|so|quite|pretty|truly|rather|too|extremely)\s+)?"
    r"([A-Za-z]+)\b",
    re.I,
)
NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|none|nobody|nowhere|hardly|barely|neither|nor|without|cannot)\b"
    r"|n't\b",
    re.I,
)
_CONTRACTED = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't"}
NEGATION_MIN_VALENCE = 1.5  # |VADER valence| of the adjective: "terrible" -2.1, "good" 1.9, "fine" 0.8 (too weak)
NEGATION_MAX_WORDS = 25


def vader_lexicon() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer().lexicon


def negatable(sentence: str, label: int, lexicon: dict[str, float]) -> re.Match | None:
    """The copula match to negate in `sentence`, or None when the sentence is no clean case:
    MIN_CROP_WORDS..NEGATION_MAX_WORDS words, no negation already, one copula, and exactly one
    lexicon word, the copula's adjective, at least NEGATION_MIN_VALENCE strong and agreeing
    with `label`."""
    if not MIN_CROP_WORDS <= len(sentence.split()) <= NEGATION_MAX_WORDS or NEGATION.search(sentence):
        return None
    words = [w for w in re.findall(r"[a-z']+", sentence.lower()) if w in lexicon]
    copulas = list(_COPULA.finditer(sentence))
    if len(words) != 1 or len(copulas) != 1:
        return None
    v = lexicon.get(copulas[0].group(3).lower())
    if v is None or abs(v) < NEGATION_MIN_VALENCE or (v > 0) != (label == 1):
        return None
    return copulas[0]


def negate(sentence: str, m: re.Match, contracted: bool) -> str:
    """'The plot was (really) dull.' -> 'The plot was not (really) dull.' or '... wasn't ...'."""
    cop = m.group(1)
    neg = _CONTRACTED[cop.lower()] if contracted else f"{cop} not"
    if contracted and cop[0].isupper():
        neg = neg[0].upper() + neg[1:]
    return sentence[: m.start(1)] + neg + sentence[m.end(1) :]


def negation_pairs(
    df: pd.DataFrame, per_review: float, seed: int, lexicon: dict[str, float] | None = None
) -> pd.DataFrame:
    """Up to round(per_review * len(df)) contrast pairs, at most one per review, from reviews
    drawn in a seeded order (fewer when not enough reviews have a `negatable` sentence).
    Each pair is two rows: the sentence with its review's label, and `negate`d (half of them
    contracted, "wasn't") with the other label. uids '<review uid>#neg<j>' and '...#neg<j>not'.
    """
    n = int(round(per_review * len(df)))
    cols = {"uid": pd.Series(dtype=str), "label": pd.Series(dtype="int8"), "text": pd.Series(dtype=str)}
    if n == 0 or df.empty:
        return pd.DataFrame(cols)
    lexicon = vader_lexicon() if lexicon is None else lexicon
    rng = np.random.default_rng(seed)
    uids, labels, texts = [], [], []
    for i in rng.permutation(len(df)):
        if len(uids) >= 2 * n:
            break
        y = int(df.label.iat[i])
        found = [(s, m) for s in sentences(df.text.iat[i]) if (m := negatable(s, y, lexicon))]
        if not found:
            continue
        s, m = found[int(rng.integers(len(found)))]
        j = len(uids) // 2
        uids += [f"{df.uid.iat[i]}#neg{j}", f"{df.uid.iat[i]}#neg{j}not"]
        labels += [y, 1 - y]
        texts += [s, negate(s, m, contracted=bool(rng.integers(2)))]
    out = pd.DataFrame({"uid": uids, "label": np.array(labels, dtype="int8"), "text": texts})
    log.info("augmenting %d reviews with %d negation pairs (asked for %d)", len(df), len(out) // 2, n)
    return out
