"""scripts/pr_report.py against a real temp git + DVC repo with three commits:
old flat metrics layout -> new val/test layout -> a PR that changes metrics, params and models."""

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import pr_report  # noqa: E402

DVC_YAML = """\
metrics:
  - metrics/models
  - metrics/comparison.json
params:
  - params.yaml
plots:
  - plots/curves/roc.json:
      template: overlay
      x: fpr
      y: tpr
      title: ROC curves (test set)
"""
# a minimal custom template like the project's .dvc/plots/overlay.json
OVERLAY = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": "<DVC_METRIC_DATA>"},
    "mark": "line",
    "encoding": {
        "x": {"field": "<DVC_METRIC_X>", "type": "quantitative"},
        "y": {"field": "<DVC_METRIC_Y>", "type": "quantitative"},
        "color": {"field": "model", "type": "nominal"},
    },
}
KEYS = ("accuracy", "f1", "roc_auc")


def git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


def split(acc, f1, auc, n):
    return {
        "accuracy": acc,
        "precision": acc,
        "recall": acc,
        "f1": f1,
        "macro_f1": acc,
        "roc_auc": auc,
        "mcc": 2 * acc - 1,
        "log_loss": 0.3,
        "n": n,
    }


def roc(models, bend):
    return [
        {"model": m, "fpr": i / 10, "tpr": round(min(1.0, (i / 10) ** (1 / (k + bend))), 4)}
        for k, m in enumerate(models, 1)
        for i in range(11)
    ]


def write(repo, rel, obj):
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj, indent=1))


