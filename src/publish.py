"""Stage publish: the fine-tuned model's card (test metrics with CIs), and the opt-in hub upload.

After evaluate, so a change to how models are evaluated or published never reruns training.
"""

import json
import logging

from sentiment import run_stage
from sentiment.config import FINETUNE_KEYS, load_params

MODEL_DIR = "models/finetuned"
CARD = "models/finetuned.md"

log = logging.getLogger("publish")


def main() -> None:
    params = load_params()  # validate before the heavy imports
    p = params.publish
    from sentiment.card import model_card, push_to_hub
    from sentiment.io import write_text

    info = json.loads(open(f"{MODEL_DIR}/inference.json").read())
    metrics = json.loads(open("metrics/models/finetuned.json").read())
    ci = json.loads(open("metrics/comparison.json").read())["models"]["finetuned"]["test"]["ci95"]
    card = model_card(info["base_model"], {k: getattr(params, k) for k in FINETUNE_KEYS}, metrics, ci, info["n_train"])
    write_text(str(card), CARD)
    log.info("model card: %s", CARD)
    if p.push_to_hub:
        log.info("pushed to %s", push_to_hub(MODEL_DIR, CARD, p.hub_model_id))


if __name__ == "__main__":
    run_stage(main)
