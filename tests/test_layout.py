"""The code stays in small rooms: no file in flows/, transforms/ or expectations/ over 600 lines, no function over
60, and no import circle among their modules (issue 19).

transforms/chrome/rules.py is exempt from the sizes: it is the rule-based stripper the learned line model is
replacing (transforms/chrome/), not to be polished. The import graph is read with ``ast`` from every import,
those inside functions and under ``if TYPE_CHECKING`` included: an import deferred for start-up speed is still a
dependency, and a circle through one breaks as soon as someone moves it to the top.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.cases import ROOT

PACKAGES = ("flows", "transforms", "expectations")
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 60
EXEMPT = {"transforms/chrome/rules.py"}  # the old chrome stripper, being replaced by the line model
FILES = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def long_functions(source: str, limit: int) -> list[str]:
    """Functions and methods longer than ``limit`` lines (decorators and docstring included), as "name (lines)".

    >>> long_functions("def short():\\n    return 1\\n", 60), long_functions("def f():\\n" + "    x = 1\\n" * 3, 3)
    ([], ['f (4)'])
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
            length = node.end_lineno - start + 1
            if length > limit:
                found.append(f"{node.name} ({length})")
    return found


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that the module at ``path`` imports, anywhere in it ("from flows import report"
    imports flows.report; "from flows.store import Store" imports flows.store)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # "transforms.chrome.rules.X" -> the module that holds it
                target = target.rpartition(".")[0]
            if target:
                found.add(target)
    return found - {module_name(path)}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph`` (module -> modules it imports): each group of modules that reach each other.

    >>> circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    [['a', 'b', 'c']]
    """
    reach = {module: set() for module in graph}
    for module in graph:
        todo = list(graph[module])
        while todo:
            other = todo.pop()
            if other in graph and other not in reach[module]:
                reach[module].add(other)
                todo.extend(graph[other])
    groups = {frozenset({module} | {other for other in reach[module] if module in reach[other]})
              for module in graph if module in reach[module]}
    return sorted(sorted(group) for group in groups)


def test_the_checks_see_every_package():
    assert {relative(path).split("/")[0] for path in FILES} == set(PACKAGES)
    assert all((ROOT / name).exists() for name in EXEMPT), "an exemption names a file that is gone: drop it"


@pytest.mark.parametrize("path", FILES, ids=relative)
def test_file_and_functions_are_small(path):
    if relative(path) in EXEMPT:
        pytest.skip("exempt: the old rule-based chrome stripper, being replaced")
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    assert lines <= MAX_FILE_LINES, f"{relative(path)} has {lines} lines: split it into rooms named for what they do"
    assert not long_functions(source, MAX_FUNCTION_LINES), \
        f"{relative(path)}: functions over {MAX_FUNCTION_LINES} lines: {long_functions(source, MAX_FUNCTION_LINES)}"


def test_no_import_circles():
    known = {module_name(path) for path in FILES}
    graph = {module_name(path): imported_modules(path, known) for path in FILES}
    assert graph["flows.clean_news"] >= {"flows.batches", "flows.report", "flows.store"}  # the reader sees imports
    assert circles(graph) == []
