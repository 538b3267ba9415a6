"""The real `dvc repro` of the whole pipeline in a temp copy of the repo, on small params."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_tiny_model

COPY = ["src", "dvc.yaml", "params.yaml", ".dvcignore", ".dvc/config", ".dvc/plots", "data/raw/imdb"]


def sh(cmd, cwd, stderr=False, **kw):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, shell=isinstance(cmd, str), **kw)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return r.stdout + (r.stderr if stderr else "")


def small_params(params: dict) -> dict:
    params["prepare"].update(max_train=600, max_test=300)
    params["baseline"]["bow_rf"]["n_estimators"] = 20
    params["evaluate"]["n_bootstrap"] = 50
    params["pretrained_eval"]["models"] = ["vader", "tiny-model"]  # a local dir takes the hub-model path
    # a tiny random BERT stands in for the pretrained encoder (same Auto* loading path)
    params.update(model_name="tiny-model", train_size=96, eval_size=32, max_length=64, num_train_epochs=1,
                  learning_rate=1e-3, per_device_train_batch_size=16)
    return params


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    d = tmp_path_factory.mktemp("repo")
    for rel in COPY:
        src, dst = ROOT / rel, d / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    params = small_params(yaml.safe_load((d / "params.yaml").read_text()))
    (d / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    make_tiny_model(d / "tiny-model")
    sh("git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init", d)
    sh([sys.executable, "-m", "dvc", "repro"], d, timeout=900)
    return d


def test_repro_writes_metrics_for_every_model(repo):
    data = json.loads((repo / "metrics/data.json").read_text())
    assert data["test"]["rows"] == 300 and data["test"]["pos"] == 150
    for model in ("bow_rf", "tfidf_lr"):
        m = json.loads((repo / f"metrics/models/{model}.json").read_text())
        assert m["n"] == 300 and m["accuracy"] > 0.6, (model, m)
    assert json.loads((repo / "metrics/models/vader.json").read_text())["accuracy"] > 0.6
    assert (repo / "metrics/models/tiny-model.json").is_file()
    # a tiny random model on 96 reviews learns nothing useful, but is scored like the others
    ft = json.loads((repo / "metrics/models/finetuned.json").read_text())
    assert ft["n"] == 300 and 0 <= ft["accuracy"] <= 1
    assert (repo / "models/finetuned/README.md").read_text().count("learning_rate") == 1
    assert json.loads((repo / "dvclive/finetune/metrics.json").read_text())["eval"]["accuracy"] >= 0
    comp = json.loads((repo / "metrics/comparison.json").read_text())
    assert set(comp["models"]) >= {"bow_rf", "tfidf_lr"}
    summary = (repo / "metrics/summary.md").read_text()
    assert "| tfidf_lr |" in summary and "| bow_rf |" in summary
    assert "most confident mistakes" in (repo / "metrics/errors.md").read_text()


def test_second_repro_is_a_noop(repo):
    out = sh([sys.executable, "-m", "dvc", "repro"], repo)
    assert "Running stage" not in out
    assert "up to date" in sh([sys.executable, "-m", "dvc", "status"], repo)


def test_metrics_show_and_plots(repo):
    shown = json.loads(sh([sys.executable, "-m", "dvc", "metrics", "show", "--json"], repo))
    flat = json.dumps(shown)
    assert "metrics/models/tfidf_lr.json" in flat and "accuracy" in flat
    sh([sys.executable, "-m", "dvc", "plots", "show", "-o", "plots_html"], repo)
    html = (repo / "plots_html" / "index.html").read_text()
    assert "confusion" in html and "ROC curves" in html and "Fine-tune validation accuracy" in html


def test_exp_run_with_changed_learning_rate(repo):
    sh([sys.executable, "-m", "dvc", "exp", "run", "-S", "learning_rate=1e-5"], repo, timeout=600)
    table = json.loads(sh([sys.executable, "-m", "dvc", "exp", "show", "--json"], repo))
    flat = json.dumps(table)
    assert "1e-05" in flat and "0.001" in flat
    # a prepare param reruns the whole chain
    sh([sys.executable, "-m", "dvc", "exp", "run", "-S", "prepare.val_size=0.2"], repo, timeout=600)
    data = json.loads((repo / "metrics/data.json").read_text())
    assert data["val"]["rows"] == pytest.approx(0.2 * (data["train"]["rows"] + data["val"]["rows"]), abs=1)


def test_finetune_runs_under_torchrun_ddp(repo):
    """The unchanged stage script on 2 CPU processes (gloo); rank 0 writes the outputs."""
    pred = repo / "predictions/finetune/finetuned.parquet"
    before = pred.stat().st_mtime
    out = sh([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "src/finetune.py"], repo,
             stderr=True, timeout=600)
    assert "2 process(es)" in out and out.count("test accuracy") == 1  # rank 0 alone predicts and writes
    assert pred.stat().st_mtime > before
    assert len(__import__("pandas").read_parquet(pred)) == 300
