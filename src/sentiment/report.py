"""Compare models from their predictions files: metrics tables, plot data, error analysis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import Field

from . import LABELS
from .config import Section
from .io import split_rows
from .metrics import METRICS, class_report, curves, hf_metric, mcnemar


class EvaluateParams(Section):
    """params.yaml `evaluate`."""

    n_bootstrap: int = Field(ge=0, description="bootstrap resamples for 95% CIs (0: none)")
    seed: int


SPLIT_TITLES = {"val": "Validation (model selection)", "test": "Test (final report)"}


def align(preds: dict[str, pd.DataFrame], split: str, reference: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every model's rows of one split, ordered like the prepared split; all must cover it."""
    return {name: split_rows(df, split, reference, name) for name, df in preds.items()}


def score(preds: dict[str, pd.DataFrame], n_boot: int, seed: int) -> pd.DataFrame:
    """One row per model of one split: metrics and 95% CIs, via the project's `evaluate` module."""
    rows = {}
    for name, df in preds.items():
        m = hf_metric().compute(
            predictions=df.pred.values,
            references=df.label.values,
            prediction_scores=df.prob.values,
            n_bootstrap=n_boot,
            seed=seed,
        )
        ci = m.pop("ci95", {})
        rows[name] = {**m, **{f"{k}_ci": tuple(v) for k, v in ci.items()}, "n": len(df)}
    return pd.DataFrame(rows).T.sort_values("accuracy", ascending=False, kind="stable")


def best_on_val(val: pd.DataFrame) -> str:
    """The model to report as best: highest validation accuracy (ties: higher ROC-AUC, then name)."""
    order = val.reset_index(names="model").sort_values(["accuracy", "roc_auc", "model"], ascending=[False, False, True])
    return order.model.iloc[0]


