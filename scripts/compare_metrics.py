"""How far two runs' metrics differ, per model and split (e.g. a bf16 CPU run vs an fp32 one).

python scripts/compare_metrics.py RUN_A RUN_B      # two checkouts that ran `dvc repro`
"""

import argparse
import json
from pathlib import Path

KEYS = ("accuracy", "f1", "roc_auc", "log_loss")


def compare(a: Path, b: Path) -> str:
    lines = [
        "| model | runtime A → B | "
        + " | ".join(f"{s} {k} (A → B)" for s in ("val", "test") for k in KEYS[:3])
        + " | identical |",
        "|" + "---|" * 9,
    ]
    for fa in sorted((a / "reports/models").glob("*.json")):
        fb = b / "reports/models" / fa.name
        if not fb.is_file():
            continue
        ma, mb = json.loads(fa.read_text()), json.loads(fb.read_text())
        rt = lambda m: m.get("runtime", {}).get("precision", "—") + "/" + m.get("runtime", {}).get("cpu_isa", "—")
        cells = [
            f"{ma[s][k]:.4f} → {mb[s][k]:.4f} ({mb[s][k] - ma[s][k]:+.4f})" for s in ("val", "test") for k in KEYS[:3]
        ]
        same = all(ma[s] == mb[s] for s in ("val", "test"))
        lines.append(f"| {fa.stem} | {rt(ma)} → {rt(mb)} | " + " | ".join(cells) + f" | {'yes' if same else 'no'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    a = ap.parse_args()
    print(compare(a.a, a.b), end="")


if __name__ == "__main__":
    main()
