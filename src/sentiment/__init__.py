"""Binary sentiment (IMDB by default, or your own labelled texts): the library behind the DVC
stages in src/*.py.

Kept import-light (no pandas/torch here) so a stage validates params.yaml before it imports
anything heavy (1-3 s with the schemas' own imports: benchmarks/bench_config.py).
"""

import hashlib
import logging
import os
import sys
import time
from contextlib import contextmanager

log = logging.getLogger("sentiment")

# The one definition of the classes and of the decision rule, for every model and stage.
LABELS = ("negative", "positive")  # index = label id in the data and in every classifier head
THRESHOLD = 0.5  # P(positive) >= THRESHOLD -> positive


class ConfigError(ValueError):
    """params.yaml is invalid; the message names the offending key."""


class DataError(ValueError):
    """Input data is missing, corrupt or malformed."""


def sha256_file(path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (data checksums, model weights)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def setup_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=level or os.environ.get("LOGLEVEL", "INFO"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def run_stage(main) -> None:
    """Run a stage's main(); bad config or data ends it with one clear line, exit code 2."""
    setup_logging()
    try:
        main()
    except (ConfigError, DataError) as e:
        logging.getLogger(main.__module__).error("%s", e)
        sys.exit(2)


@contextmanager
def timed(what: str, logger: logging.Logger = log, record: dict | None = None, key: str | None = None):
    """Log how long a step took; with `record`, also keep the seconds there (for the cost table)."""
    t = time.perf_counter()
    logger.info("%s ...", what)
    yield
    took = time.perf_counter() - t
    logger.info("%s done in %.1fs", what, took)
    if record is not None:
        record[key or what] = round(took, 1)
