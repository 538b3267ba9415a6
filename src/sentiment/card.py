"""Model card for the fine-tuned model (huggingface_hub.ModelCard), and opt-in hub upload."""

from __future__ import annotations

from huggingface_hub import ModelCard, ModelCardData

CITATION = """@inproceedings{maas-etal-2011-learning,
  title = {Learning Word Vectors for Sentiment Analysis},
  author = {Maas, Andrew L. and Daly, Raymond E. and Pham, Peter T. and Huang, Dan and Ng, Andrew Y. and Potts, Christopher},
  booktitle = {Proceedings of ACL 2011}, pages = {142--150}, year = {2011}
}"""

TEMPLATE = """---
{{ card_data }}
---

# {{ model_id }}

Binary sentiment classifier (negative / positive movie reviews), fine-tuned from
`{{ base_model }}` on the IMDB Large Movie Review Dataset with the Hugging Face `Trainer`,
by the `finetune` stage of this repository's DVC pipeline.

## Results on the IMDB test set ({{ n_test }} reviews)

| metric | value | 95% bootstrap CI |
|---|---|---|
{% for k, v in metrics.items() %}| {{ k }} | {{ "%.4f"|format(v[0]) }} | {{ "%.4f"|format(v[1]) }}–{{ "%.4f"|format(v[2]) }} |
{% endfor %}

## Training

- Data: {{ n_train }} training reviews (stratified subset of the official 25k train split after
  de-duplication; {{ n_val }} held-out validation reviews chose the best checkpoint).
- Reviews are cleaned of HTML, tokenised to at most {{ params.max_length }} tokens with
  `{{ params.truncation }}` truncation.
- Hyperparameters (params.yaml):

| parameter | value |
|---|---|
{% for k, v in params.items() %}| {{ k }} | {{ v }} |
{% endfor %}

## Limitations

- Trained and tested on English IMDB movie reviews only; polarised reviews (≤4 or ≥7 stars),
  so neutral or mixed reviews and other domains are out of distribution.
- Long reviews are truncated; sarcasm and plot summaries that describe negative events in a
  positive review are common error sources (see `metrics/errors.md`).
- Probabilities are not calibrated beyond what the log loss in `metrics/` shows.

## Data provenance and citation

IMDB Large Movie Review Dataset v1.0 (Maas et al., 2011), official labeled splits, as kept in
`data/raw/imdb/` with checksums and provenance.

```bibtex
{{ citation }}
```
"""


def model_card(base_model: str, params: dict, test_metrics: dict, ci: dict, n_train: int, n_val: int,
               n_test: int, model_id: str = "imdb-sentiment-finetuned") -> ModelCard:
    data = ModelCardData(language="en", license="apache-2.0", library_name="transformers",
                         pipeline_tag="text-classification", datasets=["stanfordnlp/imdb"],
                         base_model=base_model if "/" in base_model and not base_model.startswith("/") else None,
                         tags=["sentiment-analysis", "imdb", "dvc"])
    metrics = {k: (v, *ci.get(k, (float("nan"), float("nan")))) for k, v in test_metrics.items()}
    return ModelCard.from_template(data, template_str=TEMPLATE, model_id=model_id, base_model=base_model,
                                   metrics=metrics, params=params, n_train=n_train, n_val=n_val,
                                   n_test=n_test, citation=CITATION)


def push_to_hub(model_dir: str, repo_id: str, private: bool = True) -> str:
    """Upload model, tokenizer and card. Opt-in only (params: push_to_hub); needs HF_TOKEN."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, private=private, exist_ok=True)
    return api.upload_folder(folder_path=model_dir, repo_id=repo_id, commit_message="Upload from dvc pipeline").commit_url
