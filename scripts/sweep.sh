#!/usr/bin/env bash
# Learning-rate sweep through DVC's experiment queue, at CPU-sized params, and its table.
#   bash scripts/sweep.sh            # writes metrics/sweep.md (then: python scripts/update_readme.py)
# Needs everything committed: queued experiments run in temp copies of HEAD. Stages whose
# inputs don't change between experiments are restored from DVC's run-cache, not rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=(-S prepare.max_test=2000 -S train_size=2000 -S max_length=128)
for lr in 1e-5 2e-5 3e-5; do
  dvc exp run --queue -n "lr-$lr" -S "learning_rate=$lr" "${SIZE[@]}"
done
time dvc exp run --run-all
{
  echo "# Learning-rate sweep"
  echo
  echo "\`bash scripts/sweep.sh\`: ${SIZE[*]//-S /} (a 2,000-review stratified test subset)."
  echo
  dvc exp show --md --no-pager --sort-by params.yaml:learning_rate --sort-order asc \
    --drop '.*' --keep 'Experiment|params.yaml:learning_rate|train_size|max_length|eval.accuracy|.*finetuned.json:(accuracy|f1|roc_auc)$'
  echo
  echo "eval.accuracy: best validation accuracy during training (1,000 reviews); finetuned.json: test set."
} > metrics/sweep.md
cat metrics/sweep.md
