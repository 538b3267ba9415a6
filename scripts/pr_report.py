"""A pull-request report a reviewer reads in ten seconds: models, changed params, one ROC picture.

    python scripts/pr_report.py main HEAD                       # base branch vs this PR, to stdout
    python scripts/pr_report.py HEAD~1 -o report.md             # vs the workspace
    python scripts/pr_report.py origin/main HEAD --plot-dir pr_plots -o report.md

1. One row per model: validation accuracy, test accuracy / F1 / ROC-AUC as `base → PR (Δ)`,
   with the PR's 95% bootstrap CI where `metrics/comparison.json` has one; the best model on
   validation is starred; new and removed models are labelled.
2. The params that changed (`dvc params diff --json`).
3. With --plot-dir: the ROC curves of base (dashed) and PR (solid) overlaid, from
   `dvc plots diff --json`, drawn offline with vl-convert to DIR/roc.png and DIR/roc.svg and
   linked from the report. Any failure there is one line in the report, never an error.

Metric values are read with `git show REV:metrics/models/<model>.json` (the files are
`cache: false`, so they live in git) or from disk for the workspace. Files in the older flat
layout (`{"accuracy": ..., "n": ...}`, test set only) are read as test metrics.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

MODELS_DIR = "metrics/models"
COMPARISON = "metrics/comparison.json"
ROC = "plots/curves/roc.json"
# (split, metric, column header); CIs are shown for the test columns
COLUMNS = [
    ("val", "accuracy", "val acc"),
    ("test", "accuracy", "test acc"),
    ("test", "f1", "test F1"),
    ("test", "roc_auc", "test ROC-AUC"),
]
DASH = "—"


# --------------------------------------------------------------------------- reading a revision
def _run(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True)


def git_json(rev: str, path: str, cwd: str):
    """The parsed JSON file at `rev` (None: the workspace); None if absent or unreadable."""
    if rev is None:
        p = Path(cwd) / path
        text = p.read_text() if p.is_file() else None
    else:
        r = _run(["git", "show", f"{rev}:{path}"], cwd)
        text = r.stdout if r.returncode == 0 else None
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def list_models(rev: str | None, cwd: str) -> list[str]:
    if rev is None:
        return sorted(p.stem for p in (Path(cwd) / MODELS_DIR).glob("*.json"))
    r = _run(["git", "ls-tree", "--name-only", rev, f"{MODELS_DIR}/"], cwd)
    if r.returncode != 0:
        return []
    return sorted(Path(line).stem for line in r.stdout.splitlines() if line.endswith(".json"))


def split_metrics(raw) -> dict:
    """{"val": {...}, "test": {...}} from either layout (old flat file = test metrics only)."""
    if not isinstance(raw, dict):
        return {}
    if isinstance(raw.get("val"), dict) or isinstance(raw.get("test"), dict):
        return {s: raw[s] for s in ("val", "test") if isinstance(raw.get(s), dict)}
    return {"test": raw}


def test_ci(comparison, model: str) -> dict:
    """The test-set 95% CIs of `model`: new layout models.M.test.ci95, old layout models.M.ci95."""
    m = ((comparison or {}).get("models") or {}).get(model) or {}
    ci = (m.get("test") or {}).get("ci95") if isinstance(m.get("test"), dict) else m.get("ci95")
    return ci or {}


def load(rev: str | None, cwd: str) -> dict:
    comparison = git_json(rev, COMPARISON, cwd)
    models = {m: split_metrics(git_json(rev, f"{MODELS_DIR}/{m}.json", cwd)) for m in list_models(rev, cwd)}
    best = (comparison or {}).get("best_on_val")
    if best is None:  # older comparison.json: pick the best validation accuracy if there is one
        val = {
            m: s["val"]["accuracy"]
            for m, s in models.items()
            if isinstance(s.get("val", {}).get("accuracy"), (int, float))
        }
        best = max(val, key=val.get) if val else None
    return {"models": models, "ci": {m: test_ci(comparison, m) for m in models}, "best_on_val": best}


# --------------------------------------------------------------------------- formatting
def _num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def cell(old, new, ci=None) -> str:
    """`0.9089 → 0.9209 (+0.0120) [0.917–0.925]`; one value if unchanged; — when absent."""
    old, new = _num(old), _num(new)
    if old is None and new is None:
        return DASH
    if old is None:
        s = f"{DASH} → {new:.4f}"
    elif new is None:
        s = f"{old:.4f} → {DASH}"
    elif f"{old:.4f}" == f"{new:.4f}":
        s = f"{new:.4f}"
    else:
        s = f"{old:.4f} → {new:.4f} ({new - old:+.4f})"
    if new is not None and isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_num(v) is not None for v in ci):
        s += f" [{ci[0]:.3f}–{ci[1]:.3f}]"
    return s


def models_table(base: dict, head: dict) -> str:
    b, h = base["models"], head["models"]
    best = head["best_on_val"]

    def order(m):  # best on validation first, then by the PR's test accuracy, removed models last
        acc = _num(h.get(m, {}).get("test", {}).get("accuracy"))
        return (m not in h, m != best, -(acc if acc is not None else -1), m)

    rows = ["| model | " + " | ".join(c[2] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for m in sorted(set(b) | set(h), key=order):
        label = f"`{m}`" + (" ★" if m == best and m in h else "")
        label += " (new)" if m not in b else " (removed)" if m not in h else ""
        cells = []
        for split, metric, _ in COLUMNS:
            old = b.get(m, {}).get(split, {}).get(metric)
            new = h.get(m, {}).get(split, {}).get(metric)
            ci = head["ci"].get(m, {}).get(metric) if split == "test" else None
            cells.append(cell(old, new, ci))
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _val(v) -> str:
    if v is None:
        return DASH
    return json.dumps(v) if isinstance(v, (list, dict, bool)) else str(v)


def params_section(base_rev: str, head_rev: str | None, cwd: str) -> str:
    revs = [base_rev] + ([head_rev] if head_rev else [])
    r = _run([sys.executable, "-m", "dvc", "params", "diff", "--json", *revs], cwd)
    try:
        diff = json.loads(r.stdout) if r.returncode == 0 else None
    except json.JSONDecodeError:
        diff = None
    if diff is None:
        err = (r.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"Params: could not diff ({err})."
    items = []
    for file, params in sorted(diff.items()):
        prefix = "" if file == "params.yaml" else f"{file}:"
        for name, d in sorted(params.items()):
            items.append(f"`{prefix}{name}` {_val(d.get('old'))} → {_val(d.get('new'))}")
    return ("**Params changed:** " + " · ".join(items)) if items else "**Params changed:** none."


# --------------------------------------------------------------------------- the ROC picture
def roc_rows(base_rev: str, head_rev: str | None, cwd: str) -> tuple[list[dict], list[str]]:
    """ROC rows of both revisions from `dvc plots diff --json`, each with side = base | PR."""
    revs = [base_rev] + ([head_rev] if head_rev else [])
    r = _run([sys.executable, "-m", "dvc", "plots", "diff", *revs, "--json", "--targets", ROC], cwd)
    try:
        out = json.loads(r.stdout)
    except json.JSONDecodeError:
        err = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"`dvc plots diff` failed: {err}") from None
    head_label = head_rev or "workspace"
    data = out.get("data") or {}
    by_side: dict[str, list[dict]] = {}
    # the file can come back twice (as the dvc.yaml plot and as a raw file): the first one wins
    for key in sorted(data, key=lambda k: (0 if "::" in k else 1, k)):
        for e in data[key]:
            got: dict[str, list[dict]] = {}
            for row in ((e.get("content") or {}).get("data") or {}).get("values") or []:
                side = {base_rev: "base", head_label: "PR"}.get(row.get("rev"))
                if side and "fpr" in row and "tpr" in row:
                    got.setdefault(side, []).append(
                        {"model": str(row.get("model", "")), "fpr": row["fpr"], "tpr": row["tpr"], "version": side}
                    )
            for side, rs in got.items():
                by_side.setdefault(side, rs)
    rows = by_side.get("base", []) + by_side.get("PR", [])
    missing = [
        f"{name} ({rev})"
        for name, rev in (("base", base_rev), ("PR", head_label))
        if not any(x["version"] == name for x in rows)
    ]
    return rows, missing


def roc_spec(rows: list[dict]) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "ROC, test set: base (dashed) vs PR (solid)",
        "width": 420,
        "height": 420,
        "data": {"values": rows},
        "mark": {"type": "line", "strokeWidth": 1.6},
        "encoding": {
            "x": {"field": "fpr", "type": "quantitative", "title": "false positive rate", "scale": {"domain": [0, 1]}},
            "y": {"field": "tpr", "type": "quantitative", "title": "true positive rate", "scale": {"domain": [0, 1]}},
            "color": {"field": "model", "type": "nominal", "title": "model"},
            "strokeDash": {
                "field": "version",
                "type": "nominal",
                "title": "version",
                "scale": {"domain": ["base", "PR"], "range": [[5, 3], [1, 0]]},
            },
            "detail": [{"field": "model"}, {"field": "version"}],
            "order": [{"field": "fpr", "type": "quantitative"}, {"field": "tpr", "type": "quantitative"}],
        },
    }


def plot_section(
    base_rev: str, head_rev: str | None, cwd: str, plot_dir: Path, link_dir: Path, plot_url: str | None
) -> str:
    """Writes plot_dir/roc.png (+ .svg, + the spec) and returns the markdown line; never raises."""
    try:
        rows, missing = roc_rows(base_rev, head_rev, cwd)
        if not rows:
            return (
                f"ROC picture: not drawn, no `{ROC}` data at {' or '.join(missing)} "
                "(a DVC-cached plot needs `dvc pull` first)."
            )
        try:
            import vl_convert
        except ImportError:
            return "ROC picture: not drawn (`pip install vl-convert-python` to draw it offline)."
        spec = roc_spec(rows)
        plot_dir.mkdir(parents=True, exist_ok=True)
        (plot_dir / "roc.vl.json").write_text(json.dumps(spec))
        (plot_dir / "roc.png").write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
        (plot_dir / "roc.svg").write_text(vl_convert.vegalite_to_svg(spec))
    except Exception as e:  # noqa: BLE001  the report must succeed without its picture
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"ROC picture: not drawn ({type(e).__name__}: {msg[:200]})."
    note = f" (no ROC data for {', '.join(missing)})" if missing else ""
    if plot_url:
        return f"ROC base vs PR: [`roc.png`]({plot_url}) in the workflow artifact{note}."
    rel = os.path.relpath(plot_dir / "roc.png", link_dir).replace(os.sep, "/")
    return f"![ROC base vs PR]({rel}){note}"


# --------------------------------------------------------------------------- the report
def report(
    base_rev: str,
    head_rev: str | None = None,
    cwd: str = ".",
    plot_dir: str | None = None,
    link_dir: str | None = None,
    plot_url: str | None = None,
) -> str:
    for rev in filter(None, (base_rev, head_rev)):
        if _run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd).returncode != 0:
            raise SystemExit(f"pr_report: unknown git revision {rev!r}")
    head_name = head_rev or "workspace"
    base, head = load(base_rev, cwd), load(head_rev, cwd)
    out = [f"## Models: `{base_rev}` → `{head_name}`", ""]
    if not base["models"] and not head["models"]:
        out.append(f"No `{MODELS_DIR}/*.json` at either revision.")
    else:
        out.append(models_table(base, head))
        best, old_best = head["best_on_val"], base["best_on_val"]
        line = "Cells: base → PR (Δ) [PR 95% CI]; — = not reported."
        if best:
            line += f" ★ best on validation: `{best}`"
            line += " (unchanged)." if best == old_best else f" (base: `{old_best}`)." if old_best else "."
        out += ["", line]
    out += ["", params_section(base_rev, head_rev, cwd)]
    if plot_dir:
        out += ["", plot_section(base_rev, head_rev, cwd, Path(cwd) / plot_dir, Path(link_dir or cwd), plot_url)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", help="base revision (branch, tag, commit)")
    ap.add_argument("head", nargs="?", help="PR revision (default: the workspace)")
    ap.add_argument("-o", "--output", help="write the markdown here instead of stdout")
    ap.add_argument("--plot-dir", help="draw the ROC overlay into DIR/roc.png (and roc.svg)")
    ap.add_argument(
        "--plot-url",
        help="link the picture to this URL (e.g. the CI run with the artifact) instead of embedding its relative path",
    )
    a = ap.parse_args(argv)
    link_dir = str(Path(a.output).resolve().parent) if a.output else os.getcwd()
    plot_dir = str(Path(a.plot_dir).resolve()) if a.plot_dir else None
    md = report(a.base, a.head, ".", plot_dir, link_dir, a.plot_url)
    if a.output:
        Path(a.output).write_text(md)
    else:
        sys.stdout.write(md)


if __name__ == "__main__":
    main()
