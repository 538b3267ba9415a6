"""Copy generated tables into README.md between their markers, so no number is typed by hand.

    python scripts/update_readme.py          # after `dvc repro`
    python scripts/update_readme.py --check  # exit 1 if README is stale (CI-friendly)

Blocks: <!-- results:start/end --> <- metrics/summary.md; <!-- robustness:start/end --> <- metrics/robustness.md; <!-- cost:start/end --> <- logs/<stage>.json
(through scripts/cost_table.py).
"""

import argparse
import re
import sys
from pathlib import Path

BLOCKS = {"results": "metrics/summary.md", "robustness": "metrics/robustness.md"}


def fill(readme: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no <!-- {name}:start --> ... <!-- {name}:end --> block")
    return pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), readme)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readme", default="README.md")
    ap.add_argument("--check", action="store_true", help="only report whether README is up to date")
    a = ap.parse_args()
    readme = Path(a.readme).read_text()
    new = readme
    for name, src in BLOCKS.items():
        if Path(src).is_file():
            body = Path(src).read_text()
            body = body.split("\n", 2)[2] if body.startswith("# ") else body  # drop the file's own title
            body = re.sub(r"(?m)^## ", "### ", body)  # its sections sit under a README section
            new = fill(new, name, body)
    if Path("logs").is_dir():
        sys.path.insert(0, str(Path(__file__).parent))
        import cost_table

        new = fill(new, "cost", cost_table.render(Path("logs")))
    if a.check:
        sys.exit(0 if new == readme else f"{a.readme} is stale: run python scripts/update_readme.py")
    Path(a.readme).write_text(new)
    print(f"{a.readme}: {'updated' if new != readme else 'already up to date'}")


if __name__ == "__main__":
    main()
