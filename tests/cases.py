"""Where the tests' data lives, and the one loader for golden cases.

Golden cases are data files under ``tests/goldens/<kind>/``: either one ``cases.json`` (a list, or an object whose
``cases`` key holds the list) or one JSON file per case. Every test module reads them through :func:`load_cases`,
so a case added to a file is picked up with no code change.
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_ARTICLES = SEEDS / "articles"
SHARED = ROOT.parent / "shared"
GOLDENS = ROOT / "tests" / "goldens"


def golden(kind: str, name: str = "") -> Path:
    """The path of ``tests/goldens/<kind>/<name>`` (the folder when ``name`` is empty)."""
    return GOLDENS / kind / name if name else GOLDENS / kind


def load_cases(kind: str, name: str = "cases.json") -> list:
    """The cases of ``tests/goldens/<kind>/<name>``; with ``name="*.json"``, one case per JSON file, by file name.

    >>> isinstance(load_cases("html"), list) and all("label" in case for case in load_cases("html"))
    True
    >>> [case["file"][:3] for case in load_cases("chrome", "*.json")][:2]
    ['000', '001']
    """
    if "*" in name:
        return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(golden(kind).glob(name))]
    cases = json.loads(golden(kind, name).read_text(encoding="utf-8"))
    return cases["cases"] if isinstance(cases, dict) else cases
