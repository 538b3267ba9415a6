#!/usr/bin/env bash
# Create .venv and install the pinned environment. torch goes first: with torch==2.13.0
# already installed, nothing later pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q --no-deps -e .   # the project's library (src/sentiment), editable
.venv/bin/python -c "import torch, transformers, dvc, sentiment; print('ok: torch', torch.__version__, '| transformers', transformers.__version__)"
