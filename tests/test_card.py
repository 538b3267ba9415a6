"""The model card names the data the model was trained on: IMDB's provenance only for IMDB."""

from sentiment.card import model_card

PARAMS = {"max_length": 256, "truncation": "random", "predict_truncation": "head", "window_stride": None}
METRICS = {"test": {"accuracy": 0.9, "f1": 0.91, "n": 1000}, "val": {"accuracy": 0.88, "n": 500}}
CI = {"accuracy": [0.89, 0.91], "f1": [0.9, 0.92]}


def card(**kw):
    return model_card("sentence-transformers/all-MiniLM-L6-v2", PARAMS, METRICS, CI, 2000, **kw)


def test_imdb_card_keeps_its_provenance_and_hub_metadata():
    c = card()
    assert str(c) == str(card(dataset={"name": "IMDB", "labels": ["negative", "positive"]}))  # the default
    assert c.data.datasets == ["stanfordnlp/imdb"] and "imdb" in c.data.tags
    text = c.text
    assert "# imdb-sentiment-finetuned" in text and "Results on the IMDB test set (1000 reviews)" in text
    assert "Maas et al., 2011" in text and "polarised reviews" in text and "@inproceedings" in text


def test_other_data_is_named_without_imdb_claims():
    c = card(dataset={"name": "support_tickets", "labels": ["bad", "good"]})
    assert c.data.datasets is None and "imdb" not in c.data.tags
    text = c.text
    assert "imdb" not in text.lower() and "Maas" not in text and "polarised" not in text and "review" not in text
    assert (
        "# support-tickets-sentiment-finetuned" in text
        and "Results on the support_tickets test set (1000 texts)" in text
    )
    assert "(labels `bad` / `good`, the second for positive)" in text
    assert "Trained and tested on support_tickets: see `data/prepared/`" in text and "reports/data.json" in text
    assert "Data: 2000 training texts of support_tickets;" in text
