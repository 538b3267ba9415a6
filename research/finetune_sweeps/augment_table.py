"""Augmentation experiments side by side: IMDB validation accuracy, accuracy on each source of the
sentence set's selection half (never the report half) and the two negation tests' failure rates
(generated cases, sentiment.behaviour), per model.

The rule the README and params.yaml cite: an augmentation is on by default only where it gains
on the sentence set without costing more than 0.3 points of IMDB validation accuracy.
    python scripts/augment_table.py --names crops-1x1 baseline-crops-1x2 --out metrics/selection/augmentation.md
A default run made in another checkout (say, of the commit before a new param) is a row too:
    --dirs "off (ce3ff9f)=../run-off"
What metrics/selection/negation_pairs.md was written with (the second run: commit f7fe3f2, whose default was 0.1):
    python scripts/augment_table.py --dirs "f7fe3f2: augment_negations=0.1=../run" --models finetuned ensemble \
        --title "Negation contrast pairs (augment_negations) on IMDB validation and the sentence set's selection half" \
        --out metrics/selection/negation_pairs.md
"""

import argparse

from exp_table import experiments, workspace

PARAMS = ("augment_crops", "crop_max_sentences", "augment_negations", "baseline.augment_crops",
          "baseline.crop_max_sentences")
SOURCES = ("amazon", "imdb", "yelp")
NEGATION_TESTS = {"not good fails": "negated positive -> negative", "not bad fails": "negated negative -> not negative"}


def table(rows: list[dict], models: list[str]) -> str:
    cols = ("IMDB val", *SOURCES, "sentences mean", *NEGATION_TESTS)
    head = "| run | " + " | ".join(PARAMS) + " | " + " | ".join(f"{m} {col}" for m in models for col in cols) + " |"
    lines = [head, "|" + "---|" * (1 + len(PARAMS) + len(cols) * len(models))]
    for r in rows:
        cells = [str(r["params"].get(k)) for k in PARAMS]
        for m in models:
            val = r["metrics"].get(f"metrics/models/{m}.json", {}).get("val.accuracy", float("nan"))
            dom = r["metrics"].get("metrics/robustness/domains.json", {})
            beh = r["metrics"].get("metrics/robustness/behaviour.json", {})
            acc = [dom.get(f"{m}.selection.{s}.accuracy", float("nan")) for s in SOURCES]
            cells += [f"{val:.4f}", *(f"{a:.3f}" for a in acc), f"{sum(acc) / len(acc):.3f}",
                      *(f"{beh.get(f'{m}.{t}', float('nan')):.3f}" for t in NEGATION_TESTS.values())]
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--names", nargs="*", default=[], help="experiment names to include")
    ap.add_argument("--models", nargs="+", default=["finetuned", "ensemble", "tfidf_lr", "nbsvm"])
    ap.add_argument("--dirs", nargs="*", default=[], metavar="NAME=PATH",
                    help="default runs in other checkouts (their params.yaml and metrics/), as rows")
    ap.add_argument("--out", required=True, help="markdown file to write")
    ap.add_argument("--title", default="Training augmentation, chosen on IMDB validation and the sentence set's "
                    "selection half")
    a = ap.parse_args()
    rows = [workspace()] + [workspace(path, name) for name, path in (d.rsplit("=", 1) for d in a.dirs)] + \
        [r for r in experiments() if r["name"] in a.names]
    text = (f"# {a.title}\n\n"
            "(Rows: the workspace's default run, DVC queue experiments against it (`scripts/sweep_augment.sh`) and "
            "default runs in other checkouts (`--dirs`); 500 selection-half sentences per source, about ±2.7 points "
            "at 95%. Rule: on by default only where the sentence set gains without costing more than 0.3 points of "
            "IMDB validation accuracy.)\n\n" + table(rows, a.models))
    open(a.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
