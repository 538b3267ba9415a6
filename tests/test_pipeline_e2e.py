"""The real `dvc repro` of the whole pipeline in a temp copy of the repo, on small params."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

COPY = ["src", "dvc.yaml", "params.yaml", ".dvcignore", ".dvc/config", ".dvc/plots", "data/raw/imdb"]


def sh(cmd, cwd, **kw):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, shell=isinstance(cmd, str), **kw)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return r.stdout


def small_params(params: dict) -> dict:
    params["prepare"].update(max_train=600, max_test=300)
    params["baseline"]["bow_rf"]["n_estimators"] = 20
    params["evaluate"]["n_bootstrap"] = 50
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
    sh("git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init", d)
    sh([sys.executable, "-m", "dvc", "repro"], d, timeout=900)
    return d


def test_repro_writes_metrics_for_every_model(repo):
    data = json.loads((repo / "metrics/data.json").read_text())
    assert data["test"]["rows"] == 300 and data["test"]["pos"] == 150
    for model in ("bow_rf", "tfidf_lr"):
        m = json.loads((repo / f"metrics/models/{model}.json").read_text())
        assert m["n"] == 300 and m["accuracy"] > 0.6, (model, m)
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
    assert "confusion" in html and "ROC curves" in html
