"""Write IMDB (data/raw/imdb) as the files a user would bring, to check that `prepare.source: files`
gives the same prepared splits as `source: local` (docs/your_data.md).

    python scripts/export_imdb.py data/raw/imdb_csv --format csv
    dvc exp run -S prepare.source=files -S prepare.data_dir=data/raw/imdb_csv \
        -S prepare.label_column=rating -S 'prepare.rating_bands=[4, 7]' -S prepare.positive_label=null \
        -S prepare.id_column=id

Labels come from the star ratings (IMDB's own rule: <= 4 negative, >= 7 positive), so the rating
style is what this exercises; ids keep the official ones, so the uids match too.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from sentiment.files import write_table  # noqa: E402 (after the path above)

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("out_dir", type=Path, help="folder for train.<format> and test.<format>")
p.add_argument("--format", choices=["csv", "tsv", "jsonl", "parquet"], default="csv")
p.add_argument("--src", type=Path, default=Path("data/raw/imdb"), help="IMDB's parquet folder")
p.add_argument("--rows", type=int, default=None, help="the first N rows of each split (default: all)")
a = p.parse_args()

for split in ("train", "test"):
    df = pd.read_parquet(a.src / f"{split}.parquet")[["id", "rating", "text"]].iloc[: a.rows]
    out = a.out_dir / f"{split}.{a.format}"
    write_table(df, out)
    print(f"{out}: {len(df)} rows")
