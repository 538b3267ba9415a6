"""Reading and validating params.yaml: one schema per stage beside its code, every field required
(params.yaml is the one place values live), strict types, and a bad key named in the error."""

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, STAGES, repo_params, stage_reads
from pydantic import BaseModel

from sentiment import ConfigError
from sentiment.card import PublishParams
from sentiment.config import TOP, dvc_params, load, load_section, read_yaml, section_values
from sentiment.ensemble import EnsembleParams
from sentiment.finetune import FinetuneParams
from sentiment.report import EvaluateParams
from sentiment.scorers import ScorerParams
from sentiment.search import BaselineParams
from sentiment.stacker import ENSEMBLES, servable_path

PARAMS = ROOT / "params.yaml"


def owners() -> dict[str, type[BaseModel]]:
    """The schema of each section from the stage that owns it (reads it whole, not as a Subset)."""
    out = {}
    for name in STAGES:
        for section, schema in stage_reads(name).items():
            if schema.model_config.get("extra") == "forbid":  # not a Subset
                assert out.setdefault(section, schema) is schema, f"two owners of {section!r}"
    return out


def repo() -> dict:
    return copy.deepcopy(read_yaml(PARAMS))


def at(data: dict, key: str) -> tuple[dict, str]:
    """The mapping holding dotted `key` and the key's last part."""
    *parents, last = key.split(".")
    for p in parents:
        data = data[p]
    assert last in data, f"params.yaml has no {key} (the test names a key that is gone)"
    return data, last


def written(tmp_path, data: dict) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def key_error(key: str) -> str:
    """The line a ConfigError gives for `key` (dotted, from the top level; a list item's index may follow)."""
    return rf"(?m)^  {re.escape(key)}(\.\d+)*: "


def key_paths(data: dict, prefix: str = ""):
    """Every key of params.yaml, dotted (baseline.nbsvm.C), the sections' own names left out."""
    for k, v in data.items():
        if prefix or not isinstance(v, dict):
            yield f"{prefix}{k}"
        if isinstance(v, dict):
            yield from key_paths(v, f"{prefix}{k}.")


KEYS = list(key_paths(read_yaml(PARAMS)))


def section_of(key: str) -> str:
    return key.split(".")[0] if "." in key else TOP


# --- the repo's params.yaml ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(STAGES))
def test_repo_params_validate_for_every_stage(name):
    reads = stage_reads(name)
    params = load(reads, PARAMS)
    assert set(params) == set(reads)
    for section, schema in reads.items():
        assert isinstance(params[section], schema), (name, section)


def test_every_section_has_one_owner_and_every_key_is_read():
    own = owners()
    data = read_yaml(PARAMS)
    assert set(own) == {k for k, v in data.items() if isinstance(v, dict)} | {TOP}
    for section, schema in own.items():
        assert set(section_values(data, section)) == set(schema.model_fields), section


def fields_of(schema: type[BaseModel]):
    """(schema, field name, field) of `schema` and of the sections nested in it."""
    for name, field in schema.model_fields.items():
        yield schema, name, field
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from fields_of(field.annotation)


def test_no_schema_has_defaults():
    """params.yaml is the one place values live: a key missing from it is an error, never a silent default."""
    schemas = {schema for name in STAGES for schema in stage_reads(name).values()}
    for schema in schemas:
        for owner, name, field in fields_of(schema):
            assert field.is_required(), f"{owner.__name__}.{name} has a default"


def test_the_fine_tune_keys_are_the_top_level_scalars():
    top = {k for k, v in read_yaml(PARAMS).items() if not isinstance(v, dict)}
    assert set(FinetuneParams.model_fields) == top
    assert not set(FinetuneParams.model_fields) & {*ENSEMBLES, "prepare", "baseline", "evaluate", "publish"}
    p = load_section(TOP, FinetuneParams, PARAMS)
    assert p.learning_rate == read_yaml(PARAMS)["learning_rate"]


def test_load_section_is_that_section():
    assert load_section("evaluate", EvaluateParams, PARAMS).model_dump() == read_yaml(PARAMS)["evaluate"]


def test_every_ensemble_name_is_a_stage_reading_its_own_section():
    import ensemble

    for name in ENSEMBLES:
        assert ensemble.reads(name)[name] is EnsembleParams
        assert isinstance(load(ensemble.reads(name), PARAMS)[name], EnsembleParams)
        assert servable_path(name) == f"models/{name}"  # the folder its stage writes (dvc.yaml outs)


# --- dvc_params: the declaration dvc.yaml's params must equal -------------------------------


