"""Zero-shot scorers and the pretrained_eval stage, offline: tiny local classifiers stand in
for the hub models and load by name through the same code path."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, make_tiny_model, repo_params, write_repo_params

from sentiment import ConfigError
from sentiment.inference import ModelLoadError
from sentiment.scorers import (
    SCORERS,
    PretrainedEvalParams,
    _vader_analyzer,
    file_stem,
    load_scorer,
    select_settings,
    settings,
    stars_to_positive,
)

PP = repo_params(PretrainedEvalParams, "pretrained_eval", batch_size=3, max_length=[64], precision="fp32")
P = settings(PP)  # the scalar settings of the grids' first point
STARS = {i: f"{i + 1} star" + "s" * (i > 0) for i in range(5)}  # '1 star', '2 stars', ..., '5 stars'
TEXTS = [
    "A wonderful, moving film.",
    "Dull.",
    "The plot was thin but the acting was superb and I loved the music",
    "Worst movie ever, a waste of two hours " * 8,
    "ok",
    "Not bad at all, really.",
    "It was fine I guess",
]


@pytest.fixture(scope="module")
def tiny_sst2(tmp_path_factory):
    return make_tiny_model(
        tmp_path_factory.mktemp("m") / "tiny-sst2", "distilbert", 2, 128, {0: "NEGATIVE", 1: "POSITIVE"}
    )


@pytest.fixture(scope="module")
def tiny_stars(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("m") / "tiny-stars", "bert", 5, 128, STARS)


def reference_probs(model_dir, texts):
    """Softmax over the classifier's outputs, the plain transformers way (one text at a time)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.inference_mode():
        return np.concatenate(
            [
                model(**tok(t, return_tensors="pt", truncation=True, max_length=64)).logits.softmax(-1).double().numpy()
                for t in texts
            ]
        )


def test_vader_separates_obvious_sentences():
    score = load_scorer("vader", P)
    pos, neg = score(["I loved this wonderful, brilliant film!", "Terrible, boring, awful waste of time."])
    assert pos > 0.9 and neg < 0.1


def test_fast_vader_matches_stock_vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    stock, fast = SentimentIntensityAnalyzer(), _vader_analyzer()
    texts = TEXTS + [
        "never so good",
        "without doubt great",
        "kind of boring",
        "no good",
        "it was not the best",
        "Never this bad. The film isn't great but the cast is VERY good, kind of. " * 20,
    ]
    assert [fast.polarity_scores(t) for t in texts] == [stock.polarity_scores(t) for t in texts]


def test_star_mapping():
    probs = np.array([[1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0.5, 0.5], [0.1, 0.2, 0.2, 0.3, 0.2]])
    np.testing.assert_allclose(stars_to_positive(probs), [0, 0.5, 1, 0.3 + 0.2 + 0.1])
    # columns in another order: weights follow each column's rating
    np.testing.assert_allclose(stars_to_positive(probs[:, ::-1], stars=[5, 4, 3, 2, 1]), stars_to_positive(probs))


@pytest.mark.parametrize("name", ["vader", "tiny_sst2", "tiny_stars"])
def test_empty_reviews_are_errors_and_order_never_matters(name, request):
    model = name if name in SCORERS else str(request.getfixturevalue(name))
    score = load_scorer(model, P)
    # the project's one bad-input policy: an empty review is an error naming its index
    with pytest.raises(ValueError, match=r"text at index 3 is empty"):
        score(TEXTS[:3] + ["   \n\t "])
    texts = TEXTS
    prob = score(texts)
    assert prob.shape == (len(texts),) and ((prob >= 0) & (prob <= 1)).all()
    assert score([]).shape == (0,)
    # batches are sorted by length inside: shuffled input must give the same row-by-row answers
    perm = np.random.default_rng(0).permutation(len(texts))
    np.testing.assert_allclose(score([texts[i] for i in perm]), prob[perm], rtol=0, atol=1e-6)


def test_two_label_classifier_uses_the_positive_label(tiny_sst2, tmp_path):
    prob = load_scorer(str(tiny_sst2), P)(TEXTS)
    np.testing.assert_allclose(prob, reference_probs(tiny_sst2, TEXTS)[:, 1], atol=1e-5)
    # the same weights with the label names swapped: P(positive) flips
    flipped = make_tiny_model(tmp_path / "flipped", "distilbert", 2, 128, {0: "POSITIVE", 1: "NEGATIVE"})
    np.testing.assert_allclose(load_scorer(str(flipped), P)(TEXTS), 1 - prob, atol=1e-5)


def test_five_label_model_goes_through_star_mapping(tiny_stars, tmp_path):
    prob = load_scorer(str(tiny_stars), P)(TEXTS)
    np.testing.assert_allclose(prob, stars_to_positive(reference_probs(tiny_stars, TEXTS)), atol=1e-5)
    # detected by its 5 labels, not by name or label text
    plain = make_tiny_model(tmp_path / "plain5", "bert", 5, 128)
    np.testing.assert_allclose(load_scorer(str(plain), P)(TEXTS), prob, atol=1e-5)


def test_unusable_names_fail_listing_the_scorers(tmp_path):
    with pytest.raises(ModelLoadError) as err:
        load_scorer("no-such-scorer", P)
    assert all(name in str(err.value) for name in ("vader", "minilm_embed", "distilbert-sst2", "nlptown-stars"))
    with pytest.raises(ModelLoadError, match="without a trained classification head"):
        load_scorer("minilm", P)  # a bare encoder would score with a random head
    three = make_tiny_model(tmp_path / "three", "bert", 3, 128)
    with pytest.raises(ModelLoadError, match="3 labels"):
        load_scorer(str(three), P)


