"""transforms/ is pure text logic: no I/O, no orchestration or table libraries, no module state rebinding.

Models and reference data are loaded in flows/ (flows/seeds.py, flows/models.py) and passed in.
"""
import ast
from pathlib import Path

import pytest

TRANSFORMS = Path(__file__).resolve().parents[2] / "transforms"
FORBIDDEN_IMPORTS = {"prefect", "great_expectations", "pyarrow", "pandas", "duckdb", "polars", "os", "pathlib", "io",
                     "shutil", "tempfile", "glob", "requests", "urllib.request", "socket", "subprocess", "pickle",
                     "fasttext", "importlib", "flows"}
FORBIDDEN_CALLS = {"open", "exec", "eval", "__import__"}
MODULES = sorted(TRANSFORMS.rglob("*.py"))


def imported_names(tree: ast.AST) -> set[str]:
    """Every imported module, and each of its parent packages ("urllib.request" gives "urllib" too)."""
    names = set()
    for node in ast.walk(tree):
        modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        for module in modules:
            parts = module.split(".")
            names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return names


def test_the_check_covers_every_module():
    assert len(MODULES) >= 10 and TRANSFORMS / "pipeline.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(TRANSFORMS)))
def test_module_is_pure(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not imported_names(tree) & FORBIDDEN_IMPORTS
    assert not [node.lineno for node in ast.walk(tree) if isinstance(node, (ast.Global, ast.Nonlocal))], \
        "module state is rebound; pass state in or keep it in an object"
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not calls & FORBIDDEN_CALLS


def test_the_check_sees_what_it_forbids():
    tree = ast.parse("import os.path\nfrom pyarrow import parquet\nx = 1\ndef f():\n    global x\n    x = open('f')\n")
    assert {"os", "pyarrow"} <= imported_names(tree)
    assert any(isinstance(node, ast.Global) for node in ast.walk(tree))
