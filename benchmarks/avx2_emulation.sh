#!/usr/bin/env bash
# The default `dvc repro` as an AVX2-only CPU would run it, on an AVX-512 machine: PyTorch,
# oneDNN, MKL, NumPy and OpenBLAS are limited to AVX2 code paths (DEVELOPERS.md's emulation;
# `precision: auto` then resolves to fp32, as on a real AVX2 CPU). Runs in a fresh clone of HEAD
# with its own empty DVC cache, then compares its metrics with the committed ones.
#   bash benchmarks/avx2_emulation.sh [/tmp/avx2-run]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/tmp/avx2-run}
rm -rf "$DIR" && git clone -q "$ROOT" "$DIR" && ln -s "$ROOT/.venv" "$DIR/.venv"
cd "$DIR"
export PATH="$ROOT/.venv/bin:$PATH"  # the stages run `python`: the pinned environment
export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \
       NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" OPENBLAS_CORETYPE=Haswell \
       HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
start=$(date +%s)
.venv/bin/dvc repro -f
echo "whole dvc repro: $(( $(date +%s) - start )) s"
.venv/bin/python "$ROOT/scripts/cost_table.py" --logs logs
.venv/bin/python "$ROOT/scripts/compare_metrics.py" "$ROOT" "$DIR"
