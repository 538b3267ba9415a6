"""Robustness: every servable model on one-line texts from three domains, and behaviourally.

The sentence set (data/raw/sentences, 3,000 labelled sentences from Amazon, Yelp and IMDB)
is a development set, never training data. It is split once, seeded and stratified by
source x label, into a *selection* half, on which robustness settings may be chosen, and a
*report* half, on which figures are reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from . import DataError
from .data import check_texts, read_split, verify_checksums

log = logging.getLogger(__name__)

HALVES = ("selection", "report")
COLUMNS = {"source", "id", "text", "label"}
Scorer = Callable[[Sequence[str]], np.ndarray]


# --- data ------------------------------------------------------------------------------------


def load_sentences(data_dir: str | Path) -> pd.DataFrame:
    """sentences.parquet, checked: checksum, columns, labels in {0, 1}, text that can be scored."""
    data_dir = Path(data_dir)
    path = data_dir / "sentences.parquet"
    df = read_split(path)
    verify_checksums(data_dir)
    missing = COLUMNS - set(df.columns)
    if missing:
        raise DataError(f"{path}: missing column(s) {sorted(missing)}; got {list(df.columns)}")
    labels = {v.item() if hasattr(v, "item") else v for v in pd.unique(df.label)}
    if not labels <= {0, 1}:
        raise DataError(f"{path}: labels must be 0/1, got {sorted(labels, key=str)}")
    try:
        text = check_texts(df.text.tolist())  # the project's one bad-input policy
    except ValueError as e:
        raise DataError(f"{path}: {e}") from None
    out = pd.DataFrame(
        {
            "uid": [f"{s}/{i}" for s, i in zip(df.source, df.id)],
            "source": df.source.astype(str),
            "label": df.label.astype("int8"),
            "text": text,
        }
    )
    if out.uid.duplicated().any():
        raise DataError(f"{path}: duplicate (source, id) pairs, e.g. {out.uid[out.uid.duplicated()].iloc[0]}")
    return out


def split_halves(df: pd.DataFrame, report_frac: float, seed: int) -> pd.DataFrame:
    """Add `half` in {selection, report}: one seeded split, stratified by source x label."""
    strata = df.source + "/" + df.label.astype(str)
    _, report = train_test_split(df.index, test_size=report_frac, stratify=strata, random_state=seed)
    return df.assign(half=np.where(df.index.isin(report), "report", "selection"))


# --- models ----------------------------------------------------------------------------------


def model_scorer(name: str, pretrained_params, pretrained_dir: str | Path = "predictions/pretrained") -> Scorer:
    """P(positive) for cleaned texts from a model by its predictions name: a trained model
    (baseline, finetuned, ensemble) through the serving Predictor; a zero-shot scorer with the
    settings the pretrained_eval stage chose on validation (its predictions meta file)."""
    import json

    from .predictor import Predictor
    from .scorers import check_name, file_stem, load_scorer, settings
    from .stacker import servable_path

    path = servable_path(name)
    if Path(path).exists():
        predictor = Predictor(path)
        return lambda texts: np.asarray(predictor.predict_proba(list(texts)), dtype="float64")
    check_name(name)  # an unknown name fails here, naming it
    meta = Path(pretrained_dir) / f"{file_stem(name)}.json"
    if not meta.is_file():
        raise DataError(
            f"robustness.models: {name!r} is neither a trained model ({path}) nor a scored zero-shot "
            f"model ({meta} not found: add it to pretrained_eval.models)"
        )
    return load_scorer(name, settings(pretrained_params, **json.loads(meta.read_text()).get("settings", {})))


# --- metrics ---------------------------------------------------------------------------------


def source_metrics(df: pd.DataFrame, prob: np.ndarray, n_boot: int = 0, seed: int = 0) -> dict:
    """{source: accuracy, F1, ROC-AUC (+ 95% CIs with n_boot), n} of one model's P(positive) over
    the rows of df, with the project's one metrics module."""
    from . import THRESHOLD
    from .metrics import hf_metric

    out = {}
    for source, rows in df.reset_index(drop=True).groupby("source").indices.items():
        p = np.asarray(prob)[rows]
        m = hf_metric().compute(
            predictions=(p >= THRESHOLD).astype(int),
            references=df.label.values[rows],
            prediction_scores=p,
            n_bootstrap=n_boot,
            seed=seed,
        )
        ci = m.pop("ci95", {})
        out[source] = {
            **{k: round(float(m[k]), 6) for k in ("accuracy", "f1", "roc_auc")},
            **{
                f"{k}_ci": [round(float(v[0]), 6), round(float(v[1]), 6)]
                for k, v in ci.items()
                if k in ("accuracy", "f1", "roc_auc")
            },
            "n": len(rows),
        }
    return out


def domain_metrics(df: pd.DataFrame, probs: dict[str, np.ndarray], n_boot: int, seed: int) -> dict:
    """{model: {half: {source: metrics + 95% CIs}}}."""
    return {
        name: {
            half: source_metrics(df[(df.half == half).values], np.asarray(prob)[(df.half == half).values], n_boot, seed)
            for half in HALVES
        }
        for name, prob in probs.items()
    }


def domain_table(metrics: dict, imdb_test: dict[str, float], half: str = "report") -> str:
    """Markdown: accuracy [95% CI] per model and source, IMDB test beside it."""
    sources = sorted({s for m in metrics.values() for s in m[half]})
    lines = [f"| model | {' | '.join(sources)} | IMDB test (long reviews) |", "|---" * (len(sources) + 2) + "|"]
    order = sorted(metrics, key=lambda n: -min(metrics[n][half][s]["accuracy"] for s in sources))
    for name in order:
        cells = []
        for s in sources:
            r = metrics[name][half][s]
            lo, hi = r.get("accuracy_ci", [np.nan, np.nan])
            cells.append(f"{r['accuracy']:.3f} [{lo:.3f}, {hi:.3f}]")
        t = imdb_test.get(name)
        lines.append(f"| {name} | {' | '.join(cells)} | {'' if t is None else f'{t:.4f}'} |")
    return "\n".join(lines)


def plot_rows(metrics: dict, imdb_test: dict[str, float], half: str = "report") -> list[dict]:
    """Long-format rows for the model x domain bar plot."""
    rows = [
        {"model": n, "domain": s, "accuracy": r["accuracy"]}
        for n, m in metrics.items()
        for s, r in sorted(m[half].items())
    ]
    rows += [{"model": n, "domain": "IMDB test", "accuracy": round(float(a), 6)} for n, a in imdb_test.items()]
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
    imdb_test: dict,
    behaviour: dict,
    sentences: pd.DataFrame,
    probs: dict[str, np.ndarray],
    n_worst: int,
    default: str = "ensemble",
) -> str:
    """metrics/robustness.md: domain table, behavioural failure rates, where the default model fails."""
    from . import THRESHOLD

    n_rep = int((sentences.half == "report").sum())
    out = [
        "# Robustness",
        "",
        f"## Accuracy by domain (report half of the sentence set, {n_rep} sentences; 95% bootstrap CIs)",
        "",
        domain_table(domains, imdb_test),
        "",
        "## Behavioural tests: failure rate, % (CheckList-style; see src/sentiment/behaviour.py)",
        "",
        behaviour_table(behaviour),
        "",
    ]
    name = default if default in probs else next(iter(probs))
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