def test_dvc_params_lists_a_subset_key_by_key_a_section_whole_and_the_top_level_key_by_key():
    assert dvc_params({"evaluate": EvaluateParams}) == ["evaluate"]
    subset = dvc_params({"pretrained_eval": ScorerParams})
    assert subset == [f"pretrained_eval.{k}" for k in ScorerParams.model_fields]
    assert "pretrained_eval.batch_size" in subset and "pretrained_eval.models" not in subset
    assert dvc_params({TOP: FinetuneParams}) == list(FinetuneParams.model_fields)
    assert "learning_rate" in dvc_params({TOP: FinetuneParams})
    assert dvc_params({"publish": PublishParams, TOP: FinetuneParams}) == ["publish", *FinetuneParams.model_fields]


def test_a_subset_read_ignores_the_keys_it_does_not_read():
    p = load({"pretrained_eval": ScorerParams}, PARAMS)["pretrained_eval"]
    assert not hasattr(p, "models") and p.batch_size == read_yaml(PARAMS)["pretrained_eval"]["batch_size"]


# --- what params.yaml may contain ------------------------------------------------------------


@pytest.mark.parametrize("text", ["learning_rate: 1e-05", "learning_rate: 1e-5", "learning_rate: 1.0e-5"])
def test_exponent_floats_are_numbers(tmp_path, text):
    # PyYAML alone reads these as str; `dvc exp run -S learning_rate=1e-5` writes 1e-05
    path = tmp_path / "params.yaml"
    path.write_text(re.sub(r"(?m)^learning_rate:.*$", text, PARAMS.read_text()))
    assert read_yaml(path)["learning_rate"] == pytest.approx(1e-5)
    assert load({TOP: FinetuneParams}, path)[TOP].learning_rate == pytest.approx(1e-5)


