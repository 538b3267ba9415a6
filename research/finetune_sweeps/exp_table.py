"""A small table of DVC experiments: the swept param(s) against validation (and test) accuracy.

Reads `dvc exp show --json`; validation decides, the test column is reported only.
"""

import argparse
import json
import subprocess
import sys


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def experiments(cwd: str = ".") -> list[dict]:
    """[{name, params, metrics}] for every experiment of the current commit."""
    raw = json.loads(
        subprocess.run(
            [sys.executable, "-m", "dvc", "exp", "show", "--all-commits", "--json"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    rows = []
    for base in raw:
        for exp in base.get("experiments") or []:
            for rev in exp.get("revs", []):
                data = rev.get("data") or {}
                params = flatten((data.get("params") or {}).get("params.yaml", {}).get("data", {}))
                metrics = {f: flatten(m.get("data", {})) for f, m in (data.get("metrics") or {}).items()}
                rows.append({"name": rev.get("name") or exp.get("name"), "params": params, "metrics": metrics})
    return rows


def workspace(root: str = ".", name: str = "workspace") -> dict:
    """The default run in a checkout (this one, or another one's run of another commit), as one more row."""
    from pathlib import Path

    import yaml

    r = Path(root)
    metrics = {
        str(p.relative_to(r)): flatten(json.loads(p.read_text()))
        for p in [*(r / "metrics/models").glob("*.json"), *(r / "metrics/robustness").glob("*.json")]
    }
    return {"name": name, "params": flatten(yaml.safe_load(open(r / "params.yaml"))), "metrics": metrics}


def committed(rev: str) -> dict:
    """A default run committed earlier (its params.yaml and metrics/models at git revision rev), as one row."""
    import yaml

    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=True).stdout

    names = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "metrics/models/"], capture_output=True, text=True, check=True
    ).stdout.split()
    metrics = {n: flatten(json.loads(show(n))) for n in names if n.endswith(".json")}
    return {"name": f"commit {rev}", "params": flatten(yaml.safe_load(show("params.yaml"))), "metrics": metrics}


def table(rows: list[dict], param, models=("finetuned", "ensemble")) -> str:
    """One row per run: the swept param(s) (a name or a list of names), then val/test accuracy per model."""
    params = [param] if isinstance(param, str) else list(param)
    head = "| " + " | ".join(params) + " | " + " | ".join(f"{m} val acc | {m} test acc" for m in models) + " | run |"
    lines = [head, "|" + "---|" * (len(params) + 1 + 2 * len(models))]
    key = lambda r: tuple((v is None, v if v is not None else 0) for v in (r["params"].get(k) for k in params))
    for r in sorted(rows, key=key):
        cells = [str(r["params"].get(k)) for k in params]
        for m in models:
            mm = r["metrics"].get(f"metrics/models/{m}.json", {})
            cells += [f"{mm.get('val.accuracy', float('nan')):.4f}", f"{mm.get('test.accuracy', float('nan')):.4f}"]
        lines.append("| " + " | ".join(cells) + f" | {r['name']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--param",
        required=True,
        nargs="+",
        help="params.yaml key(s) swept, e.g. learning_rate, or max_length train_size",
    )
    ap.add_argument("--names", nargs="*", default=[], help="experiment names to include")
    ap.add_argument(
        "--commits",
        nargs="*",
        default=[],
        help="git revisions whose committed default run is a row too (e.g. the previous default)",
    )
    ap.add_argument("--out", required=True, help="markdown file to write")
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    rows = (
        ([r for r in experiments() if r["name"] in a.names] if a.names else [])
        + [committed(c) for c in a.commits]
        + [workspace()]
    )
    text = (
        (f"# {a.title}\n\n" if a.title else "")
        + table(rows, a.param)
        + ("\nValidation decides (2,478 held-out train reviews); test is reported only.\n")
    )
    open(a.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
