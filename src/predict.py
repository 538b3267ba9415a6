"""Classify movie reviews with a trained model: one review, a file of reviews, or stdin.

  python src/predict.py "A wonderful film"
  python src/predict.py --file reviews.txt --format jsonl
  python src/predict.py --file reviews.csv --format csv --model models/baseline/tfidf_lr.joblib
  cat reviews.txt | python src/predict.py -
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from pathlib import Path

# Only local models are loaded: never wait on the hub; keep library chatter off stderr.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from sentiment import ConfigError, DataError, setup_logging  # noqa: E402 (light imports only)

log = logging.getLogger("predict")

DEFAULT_MODEL = "models/finetuned"
SNIPPET = 70  # characters of the review shown by --format text


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="predict.py", description=__doc__.split("\n\n")[0],
        epilog="Examples:\n" + "\n".join(__doc__.split("\n\n")[1].splitlines()) +
               "\n\nOutput: label (negative/positive) and P(positive) per review, in input order. "
               "Blank lines of a .txt file or stdin are skipped; `index` is the 0-based line/row number.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("review", nargs="?", help="a review to classify, or - to read reviews from stdin (one per line)")
    src.add_argument("-f", "--file", type=Path, help="reviews from a file: .txt (one per line), .csv or .parquet "
                                                     "(a `text` column, see --text-column)")
    ap.add_argument("-m", "--model", default=DEFAULT_MODEL,
                    help="fine-tuned model directory or baseline .joblib file (default: %(default)s)")
    ap.add_argument("--format", choices=["text", "jsonl", "csv"], default="text",
                    help="text: label<TAB>P(positive)<TAB>review start; jsonl / csv: index, label, prob_positive "
                         "(default: %(default)s)")
    ap.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    ap.add_argument("--text-column", default="text", help="column holding the reviews in .csv/.parquet (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=32, help="reviews per forward pass (default: %(default)s)")
    ap.add_argument("--max-length", type=int, help="tokens per review (default: as trained: the model's inference.json or card, else params.yaml)")
    ap.add_argument("--truncation", choices=["head", "head_tail"], help="default: as trained")
    ap.add_argument("--precision", choices=["auto", "bf16", "fp16", "fp32"], help="default: params.yaml (auto)")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's, one per core)")
    ap.add_argument("--params", default="params.yaml", help="params file for the defaults above (default: %(default)s)")
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="progress bar on stderr (default: on a terminal, for more than one review)")
    args = ap.parse_args(argv)
    if args.batch_size < 1:
        ap.error("--batch-size must be >= 1")
    return args


def read_reviews(args) -> tuple[list[int], list[str]]:
    """(index, raw text) of every non-blank review, in input order."""
    if args.file is None and args.review != "-":
        return [0], [args.review]
    if args.file is None:
        return _lines(sys.stdin, "stdin")
    path = args.file
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".parquet"}:
        import pandas as pd

        try:
            df = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        except Exception as e:  # parser errors come in many types
            raise DataError(f"{path}: not a readable {suffix[1:]} file ({type(e).__name__}: {e})") from None
        if args.text_column not in df.columns:
            raise DataError(f"{path}: no {args.text_column!r} column (columns: {list(df.columns)}); see --text-column")
        col = df[args.text_column]
        bad = [i for i, t in enumerate(col) if not isinstance(t, str) and not pd.isna(t)]
        if bad:
            raise DataError(f"{path}: {len(bad)} value(s) of {args.text_column!r} are not text, e.g. row {bad[0]}")
        keep = [(i, t) for i, t in enumerate(col) if isinstance(t, str)]
        _warn_skipped(len(col) - len(keep), "missing")
        return [i for i, _ in keep], [t for _, t in keep]
    with open(path, encoding="utf-8", errors="replace") as f:
        return _lines(f, str(path))


def _lines(f, name: str) -> tuple[list[int], list[str]]:
    idx, texts, blank = [], [], 0
    for i, line in enumerate(f):
        line = line.rstrip("\r\n")
        if line.strip():
            idx.append(i)
            texts.append(line)
        else:
            blank += 1
    _warn_skipped(blank, "blank")
    return idx, texts


def _warn_skipped(n: int, why: str) -> None:
    if n:
        log.warning("skipped %d %s review(s)", n, why)


def drop_empty(idx: list[int], texts: list[str]) -> tuple[list[int], list[str]]:
    """Reviews that are empty once cleaned (e.g. only HTML) cannot be classified: skip them."""
    from sentiment.data import clean_text

    keep = [k for k, t in enumerate(texts) if clean_text(t)]
    if len(keep) < len(texts):
        log.warning("skipped %d review(s) empty after cleaning (index %s)", len(texts) - len(keep),
                    sorted(set(idx) - {idx[k] for k in keep})[:10])
    return [idx[k] for k in keep], [texts[k] for k in keep]


def write(out, fmt: str, idx: list[int], texts: list[str], preds) -> None:
    if fmt == "jsonl":
        for i, (label, p) in zip(idx, preds):
            out.write(json.dumps({"index": i, "label": label, "prob_positive": round(p, 6)}) + "\n")
    elif fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["index", "label", "prob_positive"])
        w.writerows([i, label, f"{p:.6f}"] for i, (label, p) in zip(idx, preds))
    else:
        for t, (label, p) in zip(texts, preds):
            snippet = " ".join(t.split())
            snippet = snippet if len(snippet) <= SNIPPET else snippet[:SNIPPET - 3] + "..."
            out.write(f"{label}\t{p:.4f}\t{snippet}\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_logging(os.environ.get("LOGLEVEL", "WARNING"))
    from sentiment.predictor import Predictor, model_kind

    try:
        model_kind(args.model)  # a wrong --model fails before any input is read
        idx, texts = drop_empty(*read_reviews(args))
        if not texts:
            raise DataError("no reviews to classify")
        predictor = Predictor(args.model, max_length=args.max_length, truncation=args.truncation,
                              precision=args.precision, batch_size=args.batch_size, params_file=args.params,
                              threads=args.threads)
    except (ConfigError, DataError) as e:
        log.error("%s", e)
        return 2
    log.info("model %s", predictor.info())
    progress = args.progress if args.progress is not None else (None if len(texts) > 1 else False)
    preds = predictor.predict(texts, progress=progress)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            write(out, args.format, idx, texts, preds)
    else:
        write(sys.stdout, args.format, idx, texts, preds)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... | head`
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
