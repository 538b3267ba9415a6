"""The real `dvc repro` of the whole pipeline in a temp copy of the repo, on small params:
outputs, which stages rerun for which edit, the run-cache, experiments and a queued sweep,
the views a reviewer reads, a remote round trip, DDP. Each test also passes alone."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, STAGES, labelled_texts, make_tiny_model, write_table

pytestmark = pytest.mark.e2e

COPY = [
    "src",
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    ".gitignore",
    ".dvc/config",
    ".dvc/plots",
    "data/raw/imdb",
    "data/raw/sentences",
]
TRAINING = {"baseline", "pretrained_eval", "finetune"}
SPLITS = ("train", "val", "test")
EXP_SHOW_DROP = ".*/|predictions$|Created"  # the dependency hashes and the date: README's `dvc exp show`


def sh(cmd, cwd, stderr=False, env=None, **kw):
    env = {**os.environ, **(env or {}), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, shell=isinstance(cmd, str), **kw)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return r.stdout + (r.stderr if stderr else "")


def dvc(*args, cwd, **kw):
    return sh([sys.executable, "-m", "dvc", *args], cwd, stderr=True, timeout=900, **kw)


def ran(log: str) -> set[str]:
    return set(re.findall(r"Running stage '([\w-]+)'", log))


def restored(log: str) -> set[str]:
    return set(re.findall(r"Stage '([\w-]+)' is cached - skipping run", log))


def set_param(repo: Path, key: str, value) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    node = params
    *path, last = key.split(".")
    for k in path:
        node = node[k]
    node[last] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def small_params(params: dict) -> dict:
    params["prepare"].update(max_train=600, max_test=300)
    b = params["baseline"]
    b["bow_rf"]["n_estimators"] = 20
    b["tfidf_lr"].update(ngram_max=[1, 2], C=[1.0, 10.0])
    b["nbsvm"].update(min_df=[1, 2], ngram_max=[1, 2], tf=["binary", "log"], C=[0.1, 1.0])
    params["ensemble"].update(C=[0.1, 1.0], cv_folds=3)
    params["classical_ensemble"].update(C=[0.1, 1.0], cv_folds=3)
    params["evaluate"]["n_bootstrap"] = 50
    params["pretrained_eval"]["models"] = ["vader", "tiny-model"]  # a local dir takes the hub-model path
    params["pretrained_eval"]["max_length"] = [32, 64]
    params["robustness"].update(
        models=["bow_rf", "nbsvm", "vader", "tiny-model", "classical_ensemble", "finetuned", "ensemble"],
        cases_per_test=20,
        n_bootstrap=50,
    )
    params["baseline"].update(augment_crops=0.5)  # the augmented path runs too
    # a tiny random BERT stands in for the pretrained encoder (same Auto* loading path)
    params.update(
        model_name="tiny-model",
        train_size=96,
        eval_size=32,
        max_length=64,
        num_train_epochs=1,
        learning_rate=1e-3,
        per_device_train_batch_size=16,
        augment_crops=0.5,
        augment_negations=0.5,
    )
    return params


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A temp copy of the project on small params, after one full `dvc repro`, committed."""
    d = tmp_path_factory.mktemp("repo")
    for rel in COPY:
        src, dst = ROOT / rel, d / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(
            src, dst, **({"ignore": shutil.ignore_patterns("__pycache__")} if src.is_dir() else {})
        )
    params = small_params(yaml.safe_load((d / "params.yaml").read_text()))
    (d / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    make_tiny_model(d / "tiny-model")
    sh("git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm init", d)
    assert ran(dvc("repro", cwd=d)) == set(STAGES)
    commit(d, "first run")
    return d


def commit(repo: Path, msg: str) -> None:
    sh(f"git add -A && git -c user.name=t -c user.email=t@t commit -qm '{msg}' --allow-empty", repo)


MODELS = {"bow_rf", "tfidf_lr", "nbsvm", "vader", "tiny-model", "classical_ensemble", "finetuned", "ensemble"}


def test_repro_writes_val_and_test_metrics_for_every_model(repo):
    data = json.loads((repo / "metrics/data.json").read_text())
    assert data == {"rows": {"train": data["rows"]["train"], "val": data["rows"]["val"], "test": 300}}
    stats = json.loads((repo / "reports/data.json").read_text())
    assert stats["test"]["pos"] == 150 and stats["val"]["rows"] == data["rows"]["val"]
    n_val = data["rows"]["val"]
    assert {p.stem for p in (repo / "reports/models").glob("*.json")} == MODELS
    accuracy = json.loads((repo / "metrics/accuracy.json").read_text())
    assert set(accuracy) == MODELS
    for name in MODELS:
        m = json.loads((repo / f"reports/models/{name}.json").read_text())
        assert m["val"]["n"] == n_val and m["test"]["n"] == 300, name
        assert accuracy[name] == {"test": m["test"]["accuracy"], "val": m["val"]["accuracy"]}, name
    for name, floor in (
        ("bow_rf", 0.6),
        ("tfidf_lr", 0.75),
        ("nbsvm", 0.75),
        ("ensemble", 0.75),
        ("classical_ensemble", 0.75),
    ):
        assert accuracy[name]["val"] > floor and accuracy[name]["test"] > floor, (name, accuracy[name])
    # transformer results record how they were computed; classical ones need not
    ft = json.loads((repo / "reports/models/finetuned.json").read_text())
    assert (
        ft["runtime"]["device"] == "cpu" and ft["runtime"]["precision"] in ("bf16", "fp32") and ft["runtime"]["cpu_isa"]
    )
    assert "runtime" not in json.loads((repo / "reports/models/nbsvm.json").read_text())
    assert json.loads((repo / "reports/models/ensemble.json").read_text())["runtime"] == ft["runtime"]
    info = json.loads((repo / "models/finetuned/inference.json").read_text())
    assert info["precision"] == ft["runtime"]["precision"] and info["max_length"] == 64
    assert info["n_crops"] == 48 and 0 < info["n_negation_pairs"] <= 48  # both augmentations ran
    # every choice is on record: grids scored on validation, the stacker's CV
    sel = json.loads((repo / "reports/selection/baseline.json").read_text())
    assert set(sel) == {"tfidf_lr", "nbsvm"} and len(sel["nbsvm"]["val_accuracy"]) == 16  # min_df x ngram_max x tf x C
    assert sel["nbsvm"]["chosen"] in sel["nbsvm"]["val_accuracy"]
    assert max(sel["nbsvm"]["val_accuracy"].values()) == sel["nbsvm"]["val_accuracy"][sel["nbsvm"]["chosen"]]
    ens = json.loads((repo / "reports/selection/ensemble.json").read_text())
    assert set(ens["coef"]) == {"nbsvm", "tfidf_lr", "finetuned"} and ens["C"] in (0.1, 1.0)
    assert (
        json.loads((repo / "models/ensemble/ensemble.json").read_text())["members"][0]["path"]
        == "models/baseline/nbsvm.joblib"
    )
    # the classical stacker: no transformer member, and VADER served by its settings (no model file)
    classical = json.loads((repo / "models/classical_ensemble/ensemble.json").read_text())["members"]
    assert [m["name"] for m in classical] == ["nbsvm", "vader"] and classical[1]["scorer"]["name"] == "vader"
    assert "runtime" not in json.loads((repo / "reports/models/classical_ensemble.json").read_text())
    assert set(json.loads((repo / "reports/selection/classical_ensemble.json").read_text())["coef"]) == {
        "nbsvm",
        "vader",
    }
    comp = json.loads((repo / "reports/comparison.json").read_text())
    assert comp["best_on_val"] in MODELS and set(comp["models"]["ensemble"]["test"]["mcnemar_p"]) == MODELS - {
        "ensemble"
    }
    summary = (repo / "reports/summary.md").read_text()
    assert "| nbsvm |" in summary and "Stacker `ensemble`" in summary and "Validation (model selection)" in summary
    assert "most confident mistakes" in (repo / "reports/errors.md").read_text()
    card = (repo / "models/finetuned.md").read_text()
    assert card.count("learning_rate") == 1 and "classical_ensemble" not in card.split("## Training")[-1][:2000]
    live = (repo / "dvclive/finetune/metrics.json").read_text()
    assert "eval" in json.loads(live) and "runtime" not in live and "per_second" not in live
    pre = json.loads((repo / "reports/selection/pretrained_eval.json").read_text())
    assert pre["vader"] == {} and set(pre["tiny-model"]["val_accuracy"]) == {"max_length=32", "max_length=64"}
    chosen = json.loads((repo / "predictions/pretrained/tiny-model.json").read_text())["settings"]
    assert chosen == pre["tiny-model"]["chosen"] and chosen["max_length"] in (32, 64)
    # robustness: every listed model, per source of the report half, with CIs; behavioural failure rates
    dom = json.loads((repo / "reports/robustness/domains.json").read_text())
    assert set(dom) == {"bow_rf", "nbsvm", "vader", "tiny-model", "classical_ensemble", "finetuned", "ensemble"}
    rep = dom["nbsvm"]["report"]
    assert set(rep) == {"amazon", "imdb", "yelp"} and all(r["n"] == 500 for r in rep.values())
    assert all(r["accuracy_ci"][0] <= r["accuracy"] <= r["accuracy_ci"][1] for r in rep.values())
    beh = json.loads((repo / "reports/robustness/behaviour.json").read_text())
    assert set(beh["ensemble"]) >= {"negated positive -> negative", "typos (2 swapped letters)"}
    rob = json.loads((repo / "metrics/robustness.json").read_text())  # the served model's (ensemble)
    assert rob["worst_domain"] == min(r["accuracy"] for r in dom["ensemble"]["report"].values())
    negation = [beh["ensemble"]["negated positive -> negative"], beh["ensemble"]["negated negative -> not negative"]]
    assert rob["negation_fails"] == pytest.approx(sum(negation) / 2, abs=1e-4)  # equal case counts
    assert "## Behavioural tests" in (repo / "reports/robustness.md").read_text()
    plot = json.loads((repo / "plots/robustness/domains.json").read_text())
    assert {r["domain"] for r in plot} == {"amazon", "imdb", "yelp", "IMDB test"}
    assert json.loads((repo / "metrics/cost.json").read_text())["finetune_min"] >= 0
    for stage in (
        "prepare",
        "baseline",
        "pretrained_eval",
        "finetune",
        "ensemble",
        "classical_ensemble",
        "evaluate",
        "robustness",
    ):
        assert json.loads((repo / f"logs/{stage}.json").read_text())["seconds"], stage


def test_second_repro_is_a_noop(repo):
    assert ran(dvc("repro", cwd=repo)) == set()
    assert "up to date" in dvc("status", cwd=repo)


@pytest.mark.parametrize(
    "module, stale",
    [
        ("src/sentiment/ensemble.py", {"ensemble", "classical_ensemble"}),  # EnsembleParams lives here
        ("src/sentiment/search.py", {"baseline"}),  # BaselineParams and the grid search
        ("src/sentiment/report.py", {"evaluate"}),  # EvaluateParams
        ("src/sentiment/robustness.py", {"robustness"}),  # RobustnessParams; the ensembles read sentences.py
        ("src/sentiment/negation.py", {"finetune"}),  # fine-tune only: prepare stays
        ("src/sentiment/dataset.py", {"prepare"}),  # PrepareParams; later stages rerun only if the data change
    ],
)
def test_a_module_edit_makes_only_its_stages_stale(repo, module, stale):
    """Stage boundaries on the real `dvc status`: an edit of one stage's schema or library module
    lists only the stages that import it, never the fine-tune for an ensemble, baseline or
    evaluate edit."""
    path = repo / module
    original = path.read_text()
    path.write_text(original + "\n# a maintainer's edit\n")
    try:
        found = set(re.findall(r"(?m)^(\w+):$", dvc("status", cwd=repo)))
    finally:
        path.write_text(original)
    assert found == stale, found
    assert "up to date" in dvc("status", cwd=repo)


def numbers(tree) -> int:
    if isinstance(tree, dict):
        return sum(numbers(v) for v in tree.values())
    return int(isinstance(tree, (int, float)) and not isinstance(tree, bool))


def test_dvc_views_are_readable(repo):
    """What a reviewer meets: a few dozen metrics with short keys, a bounded `dvc exp show` (the
    README's view of one experiment fits 160 characters: the learning-rate test), only the curated
    plots."""
    shown = json.loads(sh([sys.executable, "-m", "dvc", "metrics", "show", "--json"], repo))
    files = shown[""]["data"]
    assert set(files) == {"metrics/data.json", "metrics/accuracy.json", "metrics/robustness.json", "metrics/cost.json"}
    assert numbers({f: d["data"] for f, d in files.items()}) <= 60
    header = sh([sys.executable, "-m", "dvc", "exp", "show", "--csv"], repo).splitlines()[0].split(",")
    # 155 fields after issue 32; issue 33's data params (prepare.*_file, *_column, positive_label,
    # rating_bands) and the dataset.json dep add 12
    assert len(header) <= 170 and "ensemble.test" in header and "learning_rate" in header
    plots = set(json.loads(sh([sys.executable, "-m", "dvc", "plots", "show", "--json"], repo))["data"])
    assert {"finetune_loss", "finetune_val_accuracy", "plots/curves/roc.json"} <= plots, plots
    assert not [p for p in plots if p.startswith("dvclive/")], plots  # the raw DVCLive files stay out
    dvc("plots", "show", "-o", "plots_html", cwd=repo)
    html = (repo / "plots_html" / "index.html").read_text()
    assert "confusion" in html and "ROC curves" in html and "Fine-tune validation accuracy" in html
    assert "Accuracy by domain" in html
    shutil.rmtree(repo / "plots_html")


def test_param_changes_rerun_only_what_depends_on_them(repo):
    """Evaluation and publishing params never rerun training; learning_rate reruns finetune and after."""
    set_param(repo, "evaluate.n_bootstrap", 60)
    log = dvc("repro", cwd=repo)
    assert ran(log) <= {"evaluate", "publish", "robustness"} and "evaluate" in ran(log)

    set_param(repo, "robustness.cases_per_test", 30)  # robustness trains nothing
    assert ran(dvc("repro", cwd=repo)) == {"robustness"}

    set_param(repo, "publish.hub_model_id", "someone/imdb-minilm")  # push_to_hub stays false: offline
    assert ran(dvc("repro", cwd=repo)) == {"publish"}

    set_param(repo, "learning_rate", 2e-3)
    log = dvc("repro", cwd=repo)
    assert ran(log) == {"finetune", "ensemble", "evaluate", "publish", "robustness"}, log[-2000:]
    assert not ran(log) & {"prepare", "baseline", "pretrained_eval"}
    commit(repo, "lr 2e-3")


def test_run_cache_restores_a_parameter_set_seen_before(repo):
    """Back to a learning rate already trained: finetune comes from DVC's run-cache, not from training."""
    first = small_params(yaml.safe_load((ROOT / "params.yaml").read_text()))["learning_rate"]  # the fixture's run
    if yaml.safe_load((repo / "params.yaml").read_text())["learning_rate"] == first:  # only when run alone
        set_param(repo, "learning_rate", first * 2)
        assert "finetune" in ran(dvc("repro", cwd=repo))
        commit(repo, "another learning rate")  # what `dvc exp run` starts from
    log = dvc("exp", "run", "-S", f"learning_rate={first}", cwd=repo)
    assert "finetune" in restored(log) and "finetune" not in ran(log), log[-3000:]
    assert f"| learning_rate | {first} |" in (repo / "models/finetuned.md").read_text()
    assert "up to date" in dvc("status", cwd=repo)


def test_learning_rate_experiment_reads_in_a_terminal_and_a_diff(repo):
    """`dvc exp run -S learning_rate=…`, then the two views a reviewer reads: README's
    `dvc exp show` fits a 160-column terminal with every changed metric visible, and
    `dvc metrics diff --all` is a short table with every model's test accuracy."""
    # the tiny random encoder's accuracy hardly moves with the learning rate; a new stacker C makes
    # the ensemble's metrics change as a real learning-rate experiment's do
    dvc("exp", "run", "-n", "lr-x", "-S", "learning_rate=5e-3", "-S", "ensemble.C=[0.01]", cwd=repo)
    view = ["exp", "show", "--only-changed", "--drop", EXP_SHOW_DROP, "--no-pager"]  # README's command
    table = sh([sys.executable, "-m", "dvc", *view], repo, env={"COLUMNS": "160"})
    assert "…" not in table, table  # no column collapsed
    diff = json.loads(sh([sys.executable, "-m", "dvc", "metrics", "diff", "--json"], repo))
    changed = {k for d in diff.values() for k in d}
    assert changed and all(k in table for k in changed), (changed, table)
    assert "learning_rate" in table
    full = sh([sys.executable, "-m", "dvc", "metrics", "diff", "--all", "--md"], repo).splitlines()
    assert len(full) - 2 <= 60 and all(any(f"| {m}.test " in r for r in full) for m in MODELS)
    sh("git checkout -q -- . && git clean -qfd -e tiny-model", repo)
    dvc("checkout", "-f", cwd=repo)


def test_a_queued_grid(repo):
    """DVC's own sweep, as docs/experiments.md runs it (`dvc exp run --queue -S 'key=a,b'`, then
    `dvc queue start`), on a cheap key: the grid and the queue are DVC's, whatever the key."""
    out = dvc("exp", "run", "--queue", "-S", "evaluate.n_bootstrap=20,30", cwd=repo)
    assert out.count("Queued experiment") == 2, out
    dvc("queue", "start", cwd=repo)
    deadline = time.time() + 900
    while time.time() < deadline:
        status = dvc("queue", "status", cwd=repo)
        if not re.search(r"\b(Queued|Running)\b", status):
            break
        time.sleep(3)
    assert status.count("Success") == 2, status
    rows = json.loads(sh([sys.executable, "-m", "dvc", "exp", "show", "--json"], repo))
    values = {
        e["data"]["params"]["params.yaml"]["data"]["evaluate"]["n_bootstrap"]
        for r in rows
        for e in (r.get("experiments") or [])
        for e in e["revs"]
        if e["data"].get("params")
    }
    assert {20, 30} <= values, values


def test_remote_round_trip_then_predict_without_training(repo, tmp_path):
    """push -> fresh clone -> pull -> clean status -> the predict CLI answers."""
    remote = tmp_path / "remote"
    dvc("remote", "add", "-d", "-f", "store", str(remote), cwd=repo)
    commit(repo, "remote")
    dvc("push", cwd=repo)
    clone = tmp_path / "clone"
    sh(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    assert not (clone / "models/finetuned").exists()
    dvc("pull", cwd=clone)
    assert "up to date" in dvc("status", cwd=clone)
    out = sh(
        [
            sys.executable,
            "src/predict.py",
            "--model",
            "models/ensemble",
            "--format",
            "jsonl",
            "What a wonderful, moving film. I loved it.",
        ],
        clone,
    )
    assert json.loads(out.strip().splitlines()[-1])["label"] in ("positive", "negative")


def restore(repo: Path) -> None:
    """Back to the committed workspace (params, outputs) for the next test."""
    sh("git checkout -q -- . && git clean -qfd -e tiny-model", repo)
    dvc("checkout", "-f", cwd=repo)


def texts(n: int, seed: int, labels=("bad", "good")):
    return labelled_texts(n, seed, labels, label="stars")


def run_files_experiment(repo: Path, folder: str, files: dict[str, pd.DataFrame], *settings: str) -> str:
    """Write `files` into data/raw/<folder>, commit them, and `dvc exp run` them as one experiment."""
    for name, df in files.items():
        write_table(df, repo / "data/raw" / folder / name)
    commit(repo, f"data/raw/{folder}")
    args = [
        "-S",
        "prepare.source=files",
        "-S",
        f"prepare.data_dir=data/raw/{folder}",
        "-S",
        "prepare.text_column=review",
    ]
    args += ["-S", "prepare.label_column=stars", *[x for kv in settings for x in ("-S", kv)]]
    log = dvc("exp", "run", "-n", folder, *args, cwd=repo)
    assert ran(log) == set(STAGES), log[-3000:]
    return log


def test_your_own_files_through_the_whole_pipeline(repo):
    """docs/your_data.md's path: a CSV train file, a TSV validation file and a JSON Lines test file
    with labels as words, as one `dvc exp run`; every stage runs, and the models, the data
    report, the CLI and the card speak of this dataset and its labels."""
    train, val, test = texts(300, 0), texts(80, 1), texts(120, 2)
    train.loc[0, "review"] = None  # an empty cell: dropped and counted
    train.loc[1, "review"] = test.review[3]  # also in test: dropped and counted
    run_files_experiment(
        repo,
        "my_reviews",
        {"train.csv": train, "validation.tsv": val, "test.jsonl": test},
        "prepare.train_file=train.csv",
        "prepare.validation_file=validation.tsv",
        "prepare.test_file=test.jsonl",
        "prepare.positive_label=good",
    )
    try:
        assert json.loads((repo / "metrics/data.json").read_text()) == {"rows": {"train": 298, "val": 80, "test": 120}}
        report = json.loads((repo / "reports/data.json").read_text())
        assert report["dropped"] == {"train": {"no text": 1, "also in test": 1}}
        assert set(report["inputs"]) == {"train.csv", "validation.tsv", "test.jsonl"}
        assert json.loads((repo / "data/prepared/dataset.json").read_text()) == {
            "name": "my_reviews",
            "labels": ["bad", "good"],
        }
        accuracy = json.loads((repo / "metrics/accuracy.json").read_text())
        assert set(accuracy) == MODELS and accuracy["nbsvm"]["test"] > 0.75, accuracy
        out = sh([sys.executable, "src/predict.py", "--format", "jsonl", "Wonderful, I loved it."], repo)
        assert json.loads(out.strip().splitlines()[-1])["label"] == "good"
        assert "my_reviews" in (repo / "models/finetuned.md").read_text()
        shown = sh([sys.executable, "-m", "dvc", "exp", "show", "--csv"], repo)
        assert "my_reviews" in shown and "files" in shown  # the experiment, comparable beside the others
    finally:
        restore(repo)


def test_star_ratings_in_parquet_through_the_whole_pipeline(repo):
    """Numeric ratings with a middle band (dropped and counted), parquet files, no validation file."""
    stars = texts(300, 3, labels=(1, 5)), texts(120, 4, labels=(2, 4))
    stars[0].loc[:9, "stars"] = 3  # the middle band
    run_files_experiment(
        repo,
        "stars",
        {"train.parquet": stars[0], "test.parquet": stars[1]},
        "prepare.train_file=train.parquet",
        "prepare.test_file=test.parquet",
        "prepare.positive_label=null",
        "prepare.rating_bands=[2, 4]",
    )
    try:
        report = json.loads((repo / "reports/data.json").read_text())
        assert report["dropped"] == {"train": {"rating in the middle band": 10}}
        assert report["train"]["rows"] + report["val"]["rows"] == 290 and report["test"]["rows"] == 120
        assert report["dataset"]["labels"] == ["negative", "positive"]
        assert "Accuracy by star rating" in (repo / "reports/errors.md").read_text()  # the ratings are kept
    finally:
        restore(repo)


def test_imdb_exported_as_csv_or_jsonl_gives_the_same_prepared_splits(repo):
    """scripts/export_imdb.py writes IMDB as a user's files would be; `source: files` reading them
    prepares byte-identical splits (the fixture's subset), so every later stage sees the same data."""

    def hashes() -> dict[str, str]:
        return {s: hashlib.md5((repo / f"data/prepared/{s}.parquet").read_bytes()).hexdigest() for s in SPLITS}

    local = hashes()
    for fmt in ("csv", "jsonl"):
        sh([sys.executable, str(ROOT / "scripts/export_imdb.py"), f"data/raw/imdb_{fmt}", "--format", fmt], repo)
        for key, value in {
            "source": "files",
            "data_dir": f"data/raw/imdb_{fmt}",
            "train_file": f"train.{fmt}",
            "test_file": f"test.{fmt}",
            "label_column": "rating",
            "positive_label": None,
            "rating_bands": [4, 7],  # IMDB's own rule: <= 4 stars negative, >= 7 positive
            "id_column": "id",
        }.items():
            set_param(repo, f"prepare.{key}", value)
        try:
            assert ran(dvc("repro", "prepare", cwd=repo)) == {"prepare"}
            assert hashes() == local, fmt
        finally:
            restore(repo)


@pytest.mark.slow
def test_finetune_runs_under_torchrun_ddp(repo):
    """The unchanged stage script on 2 CPU processes (gloo); rank 0 writes the outputs."""
    pred = repo / "predictions/finetune/finetuned.parquet"
    before = pred.stat().st_mtime
    out = sh(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "src/finetune.py"],
        repo,
        stderr=True,
        timeout=600,
    )
    assert "2 process(es)" in out and out.count("val accuracy") == 1  # rank 0 alone predicts and writes
    assert pred.stat().st_mtime > before
    import pandas as pd

    df = pd.read_parquet(pred)
    assert (df.split == "test").sum() == 300 and (df.split == "val").sum() > 0
