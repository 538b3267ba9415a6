import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import metrics_diff  # noqa: E402
import update_readme  # noqa: E402


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_metrics_diff_between_two_commits(tmp_path):
    git(tmp_path, "init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "dvc.yaml").write_text("metrics:\n  - m.json\nparams:\n  - params.yaml\n")
    for acc, lr, f1 in ((0.81, "1.0e-5", 0.7), (0.86, "2.0e-5", 0.7)):
        (tmp_path / "m.json").write_text(f'{{"accuracy": {acc}, "f1": {f1}}}')
        (tmp_path / "params.yaml").write_text(f"learning_rate: {lr}\nseed: 1\n")
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-qm", f"acc {acc}")
    md = metrics_diff.report("HEAD~1", "HEAD", cwd=str(tmp_path))
    metrics, params = md.split("## Params")
    assert "| accuracy" in metrics and "0.81" in metrics and "0.86" in metrics
    assert "| f1" not in metrics  # unchanged values are left out
    assert "learning_rate" in params and "2e-05" in params and "seed" not in params


def test_update_readme_fills_marked_block():
    readme = "intro\n<!-- results:start -->\nold\n<!-- results:end -->\nrest\n"
    out = update_readme.fill(readme, "results", "| model | acc |\n|---|---|\n| x | 0.9 |\n")
    assert out == "intro\n<!-- results:start -->\n| model | acc |\n|---|---|\n| x | 0.9 |\n<!-- results:end -->\nrest\n"
    assert update_readme.fill(out, "results", "| model | acc |\n|---|---|\n| x | 0.9 |\n") == out


def test_pr_workflow_is_valid_and_calls_the_diff_script():
    import yaml

    wf = yaml.safe_load((ROOT / ".github/workflows/pr-metrics.yml").read_text())
    assert "pull_request" in (wf.get("on") or wf.get(True))  # YAML 1.1 reads the key `on` as True
    runs = "\n".join(s.get("run", "") for s in wf["jobs"]["metrics"]["steps"])
    assert "scripts/metrics_diff.py" in runs and "dvc exp run" in runs and "gh pr comment" in runs
