"""The house rules of ARCHITECTURE.md, checked on the source (lint-imports checks the layers).

* a subpackage is used by the others through its ``__init__`` only, and no
  private name (``_x``) crosses a subpackage boundary;
* imports sit at the top of each module; only matplotlib (and ``catenax.plot``,
  which imports it) and SciPy (the optional ``sparse`` extra, for Newton's
  direct back-end) may be imported inside a function, so ``import catenax``
  stays light and works without SciPy;
* no module switches matplotlib's backend;
* modules stay under ~400 lines and functions under ~80 (docstrings not
  counted), except where :data:`LONG` says why.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "catenax"
SUBPACKAGES = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))
#: Thin modules that keep old import paths working (they warn); they import on purpose.
ALIASES = {"sweepio.py", "netplot.py"}
#: What may be imported inside a function: plotting, and SciPy (an optional extra).
LAZY_OK = ("matplotlib", "mpl_toolkits", "catenax.plot", "scipy")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
#: Longer than the limits, and why (``path`` or ``path:qualified.name``).
LONG: dict[str, str] = {}


def _modules():
    return sorted(p for p in SRC.rglob("*.py") if p.name not in ALIASES or p.parent != SRC)


def _subpackage(path: Path) -> str | None:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else None


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = ["catenax", *path.relative_to(SRC).with_suffix("").parts]
    if path.name != "__init__.py":
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _rel(path):
    return str(path.relative_to(SRC.parent))


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node, _absolute(path, node), [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node, a.name, []


@pytest.mark.parametrize("package", [*SUBPACKAGES, "<top>"])
def test_subpackages_are_used_through_their_init_and_privates_stay_home(package):
    bad = []
    for path in _modules():
        mine = _subpackage(path)
        if (mine or "<top>") != package:
            continue
        for node, module, names in _imports(path):
            parts = module.split(".")
            if parts[0] != "catenax" or len(parts) < 2 or parts[1] not in SUBPACKAGES:
                continue
            if parts[1] == mine:
                continue
            where = f"{_rel(path)}:{node.lineno}"
            if len(parts) > 2:
                bad.append(f"{where} imports {module}: use catenax.{parts[1]} (its __init__)")
            private = [n for n in names if n.startswith("_")]
            if private:
                bad.append(f"{where} imports private {private} from {module}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", [*SUBPACKAGES, "<top>"])
def test_imports_sit_at_the_top(package):
    bad = []
    for path in _modules():
        if (_subpackage(path) or "<top>") != package:
            continue
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                names = (
                    [_absolute(path, node)]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                if not all(n.startswith(LAZY_OK) for n in names):
                    bad.append(f"{_rel(path)}:{node.lineno} imports {names} inside a function")
    assert not bad, "\n".join(bad)


def test_no_module_switches_the_matplotlib_backend():
    bad = [
        _rel(p)
        for p in _modules()
        if "matplotlib.use("
        in "".join(line for line in p.read_text().splitlines(True) if ">>>" not in line)
    ]
    assert not bad, f"matplotlib.use() at import changes a notebook's backend: {bad}"


def _code_lines(node) -> int:
    """Lines of ``node`` (a module, function or class) without its docstring."""
    body = node.body
    first = body[0].lineno if not isinstance(node, ast.Module) else 1
    n = (body[-1].end_lineno if isinstance(node, ast.Module) else node.end_lineno) - first + 1
    if not isinstance(node, ast.Module):
        n += first - node.lineno
    doc = body[0] if body and isinstance(body[0], ast.Expr) else None
    if doc is not None and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
        n -= doc.end_lineno - doc.lineno + 1
    return n


def _long_functions(node, path, prefix=""):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                n = _code_lines(child)
                key = f"{_rel(path)}:{name}"
                if n > MAX_FUNCTION_LINES and key not in LONG:
                    yield f"{key}: {n} lines (limit {MAX_FUNCTION_LINES})"
            yield from _long_functions(child, path, name + ".")


@pytest.mark.parametrize("package", [*SUBPACKAGES, "<top>"])
def test_modules_and_functions_stay_small(package):
    bad = []
    for path in _modules():
        if (_subpackage(path) or "<top>") != package:
            continue
        tree = ast.parse(path.read_text())
        size = _code_lines(tree) if tree.body else 0
        if size > MAX_MODULE_LINES and _rel(path) not in LONG:
            bad.append(f"{_rel(path)}: {size} lines (limit {MAX_MODULE_LINES})")
        bad.extend(_long_functions(tree, path))
    assert not bad, "\n".join(bad)


def test_every_long_exception_still_exists():
    """An entry in LONG for code that is gone or now short is stale."""
    for key in LONG:
        path = SRC.parent / key.partition(":")[0]
        assert path.exists(), key