def mcnemar_matrix(test: dict[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    """Exact McNemar p-value of every pair of models on the test split."""
    names = list(test)
    y = test[names[0]].label.values
    return {
        a: {b: mcnemar(y, test[a].pred.values, test[b].pred.values)["p_value"] for b in names if b != a} for a in names
    }


def accuracy_metrics(tables: dict[str, pd.DataFrame]) -> dict:
    """The DVC metrics of this stage: {model: {test, val}} accuracy, models by test accuracy.
    Everything else (every metric, CIs, McNemar) is in reports/."""
    return {
        name: {split: round(float(tables[split].loc[name, "accuracy"]), 6) for split in ("test", "val")}
        for name in tables["test"].index
    }


def model_metrics(tables: dict[str, pd.DataFrame], name: str, meta: dict) -> dict:
    """Every metric of one model, per split (+ how it ran): reports/models/<model>.json."""
    out = {
        split: {k: round(float(t.loc[name, k]), 6) for k in METRICS} | {"n": int(t.loc[name, "n"])}
        for split, t in tables.items()
    }
    if meta.get("runtime"):
        out["runtime"] = {k: meta["runtime"][k] for k in ("device", "precision", "cpu_isa") if k in meta["runtime"]}
    return out


def comparison_json(tables: dict[str, pd.DataFrame], best: str, pvalues: dict) -> dict:
    def ci(t, name):
        return {
            k: [round(t.loc[name, f"{k}_ci"][0], 6), round(t.loc[name, f"{k}_ci"][1], 6)]
            for k in METRICS
            if f"{k}_ci" in t.columns
        }

    return {
        "best_on_val": best,
        "models": {
            name: {
                "val": {"ci95": ci(tables["val"], name)},
                "test": {
                    "ci95": ci(tables["test"], name),
                    "mcnemar_p": {o: float(f"{p:.3g}") for o, p in pvalues[name].items()},
                },
            }
            for name in tables["test"].index
        },
    }


def _fmt(r, k):
    ci = r.get(f"{k}_ci")
    return f"{r[k]:.4f}" if not isinstance(ci, tuple) else f"{r[k]:.4f} ({ci[0]:.3f}–{ci[1]:.3f})"


def _p(p: float) -> str:
    return "< 1e-300" if p == 0 else f"{p:.2g}"


def split_markdown(table: pd.DataFrame, best: str, pvalues: dict | None) -> str:
    cols = ["accuracy", "f1", "roc_auc", "precision", "recall", "macro_f1", "mcc", "log_loss"]
    head = "| model | " + " | ".join(cols) + (" | McNemar p vs best |" if pvalues else " |")
    lines = [head, "|" + "---|" * (len(cols) + 1 + bool(pvalues))]
    for name, r in table.iterrows():
        cells = " | ".join(_fmt(r, k) for k in cols)
        if pvalues:
            cells += " | " + ("(best on val)" if name == best else _p(pvalues[best][name]))
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines) + "\n"


def summary_markdown(
    tables: dict[str, pd.DataFrame], best: str, pvalues: dict, n_boot: int, stackers: dict[str, dict]
) -> str:
    parts = []
    for split in ("test", "val"):
        t = tables[split]
        parts.append(
            f"## {SPLIT_TITLES[split]}: {int(t.n.iloc[0])} reviews\n\n"
            + split_markdown(t, best, pvalues if split == "test" else None)
        )
    note = f"Brackets: 95% percentile bootstrap CI ({n_boot} resamples). " if n_boot else ""
    note += (
        f"Best model = highest validation accuracy (`{best}`); the test split only reports. "
        "Positive class = positive review. McNemar: exact test of each model's errors against the "
        "best model's on the same test reviews (all pairs: `reports/comparison.json`).\n"
    )
    out = "\n".join(parts) + "\n" + note
    for name, meta in stackers.items():
        s = meta["stacker"]
        lc = s.get("length_coef")  # features logits_x_length: weight = coef + length_coef * s
        rows = "\n".join(f"| {m} | {w:+.3f} |" + (f" {lc[m]:+.3f} |" if lc else "") for m, w in s["coef"].items())
        head = "| member | weight |" + (" x (log words - log 170) |\n|---|---|---|" if lc else "\n|---|---|")
        out += (
            f"\n## Stacker `{name}`: logistic regression on the members' logits, fit on validation\n\n"
            f"Features: `{s.get('features', 'logits')}` (chosen on validation and the sentence set's "
            f"selection half: `reports/selection/{name}.json`).\n\n"
            f"{head}\n{rows}\n| (intercept) | {s['intercept']:+.3f} |"
            + (" |" if lc else "")
            + "\n\n"
            + (
                f"Texts of at most {s['short_words']} words take `{s['short_member']}`'s answer instead (the "
                "short-text route, chosen with the features).\n\n"
                if s.get("short_words")
                else ""
            )
            + f"C = {s['C']} (chosen by {s['cv_folds']}-fold CV log loss on validation); nested-CV validation "
            f"accuracy {s['nested_cv_accuracy']:.4f}.\n"
        )
    return out


def confusion_rows(df: pd.DataFrame, labels: Sequence[str] = LABELS) -> list[dict]:
    names = np.array(labels)
    return [{"actual": a, "predicted": p} for a, p in zip(names[df.label.values], names[df.pred.values])]


def curve_rows(preds: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    out = {"roc": [], "pr": []}
    for name, df in preds.items():
        for kind, c in curves(df.label.values, df.prob.values).items():
            out[kind] += c.assign(model=name).round(5).to_dict("records")
    return out


def error_analysis(
    name: str, df: pd.DataFrame, test: pd.DataFrame, n_errors: int, labels: Sequence[str] = LABELS
) -> str:
    """The most confident mistakes, and accuracy by review length and, where the data has ratings (user
    data may not), by star rating; `labels` name label ids 0 and 1."""
    rated = "rating" in test and test.rating.notna().any()
    d = test[["uid", "rating", "text"] if rated else ["uid", "text"]].merge(df, on="uid")
    d["correct"] = d.pred == d.label
    d["confidence"] = np.where(d.pred == 1, d.prob, 1 - d.prob)
    words = d.text.str.split().str.len()
    d["length"] = pd.cut(
        words, [0, 100, 200, 400, 800, np.inf], labels=["≤100 words", "101–200", "201–400", "401–800", ">800"]
    )
    out = [
        f"# Error analysis: {name}\n",
        f"Accuracy {d.correct.mean():.4f} on {len(d)} test reviews.\n",
        "## Accuracy by review length\n",
        _acc_table(d, "length"),
        *(["## Accuracy by star rating\n", _acc_table(d.dropna(subset=["rating"]), "rating")] if rated else []),
        "## Per-class report\n",
        class_report(d.label, d.pred, labels).round(4).to_markdown() + "\n",
        f"## The {n_errors} most confident mistakes\n",
        "| uid |" + (" stars |" if rated else "") + " true | predicted | P(positive) | excerpt |",
        "|---" * (6 if rated else 5) + "|",
    ]
    wrong = d[~d.correct].sort_values(["confidence", "uid"], ascending=[False, True]).head(n_errors)
    lab = ["neg", "pos"] if tuple(labels) == LABELS else list(labels)  # IMDB's short as before; others whole
    for r in wrong.itertuples():
        excerpt = r.text[:200].replace("|", "\\|") + ("…" if len(r.text) > 200 else "")
        stars = ["?" if pd.isna(r.rating) else int(r.rating)] if rated else []
        cells = [r.uid, *stars, lab[r.label], lab[r.pred], f"{r.prob:.3f}", excerpt]
        out.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(out) + "\n"


def _acc_table(d: pd.DataFrame, by: str) -> str:
    g = d.groupby(by, observed=True).agg(reviews=("correct", "size"), accuracy=("correct", "mean"))
    return g.round(4).to_markdown() + "\n"
