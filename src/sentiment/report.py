"""Compare models from their predictions files: metrics tables, plot data, error analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import METRICS, bootstrap_ci, class_report, compute_metrics, curves, mcnemar


def align(preds: dict[str, pd.DataFrame], test: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Order every model's predictions like the test set; all must cover the same reviews."""
    out = {}
    for name, df in preds.items():
        if len(df) != len(test) or set(df.uid) != set(test.uid):
            raise ValueError(f"predictions of {name!r} do not cover the prepared test set "
                             f"({len(df)} rows vs {len(test)}): rerun its stage")
        df = df.set_index("uid").loc[test.uid].reset_index()
        if not (df.label.values == test.label.values).all():
            raise ValueError(f"predictions of {name!r}: true labels disagree with the test set")
        out[name] = df
    return out


def compare(preds: dict[str, pd.DataFrame], n_boot: int, seed: int) -> pd.DataFrame:
    """One row per model: metrics, 95% CIs, McNemar p-value against the most accurate model."""
    rows = {}
    for name, df in preds.items():
        m = compute_metrics(df.label, df.pred, df.prob)
        ci = bootstrap_ci(df.label.values, df.pred.values, df.prob.values, n_boot, seed)
        rows[name] = {**m, **{f"{k}_ci": ci[k] for k in ci}, "n": len(df)}
    table = pd.DataFrame(rows).T.sort_values("accuracy", ascending=False)
    best = table.index[0]
    y = preds[best].label.values
    table["mcnemar_p_vs_best"] = [np.nan if n == best else mcnemar(y, preds[best].pred, preds[n].pred)["p_value"]
                                  for n in table.index]
    table.attrs["best"] = best
    return table


def model_metrics(table: pd.DataFrame, name: str) -> dict:
    """What `dvc metrics diff` compares for one model: point estimates only."""
    return {k: round(float(table.loc[name, k]), 6) for k in METRICS} | {"n": int(table.loc[name, "n"])}


def comparison_json(table: pd.DataFrame) -> dict:
    out = {"best": table.attrs["best"], "models": {}}
    for name, r in table.iterrows():
        out["models"][name] = {
            "ci95": {k: [round(r[f"{k}_ci"][0], 6), round(r[f"{k}_ci"][1], 6)] for k in METRICS if f"{k}_ci" in r},
            "mcnemar_p_vs_best": None if pd.isna(r.mcnemar_p_vs_best) else float(r.mcnemar_p_vs_best),
        }
    return out


def _fmt(r, k):
    ci = r.get(f"{k}_ci")
    return f"{r[k]:.4f}" if not isinstance(ci, tuple) else f"{r[k]:.4f} ({ci[0]:.3f}–{ci[1]:.3f})"


def summary_markdown(table: pd.DataFrame, n_boot: int) -> str:
    cols = ["accuracy", "f1", "roc_auc", "precision", "recall", "macro_f1", "mcc", "log_loss"]
    head = "| model | " + " | ".join(cols) + " | McNemar p vs best |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for name, r in table.iterrows():
        p = ("(best)" if pd.isna(r.mcnemar_p_vs_best) else "< 1e-300" if r.mcnemar_p_vs_best == 0
             else f"{r.mcnemar_p_vs_best:.2g}")
        lines.append(f"| {name} | " + " | ".join(_fmt(r, k) for k in cols) + f" | {p} |")
    n = int(table.n.iloc[0])
    note = (f"\n{n} test reviews. Brackets: 95% percentile bootstrap CI ({n_boot} resamples). "
            if n_boot else f"\n{n} test reviews. ")
    note += ("Positive class = positive review. McNemar: exact test of each model's errors "
             "against the most accurate model's on the same reviews.\n")
    return "\n".join(lines) + "\n" + note


def confusion_rows(df: pd.DataFrame) -> list[dict]:
    names = np.array(["negative", "positive"])
    return [{"actual": a, "predicted": p} for a, p in zip(names[df.label.values], names[df.pred.values])]


def curve_rows(preds: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    out = {"roc": [], "pr": []}
    for name, df in preds.items():
        for kind, c in curves(df.label.values, df.prob.values).items():
            out[kind] += c.assign(model=name).round(5).to_dict("records")
    return out


def error_analysis(name: str, df: pd.DataFrame, test: pd.DataFrame, n_errors: int) -> str:
    """The most confident mistakes, and accuracy by review length and by star rating."""
    d = test[["uid", "rating", "text"]].merge(df, on="uid")
    d["correct"] = d.pred == d.label
    d["confidence"] = np.where(d.pred == 1, d.prob, 1 - d.prob)
    words = d.text.str.split().str.len()
    d["length"] = pd.cut(words, [0, 100, 200, 400, 800, np.inf],
                         labels=["≤100 words", "101–200", "201–400", "401–800", ">800"])
    out = [f"# Error analysis: {name}\n",
           f"Accuracy {d.correct.mean():.4f} on {len(d)} test reviews.\n",
           "## Accuracy by review length\n", _acc_table(d, "length"),
           "## Accuracy by star rating\n", _acc_table(d.dropna(subset=["rating"]), "rating"),
           "## Per-class report\n", class_report(d.label, d.pred).round(4).to_markdown() + "\n",
           f"## The {n_errors} most confident mistakes\n",
           "| uid | stars | true | predicted | P(positive) | excerpt |", "|---|---|---|---|---|---|"]
    wrong = d[~d.correct].sort_values(["confidence", "uid"], ascending=[False, True]).head(n_errors)
    lab = {0: "neg", 1: "pos"}
    for r in wrong.itertuples():
        excerpt = r.text[:200].replace("|", "\\|") + ("…" if len(r.text) > 200 else "")
        stars = "?" if pd.isna(r.rating) else int(r.rating)
        out.append(f"| {r.uid} | {stars} | {lab[r.label]} | {lab[r.pred]} | {r.prob:.3f} | {excerpt} |")
    return "\n".join(out) + "\n"


def _acc_table(d: pd.DataFrame, by: str) -> str:
    g = d.groupby(by, observed=True).agg(reviews=("correct", "size"), accuracy=("correct", "mean"))
    return g.round(4).to_markdown() + "\n"
