"""The cost table of docs/cost.md, from the stages' own logs (logs/<stage>.json), not typed by hand.

    python scripts/cost_table.py            # markdown on stdout
    python scripts/update_readme.py         # puts it between <!-- cost:start/end --> in docs/cost.md

Each stage times its steps (sentiment.timed) and records the machine it ran on.
"""

import argparse
import json
from pathlib import Path

import yaml

# every stage of dvc.yaml, in its order; those that write no log (publish) are skipped
STAGES = list(yaml.safe_load((Path(__file__).resolve().parents[1] / "dvc.yaml").read_text())["stages"])


def render(logs: Path = Path("logs")) -> str:
    rows, machines, total = [], set(), 0.0
    for stage in STAGES:
        f = logs / f"{stage}.json"
        if not f.is_file():
            continue
        log = json.loads(f.read_text())
        secs = log["seconds"]
        took = sum(secs.values())
        total += took
        m = log["machine"]
        machines.add(f"{m['cpu']}, {m['cores']} cores, {m['cpu_isa']}")
        rt = log.get("runtime")
        how = f" ({rt['device']}, {rt['precision']})" if rt else ""
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in secs.items())
        rows.append(f"| {stage} | {took / 60:.1f} min{how} | {steps} |")
    head = ["| stage | time | steps (from logs/<stage>.json) |", "|---|---|---|"]
    foot = [f"| **sum of stage steps** | **{total / 60:.1f} min** | measured on: {'; '.join(sorted(machines))} |"]
    return "\n".join(head + rows + foot) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logs", type=Path, default=Path("logs"), help="folder of the stages' logs")
    print(render(ap.parse_args().logs), end="")


if __name__ == "__main__":
    main()
