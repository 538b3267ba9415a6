#!/usr/bin/env bash
# Augmentation measured through the DVC experiments queue against the workspace (the default):
# sentence-window crops for the fine-tune and for the classical models. Each experiment reruns
# only the stages its params reach; the table reads IMDB validation and the sentence set's
# selection half -> research/finetune_sweeps/augmentation.md.
#   bash scripts/sweep_augment.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dvc exp run --queue -n crops-1x1 -S augment_crops=1.0 -S crop_max_sentences=1
dvc exp run --queue -n baseline-crops-1x2 -S baseline.augment_crops=1.0 -S baseline.crop_max_sentences=2
dvc exp run --run-all --jobs 1
python research/finetune_sweeps/augment_table.py --out research/finetune_sweeps/augmentation.md \
  --names crops-1x1 baseline-crops-1x2
