"""What a text is, for training and serving alike: the cleaning every model gets, and the one
bad-input policy (library, CLI, API and scorers).

Model-specific normalisation (lowercasing, stopwords, tokenisation) lives in each model's own
pipeline. The predict-time code checks `inference.json`'s "cleaning" against this module's
`clean_text` by name, so the function keeps its name and place.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

# --- cleaning --------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Strip HTML tags (IMDB has `<br />`), unescape entities, collapse whitespace."""
    return _WS.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


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
