#!/usr/bin/env bash
# The fine-tune's budget, chosen on VALIDATION through the DVC experiments queue. Each run
# changes one thing against the workspace's default run (16,000 reviews x 1 epoch x 128
# tokens, batch 16, lr 1.8e-4; the committed table's rows were each run against the default
# of their day, which the table's params columns show): the learning rate, the batch size, or
# the same training budget spent on more epochs or on more/fewer tokens per review. Only
# finetune and the stages after it rerun (the rest comes from the run-cache).
# Table: research/finetune_sweeps/finetune_16k.md (the 12,000 x 256 budget before it: finetune.md).
#   bash scripts/sweep_finetune.sh                          # every experiment below (~17-20 min each on 2 cores)
#   bash scripts/sweep_finetune.sh ft-lr2.7e-4 ft-bs8       # some of them (the committed table's 256-token row
#                                                           # ran as ft-len256-8k-lr1.8e-4, the same overrides)
# `dvc exp run --run-all` has been seen to hang after the queue finishes: if it does, stop it
# and run the exp_table.py line below by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A EXP=(
  # learning rate, batch size at the default budget
  [ft-lr5e-5]="learning_rate=5e-5"
  [ft-lr8e-5]="learning_rate=8e-5"
  [ft-lr1.2e-4]="learning_rate=1.2e-4"
  [ft-lr1.8e-4]="learning_rate=1.8e-4"
  [ft-lr2.7e-4]="learning_rate=2.7e-4"
  [ft-bs8]="per_device_train_batch_size=8"
  [ft-bs32]="per_device_train_batch_size=32"
  # equal-budget trade-offs (about the same tokens x passes as the default)
  [ft-ep2-8k]="num_train_epochs=2 train_size=8000"      # 8,000 reviews x 2 epochs x 128 tokens
  [ft-len256-8k]="max_length=256 train_size=8000"       # 8,000 reviews x 1 epoch x 256 tokens
  [ft-len96-all]="max_length=96 train_size=null"        # all 22.3k reviews x 1 epoch x 96 tokens
)
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(ft-lr5e-5 ft-lr8e-5 ft-lr1.2e-4 ft-lr2.7e-4 ft-bs8 ft-bs32 ft-ep2-8k ft-len256-8k ft-len96-all)
for name in "${NAMES[@]}"; do
  [ -n "${EXP[$name]:-}" ] || { echo "unknown experiment $name; known: ${!EXP[*]}" >&2; exit 2; }
  args=(); for kv in ${EXP[$name]}; do args+=(-S "$kv"); done
  dvc exp run --queue -n "$name" "${args[@]}"
done
dvc exp run --run-all --jobs 1
python scripts/exp_table.py --out research/finetune_sweeps/finetune_16k.md \
  --param num_train_epochs train_size max_length per_device_train_batch_size learning_rate \
  --title "Fine-tune budget, batch size and learning rate, chosen on validation (scripts/sweep_finetune.sh)" \
  --names "${NAMES[@]}"
