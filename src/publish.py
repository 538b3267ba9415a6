"""Stage publish: the fine-tuned model's card (test metrics with CIs), and the opt-in hub upload.

After evaluate, so a change to how models are evaluated or published never reruns training.
"""

import json
import logging

from sentiment import run_stage
from sentiment.card import PublishParams
from sentiment.config import TOP, load
from sentiment.finetune import FinetuneParams

# the params.yaml keys this stage reads (= its dvc.yaml params; tested): its section, and the
# fine-tune's hyperparameters that the card lists
READS = {"publish": PublishParams, TOP: FinetuneParams}

MODEL_DIR = "models/finetuned"
CARD = "models/finetuned.md"

log = logging.getLogger("publish")


def main() -> None:
    params = load(READS)
    p = params["publish"]
    from sentiment.card import model_card, push_to_hub
    from sentiment.io import read_dataset_info, write_text

    info = json.loads(open(f"{MODEL_DIR}/inference.json").read())
    metrics = json.loads(open("reports/models/finetuned.json").read())
    ci = json.loads(open("reports/comparison.json").read())["models"]["finetuned"]["test"]["ci95"]
    dataset = read_dataset_info(MODEL_DIR)  # what the model was trained on, copied there by finetune
    card = model_card(info["base_model"], params[TOP].model_dump(), metrics, ci, info["n_train"], dataset=dataset)
    write_text(str(card), CARD)
    log.info("model card: %s", CARD)
    if p.push_to_hub:
        log.info("pushed to %s", push_to_hub(MODEL_DIR, CARD, p.hub_model_id))


if __name__ == "__main__":
    run_stage(main)
