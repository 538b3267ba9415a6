"""dvc.yaml declares what each stage really uses."""

import ast
from pathlib import Path

import yaml
from conftest import ROOT

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
    if path.parent.name == "sentiment" or "sentiment" in [p.name for p in path.parents][:1]:
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


def test_every_module_a_stage_imports_is_a_dependency():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, st in stages.items():
        script = ROOT / st["cmd"].split()[1]
        deps = [ROOT / d for d in st["deps"] if "${" not in d]
        needed = {f for f in closure(script)}
        missing = sorted(str(f.relative_to(ROOT)) for f in needed if not any(f == d or d in f.parents for d in deps))
        assert not missing, f"stage {name}: imports {missing} but does not list them in deps"


def test_the_check_would_catch_a_missing_dependency():
    needed = {str(f.relative_to(ROOT)) for f in closure(SRC / "finetune.py")}
    assert {
        "src/sentiment/finetune.py",
        "src/sentiment/runtime.py",
        "src/sentiment/metrics.py",
        "src/sentiment/binary_sentiment/binary_sentiment.py",
        "src/sentiment/__init__.py",
    } <= needed


def test_stage_params_are_only_what_the_stage_reads():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    # evaluation and publishing params must not be training dependencies
    for st in ("baseline", "pretrained_eval", "finetune"):
        params = [p if isinstance(p, str) else next(iter(p)) for p in stages[st]["params"]]
        assert not any(p.startswith(("evaluate", "publish", "ensemble")) for p in params), st


def test_artifacts_are_declared():
    art = yaml.safe_load((ROOT / "dvc.yaml").read_text())["artifacts"]
    assert art["finetuned"]["path"] == "models/finetuned" and art["finetuned"]["type"] == "model"
    assert art["ensemble"]["path"] == "models/ensemble"
