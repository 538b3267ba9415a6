"""dvc.yaml declares what each stage really uses: its code deps (no more, no less) and its params
(exactly the keys the stage's schema reads)."""

import ast
import shlex
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, STAGES, stage_reads

from sentiment.config import dvc_params, read_yaml

SRC = ROOT / "src"


def local_imports(path: Path) -> set[Path]:
    """Files of the `sentiment` package that `path` imports, at any depth of the file (lazy imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from .x import y, inside the package
                base = path.parent
                mods = [node.module] if node.module else [a.name for a in node.names]
            elif node.module and node.module.split(".")[0] == "sentiment":
                base = SRC
                mods = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for m in mods:
                f = base.joinpath(*m.split(".")).with_suffix(".py")
                if f.is_file():
                    found.add(f)
                elif (base.joinpath(*m.split(".")) / "__init__.py").is_file():
                    found.add(base.joinpath(*m.split(".")) / "__init__.py")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "sentiment":
                    found.add(SRC / "sentiment" / "__init__.py")
    if path.parent.name == "sentiment":
        found.add(SRC / "sentiment" / "__init__.py")  # importing a submodule runs the package's __init__
    return found


def closure(script: Path) -> set[Path]:
    todo, seen = [script], set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo += local_imports(f)
        if f.name == "metrics.py":  # loads the evaluate module by path, not by import
            todo.append(SRC / "sentiment" / "binary_sentiment" / "binary_sentiment.py")
    return seen


def code_deps(stage: dict) -> set[str]:
    return {d for d in stage["deps"] if d.endswith(".py")}


@pytest.mark.parametrize("name", list(STAGES))
def test_code_deps_are_exactly_what_the_stage_imports(name):
    st = STAGES[name]
    needed = {str(f.relative_to(ROOT)) for f in closure(ROOT / shlex.split(st["cmd"])[1])}
    declared = code_deps(st)
    assert not needed - declared, f"stage {name} imports {sorted(needed - declared)} but does not list them in deps"
    assert not declared - needed, f"stage {name} lists {sorted(declared - needed)} in deps but never imports them"


def test_the_check_sees_lazy_and_relative_imports():
    needed = {str(f.relative_to(ROOT)) for f in closure(SRC / "finetune.py")}
    assert {
        "src/sentiment/finetune.py",  # lazy, inside main()
        "src/sentiment/runtime.py",  # relative, from sentiment/finetune.py
        "src/sentiment/binary_sentiment/binary_sentiment.py",  # loaded by path from metrics.py
        "src/sentiment/__init__.py",
    } <= needed
    assert "src/sentiment/dataset.py" not in needed  # prepare's loading is not a fine-tune dependency


@pytest.mark.parametrize("name", list(STAGES))
def test_stage_params_equal_the_keys_its_schema_reads(name):
    declared = [p if isinstance(p, str) else next(iter(p)) for p in STAGES[name].get("params", [])]
    assert len(declared) == len(set(declared)), f"stage {name}: a param is listed twice"
    assert set(declared) == set(dvc_params(stage_reads(name))), f"stage {name}: dvc.yaml params != what it reads"


def test_every_key_of_params_yaml_is_read_by_some_stage():
    read = set()
    for name in STAGES:
        for key in dvc_params(stage_reads(name)):
            read.add(key.split(".")[0])
    assert set(read_yaml(ROOT / "params.yaml")) == read


def test_training_stages_do_not_read_evaluation_params():
    for st in ("prepare", "baseline", "pretrained_eval", "finetune"):
        params = dvc_params(stage_reads(st))
        assert not any(p.startswith(("evaluate", "publish", "ensemble", "robustness")) for p in params), st


def test_artifacts_are_declared():
    art = yaml.safe_load((ROOT / "dvc.yaml").read_text())["artifacts"]
    assert art["finetuned"]["path"] == "models/finetuned" and art["finetuned"]["type"] == "model"
    assert art["ensemble"]["path"] == "models/ensemble"
