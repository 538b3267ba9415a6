"""Fine-tuning with the real Trainer on tiny random models (offline, seconds)."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import fake_split, repo_params
from transformers import AutoTokenizer, TrainerCallback

from sentiment.dataset import clean
from sentiment.finetune import (
    FinetuneParams,
    fingerprint,
    finish_checkpoints,
    load_for_training,
    predict_proba,
    save_model,
    train,
)
from sentiment.inference import ModelLoadError, encode, load_pretrained, positive_index, truncate


def data(n, seed):
    return clean(fake_split(n, seed).assign(uid=lambda d: [f"u{seed}/{i}" for i in d.index]), "x")


def params(model_dir, **kw):
    """The repo's fine-tune params, made for a tiny model and a few hundred reviews."""
    base = dict(
        model_name=str(model_dir),
        learning_rate=3e-3,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=32,
        num_train_epochs=3.0,
        max_length=64,
        evals_per_epoch=1,
        warmup_steps=0,
        precision="fp32",
    )
    return repo_params(FinetuneParams, **{**base, **kw})


def test_head_tail_truncation_on_token_ids():
    ids = list(range(100))
    assert truncate(ids, 8, "head") == list(range(8))
    assert truncate(ids, 8, "head_tail") == [0, 1] + list(range(94, 100))  # a quarter head, the rest tail
    assert truncate(ids[:5], 8, "head_tail") == ids[:5]
    with pytest.raises(ValueError, match="truncation"):
        truncate(ids, 8, "middle")


def test_encode_adds_special_tokens_within_max_length(tiny_bert):
    tok = AutoTokenizer.from_pretrained(tiny_bert)
    long_text = "first " + "middle " * 200 + "last"
    (ids,) = encode(tok, [long_text], 16, "head_tail")
    assert len(ids) == 16 and ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    words = tok.convert_ids_to_tokens(ids)
    assert words[1] == "first" and words[-2] == "last"


@pytest.mark.parametrize("fixture, epochs", [("tiny_bert", 3.0), ("tiny_distilbert", 6.0)])
@pytest.mark.slow
def test_few_steps_beat_chance_and_predictions_stay_aligned(fixture, epochs, request, tmp_path):
    model_dir = request.getfixturevalue(fixture)
    p = params(model_dir, seed=1, num_train_epochs=epochs)
    tr, va = data(192, 0), data(64, 1)
    trainer, tok, resumed, rt = train(p, tr, va, tmp_path / "ckpt", tmp_path / "live", "fp")
    assert not resumed and rt["device"] == "cpu" and rt["precision"] == "fp32" and rt["cpu_isa"]
    assert trainer.state.best_metric is not None and trainer.state.best_metric > 0.8
    prob = predict_proba(trainer.model, tok, va.text.tolist(), p.max_length, p.truncation, None, 7)
    assert ((prob >= 0.5) == va.label.values).mean() > 0.8
    # sorting by length inside predict must never misalign rows: shuffled input, same answers
    perm = np.random.default_rng(0).permutation(len(va))
    shuffled = predict_proba(trainer.model, tok, va.text.iloc[perm].tolist(), p.max_length, p.truncation, None, 5)
    np.testing.assert_allclose(shuffled, prob[perm], atol=1e-5)
    # dvclive wrote the training curves: x = optimizer steps, no wall-clock figures in the metrics
    metrics = json.loads((tmp_path / "live" / "metrics.json").read_text())
    assert "eval" in metrics and "runtime" not in json.dumps(metrics) and "per_second" not in json.dumps(metrics)
    steps = pd.read_csv(tmp_path / "live" / "plots" / "metrics" / "eval" / "accuracy.tsv", sep="\t").step.tolist()
    per_epoch = 192 // 16
    assert steps == [per_epoch * (e + 1) for e in range(int(epochs))]  # one eval per epoch, at its last step


