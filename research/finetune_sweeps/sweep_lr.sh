#!/usr/bin/env bash
# Learning-rate selection on VALIDATION through the DVC experiments queue, at the default
# budget: one experiment per rate (prepare/baseline/pretrained_eval come from the run-cache),
# then a table of each rate's validation accuracy, with the workspace's (the default) ->
# research/finetune_sweeps/learning_rate.md.
#   bash scripts/sweep_lr.sh 5e-5 1.2e-4
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=("${@:-5e-5 1.2e-4}")
for lr in ${RATES[@]}; do
  dvc exp run --queue -n "lr-$lr" -S "learning_rate=$lr"
done
dvc exp run --run-all --jobs 1
python scripts/exp_table.py --param learning_rate --out research/finetune_sweeps/learning_rate.md \
  --title "learning_rate, chosen on validation (scripts/sweep_lr.sh)" --names $(printf 'lr-%s ' ${RATES[@]})
