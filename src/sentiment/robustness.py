"""Robustness report: every servable model on one-line texts from three domains, and behaviourally.

The sentence set (data/raw/sentences, 3,000 labelled sentences from Amazon, Yelp and IMDB)
is a development set, never training data. It is split once, seeded and stratified by
source x label, into a *selection* half, on which robustness settings may be chosen, and a
*report* half, on which figures are reported (src/sentiment/sentences.py).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field

from .sentences import HALVES, SentenceSplitParams, source_metrics

log = logging.getLogger(__name__)


class RobustnessParams(SentenceSplitParams):
    """params.yaml `robustness` (the stage owns the whole section)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    models: list[str] = Field(min_length=1, description="trained models (by predictions name) or zero-shot scorers")
    cases_per_test: int = Field(ge=10, description="generated cases per behavioural test")
    dir_tolerance: float = Field(ge=0, lt=1, description="directional tests: allowed wrong-way move of P(positive)")
    n_bootstrap: int = Field(ge=0, description="bootstrap resamples for 95% CIs (0: none)")


def served(models, default: str = "ensemble") -> str:
    """The model the report speaks for: the one served by default, or the first listed if it is not scored."""
    return default if default in models else next(iter(models))


def domain_metrics(df: pd.DataFrame, probs: dict[str, np.ndarray], n_boot: int, seed: int) -> dict:
    """{model: {half: {source: metrics + 95% CIs}}}."""
    return {
        name: {
            half: source_metrics(df[(df.half == half).values], np.asarray(prob)[(df.half == half).values], n_boot, seed)
            for half in HALVES
        }
        for name, prob in probs.items()
    }


def domain_table(metrics: dict, test_acc: dict[str, float], half: str = "report", dataset: str = "IMDB") -> str:
    """Markdown: accuracy [95% CI] per model and source, the test accuracy on the prepared data
    (`dataset`, its dataset.json name) beside it."""
    sources = sorted({s for m in metrics.values() for s in m[half]})
    test = f"{dataset} test" + (" (long reviews)" if dataset == "IMDB" else "")
    lines = [f"| model | {' | '.join(sources)} | {test} |", "|---" * (len(sources) + 2) + "|"]
    order = sorted(metrics, key=lambda n: -min(metrics[n][half][s]["accuracy"] for s in sources))
    for name in order:
        cells = []
        for s in sources:
            r = metrics[name][half][s]
            lo, hi = r.get("accuracy_ci", [np.nan, np.nan])
            cells.append(f"{r['accuracy']:.3f} [{lo:.3f}, {hi:.3f}]")
        t = test_acc.get(name)
        lines.append(f"| {name} | {' | '.join(cells)} | {'' if t is None else f'{t:.4f}'} |")
    return "\n".join(lines)


def plot_rows(metrics: dict, test_acc: dict[str, float], half: str = "report", dataset: str = "IMDB") -> list[dict]:
    """Long-format rows for the model x domain bar plot."""
    rows = [
        {"model": n, "domain": s, "accuracy": r["accuracy"]}
        for n, m in metrics.items()
        for s, r in sorted(m[half].items())
    ]
    rows += [{"model": n, "domain": f"{dataset} test", "accuracy": round(float(a), 6)} for n, a in test_acc.items()]
    return rows


def behaviour_table(behaviour: dict) -> str:
    """Markdown: failure rate (%) of each behavioural test (rows) for each model (columns)."""
    models = list(behaviour)
    tests = list(next(iter(behaviour.values())))
    lines = [f"| test | kind | {' | '.join(models)} |", "|---" * (len(models) + 2) + "|"]
    for t in tests:
        r0 = behaviour[models[0]][t]
        lines.append(
            f"| {t} | {r0['kind'].upper()} | "
            + " | ".join(f"{100 * behaviour[m][t]['failure_rate']:.1f}" for m in models)
            + " |"
        )
    return "\n".join(lines)


def report_markdown(
    domains: dict,
    test_acc: dict,
    behaviour: dict,
    sentences: pd.DataFrame,
    probs: dict[str, np.ndarray],
    n_worst: int,
    default: str = "ensemble",
    dataset: str = "IMDB",
) -> str:
    """reports/robustness.md: domain table, behavioural failure rates, where the default model fails."""
    from . import THRESHOLD

    n_rep = int((sentences.half == "report").sum())
    out = [
        "# Robustness",
        "",
        f"## Accuracy by domain (report half of the sentence set, {n_rep} sentences; 95% bootstrap CIs)",
        "",
        domain_table(domains, test_acc, dataset=dataset),
        "",
        "## Behavioural tests: failure rate, % (CheckList-style; see src/sentiment/behaviour.py)",
        "",
        behaviour_table(behaviour),
        "",
    ]
    name = served(probs, default)
    rep = sentences.assign(prob=probs[name])[sentences.half == "report"]
    wrong = rep[(rep.prob >= THRESHOLD) != (rep.label == 1)]
    wrong = wrong.assign(conf=(wrong.prob - THRESHOLD).abs()).sort_values("conf", ascending=False, kind="stable")
    out += [
        f"## Where {name} still fails",
        "",
        f"Most confident mistakes on the report half, per source ({len(wrong)} mistakes in all):",
        "",
        "| source | label | P(positive) | sentence |",
        "|---|---|---|---|",
    ]
    for _, r in (
        wrong.groupby("source", sort=True)
        .head(n_worst)
        .sort_values(["source", "conf"], ascending=[True, False])
        .iterrows()
    ):
        out.append(f"| {r.source} | {r.label} | {r.prob:.3f} | {r.text.replace('|', '/')} |")
    out += ["", f"Failing behavioural cases of {name} (most confident first):", ""]
    for test, r in behaviour[name].items():
        for c in r["worst"]:
            moved = f" → {c['perturbed']!r} ({c['p_positive_perturbed']})" if "perturbed" in c else ""
            out.append(f"- *{test}*: {c['text']!r} ({c['p_positive']}){moved}")
    return "\n".join(out) + "\n"


def robustness_metrics(domains: dict, behaviour: dict, default: str = "ensemble", half: str = "report") -> dict:
    """The DVC metrics of this stage, for the model served by default (the first listed if it is
    not scored): its accuracy on the worst source of the sentence set's report half, and its
    failure rate over every negation case ("not bad" is not negative). Every model's per-source
    figures with CIs and every behavioural test are in reports/robustness/."""
    name = served(domains, default)
    cases = [(r["failure_rate"], r["n"]) for r in behaviour[name].values() if r["capability"] == "negation"]
    return {
        "worst_domain": min(r["accuracy"] for r in domains[name][half].values()),
        "negation_fails": round(sum(f * n for f, n in cases) / sum(n for _, n in cases), 4),
    }