def test_max_length_beyond_positions_fails_clearly(tiny_bert, tmp_path):
    with pytest.raises(ValueError, match="max_length 512 exceeds"):
        train(params(tiny_bert, max_length=512), data(32, 0), data(16, 1), tmp_path / "c", None, "fp")


def test_unknown_model_name_says_why(tmp_path):
    from transformers import AutoTokenizer as T

    with pytest.raises(ModelLoadError, match="hub is unreachable"):
        load_pretrained("no-such-org/no-such-model", T)
    (tmp_path / "junk").mkdir()
    with pytest.raises(ModelLoadError, match="not a loadable model"):
        load_pretrained(str(tmp_path / "junk"), T)


class Interrupt(TrainerCallback):
    """Simulates a crash right after the first checkpoint is written."""

    def on_save(self, args, state, control, **kw):
        raise KeyboardInterrupt


@pytest.mark.slow
def test_interrupted_run_resumes_from_checkpoint(tiny_bert, tmp_path):
    p = params(tiny_bert, evals_per_epoch=2)
    tr, va = data(128, 0), data(32, 1)
    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        train(p, tr, va, ckpt, None, "fp1", callbacks=[Interrupt()])
    saved = sorted(ckpt.glob("checkpoint-*"))
    assert len(saved) == 1
    trainer, _, resumed, _ = train(p, tr, va, ckpt, None, "fp1")
    assert resumed and trainer.state.global_step == 3 * 8  # 3 epochs x 128/16 steps: finished, not restarted
    finish_checkpoints(ckpt)
    assert not ckpt.exists()  # a finished run leaves nothing to resume
    assert not train(p, tr, va, ckpt, None, "fp1")[2]
    finish_checkpoints(ckpt)
    # an interrupted run with other params (another fingerprint) is not resumed either
    with pytest.raises(KeyboardInterrupt):
        train(p, tr, va, ckpt, None, "fp1", callbacks=[Interrupt()])
    assert not train(p, tr, va, ckpt, None, "fp2")[2]


def test_fingerprint_tracks_params_and_data(tmp_path):
    f = tmp_path / "d"
    f.write_text("a")
    a = fingerprint({"lr": 1}, f)
    assert a == fingerprint({"lr": 1}, f) != fingerprint({"lr": 2}, f)
    f.write_text("b")
    assert fingerprint({"lr": 1}, f) != a


def test_saved_model_folder_depends_on_params_and_data_only(tiny_bert, tmp_path):
    """Same params and data, another scratch folder: byte-identical model folders (a DVC remote
    filled by one run serves another). The Trainer's training_args.bin pickled the scratch path."""
    import hashlib

    digests = []
    for run in ("a", "b"):
        trainer, tok, _, _ = train(
            params(tiny_bert, num_train_epochs=1.0), data(64, 0), data(32, 1), tmp_path / run / "ckpt", None, "fp"
        )
        save_model(trainer, tok, tmp_path / run / "model")
        digests.append(
            {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted((tmp_path / run / "model").iterdir())}
        )
    assert digests[0] == digests[1] and "model.safetensors" in digests[0] and "training_args.bin" not in digests[0]


def test_the_config_names_labels_as_the_data_does(tiny_bert):
    """IMDB's config stays negative/positive (the same config.json as before); another dataset's
    names are saved as they are, and label id 1 stays the positive output."""
    _, model = load_for_training(str(tiny_bert), 0.0)
    assert model.config.id2label == {0: "negative", 1: "positive"} and positive_index(model.config) == 1
    _, model = load_for_training(str(tiny_bert), 0.0, ["bad", "good"])
    assert model.config.id2label == {0: "bad", 1: "good"} and model.config.label2id == {"bad": 0, "good": 1}
    assert positive_index(model.config, ["bad", "good"]) == 1
    with pytest.raises(ValueError, match="cannot tell which label is positive"):  # names alone do not say
        positive_index(model.config)
