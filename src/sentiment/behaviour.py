"""Behavioural tests after CheckList (Ribeiro et al., ACL 2020), written here: the `checklist`
package does not install on our Python.

Three kinds, each a few hundred cases generated deterministically from templates and a seed:
  - MFT, minimum functionality: every case has an expected label (plain sentences, negation,
    sentiment in the second clause). Failure: the prediction is not the expected one
    ("not bad" expects *not negative*: failure = predicted negative).
  - INV, invariance: a perturbation that must not change the prediction (typos, character
    noise, other names, numbers or punctuation, upper case). Failure: the label flips.
  - DIR, directional: adding a clearly positive (negative) clause must not lower (raise)
    P(positive) by more than a tolerance. Failure: it moves the wrong way by more.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import THRESHOLD

POS_ADJ = [
    "good",
    "great",
    "excellent",
    "amazing",
    "wonderful",
    "fantastic",
    "brilliant",
    "enjoyable",
    "delightful",
    "superb",
    "lovely",
    "perfect",
    "outstanding",
    "impressive",
    "fun",
]
NEG_ADJ = [
    "bad",
    "terrible",
    "awful",
    "horrible",
    "boring",
    "dull",
    "poor",
    "disappointing",
    "weak",
    "lame",
    "mediocre",
    "annoying",
    "pathetic",
    "dreadful",
    "unpleasant",
]
# nouns from the three domains of the sentence set: films, restaurants, products
NOUNS = [
    "movie",
    "film",
    "acting",
    "plot",
    "story",
    "ending",
    "soundtrack",
    "food",
    "service",
    "meal",
    "restaurant",
    "staff",
    "phone",
    "battery",
    "headset",
    "product",
    "screen",
    "price",
]
NAMES = [
    "John",
    "Mary",
    "Ahmed",
    "Mei",
    "Carlos",
    "Olga",
    "Kwame",
    "Priya",
    "Lukas",
    "Sofia",
    "Hiroshi",
    "Fatima",
    "David",
    "Amara",
    "Ivan",
    "Chloe",
]
PLAIN = [
    "The {n} was {a}.",
    "This {n} is {a}.",
    "What a {a} {n}.",
    "It was a {a} {n}.",
    "I found the {n} {a}.",
    "Honestly, the {n} is {a}.",
    "The {n} was really {a}.",
]
NEGATED = [
    "The {n} was not {a}.",
    "This {n} is not {a}.",
    "The {n} wasn't {a}.",
    "I don't think the {n} is {a}.",
    "It was not a {a} {n}.",
    "I would not call the {n} {a}.",
    "The {n} is not {a} at all.",
]
BUT_POS = [
    "I expected to hate it, but the {n} was {p}.",
    "I thought the {n} would be {q}, but it was {p}.",
    "The reviews were {q}, but the {n} was {p}.",
    "At first the {n} seemed {q}, but in the end it was {p}.",
]
BUT_NEG = [
    "I expected to love it, but the {n} was {q}.",
    "I thought the {n} would be {p}, but it was {q}.",
    "The reviews were {p}, but the {n} was {q}.",
    "At first the {n} seemed {p}, but in the end it was {q}.",
]
WITH_NAME = [
    "{name} said the {n} was {a}.",
    "I went with {name} and the {n} was {a}.",
    "{name} and I agreed: the {n} is {a}.",
]
WITH_NUMBER = [
    "I waited {k} minutes and the {n} was {a}.",
    "After {k} days, the {n} is still {a}.",
    "We paid {k} dollars and the {n} was {a}.",
]
POS_CLAUSE = [" I loved it.", " Highly recommended!", " It was wonderful.", " Absolutely great."]
NEG_CLAUSE = [" I hated it.", " Avoid it.", " It was awful.", " What a waste of money."]
NEUTRAL = [
    "I watched it on Saturday.",
    "We ordered the {n} last week.",
    "The {n} arrived on time.",
    "I saw it with my brother.",
    "We went there for lunch.",
    "It came in a box.",
]


@dataclass
class Test:
    name: str
    kind: str  # mft | inv | dir
    capability: str
    texts: list[str]
    expected: list[int] = field(default_factory=list)  # mft: label; "not negative" = -1
    perturbed: list[str] = field(default_factory=list)  # inv / dir
    direction: int = 0  # dir: +1 up, -1 down


def _fill(templates: list[str], slots: dict[str, list], n: int, rng: random.Random) -> list[tuple[str, dict]]:
    """n fillings (template, slot values) with distinct texts, sampled without replacement
    (with replacement only when there are fewer than n distinct texts)."""
    keys = list(slots)
    seen, combos = set(), []
    for t in templates:
        for v in itertools.product(*(slots[k] for k in keys)):
            s = dict(zip(keys, v))
            text = t.format(**s)
            if text not in seen:
                seen.add(text)
                combos.append((t, s))
    rng.shuffle(combos)
    return combos[:n] if len(combos) >= n else [rng.choice(combos) for _ in range(n)]


def _render(pairs) -> list[str]:
    return [t.format(**s) for t, s in pairs]


def _typo(text: str, rng: random.Random, k: int = 1) -> str:
    """k swaps of two adjacent letters inside words (CheckList's Perturb.add_typos)."""
    chars = list(text)
    for _ in range(k):
        spots = [i for i in range(len(chars) - 1) if chars[i].isalpha() and chars[i + 1].isalpha()]
        if spots:
            i = rng.choice(spots)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _noise(text: str, rng: random.Random) -> str:
    """One character dropped, doubled or replaced by a neighbour on the keyboard row."""
    i = rng.choice([i for i, c in enumerate(text) if c.isalpha()])
    op = rng.choice(("drop", "double", "replace"))
    if op == "drop":
        return text[:i] + text[i + 1 :]
    if op == "double":
        return text[:i] + text[i] + text[i:]
    row = "qwertyuiopasdfghjklzxcvbnm"
    j = row.find(text[i].lower())
    return text[:i] + row[(j + 1) % len(row)] + text[i + 1 :]


def build_suite(n: int, seed: int) -> list[Test]:
    """Every test with n cases, the same for the same (n, seed)."""
    rng = random.Random(seed)
    pos = _render(_fill(PLAIN, {"n": NOUNS, "a": POS_ADJ}, n, rng))
    neg = _render(_fill(PLAIN, {"n": NOUNS, "a": NEG_ADJ}, n, rng))
    half = n // 2
    mixed = pos[:half] + neg[: n - half]  # base sentences of both polarities for INV tests
    tests = [
        Test("positive sentences", "mft", "vocabulary", pos, [1] * n),
        Test("negative sentences", "mft", "vocabulary", neg, [0] * n),
        Test(
            "negated positive -> negative",
            "mft",
            "negation",
            _render(_fill(NEGATED, {"n": NOUNS, "a": POS_ADJ}, n, rng)),
            [0] * n,
        ),
        Test(
            "negated negative -> not negative",
            "mft",
            "negation",
            _render(_fill(NEGATED, {"n": NOUNS, "a": NEG_ADJ}, n, rng)),
            [-1] * n,
        ),
    ]
    but_pos = _render(_fill(BUT_POS, {"n": NOUNS, "p": POS_ADJ, "q": NEG_ADJ}, half, rng))
    but_neg = _render(_fill(BUT_NEG, {"n": NOUNS, "p": POS_ADJ, "q": NEG_ADJ}, n - half, rng))
    tests.append(
        Test(
            "sentiment in the second clause",
            "mft",
            "contrast",
            but_pos + but_neg,
            [1] * len(but_pos) + [0] * len(but_neg),
        )
    )
    tests += [
        Test("typos (2 swapped letters)", "inv", "robustness", mixed, perturbed=[_typo(t, rng, 2) for t in mixed]),
        Test("character noise", "inv", "robustness", mixed, perturbed=[_noise(t, rng) for t in mixed]),
        Test("upper case", "inv", "robustness", mixed, perturbed=[t.upper() for t in mixed]),
        Test(
            "punctuation",
            "inv",
            "robustness",
            mixed,
            perturbed=[t.rstrip(".") + rng.choice(["!", "", "...", " !!"]) for t in mixed],
        ),
    ]
    named = _fill(WITH_NAME, {"n": NOUNS, "a": POS_ADJ + NEG_ADJ, "name": NAMES}, n, rng)
    tests.append(
        Test(
            "changed names",
            "inv",
            "fairness",
            _render(named),
            perturbed=[t.format(**{**s, "name": rng.choice([x for x in NAMES if x != s["name"]])}) for t, s in named],
        )
    )
    numbered = _fill(WITH_NUMBER, {"n": NOUNS, "a": POS_ADJ + NEG_ADJ, "k": [str(k) for k in range(2, 60)]}, n, rng)
    tests.append(
        Test(
            "changed numbers",
            "inv",
            "robustness",
            _render(numbered),
            perturbed=[t.format(**{**s, "k": str(int(s["k"]) + rng.randint(1, 40))}) for t, s in numbered],
        )
    )
    base = _render(_fill(NEUTRAL + PLAIN, {"n": NOUNS, "a": POS_ADJ + NEG_ADJ}, n, rng))
    tests += [
        Test(
            "add a positive clause",
            "dir",
            "direction",
            base,
            perturbed=[t + rng.choice(POS_CLAUSE) for t in base],
            direction=+1,
        ),
        Test(
            "add a negative clause",
            "dir",
            "direction",
            base,
            perturbed=[t + rng.choice(NEG_CLAUSE) for t in base],
            direction=-1,
        ),
    ]
    return tests


def failures(test: Test, prob: np.ndarray, prob_perturbed: np.ndarray | None, tolerance: float) -> np.ndarray:
    """Boolean failure per case."""
    pred = prob >= THRESHOLD
    if test.kind == "mft":
        exp = np.asarray(test.expected)
        return np.where(exp == -1, ~pred, pred != (exp == 1))
    if test.kind == "inv":
        return pred != (prob_perturbed >= THRESHOLD)
    return test.direction * (prob_perturbed - prob) < -tolerance


def run_suite(suite: list[Test], score: Callable[[Sequence[str]], np.ndarray], tolerance: float, n_worst: int) -> dict:
    """{test name: failure rate, capability, kind, n, worst failing cases} for one model.

    All texts go through `score` in one call (one batched pass)."""
    texts = [t for test in suite for t in test.texts + test.perturbed]
    prob = np.asarray(score(texts), dtype="float64")
    out, at = {}, 0
    for test in suite:
        p = prob[at : at + len(test.texts)]
        at += len(test.texts)
        q = prob[at : at + len(test.perturbed)] if test.perturbed else None
        at += len(test.perturbed)
        fail = failures(test, p, q, tolerance)
        # worst: most confident wrong answers (mft), biggest moves (inv, dir)
        badness = np.abs(p - THRESHOLD) if test.kind == "mft" else np.abs(q - p)
        worst = [i for i in np.argsort(-badness, kind="stable") if fail[i]][:n_worst]
        out[test.name] = {
            "kind": test.kind,
            "capability": test.capability,
            "n": len(test.texts),
            "failure_rate": round(float(fail.mean()), 4),
            "worst": [
                {
                    "text": test.texts[i],
                    **({"perturbed": test.perturbed[i]} if test.perturbed else {}),
                    "p_positive": round(float(p[i]), 3),
                    **({"p_positive_perturbed": round(float(q[i]), 3)} if q is not None else {}),
                }
                for i in worst
            ],
        }
    return out
