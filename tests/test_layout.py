"""The package's layering, checked on the source (function-level imports included): no import
circle, the serving path imports no training or reporting code, nothing imports research/."""

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PKG = ROOT / "src" / "sentiment"
TRAINING = {"finetune", "ensemble", "report", "robustness", "behaviour"}
SERVING = "predictor"  # what predict.py and serve.py load


def imports(path: Path) -> set[str]:
    """The sentiment modules a file imports, at any depth (`from .x`, `from sentiment.x`, `import sentiment.x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1 or mod == "sentiment" or mod.startswith("sentiment."):
                base = mod.removeprefix("sentiment").lstrip(".")
                names = [base.split(".")[0]] if base else [a.name for a in node.names]
                found |= {n for n in names if (PKG / f"{n}.py").is_file() or (PKG / n).is_dir()}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("sentiment.")}
    return found


def graph() -> dict[str, set[str]]:
    return {p.stem: imports(p) - {p.stem} for p in PKG.glob("*.py") if p.stem != "__init__"}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(n, path):
        state[n] = 1
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m) :] + [m] if m in path else [n, m]
            if m not in state and (c := visit(m, path + [m])):
                return c
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state and (c := visit(n, [n])):
            return c
    return None


def reachable(g: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for m in g.get(todo.pop(), ()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


def test_no_import_circle_in_the_package():
    assert find_cycle(graph()) is None


def test_the_check_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_serving_imports_no_training_or_reporting_code():
    g = graph()
    assert {"stacker", "inference", "data"} <= reachable(g, SERVING)  # the check sees real edges
    assert not reachable(g, SERVING) & TRAINING
    assert not reachable(g, "stacker") & TRAINING  # the stacker's forward pass: one home, serving-safe


@pytest.mark.parametrize("folder", ["src", "tests", "scripts", "benchmarks"])
def test_nothing_imports_research(folder):
    for path in (ROOT / folder).rglob("*.py"):
        if path == Path(__file__):
            continue  # names research/ in its own checks
        tree = ast.parse(path.read_text())
        mods = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        mods += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in mods if m.split(".")[0] == "research"], path
        assert not [ln for ln in path.read_text().splitlines() if "sys.path" in ln and "research" in ln], path
