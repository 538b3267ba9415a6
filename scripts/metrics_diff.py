"""Markdown report of what changed in metrics and params between two git revisions.

    python scripts/metrics_diff.py main HEAD       # e.g. base branch vs this PR
    python scripts/metrics_diff.py HEAD~1          # vs the workspace

Uses DVC's own `metrics diff` / `params diff` (only changed values are listed).
"""

import argparse
import subprocess
import sys


def dvc(*args: str, cwd: str = ".") -> str:
    r = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{r.stderr.strip()}")
    return r.stdout.strip()


def report(a_rev: str, b_rev: str | None = None, cwd: str = ".") -> str:
    revs = [a_rev] + ([b_rev] if b_rev else [])
    b_name = b_rev or "workspace"
    metrics = dvc("metrics", "diff", "--md", "--precision", "4", *revs, cwd=cwd)
    params = dvc("params", "diff", "--md", *revs, cwd=cwd)
    return (f"## Metrics: `{a_rev}` → `{b_name}`\n\n{metrics or 'No metric changed.'}\n\n"
            f"## Params: `{a_rev}` → `{b_name}`\n\n{params or 'No param changed.'}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a_rev", help="old revision (branch, tag, commit)")
    ap.add_argument("b_rev", nargs="?", help="new revision (default: the workspace)")
    a = ap.parse_args()
    print(report(a.a_rev, a.b_rev))


if __name__ == "__main__":
    main()
