"""Whole reviews: training windows, predict-time windows and their aggregation, on tiny random
models (a BERT and an MPNet, whose special tokens and pad id differ)."""

import json
import shutil

import numpy as np
import pytest
import torch
from conftest import repo_params
from test_finetune import data, params
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from sentiment import ConfigError
from sentiment.finetune import FinetuneParams, predict_proba, train
from sentiment.inference import (
    batched_forward,
    encode,
    encode_windows,
    logits_forward,
    predict_logits,
    truncate,
    windows,
)
from sentiment.predictor import Predictor


@pytest.mark.parametrize("n, budget, stride", [(10, 4, 4), (10, 4, 3), (11, 4, 2), (4, 4, 1), (3, 8, 8), (100, 30, 29)])
def test_windows_cover_every_token_stride_apart_and_end_at_the_end(n, budget, stride):
    ids = list(range(n))
    ws = windows(ids, budget, stride)
    assert all(len(w) == min(n, budget) for w in ws)
    assert all(w == ids[w[0] : w[0] + len(w)] for w in ws)  # contiguous slices
    assert sorted({t for w in ws for t in w}) == ids  # nothing skipped
    starts = [w[0] for w in ws]
    assert starts[0] == 0 and ws[-1][-1] == n - 1
    assert all(b - a == stride for a, b in zip(starts[:-2], starts[1:-1]))  # only the last one moves closer
    assert 0 < starts[-1] - starts[-2] <= stride if len(ws) > 1 else len(ws) == 1


def test_random_window_is_a_seeded_contiguous_slice():
    ids = list(range(50))
    a = [truncate(ids, 8, "random", np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1] and len(a[0]) == 8 and a[0] == ids[a[0][0] : a[0][0] + 8]
    starts = {truncate(ids, 8, "random", np.random.default_rng(s))[0] for s in range(40)}
    assert len(starts) > 10 and min(starts) >= 0 and max(starts) <= 42  # varies, never past the end
    assert truncate(ids[:5], 8, "random", np.random.default_rng(0)) == ids[:5]
    with pytest.raises(ValueError, match="seeded rng"):
        truncate(ids, 8, "random")


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_mpnet"])
def test_encode_windows_keeps_special_tokens_on_every_window(fixture, request):
    tok = AutoTokenizer.from_pretrained(request.getfixturevalue(fixture))
    texts = ["short one", " ".join(map(str, range(100))) + " end", "middle"]  # one token per number
    enc, owner = encode_windows(tok, texts, 16, 14)
    assert owner.tolist() == [0] + [1] * 8 + [2]  # 101 text tokens -> windows at 0, 14, ..., 84, 87
    for ids in enc:
        assert len(ids) <= 16 and ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert enc[0] == encode(tok, ["short one"], 16, "head")[0]  # a short text is its one window
    with pytest.raises(ValueError, match="stride 15"):
        encode_windows(tok, texts, 16, 15)
    seeded = [encode(tok, texts, 16, "random", seed=7) for _ in range(2)]
    assert seeded[0] == seeded[1] and encode(tok, texts, 16, "random", seed=8) != seeded[0]


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_mpnet"])
def test_windows_logits_are_the_mean_of_each_windows_logits(fixture, request):
    path = request.getfixturevalue(fixture)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    texts = ["a fine film " * 30, "bad", "dull and long " * 12]
    got = predict_logits(model, tok, texts, 24, "windows", 10, batch_size=3, precision="fp32")
    enc, owner = encode_windows(tok, texts, 24, 10)
    each = batched_forward(model, enc, logits_forward, 2, "fp32", tok.pad_token_id)
    want = np.stack([each[owner == i].mean(0) for i in range(len(texts))])
    np.testing.assert_allclose(got, want, atol=1e-5)
    # a window's logits do not depend on the batch it was padded in (pad id from the tokenizer)
    with torch.inference_mode():
        alone = model(input_ids=torch.tensor([enc[0]])).logits.numpy()
    np.testing.assert_allclose(each[0], alone[0], atol=1e-5)
    head = predict_logits(model, tok, texts, 24, "head_tail", None, batch_size=3, precision="fp32")
    np.testing.assert_allclose(head[1], got[1], atol=1e-5)  # one-window text: both views agree
    assert not np.allclose(head[0], got[0])  # a long one: the views differ


@pytest.mark.slow
def test_tiny_mpnet_trains_on_random_windows_and_serves_its_windows(tiny_mpnet, tmp_path):
    """The whole path on an MPNet: random-window training, windows at predict time, Predictor
    reading the same settings from inference.json and answering the same probabilities."""
    p = params(tiny_mpnet, seed=1, truncation="random", predict_truncation="windows", window_stride=20, max_length=32)
    tr, va = data(192, 0), data(64, 1)
    trainer, tok, _, _ = train(p, tr, va, tmp_path / "ckpt", None, "fp")
    assert trainer.state.best_metric > 0.8
    prob = predict_proba(
        trainer.model, tok, va.text.tolist(), p.max_length, p.predict_truncation, p.window_stride, 16, "fp32"
    )
    assert ((prob >= 0.5) == va.label.values).mean() > 0.8
    out = tmp_path / "model"
    trainer.save_model(str(out))
    tok.save_pretrained(str(out))
    (out / "inference.json").write_text(json.dumps({"max_length": 32, "truncation": "windows", "window_stride": 20}))
    pred = Predictor(out, precision="fp32")
    assert pred.info()["window_stride"] == 20 and pred.info()["architecture"] == "MPNetForSequenceClassification"
    np.testing.assert_allclose(pred.predict_proba(va.text.tolist()), prob, atol=1e-5)
    # an explicit view overrides the saved one; the stride then defaults to back-to-back windows
    assert Predictor(out, truncation="head_tail").window_stride is None
    shutil.rmtree(out)


@pytest.mark.parametrize(
    "update, key",
    [
        ({"window_stride": 127}, "window_stride"),
        ({"predict_truncation": "random"}, "predict_truncation"),
        ({"truncation": "windows"}, "truncation"),
    ],
)
def test_window_params_are_validated(update, key):
    with pytest.raises(ConfigError, match=key):
        repo_params(FinetuneParams, **update)
    assert repo_params(FinetuneParams, window_stride=126, max_length=128).window_stride == 126
    assert repo_params(FinetuneParams, max_length=512, window_stride=None).window_stride is None  # back to back