def commit(repo, msg):
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", msg)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    r = tmp_path_factory.mktemp("prrepo")
    git(r, "init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=r, check=True)
    write(r, "dvc.yaml", DVC_YAML)
    write(r, ".dvc/plots/overlay.json", OVERLAY)

    # c0: the old flat layout (test metrics only), no ROC file
    write(r, "params.yaml", "learning_rate: 8.0e-5\nbaseline:\n  tfidf_lr:\n    C: 32.0\n")
    write(r, "metrics/models/tfidf_lr.json", {"accuracy": 0.9089, "f1": 0.909, "roc_auc": 0.9682, "n": 25000})
    write(r, "metrics/models/vader.json", {"accuracy": 0.6987, "f1": 0.7416, "roc_auc": 0.7871, "n": 25000})
    write(
        r,
        "metrics/comparison.json",
        {"best": "tfidf_lr", "models": {"tfidf_lr": {"ci95": {"accuracy": [0.905, 0.913]}, "mcnemar_p_vs_best": None}}},
    )
    commit(r, "old layout")

    # c1 (base): the new layout, val + test, tfidf_lr best on validation
    write(
        r,
        "metrics/models/tfidf_lr.json",
        {"val": split(0.9136, 0.9140, 0.9700, 2478), "test": split(0.9089, 0.9090, 0.9682, 25000)},
    )
    write(r, "metrics/models/vader.json", {"test": split(0.6987, 0.7416, 0.7871, 25000)})  # no "val"
    write(
        r,
        "metrics/models/bow_rf.json",
        {"val": split(0.8600, 0.8610, 0.9300, 2478), "test": split(0.8561, 0.8563, 0.9294, 25000)},
    )
    write(
        r,
        "metrics/comparison.json",
        {
            "best_on_val": "tfidf_lr",
            "models": {
                m: {"val": {"ci95": {}}, "test": {"ci95": {"accuracy": [0.9, 0.91]}, "mcnemar_p": {}}}
                for m in ("tfidf_lr", "vader", "bow_rf")
            },
        },
    )
    write(r, "plots/curves/roc.json", roc(["tfidf_lr", "vader", "bow_rf"], 0.0))
    commit(r, "base")

    # c2 (PR): tfidf_lr +0.0120 test accuracy, C and learning_rate changed, vader removed,
    # finetuned added and now best on validation
    write(r, "params.yaml", "learning_rate: 1.0e-4\nbaseline:\n  tfidf_lr:\n    C: 16.0\n")
    write(
        r,
        "metrics/models/tfidf_lr.json",
        {"val": split(0.9150, 0.9152, 0.9711, 2478), "test": split(0.9209, 0.9205, 0.9712, 25000)},
    )
    (r / "metrics/models/vader.json").unlink()
    write(
        r,
        "metrics/models/finetuned.json",
        {
            "val": split(0.9300, 0.9301, 0.9790, 2478),
            "test": split(0.9250, 0.9249, 0.9770, 25000),
            "runtime": {"device": "cpu", "precision": "bf16", "cpu_isa": "amx"},
        },
    )
    write(
        r,
        "metrics/comparison.json",
        {
            "best_on_val": "finetuned",
            "models": {
                "tfidf_lr": {
                    "val": {"ci95": {"accuracy": [0.904, 0.926]}},
                    "test": {
                        "ci95": {"accuracy": [0.9175, 0.9243], "f1": [0.917, 0.924], "roc_auc": [0.9695, 0.9729]},
                        "mcnemar_p": {"finetuned": 0.03},
                    },
                },
                "finetuned": {
                    "val": {"ci95": {}},
                    "test": {"ci95": {"accuracy": [0.9217, 0.9282]}, "mcnemar_p": {"tfidf_lr": 0.03}},
                },
                "bow_rf": {"test": {"ci95": {}}},
            },
        },
    )
    write(r, "plots/curves/roc.json", roc(["tfidf_lr", "bow_rf", "finetuned"], 0.4))
    commit(r, "PR")
    return r


def rows(md):
    return {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in md.splitlines()
        if line.startswith("| `")
    }


def test_models_params_and_deltas_between_two_commits(repo):
    md = pr_report.report("HEAD~1", "HEAD", cwd=str(repo))
    r = rows(md)
    val, test_acc, test_f1, test_auc = r["`tfidf_lr`"]
    assert val == "0.9136 → 0.9150 (+0.0014)"
    assert test_acc == "0.9089 → 0.9209 (+0.0120) [0.917–0.924]"  # the PR's CI
    assert test_f1.startswith("0.9090 → 0.9205 (+0.0115)") and "[0.970–0.973]" in test_auc
    assert r["`finetuned` ★ (new)"][1] == "— → 0.9250 [0.922–0.928]"
    assert r["`vader` (removed)"] == ["—", "0.6987 → —", "0.7416 → —", "0.7871 → —"]
    assert r["`bow_rf`"][1] == "0.8561"  # unchanged: one value
    assert list(r)[0] == "`finetuned` ★ (new)" and list(r)[-1] == "`vader` (removed)"
    assert "best on validation: `finetuned` (base: `tfidf_lr`)" in md
    assert "`baseline.tfidf_lr.C` 32.0 → 16.0" in md and "`learning_rate` 8e-05 → 0.0001" in md
    assert "runtime" not in md and "bf16" not in md  # non-numeric runtime info stays out


def test_old_flat_layout_is_read_as_test_metrics(repo):
    r = rows(pr_report.report("HEAD~2", "HEAD~1", cwd=str(repo)))
    assert r["`tfidf_lr` ★"] == ["— → 0.9136", "0.9089 [0.900–0.910]", "0.9090", "0.9682"]
    assert r["`bow_rf` (new)"][1] == "— → 0.8561 [0.900–0.910]"
    assert r["`vader`"][0] == "—"  # no "val" in either layout


def test_workspace_is_the_default_head(repo):
    md = pr_report.report("HEAD", cwd=str(repo))
    assert "`HEAD` → `workspace`" in md and "**Params changed:** none." in md
    assert rows(md)["`tfidf_lr`"][1] == "0.9209 [0.917–0.924]"


def test_cli_writes_report_and_roc_png(repo, tmp_path):
    pytest.importorskip("vl_convert")
    out = tmp_path / "report.md"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/pr_report.py"),
            "HEAD~1",
            "HEAD",
            "--plot-dir",
            str(tmp_path / "pr_plots"),
            "-o",
            str(out),
        ],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    md = out.read_text()
    assert "![ROC base vs PR](pr_plots/roc.png)" in md
    png = (tmp_path / "pr_plots/roc.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert (tmp_path / "pr_plots/roc.svg").read_text().lstrip().startswith("<svg")
    spec = json.loads((tmp_path / "pr_plots/roc.vl.json").read_text())
    versions = {(row["model"], row["version"]) for row in spec["data"]["values"]}
    assert ("vader", "base") in versions and ("finetuned", "PR") in versions and ("finetuned", "base") not in versions


def test_picture_failures_are_one_line_and_the_report_still_succeeds(repo, tmp_path, monkeypatch):
    # no ROC file at HEAD~2 (base), so only the PR's curves are drawn and the report says so
    if importlib.util.find_spec("vl_convert"):
        md = pr_report.report("HEAD~2", "HEAD", cwd=str(repo), plot_dir=str(tmp_path / "a"), link_dir=str(tmp_path))
        assert "![ROC base vs PR](a/roc.png) (no ROC data for base (HEAD~2))" in md
    # vl-convert missing: one line, no picture
    monkeypatch.setitem(sys.modules, "vl_convert", None)
    md = pr_report.report("HEAD~1", "HEAD", cwd=str(repo), plot_dir=str(tmp_path / "b"), link_dir=str(tmp_path))
    line = md.strip().splitlines()[-1]
    assert (
        line == "ROC picture: not drawn (`pip install vl-convert-python` to draw it offline)."
        and not (tmp_path / "b/roc.png").exists()
    )
    assert "0.9089 → 0.9209 (+0.0120)" in md
    # a revision without any ROC data
    md = pr_report.report("HEAD~2", "HEAD~2", cwd=str(repo), plot_dir=str(tmp_path / "c"))
    assert "ROC picture: not drawn, no `plots/curves/roc.json` data" in md


def test_pr_workflow_calls_the_report_and_uploads_the_picture():
    import yaml

    wf = yaml.safe_load((ROOT / ".github/workflows/pr-metrics.yml").read_text())
    assert "pull_request" in (wf.get("on") or wf.get(True))  # YAML 1.1 reads the key `on` as True
    steps = wf["jobs"]["metrics"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert 'scripts/pr_report.py "origin/${{ github.base_ref }}" HEAD' in runs and "--plot-dir pr_plots" in runs
    assert "dvc exp run" in runs and "gh pr comment" in runs and "exp show" not in runs
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@v4")]
    assert upload and "pr_plots" in upload[0]["with"]["path"]
