"""scripts/significance.py: the McNemar table of two predictions folders (tiny generated files)."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from sentiment.io import make_predictions, write_predictions

sys.path.insert(0, str(ROOT / "scripts"))
import significance  # noqa: E402

N = 200  # test reviews; the base models miss the first 40 (accuracy 0.80)


def write_model(folder, stage: str, model: str, fixed: int = 0, broken: int = 0, n: int = N) -> None:
    """A predictions file: right on all but the first 40 test reviews, less `fixed`, plus `broken` after them."""
    label = np.arange(n) % 2
    right = np.arange(n) >= 40
    right[:fixed] = True
    right[40 : 40 + broken] = False
    pred = np.where(right, label, 1 - label)
    prob = np.where(pred == 1, 0.9, 0.1)
    uid = lambda split: [f"{split}-{i}" for i in range(n)]
    parts = [make_predictions(s, uid(s), label, prob) for s in ("val", "test")]
    write_predictions(parts, folder / stage / f"{model}.parquet")


def two_sides(tmp_path):
    base, pr = tmp_path / "base", tmp_path / "pr"
    write_model(base, "finetune", "finetuned")
    write_model(pr, "finetune", "finetuned", fixed=30)  # 30 errors fixed, none made: far beyond noise
    write_model(base, "baseline", "nbsvm")
    write_model(pr, "baseline", "nbsvm", fixed=3, broken=1)  # 3 fixed, 1 broken: noise
    write_model(base, "pretrained", "vader")  # removed in the PR
    write_model(pr, "ensemble", "stacker", fixed=10)  # new in the PR
    return base, pr


def test_table_flags_a_significant_change_and_not_a_noisy_one(tmp_path, capsys):
    base, pr = two_sides(tmp_path)
    significance.main([str(base), str(pr)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| model | base acc | PR acc | Δ | McNemar p | beyond noise (p<0.05) |"
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines[2:]}
    assert rows["finetuned"] == "| finetuned | 0.8000 | 0.9500 | +0.1500 | 1.86e-09 | **yes** |"  # 2 * 0.5**30
    assert rows["nbsvm"] == "| nbsvm | 0.8000 | 0.8100 | +0.0100 | 0.625 | no |"  # exact binomial, 1 of 4


def test_a_model_on_one_side_only_is_new_or_removed(tmp_path):
    base, pr = two_sides(tmp_path)
    lines = significance.table(significance.load(str(base)), significance.load(str(pr))).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| finetuned", "| nbsvm", "| stacker", "| vader"]
    assert lines[4] == "| stacker | — | 0.8500 | — | — | new |"
    assert lines[5] == "| vader | 0.8000 | — | — | — | removed |"


def test_different_test_splits_are_not_paired(tmp_path):
    base, pr = tmp_path / "base", tmp_path / "pr"
    write_model(base, "finetune", "finetuned")
    write_model(pr, "finetune", "finetuned", n=N + 2)  # the PR changed the test split
    row = significance.table(significance.load(str(base)), significance.load(str(pr))).splitlines()[2]
    assert row.endswith("| — | not paired: test splits differ |")


@pytest.mark.e2e
def test_reads_two_git_revisions_through_dvc(tmp_path, capsys):
    """The CI path: predictions tracked by DVC, read at a revision with dvc.api."""
    dvc = [sys.executable, "-m", "dvc"]
    run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    run("git", "init", "-q")
    run("git", "config", "user.email", "t@example.com")
    run("git", "config", "user.name", "t")
    run(*dvc, "init", "-q")
    write_model(tmp_path / "predictions", "finetune", "finetuned")
    run(*dvc, "add", "-q", "predictions/finetune")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "base")
    shutil.rmtree(tmp_path / "predictions" / "finetune")
    write_model(tmp_path / "predictions", "finetune", "finetuned", fixed=30)
    run(*dvc, "add", "-q", "predictions/finetune")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "pr")
    significance.main(["HEAD~1", "HEAD", "--repo", str(tmp_path)])
    assert "| finetuned | 0.8000 | 0.9500 | +0.1500 | 1.86e-09 | **yes** |" in capsys.readouterr().out
