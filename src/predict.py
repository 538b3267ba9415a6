"""Classify movie reviews with a trained model: one review, a file of reviews, or stdin.

python src/predict.py "A wonderful film"
python src/predict.py --file reviews.txt --format jsonl
python src/predict.py --file reviews.csv --format csv --model models/baseline/tfidf_lr.joblib
cat reviews.txt | python src/predict.py -
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path

# Only local models are loaded: never wait on the hub; keep library chatter off stderr.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from sentiment import ConfigError, DataError, setup_logging  # noqa: E402 (light imports only)

log = logging.getLogger("predict")

SNIPPET = 70  # characters of the review shown by --format text
CHUNK = 1024  # reviews read and predicted at a time: bounds memory, drives the progress bar


def parse_args(argv=None) -> argparse.Namespace:
    from sentiment.predictor import DEFAULT_MODEL, PRECISIONS, TRUNCATIONS

    ap = argparse.ArgumentParser(
        prog="predict.py",
        description=__doc__.split("\n\n")[0],
        epilog="Examples:\n"
        + "\n".join(__doc__.split("\n\n")[1].splitlines())
        + "\n\nOutput: label (one of the model's two names, from its folder's dataset.json; IMDB: "
        "negative/positive) and P(positive) per review, in input order; `index` is the "
        "0-based line/row number. Every line/row must hold a review: an empty one (whitespace/HTML only), "
        "a non-text value or bytes that are not UTF-8 stop the run before inference, naming the index.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("review", nargs="?", help="a review to classify, or - to read reviews from stdin (one per line)")
    src.add_argument(
        "-f",
        "--file",
        type=Path,
        help="reviews from a file: .txt (one per line), .csv or .parquet (a `text` column, see --text-column)",
    )
    ap.add_argument(
        "-m",
        "--model",
        default=DEFAULT_MODEL,
        help="fine-tuned model directory, ensemble directory or baseline .joblib file (default: %(default)s)",
    )
    ap.add_argument(
        "--format",
        choices=["text", "jsonl", "csv"],
        default="text",
        help="text: label<TAB>P(positive)<TAB>review start; jsonl / csv: index, label, prob_positive "
        "(default: %(default)s)",
    )
    ap.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    ap.add_argument(
        "--text-column", default="text", help="column holding the reviews in .csv/.parquet (default: %(default)s)"
    )
    ap.add_argument("--batch-size", type=int, default=32, help="reviews per forward pass (default: %(default)s)")
    ap.add_argument("--max-length", type=int, help="tokens per review (default: the model's inference.json)")
    ap.add_argument("--truncation", choices=TRUNCATIONS, help="default: the model's inference.json")
    ap.add_argument("--precision", choices=PRECISIONS, help="default: auto (bf16 where this hardware has it)")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's, one per core)")
    ap.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: on a terminal, for more than one review)",
    )
    args = ap.parse_args(argv)
    if args.batch_size < 1:
        ap.error("--batch-size must be >= 1")
    return args


# --- input: chunks of raw reviews, streamed, re-readable for the second pass ------------------


def open_source(args) -> tuple[str, Callable[[], Iterator[list]]]:
    """(name, chunks): chunks() iterates the input from the start in lists of <= CHUNK reviews."""
    if args.file is None and args.review != "-":
        return "review", lambda: iter([[args.review]])
    if args.file is None:  # stdin can be read once: spool it (in memory up to 16 MB, then on disk)
        spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
        shutil.copyfileobj(sys.stdin.buffer, spool)

        def stdin_chunks():
            spool.seek(0)
            return _batched(_utf8_lines(spool, "stdin"))

        return "stdin", stdin_chunks
    path = args.file
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return str(path), lambda: _parquet_chunks(path, args.text_column)
    if suffix == ".csv":
        return str(path), lambda: _csv_chunks(path, args.text_column)
    return str(path), lambda: _txt_chunks(path)


def _batched(items: Iterable) -> Iterator[list]:
    it = iter(items)
    while chunk := list(itertools.islice(it, CHUNK)):
        yield chunk


def _utf8_lines(f, name: str) -> Iterator[str]:
    """Lines of a binary file, decoded strictly: no silent replacement characters."""
    for i, raw in enumerate(f):
        try:
            yield raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise DataError(
                f"{name}: line {i + 1} (index {i}) is not UTF-8 text (byte {e.start}: {e.reason}); "
                "convert it first, e.g. iconv -f latin1 -t utf-8"
            ) from None


def _txt_chunks(path: Path) -> Iterator[list]:
    with open(path, "rb") as f:
        yield from _batched(_utf8_lines(f, str(path)))


def _csv_chunks(path: Path, column: str) -> Iterator[list]:
    import pandas as pd

    try:
        columns = list(pd.read_csv(path, nrows=0).columns)
        if column not in columns:
            raise DataError(f"{path}: no {column!r} column (columns: {columns}); see --text-column")
        # every cell as text, "" kept as "" (not NaN): an empty cell is an empty review
        for df in pd.read_csv(path, usecols=[column], dtype=str, keep_default_na=False, chunksize=CHUNK):
            yield df[column].tolist()
    except UnicodeDecodeError:
        with open(path, "rb") as f:
            for _ in _utf8_lines(f, str(path)):  # names the line
                pass
        raise DataError(f"{path}: not UTF-8 text") from None
    except (ValueError, pd.errors.ParserError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: not a readable csv file ({type(e).__name__}: {e})") from None


def _parquet_chunks(path: Path, column: str) -> Iterator[list]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        if column not in pf.schema_arrow.names:
            raise DataError(f"{path}: no {column!r} column (columns: {pf.schema_arrow.names}); see --text-column")
        for batch in pf.iter_batches(batch_size=CHUNK, columns=[column]):
            yield batch.column(0).to_pylist()
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"{path}: not a readable parquet file ({type(e).__name__}: {e})") from None


def count_valid(name: str, chunks) -> int:
    """First pass: every review valid (the predictor's policy), before any model runs."""
    from sentiment.predictor import InputError, check_texts

    n = 0
    for chunk in chunks():
        try:
            check_texts(chunk, offset=n)
        except InputError as e:
            raise DataError(f"{name}: {e} (index = 0-based line/row number)") from None
        n += len(chunk)
    if not n:
        raise DataError(f"{name}: no reviews to classify")
    return n


# --- output -----------------------------------------------------------------------------------


def make_writer(out, fmt: str) -> Callable[[int, list[str], list], None]:
    """write(first_index, texts, predictions) for one chunk."""
    table = csv.writer(out, lineterminator="\n")
    if fmt == "csv":
        table.writerow(["index", "label", "prob_positive"])

    def write(start: int, texts: list[str], preds) -> None:
        for i, (t, (label, p)) in enumerate(zip(texts, preds), start):
            if fmt == "jsonl":
                out.write(json.dumps({"index": i, "label": label, "prob_positive": round(p, 6)}) + "\n")
            elif fmt == "csv":
                table.writerow([i, label, f"{p:.6f}"])
            else:
                snippet = " ".join(t.split())
                snippet = snippet if len(snippet) <= SNIPPET else snippet[: SNIPPET - 3] + "..."
                out.write(f"{label}\t{p:.4f}\t{snippet}\n")

    return write


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_logging(os.environ.get("LOGLEVEL", "WARNING"))
    from sentiment.predictor import Predictor, model_kind

    # Everything that can be wrong is checked before inference: model path, input, model, output.
    try:
        model_kind(args.model)
        if args.output and not args.output.parent.is_dir():  # the common mistake, caught in a blink
            raise DataError(f"cannot write --output {args.output}: folder {args.output.parent} does not exist")
        name, chunks = open_source(args)
        total = count_valid(name, chunks)
        predictor = Predictor(
            args.model,
            max_length=args.max_length,
            truncation=args.truncation,
            precision=args.precision,
            batch_size=args.batch_size,
            threads=args.threads,
        )
        try:
            out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
        except OSError as e:
            raise DataError(f"cannot write --output {args.output}: {e.strerror}") from None
    except (ConfigError, DataError) as e:
        log.error("%s", e)
        return 2
    log.info("model %s", predictor.info())
    from tqdm.auto import tqdm

    write = make_writer(out, args.format)
    disable = (None if total > 1 else True) if args.progress is None else not args.progress
    with (
        out if args.output else nullcontext(),
        tqdm(
            total=total,
            desc=f"predict ({predictor.name})",
            unit="review",
            file=sys.stderr,
            disable=disable,
            mininterval=1,
        ) as bar,
    ):
        start = 0
        for chunk in chunks():
            write(start, chunk, predictor.predict(chunk))
            start += len(chunk)
            bar.update(len(chunk))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... | head`
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
