"""What the whole pipeline costs on short texts, measured (issue 33): 10,000 IMDB training reviews
and 5,000 test reviews, each cut to its last sentence, written as CSV files and run end to end
through `prepare.source: files` with every other param at its default, in a fresh clone of HEAD.

    python benchmarks/bench_short_texts.py            # ~10 min on a fast AMX Xeon; run nothing beside it

The stage logs (logs/<stage>.json) and the run's wall time land in docs/your_data/short_texts/;
`python scripts/update_readme.py` renders them into docs/your_data.md. For cost only: these
one-sentence texts are never a training or robustness set of the project.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from sentiment.crops import sentences  # noqa: E402 (after the path above)
from sentiment.data import clean_text  # noqa: E402
from sentiment.sampling import stratified_subsample  # noqa: E402

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--work", type=Path, default=Path("/tmp/bench_short_texts"), help="the clone to run in (replaced)")
p.add_argument("--train", type=int, default=10_000, help="training reviews (IMDB train, stratified)")
p.add_argument("--test", type=int, default=5_000, help="test reviews (IMDB test, stratified)")
p.add_argument("--out", type=Path, default=ROOT / "docs/your_data/short_texts", help="where the logs go")
a = p.parse_args()

shutil.rmtree(a.work, ignore_errors=True)
subprocess.run(["git", "clone", "-q", str(ROOT), str(a.work)], check=True)
data = a.work / "data/raw/imdb_last_sentence"
data.mkdir(parents=True)
for split, n in (("train", a.train), ("test", a.test)):
    df = stratified_subsample(pd.read_parquet(ROOT / f"data/raw/imdb/{split}.parquet"), n, seed=0)
    last = df.text.map(lambda t: sentences(clean_text(t))[-1])
    df.assign(text=last, label=df.label.map({0: "neg", 1: "pos"}))[["text", "label"]].to_csv(
        data / f"{split}.csv", index=False
    )
    words = last.str.split().str.len()
    print(f"{split}: {len(df)} texts, {words.mean():.1f} words on average (median {words.median():.0f})")

params = yaml.safe_load((a.work / "params.yaml").read_text())
params["prepare"].update(
    source="files",
    data_dir="data/raw/imdb_last_sentence",
    train_file="train.csv",
    test_file="test.csv",
    positive_label="pos",
)
(a.work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1"}
start = time.perf_counter()
subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=a.work, env=env, check=True)
wall = time.perf_counter() - start
peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6

a.out.mkdir(parents=True, exist_ok=True)
for f in (a.work / "logs").glob("*.json"):
    shutil.copy(f, a.out / f.name)
report = json.loads((a.work / "reports/data.json").read_text())
accuracy = json.loads((a.work / "metrics/accuracy.json").read_text())
(a.out / "run.json").write_text(
    json.dumps(
        {
            "wall_s": round(wall),
            "peak_rss_gb": round(peak_gb, 2),
            "rows": {s: report[s]["rows"] for s in ("train", "val", "test")},
            "words_mean": {s: report[s]["words_mean"] for s in ("train", "val", "test")},
            "test_accuracy": {m: v["test"] for m, v in accuracy.items()},
        },
        indent=2,
    )
    + "\n"
)
print(f"dvc repro: {wall:.0f} s, peak RSS {peak_gb:.2f} GB; logs in {a.out}")
