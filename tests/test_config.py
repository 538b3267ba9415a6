import subprocess
import sys
import time

import pytest
import yaml
from conftest import ROOT

from sentiment import ConfigError
from sentiment.config import Params, load_params, read_yaml


def write(tmp_path, text):
    p = tmp_path / "params.yaml"
    p.write_text(text)
    return p


def test_repo_params_are_valid():
    p = load_params(ROOT / "params.yaml")
    assert 0 < p.prepare.val_size < 1
    assert p.baseline.models


def test_defaults_fill_missing_sections(tmp_path):
    assert load_params(write(tmp_path, "")) == Params()


@pytest.mark.parametrize("text", ["learning_rate: 1e-05", "learning_rate: 1e-5", "learning_rate: 1.0e-5"])
def test_exponent_floats_are_numbers(tmp_path, text):
    # PyYAML alone reads these as str; `dvc exp run -S learning_rate=1e-5` writes 1e-05
    assert load_params(write(tmp_path, text)).learning_rate == pytest.approx(1e-5)


def test_ints_stay_ints(tmp_path):
    assert read_yaml(write(tmp_path, "seed: 7\nx: 1_0"))["seed"] == 7


@pytest.mark.parametrize(
    "text, key",
    [
        ("prepare:\n  val_sz: 0.1", "prepare.val_sz"),  # misspelled key
        ("learnin_rate: 0.1", "learnin_rate"),  # misspelled top-level key
        ("prepare:\n  val_size: 1.5", "prepare.val_size"),  # impossible value
        ("prepare:\n  val_size: '0.1'", "prepare.val_size"),  # wrong type
        ("baseline:\n  models: [bow_rf, svm]", "baseline.models"),  # unknown model
        ("baseline:\n  tfidf_lr:\n    C: -1", "baseline.tfidf_lr.C"),
        ("per_device_train_batch_size: 0", "per_device_train_batch_size"),
        ("truncation: middle", "truncation"),
        ("num_train_epochs: one", "num_train_epochs"),
        ("ensemble:\n  short_words: [-1]", "ensemble.short_words"),
        ("ensemble:\n  short_member: vader", "short_member"),  # not one of ensemble.members
    ],
)
def test_bad_params_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_params(write(tmp_path, text))


def test_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="mapping"):
        load_params(write(tmp_path, "- a\n- b"))


def test_stage_fails_fast_on_misspelled_key(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["prepare"]["val_sizee"] = params["prepare"].pop("val_size")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    t = time.perf_counter()
    r = subprocess.run(
        [sys.executable, str(ROOT / "src" / "prepare.py")], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "prepare.val_sizee" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "data").exists()  # stopped before any work
    assert time.perf_counter() - t < 5


def test_schema_defaults_equal_params_yaml():
    """One source for each setting: code that builds Params() without the file gets the same values."""
    assert load_params(ROOT / "params.yaml") == Params()


def test_every_ensemble_name_is_an_ensemble_params_section():
    from sentiment.config import ENSEMBLES, EnsembleParams, Params
    from sentiment.stacker import servable_path

    for name in ENSEMBLES:
        assert isinstance(getattr(Params(), name), EnsembleParams), name
        assert servable_path(name) == f"models/{name}"  # the folder its stage writes (dvc.yaml outs)
