"""Copy generated tables into README.md and docs/, between their markers, so no number is typed by hand.

    python scripts/update_readme.py          # after `dvc repro`
    python scripts/update_readme.py --check  # exit 1 if a page is stale (CI-friendly)

Blocks (<!-- name:start --> ... <!-- name:end -->):
  README.md          headline   <- reports/models/*.json, reports/robustness/domains.json, reports/comparison.json
                     pipeline   <- `dvc dag --md` (the diagram cannot drift from dvc.yaml)
  docs/results.md    results    <- reports/summary.md;  robustness <- reports/robustness.md
                     long_profile <- docs/long_profile/ (run.json, and the reports copied from that run)
  docs/cost.md       cost       <- logs/<stage>.json (scripts/cost_table.py)
  docs/your_data.md  short_texts <- docs/your_data/short_texts/ (benchmarks/bench_short_texts.py)
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

SOURCES = ("amazon", "imdb", "yelp")


def fill(page: str, name: str, body: str, where: str = "README.md") -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(page):
        raise SystemExit(f"{where} has no <!-- {name}:start --> ... <!-- {name}:end --> block")
    return pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), page)


def from_markdown(path: str) -> str:
    body = Path(path).read_text()
    body = body.split("\n", 2)[2] if body.startswith("# ") else body  # drop the file's own title
    return re.sub(r"(?m)^## ", "### ", body)  # its sections sit under a page section


def headline(reports: Path = Path("reports")) -> str:
    """One row per model: test and validation accuracy, and accuracy on the sentence set's report half."""
    comparison = json.loads((reports / "comparison.json").read_text())
    best, ci = comparison["best_on_val"], comparison["models"]
    domains = json.loads((reports / "robustness" / "domains.json").read_text())
    rows = []
    for f in (reports / "models").glob("*.json"):
        m = json.loads(f.read_text())
        rows.append((m["test"]["accuracy"], f.stem, m))
    out = [
        "| model | IMDB test accuracy [95% CI] | validation | one-liners: Amazon / IMDB / Yelp |",
        "|---|---|---|---|",
    ]
    for acc, name, m in sorted(rows, key=lambda r: (-r[0], r[1])):
        lo, hi = ci[name]["test"]["ci95"]["accuracy"]
        report = domains.get(name, {}).get("report", {})
        sents = " / ".join(f"{report[s]['accuracy']:.3f}" for s in SOURCES) if report else "—"
        label = f"**{name}** (best on validation)" if name == best else name
        out.append(f"| {label} | {acc:.4f} [{lo:.3f}, {hi:.3f}] | {m['val']['accuracy']:.4f} | {sents} |")
    return "\n".join(out) + "\n"


def long_profile(folder: Path = Path("docs/long_profile")) -> str:
    """The long profile's run (command, commit, CPU, wall time) and its headline table."""
    run = json.loads((folder / "run.json").read_text())
    return (
        "| command | commit | CPU | wall time |\n|---|---|---|---|\n"
        f"| `{run['command']}` | {run['commit']} | {run['cpu']} | {run['wall_seconds'] / 60:.0f} min |\n\n"
        + headline(folder / "metrics")  # that run's reports, in the layout of its day
    )


def dag() -> str:
    r = subprocess.run([sys.executable, "-m", "dvc", "dag", "--md"], capture_output=True, text=True, check=True)
    return r.stdout


def short_texts(folder: Path = Path("docs/your_data/short_texts")) -> str:
    """The short-text run: its size and wall time, then the cost table of its stage logs."""
    import cost_table

    run = json.loads((folder / "run.json").read_text())
    rows, words = run["rows"], run["words_mean"]
    acc = run["test_accuracy"]
    return (
        f"{rows['train']:,} train / {rows['val']:,} validation / {rows['test']:,} test texts of "
        f"{words['train']:.1f} words on average; `dvc repro` **{run['wall_s']:,} s = {run['wall_s'] / 60:.1f} min** "
        f"wall time, peak RSS {run['peak_rss_gb']:.2f} GB. Test accuracy: "
        + ", ".join(f"{m} {acc[m]:.3f}" for m in sorted(acc, key=acc.get, reverse=True))
        + ".\n\n"
        + cost_table.render(folder)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report whether the pages are up to date")
    a = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import cost_table

    blocks = {
        "README.md": {"pipeline": dag},
        "docs/results.md": {},
        "docs/cost.md": {},
        "docs/your_data.md": {},
    }
    if Path("reports/comparison.json").is_file() and Path("reports/robustness/domains.json").is_file():
        blocks["README.md"]["headline"] = headline
    for name, src in (("results", "reports/summary.md"), ("robustness", "reports/robustness.md")):
        if Path(src).is_file():
            blocks["docs/results.md"][name] = lambda src=src: from_markdown(src)
    if Path("docs/long_profile/run.json").is_file():
        blocks["docs/results.md"]["long_profile"] = long_profile
    if any(Path("logs").glob("*.json")):  # DVC outputs: absent on a fresh clone until `dvc pull` or `dvc repro`
        blocks["docs/cost.md"]["cost"] = lambda: cost_table.render(Path("logs"))
    if Path("docs/your_data/short_texts/run.json").is_file():
        blocks["docs/your_data.md"]["short_texts"] = short_texts
    stale = []
    for page, fills in blocks.items():
        old = Path(page).read_text()
        new = old
        for name, make in fills.items():
            new = fill(new, name, make(), page)
        if new != old:
            stale.append(page)
            if not a.check:
                Path(page).write_text(new)
    if a.check and stale:
        sys.exit(f"stale: {', '.join(stale)}: run python scripts/update_readme.py")
    print("updated: " + ", ".join(stale) if stale else "already up to date")


if __name__ == "__main__":
    main()