def test_max_length_beyond_the_model_is_a_params_error(tiny_sst2):
    with pytest.raises(ConfigError, match="pretrained_eval.max_length: .*128 position"):
        load_scorer(str(tiny_sst2), settings(PP, max_length=256))


def test_file_stems(tiny_sst2):
    assert (
        file_stem("nlptown/bert-base-multilingual-uncased-sentiment")
        == "nlptown--bert-base-multilingual-uncased-sentiment"
    )
    assert file_stem("vader") == "vader" and file_stem("distilbert-sst2") == "distilbert-sst2"
    assert file_stem(str(tiny_sst2) + "/") == "tiny-sst2"


def test_minilm_embed_ranks_obvious_sentences():
    pos, neg = load_scorer("minilm_embed", P)(["I loved this wonderful film", "terrible, boring waste of time"])
    assert pos > 0.5 > neg


@pytest.mark.e2e
@pytest.mark.slow
def test_stage_writes_predictions_with_a_local_model(tiny_sst2, tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "data/prepared").mkdir(parents=True)
    for split, prefix in (("val", "train"), ("test", "test")):
        df = pd.DataFrame(
            {
                "uid": [f"{prefix}/x/{i}" for i in range(12)],
                "id": np.arange(12, dtype="int32"),
                "rating": pd.array(rng.integers(1, 11, 12), dtype="Int8"),
                "label": np.array([0, 1] * 6, dtype="int8"),
                "text": (TEXTS * 2)[:12],
            }
        )
        df.to_parquet(tmp_path / f"data/prepared/{split}.parquet")
        test = df
    own = {"models": ["vader", str(tiny_sst2)], "batch_size": 4, "max_length": [32, 64], "precision": "fp32"}
    write_repo_params(tmp_path, pretrained_eval=own)
    r = subprocess.run(
        [sys.executable, str(ROOT / "src/pretrained_eval.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "predictions/pretrained").iterdir()) == [
        "tiny-sst2.json",
        "tiny-sst2.parquet",
        "vader.json",
        "vader.parquet",
    ]
    preds = pd.read_parquet(tmp_path / "predictions/pretrained/tiny-sst2.parquet")
    assert list(preds.columns) == ["uid", "split", "label", "pred", "prob"]
    assert preds[preds.split == "test"].uid.tolist() == test.uid.tolist() and preds.prob.between(0, 1).all()
    assert "tiny-sst2" in r.stderr and "val accuracy" in r.stderr and "test accuracy" not in r.stderr
    meta = json.loads((tmp_path / "predictions/pretrained/tiny-sst2.json").read_text())
    assert meta["runtime"]["precision"] == "fp32" and meta["runtime"]["device"] == "cpu"
    assert meta["settings"]["max_length"] in (32, 64) and "runtime" not in json.loads(
        (tmp_path / "predictions/pretrained/vader.json").read_text()
    )
    sel = json.loads((tmp_path / "reports/selection/pretrained_eval.json").read_text())
    assert sel["vader"] == {} and set(sel["tiny-sst2"]["val_accuracy"]) == {"max_length=32", "max_length=64"}

    # a name that cannot be loaded stops the stage with one clear line and exit code 2
    write_repo_params(tmp_path, pretrained_eval={**own, "models": ["vader", "no-such/model"]})
    r = subprocess.run(
        [sys.executable, str(ROOT / "src/pretrained_eval.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )
    assert r.returncode == 2 and "minilm_embed" in r.stderr and "Traceback" not in r.stderr


def test_minilm_settings_are_chosen_on_validation():
    """Prompt by accuracy (a prompt pair that is backwards loses), temperature by log loss."""
    texts = [
        "I loved this wonderful film",
        "A brilliant, moving story",
        "What a great movie",
        "terrible, boring waste of time",
        "The worst film I have seen",
        "Awful acting, dull plot",
    ]
    y = [1, 1, 1, 0, 0, 0]
    pp = repo_params(
        PretrainedEvalParams,
        "pretrained_eval",
        batch_size=4,
        max_length=[32, 64],
        precision="fp32",
        prompts=[["a negative review", "a positive review"], ["positive", "negative"]],
        temperature=[0.001, 0.05, 100.0],
    )
    chosen, record = select_settings("minilm_embed", pp, texts, y)
    assert set(record["val_accuracy"]) == {f"max_length={m} prompt={i}" for m in (32, 64) for i in (0, 1)}
    assert chosen["prompt"] == 1 and chosen["max_length"] == 32  # 32 and 64 tie: the cheaper, listed first
    assert record["val_accuracy"]["max_length=32 prompt=0"] < 0.5 < record["val_accuracy"]["max_length=32 prompt=1"]
    loss = record["val_log_loss_by_temperature"]
    assert chosen["temperature"] == min(pp.temperature, key=lambda t: loss[str(t)]) and chosen["temperature"] != 100.0
    # the chosen scorer reproduces the accuracy it was chosen for
    prob = load_scorer("minilm_embed", settings(pp, **chosen))(texts)
    assert np.mean((prob >= 0.5) == np.array(y, bool)) == record["val_accuracy"]["max_length=32 prompt=1"]
    assert select_settings("vader", pp, texts, y) == ({}, {})
