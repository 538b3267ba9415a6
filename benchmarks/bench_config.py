"""How fast does each stage stop on a misspelled params key?

For every stage of dvc.yaml, a temp folder gets the project's params.yaml with one key of that
stage's section (the top level for the fine-tune) misspelled; the stage script runs there and
must exit 2 with one line naming the key, before any work. Prints the wall time of each:

    python benchmarks/bench_config.py
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def misspell(params: dict, section: str | None) -> tuple[dict, str]:
    """params with one key of `section` (None: the top level) renamed; returns it and the bad key."""
    node = params if section is None else params[section]
    key = next(k for k, v in node.items() if not isinstance(v, dict))
    node[key + "x"] = node.pop(key)
    return params, key + "x" if section is None else f"{section}.{key}x"


def main() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    print(f"{'stage':20s} {'seconds':>8s}  message")
    for name, st in stages.items():
        argv = shlex.split(st["cmd"])
        own = st["params"][0] if isinstance(st["params"][0], str) and "." not in st["params"][0] else None
        section = own if own and isinstance(yaml.safe_load((ROOT / "params.yaml").read_text()).get(own), dict) else None
        with tempfile.TemporaryDirectory() as tmp:
            params, bad = misspell(yaml.safe_load((ROOT / "params.yaml").read_text()), section)
            (Path(tmp) / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            t = time.perf_counter()
            r = subprocess.run(
                [sys.executable, str(ROOT / argv[1]), *argv[2:]], cwd=tmp, env=env, capture_output=True, text=True
            )
            took = time.perf_counter() - t
        named = r.returncode == 2 and bad in r.stderr and "Traceback" not in r.stderr
        line = next((ln for ln in r.stderr.splitlines() if bad in ln), r.stderr.strip()[-120:])
        print(f"{name:20s} {took:8.2f}  {'ok' if named else 'FAILED'}: {line.strip()[:90]}")


if __name__ == "__main__":
    main()
