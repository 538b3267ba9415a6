"""Is each model's change in test accuracy between two revisions beyond the test split's noise?

`dvc metrics diff` shows how far accuracy moved; this adds what DVC cannot show: a paired
exact McNemar test per model on the test reviews both sides predicted (sentiment.metrics.mcnemar).

    python scripts/significance.py main                    # main vs the workspace's predictions/
    python scripts/significance.py origin/main HEAD        # two git revisions, read through dvc.api
    python scripts/significance.py runs/base runs/pr       # two predictions folders on disk

A side that names an existing folder is read from disk (every `<stage>/<model>.parquet` under it);
anything else is a git revision, whose `predictions/` come from the DVC cache or the remote.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sentiment.io import check_predictions, read_predictions
from sentiment.metrics import mcnemar

DASH = "—"


def read_revision(rev: str, repo: str) -> dict[str, pd.DataFrame]:
    """Every `predictions/**/*.parquet` of a git revision, through dvc.api (DVC cache, else the remote)."""
    import dvc.api

    preds = {}
    for path in sorted(dvc.api.DVCFileSystem(repo, rev=rev).glob("predictions/**/*.parquet")):
        name = Path(path).stem
        if name in preds:
            raise ValueError(f"two predictions files for model {name!r}: {path}")
        with dvc.api.open(path, repo=repo, rev=rev, mode="rb") as f:
            preds[name] = pd.read_parquet(f)
        check_predictions(preds[name], f"{rev}:{path}")
    if not preds:
        raise FileNotFoundError("no predictions/**/*.parquet")
    return preds


def load(side: str, repo: str = ".") -> dict[str, pd.DataFrame]:
    """Each model's test rows (indexed by uid) from a predictions folder, the workspace or a git revision."""
    folder = Path(repo) / "predictions" if side == "workspace" else Path(side)
    try:
        local = side == "workspace" or folder.is_dir()
        preds = read_predictions(folder) if local else read_revision(side, repo)
    except Exception as e:  # git, DVC and pyarrow raise many types: unknown revision, file in no cache
        raise SystemExit(
            f"significance: cannot read the predictions of {side!r} ({type(e).__name__}: {e}); "
            "`dvc pull` them or configure the DVC remote"
        ) from None
    return {name: df[df.split == "test"].set_index("uid") for name, df in preds.items()}


def table(base: dict[str, pd.DataFrame], pr: dict[str, pd.DataFrame], alpha: float = 0.05) -> str:
    """One markdown row per model of either side; the test is paired, so it needs the same test reviews."""
    rows = [
        f"| model | base acc | PR acc | Δ | McNemar p | beyond noise (p<{alpha:g}) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    acc = lambda df: float((df.label == df.pred).mean())
    for name in sorted(set(base) | set(pr)):
        b, p = base.get(name), pr.get(name)
        if b is None or p is None:
            cells = [f"{acc(b):.4f}" if b is not None else DASH, f"{acc(p):.4f}" if p is not None else DASH]
            rows.append(f"| {name} | {' | '.join(cells)} | {DASH} | {DASH} | {'new' if b is None else 'removed'} |")
            continue
        delta = f"{acc(p) - acc(b):+.4f}"
        if set(b.index) != set(p.index) or (b.label != p.label.reindex(b.index)).any():
            rows.append(f"| {name} | {acc(b):.4f} | {acc(p):.4f} | {delta} | {DASH} | not paired: test splits differ |")
            continue
        pv = mcnemar(b.label, b.pred, p.pred.reindex(b.index))["p_value"]
        verdict = "**yes**" if pv < alpha else "no"
        rows.append(f"| {name} | {acc(b):.4f} | {acc(p):.4f} | {delta} | {pv:.3g} | {verdict} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", type=str, help="base: a git revision (e.g. origin/main) or a predictions folder")
    ap.add_argument(
        "pr",
        type=str,
        nargs="?",
        default="workspace",
        help="PR side: a git revision, a predictions folder or 'workspace' (default: the workspace's predictions/)",
    )
    ap.add_argument("--repo", type=str, default=".", help="the DVC repository to read revisions from (default: .)")
    ap.add_argument(
        "--alpha", type=float, default=0.05, help="significance level of the verdict column (default: 0.05)"
    )
    a = ap.parse_args(argv)
    print(table(load(a.base, a.repo), load(a.pr, a.repo), a.alpha), end="")


if __name__ == "__main__":
    main()