def test_ints_stay_ints(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 7\nx: 1_0")
    assert read_yaml(path)["seed"] == 7


def test_not_a_mapping(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- a\n- b")
    with pytest.raises(ConfigError, match="mapping"):
        load({TOP: FinetuneParams}, path)


def test_no_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load({"evaluate": EvaluateParams}, tmp_path / "params.yaml")


@pytest.mark.parametrize("key", KEYS)
def test_a_misspelled_key_fails_naming_it(tmp_path, key):
    data = repo()
    holder, last = at(data, key)
    holder[last + "x"] = holder.pop(last)
    with pytest.raises(ConfigError) as err:
        load({section_of(key): owners()[section_of(key)]}, written(tmp_path, data))
    assert re.search(key_error(key + "x") + "Extra inputs are not permitted", str(err.value))
    assert re.search(key_error(key) + "Field required", str(err.value))


@pytest.mark.parametrize("key", KEYS)
def test_a_missing_key_fails_naming_it(tmp_path, key):
    data = repo()
    holder, last = at(data, key)
    del holder[last]
    with pytest.raises(ConfigError, match=key_error(key) + "Field required"):
        load({section_of(key): owners()[section_of(key)]}, written(tmp_path, data))


def test_a_misspelled_key_fails_in_every_stage_that_reads_it(tmp_path):
    data = repo()
    data["ensemble"]["Cs"] = data["ensemble"].pop("C")
    data["learnin_rate"] = data.pop("learning_rate")
    path = written(tmp_path, data)
    with pytest.raises(ConfigError, match=key_error("ensemble.Cs")):
        load(stage_reads("ensemble"), path)
    with pytest.raises(ConfigError, match=key_error("learnin_rate")):
        load(stage_reads("finetune"), path)
    with pytest.raises(ConfigError, match=key_error("learnin_rate")):
        load(stage_reads("publish"), path)  # the card lists the fine-tune keys: it checks them too


def test_a_scalar_at_the_top_level_that_is_no_fine_tune_key_fails(tmp_path):
    data = repo()
    data["n_bootstrap"] = 100  # meant for evaluate:
    with pytest.raises(ConfigError, match=key_error("n_bootstrap")):
        load({TOP: FinetuneParams}, written(tmp_path, data))


def test_a_misspelled_key_in_a_subset_read_fails_naming_the_key_it_needs(tmp_path):
    """robustness reads some pretrained_eval keys: a misspelling of one of them is a missing key
    there (the Subset ignores other keys), and an unknown key for the section's owner."""
    data = repo()
    data["pretrained_eval"]["batch_sise"] = data["pretrained_eval"].pop("batch_size")
    path = written(tmp_path, data)
    with pytest.raises(ConfigError, match=key_error("pretrained_eval.batch_size") + "Field required"):
        load(stage_reads("robustness"), path)
    with pytest.raises(ConfigError, match=key_error("pretrained_eval.batch_sise")):
        load(stage_reads("pretrained_eval"), path)
    # a key the Subset does not read is the owner's business only
    data = repo()
    data["pretrained_eval"]["modles"] = data["pretrained_eval"].pop("models")
    path = written(tmp_path, data)
    assert load(stage_reads("robustness"), path)["pretrained_eval"].batch_size > 0
    with pytest.raises(ConfigError, match=key_error("pretrained_eval.modles")):
        load(stage_reads("pretrained_eval"), path)


@pytest.mark.parametrize("value", [None, "absent", 5])
def test_a_missing_section_fails_naming_it(tmp_path, value):
    data = repo()
    if value == "absent":
        del data["evaluate"]
    else:
        data["evaluate"] = value  # `evaluate:` with nothing under it, or not a mapping
    with pytest.raises(ConfigError, match=key_error("evaluate") + "missing section"):
        load(stage_reads("evaluate"), written(tmp_path, data))


@pytest.mark.parametrize(
    "key, value",
    [
        ("prepare.val_size", "0.1"),  # a str is not a float
        ("evaluate.n_bootstrap", 1000.0),  # a float is not an int
        ("prepare.dedupe", 1),  # an int is not a bool
        ("per_device_train_batch_size", "16"),
        ("num_train_epochs", "one"),
        ("ensemble.C", 0.1),  # a grid is a list
        ("baseline.nbsvm.min_df", [2.0]),
        ("pretrained_eval.prompts", [["positive"]]),  # a prompt is a [positive, negative] pair
    ],
)
def test_a_wrong_type_fails_naming_the_key(tmp_path, key, value):
    data = repo()
    holder, last = at(data, key)
    holder[last] = value
    with pytest.raises(ConfigError, match=key_error(key)):
        load({section_of(key): owners()[section_of(key)]}, written(tmp_path, data))


@pytest.mark.parametrize(
    "key, value, named",
    [
        ("prepare.val_size", 1.5, "prepare.val_size"),
        ("prepare.max_train", 0, "prepare.max_train"),
        ("baseline.models", ["bow_rf", "svm"], "baseline.models.1"),  # unknown model
        ("baseline.tfidf_lr.C", [-1.0], "baseline.tfidf_lr.C.0"),
        ("baseline.tfidf_lr.ngram_max", [], "baseline.tfidf_lr.ngram_max"),  # an empty grid
        ("per_device_train_batch_size", 0, "per_device_train_batch_size"),
        ("truncation", "middle", "truncation"),
        ("predict_truncation", "random", "predict_truncation"),
        ("warmup_steps", 1.5, "warmup_steps"),  # a float is a ratio < 1
        ("ensemble.short_words", [-1], "ensemble.short_words.0"),
        ("ensemble.C", [], "ensemble.C"),
        ("robustness.report_frac", 1.0, "robustness.report_frac"),
        ("pretrained_eval.device", "tpu", "pretrained_eval.device"),
    ],
)
def test_an_impossible_value_fails_naming_the_key(tmp_path, key, value, named):
    data = repo()
    holder, last = at(data, key)
    holder[last] = value
    with pytest.raises(ConfigError, match=key_error(named)):
        load({section_of(key): owners()[section_of(key)]}, written(tmp_path, data))


def test_a_check_across_keys_names_the_key(tmp_path):
    data = repo()
    data.update(max_length=128, window_stride=127)
    with pytest.raises(ConfigError, match=r"window_stride: 127 skips tokens; at most max_length - 2 \(126\)"):
        load(stage_reads("finetune"), written(tmp_path, data))
    data["window_stride"] = 126
    assert load(stage_reads("finetune"), written(tmp_path, data))[TOP].window_stride == 126


def test_short_member_must_be_a_member_when_short_texts_are_routed(tmp_path):
    data = repo()
    data["ensemble"].update(short_member="vader", short_words=[0, 32])
    with pytest.raises(ConfigError, match="short_member: 'vader' is not one of members"):
        load(stage_reads("ensemble"), written(tmp_path, data))
    data["ensemble"]["short_words"] = [0]  # no route: short_member is never used
    assert load(stage_reads("ensemble"), written(tmp_path, data))["ensemble"].short_member == "vader"


def test_repo_params_helper_validates_its_overrides():
    assert repo_params(BaselineParams, "baseline", nbsvm={"C": [0.5]}).nbsvm.C == [0.5]
    assert (
        repo_params(BaselineParams, "baseline", nbsvm={"C": [0.5]}).nbsvm.tf
        == read_yaml(PARAMS)["baseline"]["nbsvm"]["tf"]
    )
    with pytest.raises(ConfigError, match=key_error("baseline.nbsvm.C")):
        repo_params(BaselineParams, "baseline", nbsvm={"C": 0.5})
    with pytest.raises(ConfigError, match=key_error("learnin_rate")):
        repo_params(FinetuneParams, learnin_rate=0.1)


@pytest.mark.e2e
def test_stage_fails_fast_on_misspelled_key(tmp_path):
    data = repo()
    data["prepare"]["val_sizee"] = data["prepare"].pop("val_size")
    written(tmp_path, data)
    r = subprocess.run(
        [sys.executable, str(ROOT / "src" / "prepare.py")], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "prepare.val_sizee" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()  # stopped before any work
